package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

// helperScope is the instrumentation scope of the spans the helpers start.
const helperScope = "github.com/otelkit/otelkit/tracing"

// newRecorder returns the test's recorder. It leaves the globals alone and
// records spans unredacted: the tests check what the helpers themselves put
// on spans.
func newRecorder(t *testing.T) *tracingtest.Recorder {
	t.Helper()
	return tracingtest.New(t, tracingtest.WithoutGlobals(), tracingtest.WithoutRedaction())
}

// rootCtx returns a context whose recording span belongs to tp, so the
// helpers pick tp without touching the global provider.
func rootCtx(t *testing.T, tp trace.TracerProvider) context.Context {
	t.Helper()
	ctx, root := tp.Tracer("test").Start(context.Background(), "test.root")
	t.Cleanup(func() { root.End() })
	return ctx
}

func TestEnd_ErrorSetsStatusTypeAndException(t *testing.T) {
	rec := newRecorder(t)
	ctx := rootCtx(t, rec.TracerProvider())
	want := fmt.Errorf("charge: %w", fs.ErrPermission)
	got := func() (err error) {
		_, span := tracing.Start(ctx, "checkout.charge_payment")
		defer tracing.End(span, &err)
		return want
	}()
	if got != want {
		t.Fatalf("End changed the error: %v", got)
	}
	s := rec.Span(t, "checkout.charge_payment")
	rec.AssertParent(t, trace.SpanFromContext(ctx), s)
	rec.AssertError(t, s, "*errors.errorString")
	if s.Status().Description != want.Error() {
		t.Errorf("status = %+v, want Error %q", s.Status(), want)
	}
	if len(s.Events()) != 1 {
		t.Fatalf("events = %+v, want one exception", s.Events())
	}
	rec.AssertEventAttrs(t, s, semconv.ExceptionEventName, semconv.ExceptionMessage(want.Error()))
	if s.InstrumentationScope().Name != helperScope {
		t.Errorf("scope = %q", s.InstrumentationScope().Name)
	}
}

func TestEnd_ExpectedOutcomesAreNotErrors(t *testing.T) {
	errMiss := errors.New("cache miss")
	tracing.SetErrorClassifier(func(err error) bool { return errors.Is(err, errMiss) })
	t.Cleanup(func() { tracing.SetErrorClassifier(nil) })
	rec := newRecorder(t)
	ctx := rootCtx(t, rec.TracerProvider())
	for _, err := range []error{context.Canceled, fmt.Errorf("read: %w", context.Canceled), errMiss, nil} {
		func() {
			_, span := tracing.Start(ctx, "cart.load")
			defer tracing.End(span, &err)
		}()
	}
	var deadline error = context.DeadlineExceeded
	func() {
		_, span := tracing.Start(ctx, "cart.load_slow")
		defer tracing.End(span, &deadline)
	}()
	loads := rec.Find("cart.load")
	if len(loads) != 4 {
		t.Fatalf("%d cart.load spans, want 4", len(loads))
	}
	for _, s := range loads {
		if s.Status().Code != codes.Unset || len(s.Events()) != 0 {
			t.Errorf("expected outcome recorded as failure: %+v %+v", s.Status(), s.Events())
		}
		rec.AssertNoAttrs(t, s, semconv.ErrorTypeKey)
	}
	rec.AssertError(t, rec.Span(t, "cart.load_slow"), "") // deadline exceeded is a timeout
}

func TestEnd_PanicRecordedWithStackAndReraised(t *testing.T) {
	rec := newRecorder(t)
	ctx := rootCtx(t, rec.TracerProvider())
	boom := errors.New("boom")
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		_ = tracing.Run(ctx, "inventory.reserve", func(context.Context) error {
			panicInReserve(boom)
			return nil
		})
	}()
	if recovered != boom {
		t.Fatalf("re-panicked with %v, want the original value", recovered)
	}
	s := rec.Span(t, "inventory.reserve") // ended: the recorder sees ended spans only
	if s.Status().Code != codes.Error || s.Status().Description != "panic: boom" {
		t.Errorf("status = %+v", s.Status())
	}
	if len(s.Events()) != 1 {
		t.Fatalf("events = %+v", s.Events())
	}
	stack, _ := tracingtest.Attr(s.Events()[0].Attributes, semconv.ExceptionStacktraceKey)
	if !strings.Contains(stack.AsString(), "panicInReserve") {
		t.Errorf("stack does not name the panicking function:\n%s", stack.AsString())
	}
}

func panicInReserve(v any) { panic(v) }

func TestRun_ReturnsErrorAndParentsChildren(t *testing.T) {
	rec := newRecorder(t)
	ctx := rootCtx(t, rec.TracerProvider())
	want := errors.New("out of stock")
	err := tracing.Run(ctx, "inventory.validate_stock_levels", func(ctx context.Context) error {
		return tracing.Run(ctx, "inventory.load_levels", func(context.Context) error { return want })
	})
	if err != want {
		t.Fatalf("Run returned %v", err)
	}
	parent := rec.Span(t, "inventory.validate_stock_levels")
	child := rec.Span(t, "inventory.load_levels")
	rec.AssertParent(t, parent, child)
	rec.AssertError(t, parent, "")
	rec.AssertError(t, child, "")
}

func TestSetAttributesFunc_OnlyForRecordingSpans(t *testing.T) {
	rec := newRecorder(t)
	// Not the recorder's own provider, which samples everything.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSyncer(rec.Exporter()))
	calls := 0
	fn := func() []attribute.KeyValue { calls++; return []attribute.KeyValue{OrderItemCount.Int(3)} }
	_, span := tp.Tracer("t").Start(context.Background(), "cart.load")
	tracing.SetAttributesFunc(span, fn)
	span.End()
	if calls != 0 {
		t.Errorf("fn called %d times for a non-recording span", calls)
	}
	rec.AssertNoSpan(t, "cart.load") // unsampled: not exported
	_, span = rec.TracerProvider().Tracer("t").Start(context.Background(), "cart.load")
	tracing.SetAttributesFunc(span, fn)
	span.End()
	if calls != 1 {
		t.Errorf("fn called %d times for a recording span", calls)
	}
	rec.AssertAttrs(t, rec.Span(t, "cart.load"), OrderItemCount.Int(3))
}

func TestStart_UsesGlobalProviderWithoutRecordingParent(t *testing.T) {
	rec := tracingtest.New(t, tracingtest.WithoutRedaction()) // the global provider for the test
	remote := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), remote)
	_, span := tracing.Start(ctx, "orders.create")
	span.End()
	rec.AssertParent(t, trace.SpanFromContext(ctx), rec.Span(t, "orders.create")) // the remote parent
}
