//go:build linux || darwin

package otelsetup_test

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// captureStdout redirects file descriptor 1, which the console exporter
// writes to through the os.Stdout it captured at init, until the returned
// function restores it and returns what was written.
func captureStdout(t *testing.T) func() string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved, err := unix.Dup(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Dup2(int(w.Fd()), 1); err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	return func() string {
		_ = unix.Dup2(saved, 1)
		_ = unix.Close(saved)
		w.Close()
		out := <-done
		r.Close()
		return out
	}
}

func TestSetup_ConsoleExporter(t *testing.T) {
	setenv(t, "OTEL_SERVICE_NAME", "svc", "OTEL_TRACES_EXPORTER", "console", "OTEL_METRICS_EXPORTER", "none")
	stop := captureStdout(t)
	p, shutdown := setup(t)
	_, s := p.TracerProvider.Tracer("t").Start(context.Background(), "checkout.place_order")
	s.End()
	err := shutdown()
	out := stop()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"Name":"checkout.place_order"`) {
		t.Errorf("console output lacks the span:\n%s", out)
	}
}
