package shop_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/examples/checkout/shop"
	"github.com/otelkit/otelkit/internal/kafkatest"
	"github.com/otelkit/otelkit/internal/pgtest"
	"github.com/otelkit/otelkit/sdk/otelsetup"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

// checkout is a running system under test and what it recorded.
type checkout struct {
	t   *testing.T
	rec *tracingtest.Recorder
	sys *shop.System
	tel *shop.Telemetry
}

func start(t *testing.T, sc shop.Scenarios, configure ...func(*shop.Config)) *checkout {
	t.Helper()
	t.Parallel()
	_, schema := pgtest.Schema(t)
	brokers := kafkatest.Cluster(t, 1)
	ctx := context.Background()
	// Every service's spans, as its Setup exports them, are recorded for
	// the assertions too; a failing test prints them as waterfalls, with
	// their diagnosis. The tests run in parallel: no globals.
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	tel, err := shop.NewTelemetry(ctx, nil, otelsetup.WithSyncSpanExporter(rec.Exporter()))
	if err != nil {
		t.Fatal(err)
	}
	cfg := shop.Config{DatabaseURL: pgtest.URL(), Schema: schema, Brokers: brokers, Scenarios: sc, Telemetry: tel}
	for _, c := range configure {
		c(&cfg)
	}
	sys, err := shop.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sys.Close(context.Background())
		tel.Shutdown(context.Background())
	})
	return &checkout{t: t, rec: rec, sys: sys, tel: tel}
}

// place places the orders, waits until the accepted ones are settled (at
// most wait) and their traces are complete, in the test's recorder too.
func (c *checkout) place(orders []shop.CheckoutRequest, concurrency int, wait time.Duration) []shop.Placed {
	c.t.Helper()
	placed := shop.Place(context.Background(), c.sys.GatewayURL(), orders, concurrency)
	for _, p := range placed {
		if p.Err != nil {
			c.t.Fatalf("checkout %+v: %v", p.Request, p.Err)
		}
		if !p.TraceID.IsValid() || p.TraceID.String() != p.Response.TraceID {
			c.t.Fatalf("gateway answered trace id header %s, body %q", p.TraceID, p.Response.TraceID)
		}
	}
	c.sys.Wait(placed, wait)
	ids := make([]trace.TraceID, len(placed))
	for i, p := range placed {
		ids[i] = p.TraceID
	}
	if err := c.tel.AwaitTraces(5*time.Second, ids...); err != nil {
		c.t.Fatal(err)
	}
	return placed
}

func order(user, currency string, items ...shop.Item) shop.CheckoutRequest {
	return shop.CheckoutRequest{UserID: user, Currency: currency, Card: "4242424242424242", Items: items}
}

func lines(n int) []shop.Item {
	out := make([]shop.Item, n)
	for i := range out {
		out[i] = shop.Item{SKU: fmt.Sprintf("sku-%04d", 100+i*13), Qty: 1}
	}
	return out
}

