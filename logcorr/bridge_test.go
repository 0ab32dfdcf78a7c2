package logcorr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"testing"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

type declinedError struct{ code string }

func (e *declinedError) Error() string { return "card declined: " + e.code }

// logInSpan runs fn with a logger built from opts inside one recorded span
// and returns the recorder, that span and the lines written. Spans are
// recorded without the pipeline's redaction: the tests check what the
// handler itself puts on the span.
func logInSpan(t *testing.T, opts []Option, fn func(ctx context.Context, l *slog.Logger)) (*tracingtest.Recorder, sdktrace.ReadOnlySpan, []map[string]any) {
	t.Helper()
	rec := tracingtest.New(t, tracingtest.WithoutGlobals(), tracingtest.WithoutRedaction())
	ctx, span := rec.TracerProvider().Tracer("test").Start(context.Background(), "payments.charge")
	var s jsonSink
	fn(ctx, slog.New(NewHandler(s.handler(), opts...)))
	span.End()
	if n := len(rec.Spans()); n != 1 {
		t.Fatalf("got %d spans, want 1", n)
	}
	return rec, rec.Span(t, "payments.charge"), s.lines(t)
}

func TestBridge_OffByDefault(t *testing.T) {
	_, span, lines := logInSpan(t, nil, func(ctx context.Context, l *slog.Logger) {
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
	_, span, _ := logInSpan(t, []Option{WithSpanEvents(slog.LevelWarn)}, func(ctx context.Context, l *slog.Logger) {
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
	rec, span, _ := logInSpan(t, []Option{WithSpanEvents(slog.LevelError), WithSpanStatus()}, func(ctx context.Context, l *slog.Logger) {
		l.ErrorContext(ctx, "charge failed", "order", "ord-1", "err", err)
	})
	if st := span.Status(); st.Code != codes.Error || st.Description != "charge failed" {
		t.Errorf("status %v, want Error \"charge failed\"", st)
	}
	wantType := semconv.ErrorType(err)
	if wantType.Value.AsString() != "*logcorr.declinedError" {
		t.Fatalf("error.type %v", wantType)
	}
	rec.AssertAttrs(t, span, wantType)
	if evs := span.Events(); len(evs) != 1 {
		t.Fatalf("events %v, want one exception event", evs)
	}
	rec.AssertEventAttrs(t, span, semconv.ExceptionEventName,
		semconv.ExceptionMessage(err.Error()),
		semconv.ExceptionType("*fmt.wrapError"), // what the SDK records
		attribute.String("order", "ord-1"),
		MessageKey.String("charge failed"),
	)
}

func TestBridge_StatusWithoutErrorAttr(t *testing.T) {
	rec, span, _ := logInSpan(t, []Option{WithSpanEvents(slog.LevelError), WithSpanStatus()}, func(ctx context.Context, l *slog.Logger) {
		l.ErrorContext(ctx, "stock check failed")
	})
	rec.AssertError(t, span, semconv.ErrorTypeOther.Value.AsString())
	if evs := span.Events(); len(evs) != 1 || evs[0].Name != "stock check failed" {
		t.Errorf("events %v", evs)
	}
}
