// Package readme keeps README.md true: every command it shows is one that CI
// runs.
package readme

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// commands returns the command lines of the README's sh blocks.
func commands(t *testing.T, readme string) []string {
	t.Helper()
	f, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "```sh"):
			in = true
		case strings.HasPrefix(line, "```"):
			in = false
		case in && line != "" && !strings.HasPrefix(line, "#"):
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestREADMECommandsRunInCI fails when the README shows a command that
// .ci/run does not run, so the two commands a newcomer types are exactly the
// ones CI proves.
func TestREADMECommandsRunInCI(t *testing.T) {
	root := filepath.Join("..", "..")
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := commands(t, filepath.Join(root, "README.md"))
	if len(cmds) < 2 {
		t.Fatalf("README.md shows %d commands in sh blocks, want at least the two quick-start commands", len(cmds))
	}
	for _, c := range cmds {
		if !strings.Contains(string(ci), c) {
			t.Errorf("README.md shows %q, but .ci/run does not run it", c)
		}
	}
}