func TestOneTraceAcrossSixServices(t *testing.T) {
	c := start(t, shop.Scenarios{})
	placed := c.place([]shop.CheckoutRequest{order("u-4711", "EUR", lines(3)...), order("u-4712", "USD", lines(2)...)}, 2, 10*time.Second)
	for _, p := range placed {
		if p.Status != http.StatusCreated {
			t.Fatalf("checkout: %d %s", p.Status, p.Response.Error)
		}
		spans := c.rec.Trace(p.TraceID)
		root := c.rec.Span(t, "POST /checkout", tracingtest.InService(shop.Gateway), tracingtest.InTraceID(p.TraceID))
		wantUser := attribute.KeyValue{Key: tracing.UserID.Key(), Value: tracing.RedactAttr(tracing.UserID.String(p.Request.UserID)).Value}
		for _, s := range spans {
			if !s.Parent().IsValid() {
				if s != root {
					t.Errorf("root span %q besides the gateway's server span", s.Name())
				}
			} else if !slices.ContainsFunc(spans, tracingtest.WithSpanContext(s.Parent())) {
				t.Errorf("orphan span %q: parent %s is not in the trace", s.Name(), s.Parent().SpanID())
			}
			c.rec.AssertAttrs(t, s, shop.OrderID.String(p.Response.OrderID), wantUser)
		}
		// The user id is personal data: hashed in user.id, in no URL, no
		// other attribute and no log line.
		for _, leak := range tracingtest.Leaks(spans, p.Request.UserID) {
			t.Error(leak)
		}
		for _, l := range c.tel.Logs.Trace(p.TraceID) {
			if strings.Contains(l, p.Request.UserID) {
				t.Errorf("log line holds the user id in clear: %s", l)
			}
		}
		if root.Parent().IsValid() {
			t.Errorf("the gateway's server span has parent %s, want none", root.Parent().SpanID())
		}
		for _, svc := range []string{shop.Gateway, shop.Orders, shop.OutboxRelay, shop.Payments, shop.Inventory, shop.Notifications} {
			if !slices.ContainsFunc(spans, tracingtest.InService(svc)) {
				t.Errorf("no span of %s in trace %s", svc, p.TraceID)
			}
		}
		logged := map[string]bool{}
		for _, l := range c.tel.Logs.Trace(p.TraceID) {
			for _, svc := range shop.Services {
				if strings.Contains(l, `"service":"`+svc+`"`) {
					logged[svc] = true
				}
			}
		}
		for _, svc := range []string{shop.Gateway, shop.Orders, shop.Payments, shop.Notifications} {
			if !logged[svc] {
				t.Errorf("no log line of %s carries trace_id %s", svc, p.TraceID)
			}
		}
	}
}

// Scenario 1: the stock query of a large order scans without an index.
func TestScenario1_SlowStockQueryDominatesLargeOrder(t *testing.T) {
	c := start(t, shop.Scenarios{SlowStock: true}, func(cfg *shop.Config) { cfg.InventoryTimeout = 10 * time.Second })
	p := c.place([]shop.CheckoutRequest{order("u-1", "EUR", lines(47)...)}, 1, 10*time.Second)[0]
	if p.Status != http.StatusCreated {
		t.Fatalf("checkout: %d %s", p.Status, p.Response.Error)
	}
	spans := c.rec.Trace(p.TraceID)
	inTrace := tracingtest.InTraceID(p.TraceID)
	root := c.rec.Span(t, "POST /checkout", tracingtest.InService(shop.Gateway), inTrace)
	validate := c.rec.Span(t, "inventory.validate_stock_levels", tracingtest.InService(shop.Inventory), inTrace)
	c.rec.AssertAttrs(t, validate, shop.OrderItemCount.Int64(47))
	// What the on-call engineer reads: on the orders path, the time goes to
	// validate_stock_levels, and inside it to its stock queries. Both hold
	// with wide margins (above 80% on an idle machine), so machine load and a
	// fresh system's first connections cannot flip them; the share of the
	// whole checkout can, because the quote's availability check scans the
	// same table.
	dur := func(s sdktrace.ReadOnlySpan) time.Duration { return s.EndTime().Sub(s.StartTime()) }
	orders := c.rec.Span(t, "POST /orders", tracingtest.InService(shop.Orders), inTrace)
	isQuery := func(s sdktrace.ReadOnlySpan) bool {
		return tracingtest.ChildOf(validate)(s) && tracingtest.OfKind(trace.SpanKindClient)(s)
	}
	var queried time.Duration
	for _, q := range spans {
		if isQuery(q) {
			queried += dur(q)
		}
	}
	t.Logf("validate_stock_levels %v of POST /orders %v, %v of it in stock queries; checkout %v",
		dur(validate), dur(orders), queried, dur(root))
	if dur(validate)*2 < dur(orders) {
		t.Errorf("validate_stock_levels took %v of POST /orders' %v: it should dominate the orders path", dur(validate), dur(orders))
	}
	if queried*2 < dur(validate) {
		t.Errorf("the stock queries took %v of validate_stock_levels' %v: they should dominate it", queried, dur(validate))
	}
	var queries int
	for _, q := range spans {
		if !isQuery(q) {
			continue
		}
		queries++
		text, _ := tracingtest.Attr(q.Attributes(), semconv.DBQueryTextKey)
		if !strings.Contains(text.AsString(), "FROM stock WHERE sku = $1") {
			t.Errorf("stock query span %q: db.query.text %q", q.Name(), text.AsString())
		}
		c.rec.AssertAttrs(t, q, semconv.DBQuerySummary("SELECT stock"))
		if strings.Contains(text.AsString(), "sku-0") {
			t.Errorf("query text carries a parameter value: %q", text.AsString())
		}
	}
	if queries != 47 {
		t.Errorf("validate_stock_levels has %d query spans, want one per item (47)", queries)
	}
}

