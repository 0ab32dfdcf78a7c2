package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/pipeline"
	"github.com/otelkit/otelkit/tracing"
)

// helperScope is the instrumentation scope of the spans the helpers start.
const helperScope = "github.com/otelkit/otelkit/tracing"

// newRecorder returns a provider recording into an in-memory exporter, with
// the business baggage processor, as Setup would wire it.
func newRecorder(t *testing.T, opts ...sdktrace.TracerProviderOption) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	opts = append([]sdktrace.TracerProviderOption{
		sdktrace.WithSpanProcessor(pipeline.NewBaggageSpanProcessor()),
		sdktrace.WithSyncer(exp),
	}, opts...)
	tp := sdktrace.NewTracerProvider(opts...)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

// rootCtx returns a context whose recording span belongs to tp, so the
// helpers pick tp without touching the global provider.
func rootCtx(t *testing.T, tp trace.TracerProvider) context.Context {
	t.Helper()
	ctx, root := tp.Tracer("test").Start(context.Background(), "test.root")
	t.Cleanup(func() { root.End() })
	return ctx
}

func spanNamed(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no span %q in %d spans", name, len(spans))
	return tracetest.SpanStub{}
}

func attrOf(attrs []attribute.KeyValue, k attribute.Key) (attribute.Value, bool) {
	for _, kv := range attrs {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// errorSink receives what otel.Handle reports while a test captures it.
// Its handler is never uninstalled: otel cannot restore the default one.
var errorSink struct {
	mu sync.Mutex
	fn func(error)
}

var sinkHandler = otel.ErrorHandlerFunc(func(err error) {
	errorSink.mu.Lock()
	defer errorSink.mu.Unlock()
	if errorSink.fn != nil {
		errorSink.fn(err)
	}
})

// captureErrors routes otel.Handle to the returned function's result for the
// rest of the test.
func captureErrors(t *testing.T) func() []error {
	t.Helper()
	otel.SetErrorHandler(sinkHandler)
	var errs []error
	errorSink.mu.Lock()
	errorSink.fn = func(err error) { errs = append(errs, err) }
	errorSink.mu.Unlock()
	t.Cleanup(func() {
		errorSink.mu.Lock()
		errorSink.fn = nil
		errorSink.mu.Unlock()
	})
	return func() []error {
		errorSink.mu.Lock()
		defer errorSink.mu.Unlock()
		return append([]error(nil), errs...)
	}
}

func TestEnd_ErrorSetsStatusTypeAndException(t *testing.T) {
	tp, exp := newRecorder(t)
	ctx := rootCtx(t, tp)
	want := fmt.Errorf("charge: %w", fs.ErrPermission)
	got := func() (err error) {
		_, span := tracing.Start(ctx, "checkout.charge_payment")
		defer tracing.End(span, &err)
		return want
	}()
	if got != want {
		t.Fatalf("End changed the error: %v", got)
	}
	s := spanNamed(t, exp.GetSpans(), "checkout.charge_payment")
	if s.Status.Code != codes.Error || s.Status.Description != want.Error() {
		t.Errorf("status = %+v, want Error %q", s.Status, want)
	}
	if v, _ := attrOf(s.Attributes, semconv.ErrorTypeKey); v.AsString() != "*errors.errorString" {
		t.Errorf("error.type = %q, want *errors.errorString", v.AsString())
	}
	if len(s.Events) != 1 || s.Events[0].Name != semconv.ExceptionEventName {
		t.Fatalf("events = %+v, want one exception", s.Events)
	}
	if v, _ := attrOf(s.Events[0].Attributes, semconv.ExceptionMessageKey); v.AsString() != want.Error() {
		t.Errorf("exception.message = %q", v.AsString())
	}
	if s.InstrumentationScope.Name != helperScope {
		t.Errorf("scope = %q", s.InstrumentationScope.Name)
	}
	if want := trace.SpanContextFromContext(ctx).SpanID(); s.Parent.SpanID() != want {
		t.Errorf("parent = %s, want the span in ctx %s", s.Parent.SpanID(), want)
	}
}

func TestEnd_ExpectedOutcomesAreNotErrors(t *testing.T) {
	errMiss := errors.New("cache miss")
	tracing.SetErrorClassifier(func(err error) bool { return errors.Is(err, errMiss) })
	t.Cleanup(func() { tracing.SetErrorClassifier(nil) })
	tp, exp := newRecorder(t)
	ctx := rootCtx(t, tp)
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
	for _, s := range exp.GetSpans() {
		switch s.Name {
		case "cart.load":
			if s.Status.Code != codes.Unset || len(s.Events) != 0 {
				t.Errorf("expected outcome recorded as failure: %+v %+v", s.Status, s.Events)
			}
			if _, ok := attrOf(s.Attributes, semconv.ErrorTypeKey); ok {
				t.Errorf("expected outcome has error.type")
			}
		case "cart.load_slow":
			if s.Status.Code != codes.Error {
				t.Errorf("deadline exceeded is a timeout, got status %v", s.Status)
			}
		}
	}
}

func TestEnd_PanicRecordedWithStackAndReraised(t *testing.T) {
	tp, exp := newRecorder(t)
	ctx := rootCtx(t, tp)
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
	s := spanNamed(t, exp.GetSpans(), "inventory.reserve")
	if s.Status.Code != codes.Error || s.Status.Description != "panic: boom" {
		t.Errorf("status = %+v", s.Status)
	}
	if len(s.Events) != 1 {
		t.Fatalf("events = %+v", s.Events)
	}
	stack, _ := attrOf(s.Events[0].Attributes, semconv.ExceptionStacktraceKey)
	if !strings.Contains(stack.AsString(), "panicInReserve") {
		t.Errorf("stack does not name the panicking function:\n%s", stack.AsString())
	}
	if s.EndTime.IsZero() {
		t.Errorf("span not ended")
	}
}

func panicInReserve(v any) { panic(v) }

func TestRun_ReturnsErrorAndParentsChildren(t *testing.T) {
	tp, exp := newRecorder(t)
	ctx := rootCtx(t, tp)
	want := errors.New("out of stock")
	err := tracing.Run(ctx, "inventory.validate_stock_levels", func(ctx context.Context) error {
		return tracing.Run(ctx, "inventory.load_levels", func(context.Context) error { return want })
	})
	if err != want {
		t.Fatalf("Run returned %v", err)
	}
	parent := spanNamed(t, exp.GetSpans(), "inventory.validate_stock_levels")
	child := spanNamed(t, exp.GetSpans(), "inventory.load_levels")
	if child.Parent.SpanID() != parent.SpanContext.SpanID() {
		t.Errorf("child parent = %s, want %s", child.Parent.SpanID(), parent.SpanContext.SpanID())
	}
	if parent.Status.Code != codes.Error || child.Status.Code != codes.Error {
		t.Errorf("statuses = %v %v", parent.Status, child.Status)
	}
}

func TestSetAttributesFunc_OnlyForRecordingSpans(t *testing.T) {
	tp, exp := newRecorder(t, sdktrace.WithSampler(sdktrace.NeverSample()))
	calls := 0
	fn := func() []attribute.KeyValue { calls++; return []attribute.KeyValue{OrderItemCount.Int(3)} }
	_, span := tp.Tracer("t").Start(context.Background(), "cart.load")
	tracing.SetAttributesFunc(span, fn)
	span.End()
	if calls != 0 {
		t.Errorf("fn called %d times for a non-recording span", calls)
	}
	tp2, exp2 := newRecorder(t)
	_, span = tp2.Tracer("t").Start(context.Background(), "cart.load")
	tracing.SetAttributesFunc(span, fn)
	span.End()
	if calls != 1 {
		t.Errorf("fn called %d times for a recording span", calls)
	}
	if v, _ := attrOf(exp2.GetSpans()[0].Attributes, OrderItemCount.Key()); v.AsInt64() != 3 {
		t.Errorf("attribute not set")
	}
	if len(exp.GetSpans()) != 0 {
		t.Errorf("unsampled span exported")
	}
}

func TestStart_UsesGlobalProviderWithoutRecordingParent(t *testing.T) {
	tp, exp := newRecorder(t)
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	remote := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), remote)
	_, span := tracing.Start(ctx, "orders.create")
	span.End()
	s := spanNamed(t, exp.GetSpans(), "orders.create")
	if s.SpanContext.TraceID() != remote.TraceID() || s.Parent.SpanID() != remote.SpanID() {
		t.Errorf("span not a child of the remote parent: %v %v", s.SpanContext.TraceID(), s.Parent.SpanID())
	}
}
