//go:build !unix

package shop

import (
	"context"
	"os"
	"os/exec"
)

// credential is a user to run PostgreSQL as; only Unix systems switch.
type credential struct{}

func unprivileged(string) (*credential, error) { return nil, nil }

func command(ctx context.Context, _ *credential, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}
