package shop_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/examples/checkout/shop"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing/diagnose"
)

// These tests check that each incident of the README's table gets the
// diagnosis the README gives it, computed from the exported spans alone.

// diagnosis diagnoses one placed order's trace; on failure the test log
// shows the findings of every trace and its waterfall.
func (c *checkout) diagnosis(id trace.TraceID) diagnose.Diagnosis {
	c.t.Helper()
	d := c.rec.Diagnose(id)
	if d.Spans == 0 {
		c.t.Fatalf("trace %s: no span recorded", id)
	}
	return d
}

func wantOne(t *testing.T, d diagnose.Diagnosis, k diagnose.Kind, service, span string) diagnose.Finding {
	t.Helper()
	fs := d.Find(k)
	if len(fs) != 1 || fs[0].Service != service || fs[0].Name != span {
		t.Fatalf("%s findings %v, want one on %s %q", k, fs, service, span)
	}
	return fs[0]
}

// failures returns the kinds of d's findings other than a dominant step:
// the first orders of a fresh system spend most of their time opening
// connections, which is true but not what these tests are about.
func failures(d diagnose.Diagnosis) []diagnose.Kind {
	var out []diagnose.Kind
	for _, f := range d.Findings {
		if f.Kind != diagnose.DominantStep {
			out = append(out, f.Kind)
		}
	}
	return out
}

// A healthy order raises no false alarm. The system is warmed up by one
// order first: the first order of a fresh process opens the connection
// pools, which is a real finding (a step that dominates) but not one of a
// running system.
func TestDiagnose_HealthyOrderHasNoFinding(t *testing.T) {
	c := start(t, shop.Scenarios{})
	c.place([]shop.CheckoutRequest{order("u-0", "EUR", lines(2)...)}, 1, 10*time.Second)
	placed := c.place([]shop.CheckoutRequest{order("u-1", "EUR", lines(3)...), order("u-2", "USD", lines(2)...)}, 1, 10*time.Second)
	for _, p := range placed {
		if p.Status != http.StatusCreated {
			t.Fatalf("checkout: %d %s", p.Status, p.Response.Error)
		}
		// The confirmation is sent before its span ends: wait for the span.
		c.rec.WaitFor(t, "notifications.send_confirmation", tracingtest.InService(shop.Notifications), tracingtest.InTraceID(p.TraceID))
		// And for the spans it descends from: the relay's send span can end
		// after the consumer is done.
		if err := c.tel.AwaitTraces(5*time.Second, p.TraceID); err != nil {
			t.Fatal(err)
		}
		d := c.diagnosis(p.TraceID)
		if len(d.Findings) != 0 {
			t.Errorf("healthy order %s: findings\n%s", p.Response.OrderID, d.String())
		}
		if d.Root.Name != "POST /checkout" || d.Root.Service != shop.Gateway {
			t.Errorf("root %v", d.Root)
		}
		// The critical path crosses the async hop: the outbox relay is on
		// it. (Where it ends depends on which of COMMIT and the consumers
		// ends last, which scheduling decides; the exact walk through the
		// outbox and Kafka is tested on fixed spans in tracing/diagnose.)
		var path []string
		for _, s := range d.CriticalPath {
			path = append(path, s.Service+" "+s.Name)
		}
		if !strings.Contains(strings.Join(path, ","), "outbox-relay ") {
			t.Errorf("critical path %q, want it through the outbox relay", path)
		}
	}
}

// Scenario 1: the 47 stock queries of validate_stock_levels dominate.
func TestDiagnose_Scenario1_SlowStock(t *testing.T) {
	c := start(t, shop.Scenarios{SlowStock: true}, func(cfg *shop.Config) { cfg.InventoryTimeout = 10 * time.Second })
	// A warm-up order first: a fresh system's first order also opens the
	// connection pools, time that is not the incident's.
	c.place([]shop.CheckoutRequest{order("u-0", "EUR", lines(1)...)}, 1, 10*time.Second)
	p := c.place([]shop.CheckoutRequest{order("u-1", "EUR", lines(47)...)}, 1, 10*time.Second)[0]
	d := c.diagnosis(p.TraceID)
	f := wantOne(t, d, diagnose.DominantStep, shop.Inventory, "inventory.validate_stock_levels")
	if f.Fields["repeats"] != 47 || f.Fields["repeated"] != "SELECT stock" || !strings.Contains(f.Summary, "47 × SELECT stock") {
		t.Errorf("dominant step %v %v", f, f.Fields)
	}
	if got := failures(d); len(got) != 0 {
		t.Errorf("findings %v, want the dominant step alone", got)
	}
	// Compared with small orders, the slow stock validation is the one of
	// the 47-item order.
	ds := []diagnose.Diagnosis{d}
	for _, small := range c.place([]shop.CheckoutRequest{order("u-2", "EUR", lines(3)...), order("u-3", "EUR", lines(2)...), order("u-4", "EUR", lines(3)...)}, 1, 10*time.Second) {
		ds = append(ds, c.diagnosis(small.TraceID))
	}
	want := "inventory inventory.validate_stock_levels: order.item_count=47 in 100% of slow (1/1), 0% of the others (0/3)"
	found := false
	for _, diff := range diagnose.Compare(ds) {
		found = found || diff.String() == want
	}
	if !found {
		t.Errorf("differences %v, want %q", diagnose.Compare(ds), want)
	}
}

