package tracing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"testing"

	"go.opentelemetry.io/otel/trace/noop"
)

type codedError struct{ code string }

func (e *codedError) Error() string { return "coded " + e.code }

func TestFailedAndErrorType(t *testing.T) {
	RegisterErrorTyper(func(err error) string {
		var c *codedError
		if errors.As(err, &c) {
			return c.code
		}
		return ""
	})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), -1)
	defer cancel2()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}

	tests := []struct {
		name     string
		ctx      context.Context
		err      error
		failed   bool
		wantType string
	}{
		{name: "caller's cancel", err: fmt.Errorf("query: %w", context.Canceled)},
		{name: "driver error after the caller cancelled", ctx: canceled, err: &codedError{"57014"}},
		{name: "no rows", err: fmt.Errorf("get: %w", sql.ErrNoRows)},
		{name: "deadline", err: context.DeadlineExceeded, failed: true, wantType: "timeout"},
		{name: "driver error after the deadline", ctx: expired, err: &codedError{"57014"}, failed: true, wantType: "timeout"},
		{name: "net deadline", err: &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, failed: true, wantType: "timeout"},
		{name: "domain code", err: fmt.Errorf("insert: %w", &codedError{"23505"}), failed: true, wantType: "23505"},
		{name: "url.Error is unwrapped", err: &url.Error{Op: "Get", URL: "http://x", Err: refused}, failed: true, wantType: "*net.OpError"},
		{name: "wrapped url.Error too", err: fmt.Errorf("charge: %w", &url.Error{Op: "Get", URL: "http://x", Err: refused}), failed: true, wantType: "*net.OpError"},
		{name: "Go type otherwise", err: fmt.Errorf("x: %w", refused), failed: true, wantType: "*net.OpError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Failed(tt.ctx, nil, tt.err, nil); got != tt.failed {
				t.Fatalf("Failed = %v, want %v", got, tt.failed)
			}
			if !tt.failed {
				return
			}
			if got := ErrorType(tt.ctx, tt.err).Value.AsString(); got != tt.wantType {
				t.Errorf("ErrorType = %q, want %q", got, tt.wantType)
			}
		})
	}
}

// An instrumentation's own classifier and the one of the span's provider
// both decide.
func TestFailed_Classifiers(t *testing.T) {
	errMiss := errors.New("cache miss")
	errDup := errors.New("duplicate")
	tp := noop.NewTracerProvider()
	remove := SetProviderErrorClassifier(tp, func(err error) bool { return errors.Is(err, errMiss) })
	defer remove()
	local := func(err error) bool { return errors.Is(err, errDup) }
	if Failed(context.Background(), tp, errMiss, nil) {
		t.Error("the provider's classifier was not asked")
	}
	if Failed(context.Background(), tp, errDup, local) {
		t.Error("the local classifier was not asked")
	}
	if !Failed(context.Background(), tp, errors.New("boom"), local) {
		t.Error("an unclassified error is not a failure")
	}
}
