//go:build unix

package shop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// unprivileged returns the credential to run PostgreSQL with: nil when the
// program is not root, else nobody's, with dir handed over to it.
func unprivileged(dir string) (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	const nobody = 65534
	if err := os.Chown(dir, nobody, nobody); err != nil {
		return nil, fmt.Errorf("hand %s to nobody: %w", dir, err)
	}
	return &credential{Uid: nobody, Gid: nobody}, nil
}

func command(ctx context.Context, cred *credential, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = "/"
	}
	return cmd
}

type credential = syscall.Credential
