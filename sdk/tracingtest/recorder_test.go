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
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

// fakeTB records what the kit reports, to test that assertions fail and
// what they print. Cleanups run as the testing package runs them: last
// first, including those registered while cleaning up.
type fakeTB struct {
	mu       sync.Mutex
	errors   []string
	logs     []string
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
func (f *fakeTB) Logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}
func (f *fakeTB) finish() {
	for {
		f.mu.Lock()
		if len(f.cleanups) == 0 {
			f.mu.Unlock()
			return
		}
		fn := f.cleanups[len(f.cleanups)-1]
		f.cleanups = f.cleanups[:len(f.cleanups)-1]
		f.mu.Unlock()
		fn()
	}
}
func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errors) > 0
}
func (f *fakeTB) failures() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.errors, "\n")
}
func (f *fakeTB) logged() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.logs, "\n")
}
func (f *fakeTB) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors, f.fatal = nil, false
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
	ctx = tracing.SetBusiness(ctx, OrderID.String("o-42"), tracing.UserID.String("u-7"))
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
	rec.AssertBusiness(t, []attribute.Key{OrderID.Key(), tracing.UserID.Key()})
	rec.AssertAttrs(t, persist, OrderID.String("o-42"))
	rec.AssertNoSecrets(t, "u-7", "4111 1111 1111 1111")
	rec.AssertAllEnded(t)
	if got := len(rec.Spans()); got != 5 {
		t.Errorf("recorded %d spans, want 5", got)
	}
}

// Each failed assertion is one line saying what was expected and what was
// found; the waterfall is printed once, when the test ends.
func TestRecorder_FailuresAreOneLineAndTheWaterfallIsPrintedOnce(t *testing.T) {
	ft := &fakeTB{}
	rec := tracingtest.New(ft, tracingtest.WithService("gateway"), tracingtest.WithoutRedaction())
	checkout(t, rec, "4111 1111 1111 1111")
	persist := rec.Span(ft, "orders.persist")
	edge := rec.Span(ft, "POST /checkout")
	if ft.failures() != "" {
		t.Fatalf("unexpected failures: %s", ft.failures())
	}
	for _, tc := range []struct {
		name  string
		check func() bool
		want  string
	}{
		{"parent", func() bool { return rec.AssertParent(ft, persist, edge) },
			`want "orders.persist" (orders, internal) as the parent of "POST /checkout" (gateway, server), found none: a root span`},
		{"link", func() bool { return rec.AssertLinked(ft, edge, persist) },
			`want a link from "POST /checkout" (gateway, server) to "orders.persist" (orders, internal), found links to none`},
		{"business", func() bool { return rec.AssertBusiness(ft, []attribute.Key{tracing.TenantID.Key()}) },
			`business attributes missing: "send orders" (orders, producer) lacks tenant.id`},
		{"attrs", func() bool { return rec.AssertAttrs(ft, persist, OrderID.String("o-1")) },
			`"orders.persist" (orders, internal): order.id = o-42, want o-1`},
		{"no attrs", func() bool { return rec.AssertNoAttrs(ft, persist, OrderID.Key()) },
			`"orders.persist" (orders, internal): order.id = o-42, want none`},
		{"secrets", func() bool { return rec.AssertNoSecrets(ft) }, `attribute user.id exported in clear`},
		{"values", func() bool { return rec.AssertNoSecrets(ft, "o-42") }, `attribute order.id contains "o-42"`},
		{"error", func() bool { return rec.AssertError(ft, persist, "timeout") },
			`"orders.persist" (orders, internal): want status Error and error.type "timeout", found status Unset and no error.type`},
		{"no span", func() bool { return rec.AssertNoSpan(ft, "orders.persist") },
			`want no span "orders.persist", found 1: "orders.persist" (orders, internal)`},
		{"misspelt", func() bool { return rec.Span(ft, "orders.persit") != nil },
			`want one ended span "orders.persit", found none: closest names "orders.persist", "send orders", "POST /orders"`},
		{"filtered", func() bool { return rec.Span(ft, "POST /orders", tracingtest.InService("gateway")) != nil },
			`want one ended span "POST /orders", found none: the filters reject "POST /orders" (orders, server)`},
	} {
		ft.reset()
		if tc.check() {
			t.Errorf("%s: assertion passed on a bad trace", tc.name)
		}
		msg := ft.failures()
		if !strings.HasPrefix(msg, "tracingtest: ") || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: failure message\n%s\nwant it to contain\n%s", tc.name, msg, tc.want)
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: failure message is not one line:\n%s", tc.name, msg)
		}
	}
	if ft.logged() != "" {
		t.Errorf("waterfall printed before the test ended:\n%s", ft.logged())
	}
	ft.reset()
	ft.finish()
	if ft.failures() != "" {
		t.Errorf("cleanup failed a test whose spans all ended: %s", ft.failures())
	}
	logs := ft.logged()
	if n := strings.Count(logs, "recorded spans when the test ended"); n != 1 {
		t.Errorf("waterfall printed %d times, want once:\n%s", n, logs)
	}
	// The waterfall names every service and span of the trace.
	for _, want := range []string{"gateway", "orders", "POST /checkout", "checkout.create_order", "POST /orders", "send orders", "orders.persist"} {
		if !strings.Contains(logs, want) {
			t.Errorf("waterfall lacks %q:\n%s", want, logs)
		}
	}
}