// Scenario 2: a config change rolls out a new provider API version; its
// charges fail with 401.
func TestScenario2_FailedPaymentsDifferByAPIVersion(t *testing.T) {
	c := start(t, shop.Scenarios{PaymentConfig: true})
	var orders []shop.CheckoutRequest
	for i := range 7 {
		orders = append(orders, order(fmt.Sprintf("u-%d", i), "EUR", lines(2)...))
	}
	placed := c.place(orders, 1, 10*time.Second)
	versions := map[codes.Code]map[string]bool{codes.Ok: {}, codes.Error: {}}
	for _, p := range placed {
		for _, s := range c.rec.Find("payments.charge", tracingtest.InService(shop.Payments), tracingtest.InTraceID(p.TraceID)) {
			v, _ := tracingtest.Attr(s.Attributes(), "payment.provider.api_version")
			code := s.Status().Code
			if code == codes.Unset {
				code = codes.Ok
			}
			versions[code][v.AsString()] = true
			key, ok := tracingtest.Attr(s.Attributes(), "payment.provider.api_key")
			if !ok || key.AsString() == shop.ProviderKey {
				t.Errorf("payment span api key attribute %q (present %v): want it masked", key.String(), ok)
			}
		}
	}
	if !maps(versions[codes.Error], shop.APIVersionNew) || !maps(versions[codes.Ok], shop.APIVersionStable) {
		t.Errorf("api versions of failed charges %v, of successful ones %v: want only %s failing and only %s succeeding",
			versions[codes.Error], versions[codes.Ok], shop.APIVersionNew, shop.APIVersionStable)
	}
	c.rec.AssertNoSecrets(t, shop.ProviderKey)
	for _, l := range c.tel.Logs.All() {
		if strings.Contains(l, shop.ProviderKey) {
			t.Errorf("log line carries the provider key in clear: %s", l)
		}
	}
}

func maps(set map[string]bool, only string) bool { return len(set) == 1 && set[only] }

// Scenario 3: payments reads partitions 0-4 of a six-partition topic.
func TestScenario3_OrderOnPartition5IsNeverConsumed(t *testing.T) {
	c := start(t, shop.Scenarios{FixedPartitions: true})
	part := kgo.StickyKeyPartitioner(nil).ForTopic(shop.TopicOrders).(interface {
		Partition(*kgo.Record, int) int
	})
	var lost, delivered []shop.CheckoutRequest
	for i := 0; len(lost) < 1 || len(delivered) < 2; i++ {
		o := order(fmt.Sprintf("u-%d", i), "EUR", lines(1)...)
		o.OrderID = fmt.Sprintf("ord_test%06d", i)
		if part.Partition(&kgo.Record{Key: []byte(o.OrderID)}, shop.OrdersPartitions) == 5 {
			lost = append(lost, o)
		} else if len(delivered) < 2 {
			delivered = append(delivered, o)
		}
	}
	placed := c.place(delivered, 2, 10*time.Second)
	placed = append(placed, c.place(lost, 1, 500*time.Millisecond)...) // a lost order never settles
	for _, p := range placed {
		inTrace := tracingtest.InTraceID(p.TraceID)
		send := c.rec.Span(t, "send orders", tracingtest.InService(shop.OutboxRelay), inTrace)
		partition, _ := tracingtest.Attr(send.Attributes(), semconv.MessagingDestinationPartitionIDKey)
		consumed := len(c.rec.Find("process orders", tracingtest.InService(shop.Payments), inTrace))
		switch wantLost := p.Request.OrderID == lost[0].OrderID; {
		case wantLost && (partition.AsString() != "5" || consumed != 0):
			t.Errorf("lost order %s: send span on partition %q, %d consumer spans; want partition 5 and none",
				p.Response.OrderID, partition.AsString(), consumed)
		case !wantLost && (partition.AsString() == "5" || consumed != 1):
			t.Errorf("delivered order %s: send span on partition %q, %d consumer spans; want one",
				p.Response.OrderID, partition.AsString(), consumed)
		}
	}
}

