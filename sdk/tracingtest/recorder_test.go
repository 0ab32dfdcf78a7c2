package tracingtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

// fakeTB records what an assertion reports, to test that assertions fail.
type fakeTB struct {
	mu       sync.Mutex
	errors   []string
	fatal    bool
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) { f.Errorf(format, args...); f.fatal = true }
func (f *fakeTB) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) finish() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}
func (f *fakeTB) failures() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.errors, "\n")
}

// checkout runs a two-service checkout: the gateway sets business context
// and calls orders over HTTP; orders links its work to a message span.
func checkout(t *testing.T, rec *tracingtest.Recorder, card string) {
	t.Helper()
	orders := rec.Service("orders")
	prop := tracingtest.Propagator()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := orders.Tracer("orders").Start(ctx, "POST /orders", trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		_, msg := orders.Tracer("orders").Start(ctx, "send orders", trace.WithSpanKind(trace.SpanKindProducer))
		msg.End()
		_ = tracing.Run(ctx, "orders.persist", func(ctx context.Context) error {
			trace.SpanFromContext(ctx).AddEvent("card.checked", trace.WithAttributes(attribute.String("note", "card "+card)))
			return nil
		}, trace.WithLinks(trace.Link{SpanContext: msg.SpanContext()}))
	}))
	defer srv.Close()

	ctx, edge := otel.Tracer("gateway").Start(context.Background(), "POST /checkout", trace.WithSpanKind(trace.SpanKindServer))
	ctx = tracing.SetBusiness(ctx, tracing.OrderID.String("o-42"), tracing.UserID.String("u-7"))
	err := tracing.Run(ctx, "checkout.create_order", func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
		otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(req.Header))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	edge.End()
}

func TestRecorder_CheckoutAcrossServices(t *testing.T) {
	rec := tracingtest.New(t, tracingtest.WithService("gateway"))
	checkout(t, rec, "4111 1111 1111 1111")

	edge := rec.Span(t, "POST /checkout", tracingtest.InService("gateway"))
	create := rec.Span(t, "checkout.create_order")
	server := rec.Span(t, "POST /orders", tracingtest.InService("orders"), tracingtest.OfKind(trace.SpanKindServer))
	persist := rec.Span(t, "orders.persist", tracingtest.InTrace(edge))
	msg := rec.Span(t, "send orders")
	rec.AssertParent(t, edge, create)
	rec.AssertParent(t, create, server)
	rec.AssertParent(t, server, persist)
	rec.AssertLinked(t, persist, msg)
	rec.AssertSameTrace(t, edge, create, server, persist, msg)
	rec.AssertNames(t)
	rec.AssertBusiness(t, []attribute.Key{tracing.OrderID.Key(), tracing.UserID.Key()})
	rec.AssertAttrs(t, persist, tracing.OrderID.String("o-42"))
	rec.AssertNoSecrets(t, "u-7", "4111 1111 1111 1111")
	rec.AssertAllEnded(t)
	if got := len(rec.Spans()); got != 5 {
		t.Errorf("recorded %d spans, want 5", got)
	}
}

func TestRecorder_FailuresShowTheWaterfall(t *testing.T) {
	ft := &fakeTB{}
	rec := tracingtest.New(ft, tracingtest.WithService("gateway"), tracingtest.WithoutRedaction())
	checkout(t, rec, "4111 1111 1111 1111")
	persist := rec.Span(ft, "orders.persist")
	edge := rec.Span(ft, "POST /checkout")
	if ft.failures() != "" {
		t.Fatalf("unexpected failures: %s", ft.failures())
	}
	for name, check := range map[string]func() bool{
		"parent":   func() bool { return rec.AssertParent(ft, persist, edge) },
		"link":     func() bool { return rec.AssertLinked(ft, edge, persist) },
		"business": func() bool { return rec.AssertBusiness(ft, []attribute.Key{tracing.TenantID.Key()}) },
		"attrs":    func() bool { return rec.AssertAttrs(ft, persist, tracing.OrderID.String("o-1")) },
		"secrets":  func() bool { return rec.AssertNoSecrets(ft) },
		"values":   func() bool { return rec.AssertNoSecrets(ft, "o-42") },
		"missing":  func() bool { rec.Span(ft, "orders.missing"); return !ft.fatal },
	} {
		ft.errors, ft.fatal = nil, false
		if check() {
			t.Errorf("%s: assertion passed on a bad trace", name)
		}
		msg := ft.failures()
		// The waterfall names every service and span of the trace.
		for _, want := range []string{"gateway", "orders", "checkout.create_order", "orders.persist", "POST /orders"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: failure message lacks %q:\n%s", name, want, msg)
			}
		}
	}
	ft.errors = nil
	ft.finish()
	if ft.failures() != "" {
		t.Errorf("cleanup failed a test whose spans all ended: %s", ft.failures())
	}
}

func TestRecorder_OpenSpanAndBadNameFailTheTest(t *testing.T) {
	ft := &fakeTB{}
	rec := tracingtest.New(ft)
	ctx, span := tracing.Start(context.Background(), "checkout.Bad Name")
	_, leaked := tracing.Start(ctx, "checkout.leaked")
	span.End()
	_, proto := otel.Tracer("t").Start(ctx, "GET /orders/123456", trace.WithSpanKind(trace.SpanKindClient))
	proto.End()
	if msg := ft.failures(); !strings.Contains(msg, `"checkout.Bad Name"`) || !errors.Is(tracing.ValidName("checkout.Bad Name"), tracing.ErrInvalidName) {
		t.Errorf("strict names did not fail the test: %q", msg)
	}
	ft.errors = nil
	if rec.AssertNames(ft) {
		t.Errorf("AssertNames passed")
	}
	if msg := ft.failures(); !strings.Contains(msg, "GET /orders/123456") || !strings.Contains(msg, "contains an id") {
		t.Errorf("AssertNames message: %s", msg)
	}
	ft.errors = nil
	ft.finish()
	if msg := ft.failures(); !strings.Contains(msg, "never ended") || !strings.Contains(msg, "checkout.leaked") {
		t.Errorf("open span not reported at cleanup: %q", msg)
	}
	leaked.End()
	if otel.GetTracerProvider() == rec.TracerProvider() {
		t.Errorf("global provider not restored")
	}
}

func TestRecorder_WithoutGlobalRunsInParallel(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			rec := tracingtest.New(t, tracingtest.WithoutGlobals())
			ctx, root := rec.TracerProvider().Tracer("t").Start(context.Background(), "parallel.root")
			_ = tracing.Run(ctx, "parallel.child", func(context.Context) error { return nil })
			root.End()
			rec.AssertParent(t, rec.Span(t, "parallel.root"), rec.Span(t, "parallel.child"))
			if n := len(rec.Spans()); n != 2 {
				t.Errorf("recorded %d spans, want 2: another test's spans leaked in", n)
			}
		})
	}
}
