package logcorr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

type declinedError struct{ code string }

func (e *declinedError) Error() string { return "card declined: " + e.code }

// logInSpan runs fn with a logger built from opts inside one recorded span
// and returns that span and the lines written.
func logInSpan(t *testing.T, opts []Option, fn func(ctx context.Context, l *slog.Logger)) (sdktrace.ReadOnlySpan, []map[string]any) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	ctx, span := tp.Tracer("test").Start(context.Background(), "payments.charge")
	var s jsonSink
	fn(ctx, slog.New(NewHandler(s.handler(), opts...)))
	span.End()
	ended := rec.Ended()
	if len(ended) != 1 {
		t.Fatalf("got %d spans, want 1", len(ended))
	}
	return ended[0], s.lines(t)
}

func TestBridge_OffByDefault(t *testing.T) {
	span, lines := logInSpan(t, nil, func(ctx context.Context, l *slog.Logger) {
		l.ErrorContext(ctx, "charge failed", "err", errors.New("boom"))
	})
	if len(span.Events()) != 0 || span.Status().Code != codes.Unset {
		t.Errorf("events %v, status %v; want none and Unset", span.Events(), span.Status())
	}
	if len(lines) != 1 || lines[0]["trace_id"] != span.SpanContext().TraceID().String() {
		t.Errorf("lines %v", lines)
	}
}

func TestBridge_EventsAtOrAboveLevel(t *testing.T) {
	span, _ := logInSpan(t, []Option{WithSpanEvents(slog.LevelWarn)}, func(ctx context.Context, l *slog.Logger) {
		l.InfoContext(ctx, "charging")
		l = l.With("provider", "stripe").WithGroup("retry")
		l.WarnContext(ctx, "provider slow", "attempt", 2, slog.Group("backoff", "ms", 250))
	})
	if span.Status().Code != codes.Unset {
		t.Errorf("status %v, want Unset without WithSpanStatus", span.Status())
	}
	evs := span.Events()
	if len(evs) != 1 {
		t.Fatalf("events %v, want 1", evs)
	}
	want := []attribute.KeyValue{
		attribute.String("provider", "stripe"),
		attribute.Int64("retry.attempt", 2),
		attribute.Int64("retry.backoff.ms", 250),
	}
	if evs[0].Name != "provider slow" || !reflect.DeepEqual(evs[0].Attributes, want) {
		t.Errorf("event %q %v, want %q %v", evs[0].Name, evs[0].Attributes, "provider slow", want)
	}
}

func TestBridge_ErrorBecomesException(t *testing.T) {
	err := fmt.Errorf("charge order: %w", &declinedError{code: "insufficient_funds"})
	span, _ := logInSpan(t, []Option{WithSpanEvents(slog.LevelError), WithSpanStatus()}, func(ctx context.Context, l *slog.Logger) {
		l.ErrorContext(ctx, "charge failed", "order", "ord-1", "err", err)
	})
	if st := span.Status(); st.Code != codes.Error || st.Description != "charge failed" {
		t.Errorf("status %v, want Error \"charge failed\"", st)
	}
	wantType := semconv.ErrorType(err)
	if wantType.Value.AsString() != "*logcorr.declinedError" {
		t.Fatalf("error.type %v", wantType)
	}
	if !hasAttr(span.Attributes(), wantType) {
		t.Errorf("span attributes %v, want %v", span.Attributes(), wantType)
	}
	evs := span.Events()
	if len(evs) != 1 || evs[0].Name != semconv.ExceptionEventName {
		t.Fatalf("events %v, want one exception event", evs)
	}
	for _, kv := range []attribute.KeyValue{
		semconv.ExceptionMessage(err.Error()),
		semconv.ExceptionType("*fmt.wrapError"), // what the SDK records
		attribute.String("order", "ord-1"),
		MessageKey.String("charge failed"),
	} {
		if !hasAttr(evs[0].Attributes, kv) {
			t.Errorf("exception event lacks %v: %v", kv, evs[0].Attributes)
		}
	}
}

func TestBridge_StatusWithoutErrorAttr(t *testing.T) {
	span, _ := logInSpan(t, []Option{WithSpanEvents(slog.LevelError), WithSpanStatus()}, func(ctx context.Context, l *slog.Logger) {
		l.ErrorContext(ctx, "stock check failed")
	})
	if span.Status().Code != codes.Error || !hasAttr(span.Attributes(), semconv.ErrorTypeOther) {
		t.Errorf("status %v attrs %v", span.Status(), span.Attributes())
	}
	if evs := span.Events(); len(evs) != 1 || evs[0].Name != "stock check failed" {
		t.Errorf("events %v", evs)
	}
}

func hasAttr(kvs []attribute.KeyValue, want attribute.KeyValue) bool {
	for _, kv := range kvs {
		if kv == want {
			return true
		}
	}
	return false
}