// Scenario 4: inventory is slow; orders retries it and times out.
func TestScenario4_RetriesToSlowInventoryTimeOut(t *testing.T) {
	c := start(t, shop.Scenarios{SlowInventory: true}, func(cfg *shop.Config) { cfg.InventoryTimeout = 100 * time.Millisecond })
	p := c.place([]shop.CheckoutRequest{order("u-1", "EUR", lines(2)...)}, 1, time.Second)[0]
	if p.Status != http.StatusBadGateway {
		t.Errorf("checkout status %d, want 502", p.Status)
	}
	server := c.rec.Span(t, "POST /orders", tracingtest.InService(shop.Orders), tracingtest.InTraceID(p.TraceID))
	var resends []int64
	for _, s := range c.rec.Trace(p.TraceID) {
		u, _ := tracingtest.Attr(s.Attributes(), semconv.URLFullKey)
		if !tracingtest.ChildOf(server)(s) || s.SpanKind() != trace.SpanKindClient || !strings.HasSuffix(u.AsString(), "/stock/validate") {
			continue
		}
		n, _ := tracingtest.Attr(s.Attributes(), semconv.HTTPRequestResendCountKey)
		resends = append(resends, n.AsInt64())
		if s.Name() != "POST /stock/validate" {
			t.Errorf("attempt %d: client span %q, want %q (url.template)", n.AsInt64(), s.Name(), "POST /stock/validate")
		}
		if s.Status().Code != codes.Error || !strings.Contains(s.Status().Description, "timeout") {
			t.Errorf("attempt %d: status %v %q, want a timeout error", n.AsInt64(), s.Status().Code, s.Status().Description)
		}
	}
	if !slices.Equal(resends, []int64{0, 1, 2, 3}) {
		t.Errorf("inventory attempts with http.request.resend_count %v, want [0 1 2 3] (0: unset)", resends)
	}
}

// Scenario 5: the orders pool has one connection for concurrent orders.
func TestScenario5_PoolWaitIsVisible(t *testing.T) {
	c := start(t, shop.Scenarios{SmallPool: true})
	var orders []shop.CheckoutRequest
	for i := range 12 {
		orders = append(orders, order(fmt.Sprintf("u-%d", i), "EUR", lines(3)...))
	}
	placed := c.place(orders, 12, 10*time.Second)
	var acquires, commits []sdktrace.ReadOnlySpan
	for _, p := range placed {
		server := c.rec.Span(t, "POST /orders", tracingtest.InService(shop.Orders), tracingtest.InTraceID(p.TraceID))
		var acquire, begin sdktrace.ReadOnlySpan
		for _, s := range c.rec.Trace(p.TraceID) {
			if !tracingtest.ChildOf(server)(s) {
				continue
			}
			switch s.Name() {
			case "pgxpool.acquire":
				acquire = s
			case "BEGIN":
				begin = s
			case "COMMIT":
				commits = append(commits, s)
			}
		}
		if begin == nil {
			t.Fatalf("order %s: no BEGIN", p.Response.OrderID)
		}
		if acquire == nil {
			continue // it found the connection idle
		}
		if acquire.EndTime().After(begin.StartTime()) {
			t.Fatalf("order %s: the pgxpool.acquire span ends after BEGIN", p.Response.OrderID)
		}
		acquires = append(acquires, acquire)
	}
	// A wait is visible when an acquire span spans another order's COMMIT:
	// it waited for the one connection that order held.
	for _, a := range acquires {
		for _, cm := range commits {
			if cm.SpanContext().TraceID() != a.SpanContext().TraceID() &&
				a.StartTime().Before(cm.EndTime()) && !a.EndTime().Before(cm.EndTime()) {
				return
			}
		}
	}
	t.Error("no pgxpool.acquire span waited for another order's transaction")
}