// Scenario 2: comparing the charges, the failed ones all have the new API
// version and no successful one has it; each failed charge is a failure
// the checkout did not see.
func TestDiagnose_Scenario2_PaymentConfig(t *testing.T) {
	c := start(t, shop.Scenarios{PaymentConfig: true})
	var orders []shop.CheckoutRequest
	for i := range 14 {
		orders = append(orders, order(fmt.Sprintf("u-%d", i), "EUR", lines(2)...))
	}
	placed := c.place(orders, 1, 10*time.Second)
	var ds []diagnose.Diagnosis
	failed := 0
	for _, p := range placed {
		d := c.diagnosis(p.TraceID)
		ds = append(ds, d)
		for _, f := range d.Find(diagnose.ErrorAbsorbed) {
			failed++
			if f.Service != shop.Payments || f.Fields["async"] != true {
				t.Errorf("absorbed failure %v %v, want an asynchronous one in payments", f, f.Fields)
			}
		}
	}
	if failed != 2 {
		t.Errorf("%d failed charges diagnosed, want 2 of 14", failed)
	}
	diffs := diagnose.Compare(ds)
	if len(diffs) == 0 {
		t.Fatal("comparison found no difference")
	}
	want := fmt.Sprintf("payments payments.charge: payment.provider.api_version=%s in 100%% of failed (2/2), 0%% of the others (0/12)", shop.APIVersionNew)
	found := false
	for _, d := range diffs {
		found = found || d.String() == want
	}
	if !found {
		t.Errorf("differences %v, want %q", diffs, want)
	}
}

// Scenario 3: the lost order's send span names partition 5 and nothing
// consumed it; comparing orders, partition 5 is what the lost one has.
func TestDiagnose_Scenario3_FixedPartitions(t *testing.T) {
	c := start(t, shop.Scenarios{FixedPartitions: true})
	part := kgo.StickyKeyPartitioner(nil).ForTopic(shop.TopicOrders).(interface {
		Partition(*kgo.Record, int) int
	})
	var lost, delivered []shop.CheckoutRequest
	for i := 0; len(lost) < 1 || len(delivered) < 7; i++ {
		o := order(fmt.Sprintf("u-%d", i), "EUR", lines(1)...)
		o.OrderID = fmt.Sprintf("ord_diag%06d", i)
		if part.Partition(&kgo.Record{Key: []byte(o.OrderID)}, shop.OrdersPartitions) == 5 {
			if len(lost) == 0 {
				lost = append(lost, o)
			}
		} else if len(delivered) < 7 {
			delivered = append(delivered, o)
		}
	}
	// A warm-up order first, then one at a time: on a fresh system an
	// order may wait for a pool connection being opened, a true but
	// different finding.
	c.place(delivered[:1], 1, 10*time.Second)
	placed := c.place(delivered[1:], 1, 10*time.Second)
	placed = append(placed, c.place(lost, 1, 500*time.Millisecond)...)
	var ds []diagnose.Diagnosis
	for _, p := range placed {
		d := c.diagnosis(p.TraceID)
		ds = append(ds, d)
		if p.Request.OrderID != lost[0].OrderID {
			if got := failures(d); len(got) != 0 {
				t.Errorf("delivered order %s: findings %v", p.Response.OrderID, got)
			}
			continue
		}
		f := wantOne(t, d, diagnose.LostMessage, shop.OutboxRelay, "send orders")
		if f.Fields["messaging.destination.partition.id"] != "5" || !strings.Contains(f.Summary, "orders partition 5 was never processed") {
			t.Errorf("lost message %v %v", f, f.Fields)
		}
	}
	want := "outbox-relay send orders: messaging.destination.partition.id=5 in 100% of lost (1/1), 0% of the others (0/6)"
	if diffs := diagnose.Compare(ds); len(diffs) == 0 || diffs[0].String() != want {
		t.Errorf("differences %v, want first %q", diffs, want)
	}
}