// A test that passes prints no waterfall; a subtest's failure prints it
// when the subtest ends, not when the test that made the recorder does.
func TestRecorder_WaterfallOnlyForTheFailingTest(t *testing.T) {
	parent, sub := &fakeTB{}, &fakeTB{}
	rec := tracingtest.New(parent)
	_ = tracing.Run(context.Background(), "orders.create", func(context.Context) error { return nil })
	rec.AssertNoSpan(sub, "orders.create")
	rec.AssertNoSpan(sub, "orders.create")
	sub.finish()
	if n := strings.Count(sub.logged(), "orders.create  "); n != 1 {
		t.Errorf("subtest printed the waterfall %d times, want once:\n%s", n, sub.logged())
	}
	parent.finish()
	if parent.logged() != "" || parent.failures() != "" {
		t.Errorf("passing test printed %q, failed with %q", parent.logged(), parent.failures())
	}
}

// A test that fails on a check of its own also gets the waterfall.
func TestRecorder_WaterfallWhenTheTestFailsItsOwnCheck(t *testing.T) {
	ft := &fakeTB{}
	tracingtest.New(ft)
	_ = tracing.Run(context.Background(), "orders.create", func(context.Context) error { return nil })
	ft.Errorf("got 2 orders, want 1")
	ft.finish()
	if n := strings.Count(ft.logged(), "orders.create  "); n != 1 {
		t.Errorf("waterfall printed %d times, want once:\n%s", n, ft.logged())
	}
}

// Without Logf, as in a custom TB, the waterfall is reported with Errorf.
func TestRecorder_WaterfallWithoutLogf(t *testing.T) {
	et := &errorsOnlyTB{}
	rec := tracingtest.New(et)
	_ = tracing.Run(context.Background(), "orders.create", func(context.Context) error { return nil })
	rec.Span(et, "orders.missing")
	et.finish()
	if msg := et.failures(); strings.Count(msg, "recorded spans when the test ended") != 1 || !strings.Contains(msg, "orders.create") {
		t.Errorf("failures: %s", msg)
	}
}

type errorsOnlyTB struct{ f fakeTB }

func (e *errorsOnlyTB) Helper()                           {}
func (e *errorsOnlyTB) Errorf(format string, args ...any) { e.f.Errorf(format, args...) }
func (e *errorsOnlyTB) Fatalf(format string, args ...any) { e.f.Fatalf(format, args...) }
func (e *errorsOnlyTB) Cleanup(fn func())                 { e.f.Cleanup(fn) }
func (e *errorsOnlyTB) finish()                           { e.f.finish() }
func (e *errorsOnlyTB) failures() string                  { return e.f.failures() }

