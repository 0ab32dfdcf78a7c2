package diagnose_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing/diagnose"
)

// builder makes spans of one trace by hand, the way other instrumentation
// (otelhttp, kotel, otelpgx) exports them; times are milliseconds after t0.
type builder struct {
	tid   trace.TraceID
	next  byte
	spans []diagnose.Span
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newBuilder(n byte) *builder { return &builder{tid: trace.TraceID{0xab, n}} }

func ms(f float64) time.Time { return t0.Add(time.Duration(f * float64(time.Millisecond))) }

func (b *builder) span(parent trace.SpanID, svc, name string, kind trace.SpanKind, from, to float64, attrs ...attribute.KeyValue) trace.SpanID {
	b.next++
	id := trace.SpanID{0xcd, b.next}
	b.spans = append(b.spans, diagnose.Span{TraceID: b.tid, SpanID: id, ParentID: parent, Name: name, Kind: kind,
		Service: svc, Start: ms(from), End: ms(to), Attributes: attrs,
		Resource: []attribute.KeyValue{semconv.ServiceName(svc)}})
	return id
}

func (b *builder) fail(id trace.SpanID, msg string, attrs ...attribute.KeyValue) {
	for i := range b.spans {
		if b.spans[i].SpanID == id {
			b.spans[i].Status, b.spans[i].StatusMessage = codes.Error, msg
			b.spans[i].Attributes = append(b.spans[i].Attributes, attrs...)
		}
	}
}

func one(t *testing.T, spans []diagnose.Span) diagnose.Diagnosis {
	t.Helper()
	ds := diagnose.Diagnose(spans)
	if len(ds) != 1 {
		t.Fatalf("%d diagnoses, want 1", len(ds))
	}
	return ds[0]
}

func find(t *testing.T, d diagnose.Diagnosis, k diagnose.Kind) diagnose.Finding {
	t.Helper()
	if fs := d.Find(k); len(fs) > 0 {
		return fs[0]
	}
	t.Fatalf("no %s finding; got:\n%s", k, d.String())
	return diagnose.Finding{}
}

// Raw otelhttp: a server span, three client attempts "POST" to the same
// host with http.request.resend_count, each timing out while the callee
// goes on.
func TestDiagnose_OtelhttpRetryStormAndTimeoutChain(t *testing.T) {
	b := newBuilder(1)
	root := b.span(trace.SpanID{}, "orders", "POST /orders", trace.SpanKindServer, 0, 310, semconv.HTTPResponseStatusCode(503))
	b.fail(root, "")
	for n := range 3 {
		from := float64(n)*100 + 5
		attrs := []attribute.KeyValue{semconv.URLFull("http://inventory:8080/stock?x=1"), semconv.ServerAddress("inventory"), semconv.ServerPort(8080)}
		if n > 0 {
			attrs = append(attrs, semconv.HTTPRequestResendCount(n))
		}
		c := b.span(root, "orders", "POST", trace.SpanKindClient, from, from+100, attrs...)
		b.fail(c, "context deadline exceeded", semconv.ErrorTypeKey.String("context.deadlineExceededError"))
		b.span(c, "inventory", "POST /stock", trace.SpanKindServer, from+1, from+100.5)
	}
	d := one(t, b.spans)
	storm := find(t, d, diagnose.RetryStorm)
	if storm.Name != "POST /orders" || storm.Service != "orders" || storm.Fields["attempts"] != 3 || storm.Fields["timeouts"] != 3 ||
		storm.Fields[string(semconv.HTTPRequestResendCountKey)] != int64(2) {
		t.Errorf("retry storm = %+v", storm)
	}
	chain := find(t, d, diagnose.TimeoutChain)
	if chain.Service != "inventory" || chain.Name != "POST /stock" || chain.Fields["count"] != 3 || chain.Fields["caller"] != "orders POST" {
		t.Errorf("timeout chain = %+v", chain)
	}
	origin := find(t, d, diagnose.ErrorOrigin)
	if origin.Name != "POST" || origin.SpanID != b.spans[1].SpanID || !strings.Contains(origin.Summary, "deadline exceeded") {
		t.Errorf("error origin = %v, want the first attempt", origin)
	}
	if d.Has(diagnose.FanOutFailure) || d.Has(diagnose.ErrorAbsorbed) {
		t.Errorf("sequential attempts reported as: %v", d.Kinds())
	}
}

// kotel names its spans "orders publish" and "orders process"; a batch
// consumer links to the producers instead of being their child.
func TestDiagnose_KotelLostMessage(t *testing.T) {
	partition := func(p string) attribute.KeyValue { return semconv.MessagingDestinationPartitionID(p) }
	b := newBuilder(2)
	root := b.span(trace.SpanID{}, "api", "POST /orders", trace.SpanKindServer, 0, 20)
	delivered := b.span(root, "api", "orders publish", trace.SpanKindProducer, 2, 4, semconv.MessagingSystemKafka, semconv.MessagingDestinationName("orders"), partition("2"))
	b.span(delivered, "warehouse", "orders process", trace.SpanKindConsumer, 30, 40, partition("2"))
	linked := b.span(root, "api", "orders publish", trace.SpanKindProducer, 5, 6, semconv.MessagingDestinationName("orders"), partition("3"))
	b.span(trace.SpanID{}, "warehouse", "orders process", trace.SpanKindConsumer, 31, 41)
	b.spans[len(b.spans)-1].Links = []diagnose.Link{{TraceID: b.tid, SpanID: linked}}
	lost := b.span(root, "api", "orders publish", trace.SpanKindProducer, 7, 8, semconv.MessagingDestinationName("orders"), partition("5"))
	d := one(t, b.spans)
	if got := d.Kinds(); len(got) != 1 || got[0] != diagnose.LostMessage {
		t.Fatalf("findings %v, want one lost-message:\n%s", got, d.String())
	}
	f := d.Findings[0]
	if f.SpanID != lost || f.Fields[string(semconv.MessagingDestinationPartitionIDKey)] != "5" || !strings.Contains(f.Summary, "orders partition 5") {
		t.Errorf("lost message = %v %v", f, f.Fields)
	}
}

// otelpgx names its acquire span "pool.acquire" and its statements by
// operation; the wait for a connection outlasts the statements.
func TestDiagnose_OtelpgxPoolWait(t *testing.T) {
	b := newBuilder(3)
	pg := semconv.DBSystemNamePostgreSQL
	root := b.span(trace.SpanID{}, "orders", "POST /orders", trace.SpanKindServer, 0, 400)
	b.span(root, "orders", "pool.acquire", trace.SpanKindClient, 10, 310)
	b.span(root, "orders", "query INSERT", trace.SpanKindClient, 310, 330, pg)
	b.span(root, "orders", "query INSERT", trace.SpanKindClient, 330, 350, pg)
	// A connect is not a wait for the pool.
	acq := b.span(root, "orders", "pool.acquire", trace.SpanKindClient, 350, 360)
	b.span(acq, "orders", "connect", trace.SpanKindClient, 350, 360)
	d := one(t, b.spans)
	f := find(t, d, diagnose.PoolExhaustion)
	if f.Name != "pool.acquire" || f.Fields["waits"] != 1 || f.Fields["wait"] != 0.3 {
		t.Errorf("pool exhaustion = %v %v", f, f.Fields)
	}
	dom := find(t, d, diagnose.DominantStep)
	if dom.Name != "pool.acquire" {
		t.Errorf("dominant step = %v, want the 300ms of 400 waiting", dom)
	}
	// A fast request has no dominant step.
	if ds := diagnose.Diagnose(b.spans, diagnose.WithSlowRequest(time.Second)); ds[0].Has(diagnose.DominantStep) {
		t.Errorf("dominant step in a request faster than WithSlowRequest: %v", ds[0].Kinds())
	}
}

// Many repeats of one query under a span take most of the critical path:
// the span is the dominant step, named with its repeats.
func TestDiagnose_RepeatedQueryDominates(t *testing.T) {
	b := newBuilder(4)
	root := b.span(trace.SpanID{}, "inventory", "POST /stock/validate", trace.SpanKindServer, 0, 105)
	v := b.span(root, "inventory", "inventory.validate_stock_levels", trace.SpanKindInternal, 2, 103)
	for i := range 20 {
		b.span(v, "inventory", "SELECT stock", trace.SpanKindClient, 3+float64(i)*5, 7+float64(i)*5,
			semconv.DBSystemNamePostgreSQL, semconv.DBQuerySummary("SELECT stock"))
	}
	d := one(t, b.spans)
	if got := d.Kinds(); len(got) != 1 {
		t.Fatalf("findings %v, want one dominant step", got)
	}
	f := d.Findings[0]
	if f.Kind != diagnose.DominantStep || f.Name != "inventory.validate_stock_levels" || f.Fields["repeats"] != 20 || f.Fields["repeated"] != "SELECT stock" {
		t.Errorf("finding = %v %v", f, f.Fields)
	}
	if !strings.Contains(f.Summary, "20 × SELECT stock") {
		t.Errorf("summary %q", f.Summary)
	}
}

// Parallel children of one parent, one failed: fan-out failure, and with
// the parent not failed the error was absorbed.
func TestDiagnose_FanOutPartialFailure(t *testing.T) {
	for _, degrade := range []bool{true, false} {
		t.Run(fmt.Sprint("degrade=", degrade), func(t *testing.T) {
			b := newBuilder(5)
			root := b.span(trace.SpanID{}, "gateway", "POST /checkout", trace.SpanKindServer, 0, 50)
			q := b.span(root, "gateway", "checkout.quote", trace.SpanKindInternal, 1, 20)
			b.span(q, "gateway", "POST", trace.SpanKindClient, 2, 10, semconv.URLFull("http://pricing/price"))
			rec := b.span(q, "gateway", "GET", trace.SpanKindClient, 2, 8, semconv.URLFull("http://recs/recommendations"))
			b.fail(rec, "", semconv.HTTPResponseStatusCode(503), semconv.ErrorTypeKey.String("503"))
			b.span(q, "gateway", "GET", trace.SpanKindClient, 2, 19, semconv.URLFull("http://inventory/stock"))
			if !degrade {
				b.fail(q, "recommendations: 503")
				b.fail(root, "")
			}
			d := one(t, b.spans)
			f := find(t, d, diagnose.FanOutFailure)
			if f.SpanID != rec || f.Fields["parallel"] != 3 || f.Fields["failed"] != 1 || f.Fields["degraded"] != degrade {
				t.Errorf("fan-out = %v %v", f, f.Fields)
			}
			if degrade {
				a := find(t, d, diagnose.ErrorAbsorbed)
				if a.SpanID != rec || a.Fields["absorbed_by"] != "gateway checkout.quote" || a.Fields["async"] != false {
					t.Errorf("absorbed = %v %v", a, a.Fields)
				}
				return
			}
			if o := find(t, d, diagnose.ErrorOrigin); o.SpanID != rec || !strings.Contains(o.Summary, "answered 503") {
				t.Errorf("origin = %v", o)
			}
		})
	}
}

// An HTTP server's 4xx is not an error of the server, yet the failure it
// answered goes on to its caller: the origin is the span that decided it.
func TestDiagnose_OriginThroughClientErrorAnswers(t *testing.T) {
	b := newBuilder(6)
	root := b.span(trace.SpanID{}, "gateway", "POST /checkout", trace.SpanKindServer, 0, 30, semconv.HTTPResponseStatusCode(409))
	c := b.span(root, "gateway", "POST", trace.SpanKindClient, 1, 29)
	b.fail(c, "", semconv.HTTPResponseStatusCode(409))
	srv := b.span(c, "orders", "POST /orders", trace.SpanKindServer, 2, 28, semconv.HTTPResponseStatusCode(409))
	c2 := b.span(srv, "orders", "POST", trace.SpanKindClient, 3, 27)
	b.fail(c2, "", semconv.HTTPResponseStatusCode(409))
	inv := b.span(c2, "inventory", "POST /stock/validate", trace.SpanKindServer, 4, 26, semconv.HTTPResponseStatusCode(409))
	d := one(t, b.spans)
	if d.Has(diagnose.ErrorAbsorbed) || d.Has(diagnose.FanOutFailure) {
		t.Errorf("findings %v, want the failure to reach the root:\n%s", d.Kinds(), d.String())
	}
	if f := find(t, d, diagnose.ErrorOrigin); f.SpanID != inv || f.Summary != "answered 409; the failure started here and reached gateway POST /checkout" {
		t.Errorf("origin = %v", f)
	}
}

// A consumer's failure under a consumer span that did not fail: the
// request never saw it.
func TestDiagnose_SilentAsyncFailure(t *testing.T) {
	b := newBuilder(7)
	root := b.span(trace.SpanID{}, "gateway", "POST /checkout", trace.SpanKindServer, 0, 10)
	p := b.span(root, "payments", "send payments", trace.SpanKindProducer, 5, 6)
	c := b.span(p, "notifications", "process payments", trace.SpanKindConsumer, 20, 25)
	n := b.span(c, "notifications", "notifications.send_confirmation", trace.SpanKindInternal, 21, 24)
	b.fail(n, "smtp: mailbox unavailable")
	d := one(t, b.spans)
	f := find(t, d, diagnose.ErrorAbsorbed)
	if f.SpanID != n || f.Fields["async"] != true || !strings.Contains(f.Summary, "did not see it") {
		t.Errorf("absorbed = %v %v", f, f.Fields)
	}
}

// The critical path crosses asynchronous hops: the time the message
// waited is the consumer's wait, not anybody's own time.
func TestDiagnose_CriticalPathCrossesAsyncHop(t *testing.T) {
	b := newBuilder(8)
	root := b.span(trace.SpanID{}, "orders", "POST /orders", trace.SpanKindServer, 0, 10)
	b.span(root, "orders", "INSERT orders", trace.SpanKindClient, 1, 3)
	p := b.span(root, "relay", "send orders", trace.SpanKindProducer, 40, 42)
	c := b.span(p, "payments", "process orders", trace.SpanKindConsumer, 50, 60)
	b.span(c, "payments", "payments.charge", trace.SpanKindInternal, 51, 59)
	d := one(t, b.spans)
	if d.Duration != 60*time.Millisecond {
		t.Errorf("duration %v, want 60ms (to the consumer's end)", d.Duration)
	}
	var got []string
	for _, s := range d.CriticalPath {
		got = append(got, fmt.Sprintf("%s self=%v wait=%v", s.Name, s.Self, s.Wait))
	}
	want := []string{
		"POST /orders self=8ms wait=0s",
		"INSERT orders self=2ms wait=0s",
		"send orders self=2ms wait=30ms",
		"process orders self=2ms wait=8ms",
		"payments.charge self=8ms wait=0s",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("critical path:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Spans whose parents form a cycle, missing parents, ends before starts,
// duplicates: a diagnosis, never a panic or a hang.
func TestDiagnose_CorruptTrace(t *testing.T) {
	b := newBuilder(9)
	a := b.span(trace.SpanID{0xff}, "x", "a", trace.SpanKindServer, 10, 5)
	c := b.span(a, "x", "b", trace.SpanKindClient, 1, 2)
	b.spans[0].ParentID = c // a <-> b
	b.spans = append(b.spans, b.spans[1])
	d := one(t, b.spans)
	if d.Spans != 2 || d.Root.Name == "" {
		t.Errorf("diagnosis %+v", d)
	}
	if ds := diagnose.Diagnose(nil); len(ds) != 0 {
		t.Errorf("no spans: %d diagnoses", len(ds))
	}
}

// A healthy trace: no finding.
func TestDiagnose_HealthyTraceHasNoFinding(t *testing.T) {
	b := newBuilder(10)
	root := b.span(trace.SpanID{}, "gateway", "POST /checkout", trace.SpanKindServer, 0, 20)
	for i := range 4 {
		c := b.span(root, "gateway", "POST", trace.SpanKindClient, float64(i)*5, float64(i)*5+4)
		b.span(c, "orders", "POST /orders", trace.SpanKindServer, float64(i)*5+0.5, float64(i)*5+3.5)
	}
	if d := one(t, b.spans); len(d.Findings) != 0 {
		t.Errorf("findings on a healthy trace:\n%s", d.String())
	}
}

// Comparing many traces finds the attribute value that only failed spans
// carry, and skips identifiers and symptoms.
func TestCompare_SeparatesFailedByAttribute(t *testing.T) {
	var spans []diagnose.Span
	for i := range 7 {
		b := newBuilder(byte(20 + i))
		version := "2024-06-20"
		if i%7 == 3 {
			version = "2025-01-15"
		}
		root := b.span(trace.SpanID{}, "payments", "process orders", trace.SpanKindConsumer, 0, 10)
		c := b.span(root, "payments", "payments.charge", trace.SpanKindInternal, 1, 9,
			attribute.String("payment.provider.api_version", version), attribute.String("order.id", fmt.Sprint("ord-", i)))
		if version == "2025-01-15" {
			b.fail(c, "provider: 401", semconv.ErrorTypeKey.String("401"))
		}
		spans = append(spans, b.spans...)
	}
	diffs := diagnose.Compare(diagnose.Diagnose(spans))
	if len(diffs) != 1 {
		t.Fatalf("differences %v, want one", diffs)
	}
	want := "payments payments.charge: payment.provider.api_version=2025-01-15 in 100% of failed (1/1), 0% of the others (0/6)"
	if diffs[0].String() != want {
		t.Errorf("difference %q, want %q", diffs[0], want)
	}
}

// Among operations that all went well, the slow ones (twice the median or
// more) are compared with the others.
func TestCompare_SeparatesSlowByAttribute(t *testing.T) {
	var spans []diagnose.Span
	for i := range 8 {
		b := newBuilder(byte(40 + i))
		items, took := int64(2+i%2), 10.0
		if i == 5 {
			items, took = 47, 100
		}
		root := b.span(trace.SpanID{}, "inventory", "POST /stock/validate", trace.SpanKindServer, 0, took+2)
		b.span(root, "inventory", "inventory.validate_stock_levels", trace.SpanKindInternal, 1, 1+took, attribute.Int64("order.item_count", items))
		spans = append(spans, b.spans...)
	}
	diffs := diagnose.Compare(diagnose.Diagnose(spans))
	var got []string
	for _, d := range diffs {
		got = append(got, d.String())
	}
	want := []string{
		"inventory inventory.validate_stock_levels: order.item_count=47 in 100% of slow (1/1), 0% of the others (0/7)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("differences:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A wait of a few milliseconds is a pool handing over a connection another
// request is opening, not an exhausted pool, however short the statements.
func TestDiagnose_ShortPoolWaitIsNoFinding(t *testing.T) {
	b := newBuilder(9)
	pg := semconv.DBSystemNamePostgreSQL
	root := b.span(trace.SpanID{}, "inventory", "GET /stock", trace.SpanKindServer, 0, 20)
	b.span(root, "inventory", "pgxpool.acquire", trace.SpanKindInternal, 1, 8)
	b.span(root, "inventory", "SELECT stock", trace.SpanKindClient, 8, 9, pg)
	if d := one(t, b.spans); d.Has(diagnose.PoolExhaustion) {
		t.Errorf("a 7ms wait reported: %v", d.Kinds())
	}
}
