package outbox_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/httptrace"
	"github.com/otelkit/otelkit/internal/kafkatest"
	"github.com/otelkit/otelkit/kafkatrace"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/sqltrace/outbox"
)

// An order request writes the order and its event in one transaction; the
// relay publishes the event later; a consumer processes it. The on-call
// engineer must find all of it in the request's trace:
//
//	HTTP client -> HTTP server -> outbox.relay -> send orders -> process orders
func TestRelay_RequestToConsumerIsOneTrace(t *testing.T) {
	pool := db(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE orders (id text PRIMARY KEY, amount numeric NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	tp, prop := rec.TracerProvider(), tracingtest.Propagator()
	seeds := kafkatest.Cluster(t, 3, "orders")

	w := outbox.NewWriter(outbox.WithPropagators(prop))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(rw http.ResponseWriter, req *http.Request) {
		ctx := req.Context()
		tx, err := pool.Begin(ctx)
		if err != nil {
			http.Error(rw, err.Error(), 500)
			return
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if _, err := tx.Exec(ctx, `INSERT INTO orders (id, amount) VALUES ('o-1', 42.5)`); err != nil {
			http.Error(rw, err.Error(), 500)
			return
		}
		if err := w.Enqueue(ctx, tx, outbox.Message{Topic: "orders", Key: []byte("o-1"), Value: []byte(`{"order":"o-1"}`)}); err != nil {
			http.Error(rw, err.Error(), 500)
			return
		}
		if err := tx.Commit(ctx); err != nil {
			http.Error(rw, err.Error(), 500)
			return
		}
		rw.WriteHeader(http.StatusCreated)
	})
	srv := httptest.NewServer(httptrace.NewHandler(mux, httptrace.WithTracerProvider(tp), httptrace.WithPropagators(prop)))
	defer srv.Close()
	hc := &http.Client{Transport: httptrace.NewTransport(nil, httptrace.WithTracerProvider(tp), httptrace.WithPropagators(prop))}
	resp, err := hc.Post(srv.URL+"/orders", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /orders: %s", resp.Status)
	}
	hc.CloseIdleConnections()

	// The relay runs in another process in production; here it shares only
	// Postgres and Kafka with the request.
	pt := kafkatrace.NewTracer(kafkatrace.WithTracerProvider(tp), kafkatrace.WithPropagators(prop))
	stop := start(t, outbox.NewRelay(pool, producer(t, seeds, kgo.WithHooks(pt)),
		outbox.WithTracerProvider(tp), outbox.WithPropagators(prop)))

	ct := kafkatrace.NewTracer(kafkatrace.WithTracerProvider(tp), kafkatrace.WithPropagators(prop))
	consumer, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.WithHooks(ct))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var got *kgo.Record
	for got == nil {
		fs := consumer.PollFetches(pctx)
		if err := pctx.Err(); err != nil {
			t.Fatal("no record consumed:", err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = r })
	}
	if err := ct.Process(ctx, got, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	waitEmpty(t, pool, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	client := rec.Span(t, "POST", tracingtest.OfKind(trace.SpanKindClient))
	server := rec.Span(t, "POST /orders", tracingtest.OfKind(trace.SpanKindServer))
	relay := rec.Span(t, outbox.SpanName, tracingtest.OfKind(trace.SpanKindInternal))
	send := rec.Span(t, "send orders", tracingtest.OfKind(trace.SpanKindProducer))
	process := rec.Span(t, "process orders", tracingtest.OfKind(trace.SpanKindConsumer))
	chain := []sdktrace.ReadOnlySpan{client, server, relay, send, process} // one trace, each the next's parent
	for i := 1; i < len(chain); i++ {
		rec.AssertParent(t, chain[i-1], chain[i])
	}

	// The wait in the outbox is the relay span's head start on the send
	// span: it starts when the row was written, inside the request.
	if relay.StartTime().Before(server.StartTime()) || relay.StartTime().After(server.EndTime()) {
		t.Errorf("outbox.relay starts at %v, want within the request [%v, %v]", relay.StartTime(), server.StartTime(), server.EndTime())
	}
	if send.StartTime().Before(relay.StartTime()) || relay.EndTime().Before(send.EndTime()) {
		t.Errorf("send span [%v, %v] not within outbox.relay [%v, %v]", send.StartTime(), send.EndTime(), relay.StartTime(), relay.EndTime())
	}
	wait, ok := tracingtest.Attr(relay.Attributes(), outbox.AttrWait)
	if !ok || wait.AsFloat64() <= 0 || wait.AsFloat64() > send.StartTime().Sub(relay.StartTime()).Seconds() {
		t.Errorf("outbox.wait.duration = %v, want in (0, %v]", wait.AsFloat64(), send.StartTime().Sub(relay.StartTime()).Seconds())
	}
	rec.AssertAttrs(t, relay, outbox.AttrID.Int64(1), outbox.AttrAttempt.Int64(1))
	rec.AssertNoAttrs(t, relay, outbox.AttrTraceContext) // a restored trace
}
