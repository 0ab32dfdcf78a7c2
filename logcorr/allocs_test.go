//go:build !race

package logcorr

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/baggage"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

var errDeclined = errors.New("card declined")

// TestAllocs holds the per-record allocation budget of the handler on top of
// a JSON handler writing to io.Discard (which itself allocates nothing).
func TestAllocs(t *testing.T) {
	bag, _ := baggage.New(mustMember(t, "order.id", "ord-1"))
	tests := []struct {
		name   string
		ctx    context.Context
		opts   []Option
		groups bool
		budget float64
	}{
		{"no span", context.Background(), nil, false, 0},
		{"no span, in group", context.Background(), nil, true, 0},
		{"unsampled span", spanCtx(false), nil, false, 0},
		{"span", spanCtx(true), nil, false, 1},
		{"span, datadog", spanCtx(true), []Option{WithSchema(Datadog())}, false, 1},
		{"span, trace url", spanCtx(true), []Option{WithTraceURL("", "http://j/trace/{trace_id}")}, false, 1},
		{"span, in group", spanCtx(true), nil, true, 2},
		{"span, business", baggage.ContextWithBaggage(spanCtx(true), bag), []Option{WithBusiness()}, false, 2},
		// Redaction of clean attributes, a clean error and attributes
		// masked once at With time adds nothing.
		{"no span, clean error, masked With", context.Background(), nil, false, 0},
		{"span, clean error, masked With", spanCtx(true), nil, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l *slog.Logger = slog.New(NewHandler(slog.NewJSONHandler(io.Discard, nil), tt.opts...)).With("svc", "orders")
			if tt.groups {
				l = l.WithGroup("req").With("method", "POST")
			}
			args := []any{"items", 3}
			if strings.Contains(tt.name, "clean error") {
				l = l.With("authorization", "Bearer abcdefghijklmnopqrstuvwxyz")
				args = append(args, "err", errDeclined)
			}
			got := testing.AllocsPerRun(200, func() {
				l.InfoContext(tt.ctx, "order accepted", args...)
			})
			if got > tt.budget {
				t.Errorf("%v allocs per record, budget %v", got, tt.budget)
			}
		})
	}
}

// discardProcessor takes log records and does nothing with them.
type discardProcessor struct{}

func (discardProcessor) OnEmit(context.Context, *sdklog.Record) error { return nil }
func (discardProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool {
	return true
}
func (discardProcessor) Shutdown(context.Context) error   { return nil }
func (discardProcessor) ForceFlush(context.Context) error { return nil }

// TestAllocs_LoggerProvider holds the fan-out of WithLoggerProvider to no
// more allocations than the same fan-out composed with slog.NewMultiHandler
// and the otelslog bridge (which does not redact the records), with and
// without a span.
func TestAllocs_LoggerProvider(t *testing.T) {
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(discardProcessor{}))
	multi := slog.New(slog.NewMultiHandler(
		NewHandler(slog.NewJSONHandler(io.Discard, nil)),
		otelslog.NewHandler(ScopeName, otelslog.WithLoggerProvider(lp)),
	))
	fanout := NewLogger(io.Discard, WithLoggerProvider(lp))
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{{"no span", context.Background()}, {"span", spanCtx(true)}} {
		t.Run(tc.name, func(t *testing.T) {
			count := func(l *slog.Logger) float64 {
				return testing.AllocsPerRun(200, func() {
					l.InfoContext(tc.ctx, "order accepted", "order", "ord-1042", "items", 3)
				})
			}
			if got, budget := count(fanout), count(multi); got > budget {
				t.Errorf("%v allocs per record, the MultiHandler composition makes %v", got, budget)
			}
		})
	}
}