func TestRecorder_AssertErrorAndOK(t *testing.T) {
	rec := tracingtest.New(t)
	ctx := context.Background()
	_ = tracing.Run(ctx, "payments.charge", func(context.Context) error { return &declined{} })
	_ = tracing.Run(ctx, "payments.refund", func(context.Context) error { return nil })
	_ = tracing.Run(ctx, "payments.poll", func(context.Context) error { return context.Canceled })
	charge, refund, poll := rec.Span(t, "payments.charge"), rec.Span(t, "payments.refund"), rec.Span(t, "payments.poll")
	rec.AssertError(t, charge, "*tracingtest_test.declined")
	rec.AssertError(t, charge, "")
	rec.AssertOK(t, refund)
	rec.AssertOK(t, poll) // the caller giving up is not a failure

	ft := &fakeTB{}
	if rec.AssertOK(ft, charge) || rec.AssertError(ft, refund, "") || rec.AssertError(ft, charge, "timeout") {
		t.Errorf("assertion passed on the wrong outcome")
	}
	want := []string{
		`"payments.charge" (test, internal): want no error, found status Error "card declined" and error.type "*tracingtest_test.declined"`,
		`"payments.refund" (test, internal): want status Error and any error.type, found status Unset and no error.type`,
		`"payments.charge" (test, internal): want status Error and error.type "timeout", found status Error "card declined" and error.type "*tracingtest_test.declined"`,
	}
	if got := ft.failures(); got != "tracingtest: "+strings.Join(want, "\ntracingtest: ") {
		t.Errorf("failures:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

type declined struct{}

func (*declined) Error() string { return "card declined" }

func TestChildOfSpanOfAndEvent(t *testing.T) {
	rec := tracingtest.New(t)
	ctx, root := tracing.Start(context.Background(), "orders.create")
	_ = tracing.Run(ctx, "orders.insert", func(context.Context) error { return errors.New("duplicate key") })
	_ = tracing.Run(context.Background(), "orders.insert", func(context.Context) error { return nil })
	root.End()

	// A live span and a recorded one select the same children.
	insert := rec.Span(t, "orders.insert", tracingtest.ChildOf(root))
	if got := rec.Find("orders.insert", tracingtest.ChildOf(rec.Span(t, "orders.create"))); len(got) != 1 || got[0] != insert {
		t.Errorf("ChildOf(recorded span) found %v", got)
	}
	ev, ok := tracingtest.Event(insert, semconv.ExceptionEventName)
	if msg, _ := tracingtest.Attr(ev.Attributes, semconv.ExceptionMessageKey); !ok || msg.AsString() != "duplicate key" {
		t.Errorf("exception event %v, %v", ev, ok)
	}
	if _, ok := tracingtest.Event(insert, "missing"); ok {
		t.Errorf("Event found a missing event")
	}

	// A live span is a parent too; a span context finds its span.
	rec.AssertParent(t, root, insert)
	if got := rec.SpanOf(t, insert.SpanContext()); got != insert {
		t.Errorf("SpanOf returned %v", got)
	}

	ft := &fakeTB{}
	_, open := tracing.Start(context.Background(), "orders.open")
	if rec.SpanOf(ft, open.SpanContext()) != nil || !ft.fatal {
		t.Errorf("SpanOf returned an open span")
	}
	if want := fmt.Sprintf(`tracingtest: want the ended span %s of trace %s, found "orders.open" (test, internal), still open`,
		open.SpanContext().SpanID(), open.SpanContext().TraceID()); ft.failures() != want {
		t.Errorf("message\n%s\nwant\n%s", ft.failures(), want)
	}
	if rec.AssertParent(ft, open, insert) {
		t.Errorf("AssertParent passed for the wrong parent")
	}
	open.End()
	ft.reset()
	if rec.Span(ft, "orders.insert") != nil || !ft.fatal {
		t.Errorf("Span returned one of two spans of the name")
	}
	if want := `tracingtest: want one ended span "orders.insert", found 2: "orders.insert" (test, internal), "orders.insert" (test, internal)`; ft.failures() != want {
		t.Errorf("message\n%s\nwant\n%s", ft.failures(), want)
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
	ft.reset()
	if rec.AssertNames(ft) {
		t.Errorf("AssertNames passed")
	}
	if msg := ft.failures(); !strings.Contains(msg, "GET /orders/123456") || !strings.Contains(msg, "contains an id") {
		t.Errorf("AssertNames message: %s", msg)
	}
	ft.reset()
	ft.finish()
	if msg := ft.failures(); !strings.Contains(msg, "found 1 open") || !strings.Contains(msg, "checkout.leaked") {
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

func TestRecorder_WithSpanContextLinkAndEventAttrs(t *testing.T) {
	rec := tracingtest.New(t)
	_, send := tracing.Start(context.Background(), "orders.send")
	send.End()
	_, other := tracing.Start(context.Background(), "orders.other")
	other.End()
	var inner trace.SpanContext
	_ = tracing.Run(context.Background(), "orders.process", func(ctx context.Context) error {
		inner = trace.SpanContextFromContext(ctx)
		trace.SpanFromContext(ctx).AddEvent("orders.retried", trace.WithAttributes(attribute.Int("attempt", 2)))
		return nil
	}, trace.WithLinks(trace.Link{SpanContext: send.SpanContext(), Attributes: []attribute.KeyValue{attribute.Int64("offset", 7)}}))
	_ = tracing.Run(context.Background(), "orders.process", func(context.Context) error { return nil })

	proc := rec.Span(t, "orders.process", tracingtest.WithSpanContext(inner))
	if proc.SpanContext().SpanID() != inner.SpanID() {
		t.Fatalf("WithSpanContext selected span %s, want %s", proc.SpanContext().SpanID(), inner.SpanID())
	}
	if !rec.AssertLinkAttrs(t, proc, send, attribute.Int64("offset", 7)) ||
		!rec.AssertEventAttrs(t, proc, "orders.retried", attribute.Int("attempt", 2)) {
		return
	}

	for _, c := range []struct {
		name  string
		check func(tb tracingtest.TB) bool
		want  string
	}{
		{"link attribute value", func(tb tracingtest.TB) bool {
			return rec.AssertLinkAttrs(tb, proc, send, attribute.Int64("offset", 8))
		}, `tracingtest: "orders.process" (test, internal): link to "orders.send" (test, internal): offset = 7, want 8`},
		{"no such link", func(tb tracingtest.TB) bool {
			return rec.AssertLinkAttrs(tb, proc, other, attribute.Int64("offset", 7))
		}, `tracingtest: want a link from "orders.process" (test, internal) to "orders.other" (test, internal), found links to "orders.send" (test, internal)`},
		{"event attribute missing", func(tb tracingtest.TB) bool {
			return rec.AssertEventAttrs(tb, proc, "orders.retried", attribute.String("reason", "timeout"))
		}, `tracingtest: "orders.process" (test, internal): event "orders.retried": reason missing, want timeout`},
		{"no such event", func(tb tracingtest.TB) bool {
			return rec.AssertEventAttrs(tb, proc, "exception")
		}, `tracingtest: "orders.process" (test, internal): want an event "exception", found events "orders.retried"`},
	} {
		ft := &fakeTB{}
		if c.check(ft) {
			t.Errorf("%s: assertion passed", c.name)
		}
		if ft.failures() != c.want {
			t.Errorf("%s: message\n%s\nwant\n%s", c.name, ft.failures(), c.want)
		}
	}
}

func TestRecorder_TraceAndInTraceID(t *testing.T) {
	rec := tracingtest.New(t)
	ctx, first := tracing.Start(context.Background(), "orders.create")
	_ = tracing.Run(ctx, "orders.insert", func(context.Context) error { return nil })
	first.End()
	_ = tracing.Run(context.Background(), "orders.insert", func(context.Context) error { return nil })
	id := first.SpanContext().TraceID()

	var names []string
	for _, s := range rec.Trace(id) {
		names = append(names, s.Name())
	}
	if got := strings.Join(names, ","); got != "orders.insert,orders.create" {
		t.Errorf("Trace returned %q, want the two spans of the first trace in the order they ended", got)
	}
	insert := rec.Span(t, "orders.insert", tracingtest.InTraceID(id))
	rec.AssertParent(t, first, insert)
	if got := rec.Trace(trace.TraceID{1}); len(got) != 0 {
		t.Errorf("Trace of an unknown id returned %d spans", len(got))
	}
}
