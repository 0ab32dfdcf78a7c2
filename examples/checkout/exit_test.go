package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/internal/pgtest"
)

// TestMain_UnreachableKafkaExitsOne runs the command against a broker
// address nothing listens on: it exits with status 1 and a message naming
// the broker and the cause, not a panic.
func TestMain_UnreachableKafkaExitsOne(t *testing.T) {
	if os.Getenv("CHECKOUT_RUN_MAIN") == "1" {
		os.Args = append([]string{"checkout"}, strings.Fields(os.Getenv("CHECKOUT_ARGS"))...)
		main()
		os.Exit(0)
	}
	pgtest.Require(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	broker := l.Addr().String()
	l.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestMain_UnreachableKafkaExitsOne$")
	cmd.Env = append(os.Environ(), "CHECKOUT_RUN_MAIN=1", "CHECKOUT_ARGS=-brokers "+broker)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1; stderr:\n%s", err, stderr.String())
	}
	msg := stderr.String()
	if !strings.HasPrefix(msg, "checkout: ") || !strings.Contains(msg, broker) ||
		!strings.Contains(msg, "connection refused") || strings.Contains(msg, "panic") {
		t.Errorf("stderr does not name the broker %s and the cause:\n%s", broker, msg)
	}
}