// Scenario 6: the confirmation email fails for JPY orders; checkout is 201.
func TestScenario6_SilentNotificationFailureIsInTheTrace(t *testing.T) {
	c := start(t, shop.Scenarios{NotifyFailure: true})
	placed := c.place([]shop.CheckoutRequest{order("u-1", "JPY", lines(2)...), order("u-2", "EUR", lines(2)...)}, 2, 10*time.Second)
	for _, p := range placed {
		if p.Status != http.StatusCreated {
			t.Fatalf("checkout: %d %s", p.Status, p.Response.Error)
		}
		send := c.rec.Span(t, "notifications.send_confirmation", tracingtest.InService(shop.Notifications), tracingtest.InTraceID(p.TraceID))
		failed := p.Request.Currency == "JPY"
		if got := send.Status().Code == codes.Error; got != failed {
			t.Errorf("%s order: notification span status %v, want error %v", p.Request.Currency, send.Status(), failed)
		}
		if !failed {
			continue
		}
		if _, ok := tracingtest.Event(send, semconv.ExceptionEventName); !ok {
			t.Errorf("failed notification span has no exception event")
		}
		var logged bool
		for _, l := range c.tel.Logs.Trace(p.TraceID) {
			logged = logged || strings.Contains(l, `"service":"notifications"`) && strings.Contains(l, `"level":"ERROR"`) &&
				strings.Contains(l, `"span_id":"`+send.SpanContext().SpanID().String()+`"`)
		}
		if !logged {
			t.Errorf("no notifications ERROR line with trace_id %s and the span's span_id", p.TraceID)
		}
	}
}

// Scenario 7: one of the gateway's parallel calls fails.
func TestScenario7_FanOutFailure(t *testing.T) {
	for _, degrade := range []bool{true, false} {
		t.Run(fmt.Sprintf("degrade=%v", degrade), func(t *testing.T) {
			c := start(t, shop.Scenarios{FanOutFailure: true, NoDegradation: !degrade})
			p := c.place([]shop.CheckoutRequest{order("u-1", "EUR", lines(2)...)}, 1, 10*time.Second)[0]
			quote := c.rec.Span(t, "checkout.quote", tracingtest.InService(shop.Gateway), tracingtest.InTraceID(p.TraceID))
			calls := slices.DeleteFunc(c.rec.Trace(p.TraceID), func(s sdktrace.ReadOnlySpan) bool { return !tracingtest.ChildOf(quote)(s) })
			if len(calls) != 3 {
				t.Fatalf("checkout.quote has %d children, want 3", len(calls))
			}
			// In parallel: every call starts before the longest one ends.
			longest := slices.MaxFunc(calls, func(a, b sdktrace.ReadOnlySpan) int { return a.EndTime().Compare(b.EndTime()) })
			for _, a := range calls {
				if a.StartTime().After(longest.StartTime()) && !a.StartTime().Before(longest.EndTime()) {
					t.Errorf("fan-out calls ran one after the other: %s starts after %s ends", a.Name(), longest.Name())
				}
				u, _ := tracingtest.Attr(a.Attributes(), semconv.URLFullKey)
				isRec := strings.Contains(u.AsString(), "/recommendations")
				if (a.Status().Code == codes.Error) != isRec {
					t.Errorf("fan-out call %s: status %v; only the recommendations call should fail", u.AsString(), a.Status().Code)
				}
			}
			if got := quote.Status().Code == codes.Error; got == degrade {
				t.Errorf("degrade=%v: checkout.quote status %v", degrade, quote.Status())
			}
			want := http.StatusCreated
			if !degrade {
				want = http.StatusBadGateway
			}
			if p.Status != want {
				t.Errorf("checkout status %d, want %d", p.Status, want)
			}
		})
	}
}