// Scenario 4: four attempts to inventory, each timing out while inventory
// goes on; the failure started at the first attempt.
func TestDiagnose_Scenario4_RetryStorm(t *testing.T) {
	c := start(t, shop.Scenarios{SlowInventory: true}, func(cfg *shop.Config) { cfg.InventoryTimeout = 100 * time.Millisecond })
	p := c.place([]shop.CheckoutRequest{order("u-1", "EUR", lines(2)...)}, 1, time.Second)[0]
	d := c.diagnosis(p.TraceID)
	storm := wantOne(t, d, diagnose.RetryStorm, shop.Orders, "POST /orders")
	if storm.Fields["attempts"] != 4 || storm.Fields["timeouts"] != 4 || storm.Fields["http.request.resend_count"] != int64(3) {
		t.Errorf("retry storm %v %v", storm, storm.Fields)
	}
	chain := wantOne(t, d, diagnose.TimeoutChain, shop.Inventory, "POST /stock/validate")
	if chain.Fields["count"] != 4 || chain.Fields["timeout"] != true {
		t.Errorf("timeout chain %v %v", chain, chain.Fields)
	}
	origin := wantOne(t, d, diagnose.ErrorOrigin, shop.Orders, "POST /stock/validate")
	if !strings.Contains(origin.Summary, "timeout") || origin.Fields["reached"] != "gateway POST /checkout" {
		t.Errorf("error origin %v %v", origin, origin.Fields)
	}
	// The origin is the first attempt: the earliest client span to inventory.
	var first sdktrace.ReadOnlySpan
	for _, s := range c.rec.Trace(p.TraceID) {
		u, _ := tracingtest.Attr(s.Attributes(), semconv.URLFullKey)
		if s.SpanKind() == trace.SpanKindClient && strings.HasSuffix(u.AsString(), "/stock/validate") &&
			(first == nil || s.StartTime().Before(first.StartTime())) {
			first = s
		}
	}
	if first == nil || origin.SpanID != first.SpanContext().SpanID() {
		t.Errorf("error origin %s, want the first attempt", origin.SpanID)
	}
}

// Scenario 5: orders waited for the pool's one connection.
func TestDiagnose_Scenario5_PoolExhaustion(t *testing.T) {
	c := start(t, shop.Scenarios{SmallPool: true})
	var orders []shop.CheckoutRequest
	for i := range 12 {
		orders = append(orders, order(fmt.Sprintf("u-%d", i), "EUR", lines(3)...))
	}
	placed := c.place(orders, 12, 10*time.Second)
	waited := 0
	for _, p := range placed {
		d := c.diagnosis(p.TraceID)
		for _, f := range d.Find(diagnose.PoolExhaustion) {
			// Inventory's pool may run short too under twelve orders at
			// once; orders' one connection must.
			if f.Name != "pgxpool.acquire" {
				t.Errorf("pool finding on %s %s", f.Service, f.Name)
			}
			if f.Service == shop.Orders {
				waited++
			}
		}
	}
	if waited == 0 {
		t.Error("no order of 12 on a one-connection pool diagnosed with pool exhaustion")
	}
}

// Scenario 6: the JPY order's email failed in the consumer; the checkout
// did not see it.
func TestDiagnose_Scenario6_SilentAsyncFailure(t *testing.T) {
	c := start(t, shop.Scenarios{NotifyFailure: true})
	placed := c.place([]shop.CheckoutRequest{order("u-1", "JPY", lines(2)...), order("u-2", "EUR", lines(2)...)}, 1, 10*time.Second)
	for _, p := range placed {
		d := c.diagnosis(p.TraceID)
		if p.Request.Currency != "JPY" {
			if got := failures(d); len(got) != 0 {
				t.Errorf("EUR order: findings %v", got)
			}
			continue
		}
		f := wantOne(t, d, diagnose.ErrorAbsorbed, shop.Notifications, "notifications.send_confirmation")
		if f.Fields["async"] != true || !strings.Contains(f.Summary, "the request that started the trace did not see it") {
			t.Errorf("absorbed %v %v", f, f.Fields)
		}
		if d.Has(diagnose.ErrorOrigin) {
			t.Errorf("a 201 checkout diagnosed as failed: %v", d.Kinds())
		}
	}
}

// Scenario 7: one of three parallel calls failed; with degradation the
// failure is absorbed, without it the checkout fails from it.
func TestDiagnose_Scenario7_FanOutFailure(t *testing.T) {
	for _, degrade := range []bool{true, false} {
		t.Run(fmt.Sprintf("degrade=%v", degrade), func(t *testing.T) {
			c := start(t, shop.Scenarios{FanOutFailure: true, NoDegradation: !degrade})
			p := c.place([]shop.CheckoutRequest{order("u-1", "EUR", lines(2)...)}, 1, 10*time.Second)[0]
			d := c.diagnosis(p.TraceID)
			fan := wantOne(t, d, diagnose.FanOutFailure, shop.Gateway, "POST /recommendations")
			if fan.Fields["parallel"] != 3 || fan.Fields["failed"] != 1 || fan.Fields["degraded"] != degrade ||
				fan.Fields["parent"] != "gateway checkout.quote" {
				t.Errorf("fan-out %v %v", fan, fan.Fields)
			}
			if degrade {
				a := wantOne(t, d, diagnose.ErrorAbsorbed, "recommendations", "POST /recommendations")
				if a.Fields["absorbed_by"] != "gateway checkout.quote" || a.Fields["async"] != false {
					t.Errorf("absorbed %v %v", a, a.Fields)
				}
				return
			}
			o := wantOne(t, d, diagnose.ErrorOrigin, "recommendations", "POST /recommendations")
			if o.Fields["reached"] != "gateway POST /checkout" {
				t.Errorf("origin %v %v", o, o.Fields)
			}
		})
	}
}