// TestSeparateProcesses runs each service as its own System with its own
// telemetry, as `checkout -service NAME` does, wired only through peer URLs,
// Kafka and Postgres: the trace still crosses all of them.
func TestSeparateProcesses(t *testing.T) {
	t.Parallel()
	_, schema := pgtest.Schema(t)
	brokers := kafkatest.Cluster(t, 1)
	ctx := context.Background()
	// Each process exports to the one recorder, as to one collector.
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	var peers shop.Peers
	for _, name := range shop.Services { // in dependency order
		tel, err := shop.NewTelemetry(ctx, nil, otelsetup.WithSyncSpanExporter(rec.Exporter()))
		if err != nil {
			t.Fatal(err)
		}
		sys, err := shop.Start(ctx, shop.Config{DatabaseURL: pgtest.URL(), Schema: schema, Brokers: brokers, Telemetry: tel, Peers: peers}, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(func() {
			sys.Close(context.Background())
			tel.Shutdown(context.Background())
		})
		peers = sys.Peers()
	}
	p := shop.Place(ctx, peers.Gateway, []shop.CheckoutRequest{order("u-1", "EUR", lines(2)...)}, 1)[0]
	if p.Err != nil || p.Status != http.StatusCreated {
		t.Fatalf("checkout: %d %v %s", p.Status, p.Err, p.Response.Error)
	}
	// A span of every service joins the gateway's trace; the consumers'
	// end after the checkout has answered.
	inTrace := tracingtest.InTraceID(p.TraceID)
	for _, want := range []struct{ service, span string }{
		{shop.Gateway, "POST /checkout"},
		{shop.Orders, "POST /orders"},
		{shop.OutboxRelay, "send orders"},
		{shop.Payments, "process orders"},
		{shop.Inventory, "inventory.validate_stock_levels"},
		{shop.Notifications, "notifications.send_confirmation"},
	} {
		rec.WaitFor(t, want.span, tracingtest.InService(want.service), inTrace)
	}
}

// TestGatewayIsTheEdge: a client's trace context does not become the
// parent, and its baggage cannot forge the business context every span
// carries.
func TestGatewayIsTheEdge(t *testing.T) {
	c := start(t, shop.Scenarios{})
	const forged = "4bf92f3577b34da6a3ce929d0e0e4736"
	body := `{"user_id":"u-1","currency":"EUR","card":"4242424242424242","items":[{"sku":"sku-0001","qty":1}]}`
	req, _ := http.NewRequest(http.MethodPost, c.sys.GatewayURL()+"/checkout", strings.NewReader(body))
	req.Header.Set("traceparent", "00-"+forged+"-00f067aa0ba902b7-01")
	req.Header.Set("baggage", "user.id=u-victim,order.id=ord_forged")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := shop.TraceIDOf(resp.Header.Get("traceresponse"))
	if resp.StatusCode != http.StatusCreated || !id.IsValid() || id.String() == forged {
		t.Fatalf("status %d, trace %s: want 201 and a new trace", resp.StatusCode, id)
	}
	if err := c.tel.AwaitTraces(5*time.Second, id); err != nil {
		t.Fatal(err)
	}
	c.rec.Span(t, "POST /checkout", tracingtest.InService(shop.Gateway), tracingtest.InTraceID(id))
	// The gateway's own user id, hashed.
	want := attribute.KeyValue{Key: tracing.UserID.Key(), Value: tracing.RedactAttr(tracing.UserID.String("u-1")).Value}
	for _, s := range c.rec.Trace(id) {
		c.rec.AssertAttrs(t, s, want)
		if v, _ := tracingtest.Attr(s.Attributes(), shop.OrderID.Key()); v.AsString() == "ord_forged" {
			t.Errorf("%q carries the forged order.id", s.Name())
		}
	}
}
