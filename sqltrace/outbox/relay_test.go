package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/internal/kafkatest"
	"github.com/otelkit/otelkit/internal/pgtest"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/sqltrace/outbox"
)

func TestApply_IsIdempotentAndConcurrencySafe(t *testing.T) {
	pool := db(t) // applied once already
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- outbox.Apply(context.Background(), pool) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var triggers int
	if err := pool.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_trigger WHERE tgname = 'outbox_notify' AND tgrelid = 'outbox'::regclass`).Scan(&triggers); err != nil {
		t.Fatal(err)
	}
	if triggers != 1 {
		t.Fatalf("%d notify triggers after applying 5 times, want 1", triggers)
	}
}

func TestEnqueue_WritesOnlyInTheCallersTransaction(t *testing.T) {
	pool := db(t)
	tp := tracingtest.New(t, tracingtest.WithoutGlobals()).TracerProvider()
	ctx, span := tp.Tracer("test").Start(context.Background(), "orders.create")
	defer span.End()
	w := outbox.NewWriter(outbox.WithPropagators(tracingtest.Propagator()))

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Enqueue(ctx, tx, outbox.Message{Topic: "orders", Value: []byte("rolled back")}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM outbox").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows after rollback: %d (%v), want 0", n, err)
	}

	enqueue(t, pool, w, ctx,
		outbox.Message{Topic: "orders", Key: []byte("o-1"), Value: []byte("a"),
			Headers: []kgo.RecordHeader{{Key: "type", Value: []byte("order.created")}}},
		outbox.Message{Topic: "orders", Key: []byte("o-1"), Value: []byte("b")})
	rows, err := pool.Query(ctx, `SELECT traceparent, header_keys, header_values FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := fmt.Sprintf("00-%s-%s-01", span.SpanContext().TraceID(), span.SpanContext().SpanID())
	var got int
	for rows.Next() {
		var tp string
		var hk []string
		var hv [][]byte
		if err := rows.Scan(&tp, &hk, &hv); err != nil {
			t.Fatal(err)
		}
		if tp != want {
			t.Errorf("traceparent %q, want %q", tp, want)
		}
		if got == 0 && (len(hk) != 1 || hk[0] != "type" || string(hv[0]) != "order.created") {
			t.Errorf("headers %q %q, want type=order.created", hk, hv)
		}
		got++
	}
	if got != 2 {
		t.Fatalf("%d rows, want 2", got)
	}
	if err := w.Enqueue(ctx, nil, outbox.Message{}); !errors.Is(err, outbox.ErrNoTopic) {
		t.Fatalf("message without topic: %v, want ErrNoTopic", err)
	}
}

// killer cancels a relay's context when the client has taken a given
// number of records since it was armed: a kill in the middle of a batch.
type killer struct {
	mu     sync.Mutex
	left   int
	cancel context.CancelFunc
}

func (k *killer) arm(after int, cancel context.CancelFunc) {
	k.mu.Lock()
	k.left, k.cancel = after, cancel
	k.mu.Unlock()
}

func (k *killer) OnProduceRecordBuffered(*kgo.Record) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cancel == nil {
		return
	}
	if k.left--; k.left <= 0 {
		k.cancel()
		k.cancel = nil
	}
}

func TestRelay_KilledAtRandomPointsLosesNothing(t *testing.T) {
	pool := db(t)
	seeds := kafkatest.Cluster(t, 3, "orders")
	const rows, batch, inFlight, kills = 400, 10, 2, 40
	enqueue(t, pool, outbox.NewWriter(), context.Background(), numbered("orders", rows, 100)...)

	a := &acks{}
	k := &killer{}
	cl := producer(t, seeds, kgo.WithHooks(a, k))
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	for i := range kills {
		a.mu.Lock()
		a.run = i
		a.mu.Unlock()
		ctx, cancel := context.WithCancel(context.Background())
		if i%2 == 0 {
			k.arm(1+rng.IntN(batch), cancel)             // mid-publish
			time.AfterFunc(500*time.Millisecond, cancel) // in case no row is left to publish
		} else {
			time.AfterFunc(time.Duration(rng.IntN(4000))*time.Microsecond, cancel) // anywhere: claim, settle, commit
		}
		r := outbox.NewRelay(pool, cl, outbox.WithBatchSize(batch), outbox.WithConcurrency(inFlight),
			outbox.WithPollInterval(5*time.Millisecond))
		if err := r.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: Run = %v, want context.Canceled", i, err)
		}
		cancel()
	}
	a.mu.Lock()
	a.run = kills
	a.mu.Unlock()
	k.arm(0, nil)
	stop := start(t, outbox.NewRelay(pool, cl, outbox.WithBatchSize(batch), outbox.WithPollInterval(5*time.Millisecond)))
	waitEmpty(t, pool, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := cl.Flush(context.Background()); err != nil { // records of killed runs still in flight
		t.Fatal(err)
	}

	delivered := a.delivered()
	for i := range rows {
		if delivered[strconv.Itoa(i)] == 0 {
			t.Errorf("row %d never reached Kafka", i)
		}
	}
	// A row is published again only when the run that published it was
	// killed before committing: at most the batches in flight.
	lastRun := map[string]int{}
	dupFrom := make([]map[string]bool, kills+1)
	for _, e := range a.snapshot() {
		if !e.buffered {
			continue
		}
		if prev, ok := lastRun[e.label]; ok && prev != e.run {
			if dupFrom[prev] == nil {
				dupFrom[prev] = map[string]bool{}
			}
			dupFrom[prev][e.label] = true
		}
		lastRun[e.label] = e.run
	}
	var dups int
	for run, m := range dupFrom {
		if len(m) > inFlight*batch {
			t.Errorf("run %d left %d rows to publish again, more than its batches in flight (%d)", run, len(m), inFlight*batch)
		}
		dups += len(m)
	}
	t.Logf("%d kills, %d rows published twice", kills, dups)
}

func TestRelay_TwoRelaysNeverPublishARowTwice(t *testing.T) {
	pool := db(t)
	seeds := kafkatest.Cluster(t, 3, "orders")
	const rows = 1000
	a1, a2 := &acks{}, &acks{}
	r1 := outbox.NewRelay(pool, producer(t, seeds, kgo.WithHooks(a1)), outbox.WithBatchSize(50), outbox.WithPollInterval(20*time.Millisecond))
	r2 := outbox.NewRelay(pool, producer(t, seeds, kgo.WithHooks(a2)), outbox.WithBatchSize(50), outbox.WithPollInterval(20*time.Millisecond))
	stop1, stop2 := start(t, r1), start(t, r2)
	// Both relays are idle (or polling) when the rows commit; the
	// notification wakes them together.
	time.Sleep(50 * time.Millisecond)
	enqueue(t, pool, outbox.NewWriter(), context.Background(), numbered("orders", rows, 100)...)
	waitEmpty(t, pool, 10*time.Second)
	if err := errors.Join(stop1(), stop2()); err != nil {
		t.Fatal(err)
	}
	d1, d2 := a1.delivered(), a2.delivered()
	for i := range rows {
		l := strconv.Itoa(i)
		if n := d1[l] + d2[l]; n != 1 {
			t.Errorf("row %s published %d times (%d + %d), want once", l, n, d1[l], d2[l])
		}
	}
	if len(d1) == 0 || len(d2) == 0 {
		t.Errorf("relays published %d and %d rows: want both to take part", len(d1), len(d2))
	}
	t.Logf("relay 1 published %d rows, relay 2 %d", len(d1), len(d2))
}

// k1 fails three times (its topic rejects produce requests); k2 and k3
// share its key and must wait for it, while j1 flows.
func TestRelay_KeyOrderHoldsUnderRetries(t *testing.T) {
	pool := db(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders", "flaky"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "flaky", Err: kerr.InvalidRecord, Count: 3})

	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	tp := rec.TracerProvider()
	enqueue(t, pool, outbox.NewWriter(), context.Background(),
		outbox.Message{Topic: "flaky", Key: []byte("k"), Value: []byte("k1")},
		outbox.Message{Topic: "orders", Key: []byte("k"), Value: []byte("k2")},
		outbox.Message{Topic: "orders", Key: []byte("k"), Value: []byte("k3")},
		outbox.Message{Topic: "orders", Key: []byte("j"), Value: []byte("j1")})
	a := &acks{}
	stop := start(t, outbox.NewRelay(pool, producer(t, c.ListenAddrs(), kgo.WithHooks(a)),
		outbox.WithTracerProvider(tp), outbox.WithRetryBackoff(2*time.Millisecond, 10*time.Millisecond),
		outbox.WithPollInterval(5*time.Millisecond)))
	waitEmpty(t, pool, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	ev := a.snapshot()
	acked := func(l string) int {
		return firstIndex(ev, func(e ackEvent) bool { return e.label == l && !e.buffered && e.err == nil })
	}
	tried := func(l string) int {
		return firstIndex(ev, func(e ackEvent) bool { return e.label == l && e.buffered })
	}
	var fails int
	for _, e := range ev {
		if e.label == "k1" && !e.buffered && e.err != nil {
			if !errors.Is(e.err, kerr.InvalidRecord) {
				t.Errorf("k1 failed with %v, want INVALID_RECORD", e.err)
			}
			fails++
		}
	}
	switch {
	case fails != 3:
		t.Errorf("k1 failed %d times, want 3", fails)
	case tried("k2") < acked("k1"):
		t.Errorf("k2 produced (event %d) before k1 was acknowledged (event %d)", tried("k2"), acked("k1"))
	case tried("k3") < acked("k2"):
		t.Errorf("k3 produced (event %d) before k2 was acknowledged (event %d)", tried("k3"), acked("k2"))
	case acked("j1") > acked("k1"):
		t.Errorf("j1 waited for k1 (acked at event %d, k1 at %d): other keys must flow", acked("j1"), acked("k1"))
	}
	for l, n := range a.delivered() {
		if n != 1 {
			t.Errorf("%s delivered %d times", l, n)
		}
	}

	// Every attempt of k1 is on the trace, the failed ones as errors.
	var attempts []string
	for _, s := range rec.Find(outbox.SpanName, tracingtest.WithAttr(outbox.AttrID.Int64(1))) {
		n, _ := tracingtest.Attr(s.Attributes(), outbox.AttrAttempt)
		et, _ := tracingtest.Attr(s.Attributes(), semconv.ErrorTypeKey)
		attempts = append(attempts, fmt.Sprintf("%d:%s:%s", n.AsInt64(), s.Status().Code, et.AsString()))
	}
	if got, want := strings.Join(attempts, " "), "1:Error:INVALID_RECORD 2:Error:INVALID_RECORD 3:Error:INVALID_RECORD 4:Unset:"; got != want {
		t.Errorf("k1 attempts %q, want %q", got, want)
	}
}

func TestRelay_PoisonRowIsSetAsideWhileTheRestFlows(t *testing.T) {
	pool := db(t)
	seeds := kafkatest.Cluster(t, 1, "orders")
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	tp := rec.TracerProvider()
	msgs := []outbox.Message{
		{Topic: "orders", Key: []byte("p"), Value: make([]byte, 64<<10)}, // never fits
		{Topic: "orders", Key: []byte("p"), Value: []byte("p2")},
	}
	for i := range 20 {
		msgs = append(msgs, outbox.Message{Topic: "orders", Key: []byte("x" + strconv.Itoa(i)), Value: []byte("x" + strconv.Itoa(i))})
	}
	enqueue(t, pool, outbox.NewWriter(), context.Background(), msgs...)

	handled := tracingtest.Reports(t)

	a := &acks{}
	stop := start(t, outbox.NewRelay(pool, producer(t, seeds, kgo.WithHooks(a), kgo.ProducerBatchMaxBytes(16<<10)),
		outbox.WithTracerProvider(tp), outbox.WithMaxAttempts(3),
		outbox.WithRetryBackoff(time.Millisecond, 5*time.Millisecond), outbox.WithPollInterval(5*time.Millisecond)))
	waitEmpty(t, pool, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	var attempts int
	var lastErr string
	if err := pool.QueryRow(context.Background(),
		`SELECT attempts, last_error FROM outbox WHERE id = 1 AND dead_at IS NOT NULL`).Scan(&attempts, &lastErr); err != nil {
		t.Fatal("poison row not set aside:", err)
	}
	if attempts != 3 || !strings.Contains(lastErr, "MESSAGE_TOO_LARGE") {
		t.Errorf("set aside with attempts=%d last_error=%q, want 3 and MESSAGE_TOO_LARGE", attempts, lastErr)
	}

	ev := a.snapshot()
	d := a.delivered()
	if d["poison"] != 0 || d["p2"] != 1 || len(d) != 21 {
		t.Errorf("delivered %v, want p2 and x0..x19 once, never the poison row", d)
	}
	lastFail := -1
	for i, e := range ev {
		if e.label == "poison" && !e.buffered {
			lastFail = i
		}
	}
	for i := range 20 {
		l := "x" + strconv.Itoa(i)
		if at := firstIndex(ev, func(e ackEvent) bool { return e.label == l && !e.buffered }); at > lastFail {
			t.Errorf("%s acknowledged at event %d, after the poison row gave up (%d): it waited", l, at, lastFail)
		}
	}
	if p2 := firstIndex(ev, func(e ackEvent) bool { return e.label == "p2" }); p2 < lastFail {
		t.Errorf("p2 produced at event %d while the earlier row of its key was still failing (until %d)", p2, lastFail)
	}

	setAside := rec.Span(t, outbox.SpanName, tracingtest.WithAttr(outbox.AttrSetAside.Bool(true)))
	rec.AssertAttrs(t, setAside, outbox.AttrID.Int64(1))
	rec.AssertError(t, setAside, "MESSAGE_TOO_LARGE")
	if h := handled(); len(h) != 1 || !strings.Contains(h[0].Error(), "row 1 set aside after 3 attempts") {
		t.Errorf("reported errors %q, want one about row 1 set aside", h)
	}
}

func TestRelay_UnusableTraceContextStartsANewTrace(t *testing.T) {
	pool := db(t)
	seeds := kafkatest.Cluster(t, 1, "orders")
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	ctx := context.Background()
	const valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	cases := []struct {
		label, traceparent, tracestate, baggage, extra string
		want                                           string // "missing", "invalid" or "" (restored)
	}{
		{label: "null", want: "missing"},
		{label: "empty", traceparent: "\x00", tracestate: "\x00", baggage: "\x00", want: "missing"},
		{label: "garbage", traceparent: "not a traceparent", tracestate: "%%%", baggage: ";;;=", want: "invalid"},
		{label: "zero", traceparent: "00-00000000000000000000000000000000-0000000000000000-01", want: "invalid"},
		{label: "badextra", extra: `[1, 2]`, want: "invalid"},
		{label: "valid", traceparent: valid, tracestate: "congo=t61rcWkgMzE", baggage: "user.id=u-1", want: ""},
	}
	ids := map[string]int64{}
	for _, c := range cases {
		nullable := func(s string) any {
			switch s {
			case "":
				return nil
			case "\x00":
				return ""
			}
			return s
		}
		var id int64
		if err := pool.QueryRow(ctx, `INSERT INTO outbox (topic, payload, traceparent, tracestate, baggage, trace_extra)
			VALUES ('orders', $1, $2, $3, $4, $5::jsonb) RETURNING id`,
			[]byte(c.label), nullable(c.traceparent), nullable(c.tracestate), nullable(c.baggage), nullable(c.extra)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[c.label] = id
	}

	handled := tracingtest.Reports(t)

	a := drain(t, pool, seeds, rec.TracerProvider())

	headers := map[string]string{}
	for _, e := range a.snapshot() {
		if !e.buffered && e.err == nil {
			for _, h := range e.headers {
				headers[e.label+" "+h.Key] = string(h.Value)
			}
		}
	}
	reported := fmt.Sprint(handled())
	for _, c := range cases {
		id := ids[c.label]
		relay := rec.Span(t, outbox.SpanName, tracingtest.WithAttr(outbox.AttrID.Int64(id)))
		sc := relay.SpanContext()
		if c.want != "" {
			rec.AssertAttrs(t, relay, outbox.AttrTraceContext.String(c.want))
		} else {
			rec.AssertNoAttrs(t, relay, outbox.AttrTraceContext)
		}
		if tp := headers[c.label+" traceparent"]; !strings.Contains(tp, sc.TraceID().String()) {
			t.Errorf("%s: published with traceparent %q, want the relay span's trace %s", c.label, tp, sc.TraceID())
		}
		wantReport := c.want == "invalid"
		if got := strings.Contains(reported, fmt.Sprintf("row %d:", id)); got != wantReport {
			t.Errorf("%s: reported through otel.Handle = %v, want %v (reports: %s)", c.label, got, wantReport, reported)
		}
		if c.want != "" {
			if relay.Parent().IsValid() {
				t.Errorf("%s: span has parent %v, want a new trace", c.label, relay.Parent())
			}
			continue
		}
		if p := relay.Parent(); p.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || p.SpanID().String() != "00f067aa0ba902b7" || !p.IsRemote() {
			t.Errorf("valid: parent %v, want the stored remote span", p)
		}
		if ts := sc.TraceState().String(); ts != "congo=t61rcWkgMzE" {
			t.Errorf("valid: tracestate %q, want congo=t61rcWkgMzE", ts)
		}
		if b := headers["valid baggage"]; b != "user.id=u-1" {
			t.Errorf("valid: published baggage %q, want user.id=u-1", b)
		}
	}
}

func TestRelay_ShutdownFinishesTheBatchInFlight(t *testing.T) {
	pool := db(t)
	seeds := kafkatest.Cluster(t, 3, "orders")
	const rows, batch = 1000, 100
	enqueue(t, pool, outbox.NewWriter(), context.Background(), numbered("orders", rows, 0)...)

	a := &acks{}
	cl := producer(t, seeds, kgo.WithHooks(a))
	r := outbox.NewRelay(pool, cl, outbox.WithBatchSize(batch))
	shutdown := make(chan error, 1)
	a.onBuffered = func(n int) {
		if n == 1 { // first record of the first batch: stop mid-batch
			go func() { shutdown <- r.Shutdown(context.Background()) }()
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := r.Run(context.Background()); err != nil {
		t.Fatalf("Run after Shutdown = %v, want nil", err)
	}
	if err := <-shutdown; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	var left int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM outbox").Scan(&left); err != nil {
		t.Fatal(err)
	}
	published := len(a.delivered())
	if published == 0 || published%batch != 0 || published+left != rows {
		t.Errorf("published %d rows, %d left: want whole batches published and deleted, the rest pending", published, left)
	}
	if err := r.Run(context.Background()); !errors.Is(err, outbox.ErrRelayClosed) {
		t.Errorf("Run after Shutdown = %v, want ErrRelayClosed", err)
	}
}

func TestRelay_ShutdownDeadlineReleasesTheBatch(t *testing.T) {
	pool := db(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	enqueue(t, pool, outbox.NewWriter(), context.Background(), numbered("orders", 10, 0)...)

	// Kafka does not answer until the Shutdown deadline has passed.
	release := make(chan struct{})
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	a := &acks{}
	cl := producer(t, c.ListenAddrs(), kgo.WithHooks(a))
	r := outbox.NewRelay(pool, cl)
	var once sync.Once
	shutdown := make(chan error, 1)
	a.onBuffered = func(int) {
		once.Do(func() {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				defer cancel()
				shutdown <- r.Shutdown(ctx)
				close(release)
			}()
		})
	}
	if err := r.Run(context.Background()); err != nil {
		t.Fatalf("Run = %v, want nil after Shutdown", err)
	}
	if err := <-shutdown; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	var left int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM outbox WHERE attempts = 0").Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 10 {
		t.Errorf("%d untouched rows after an abandoned batch, want all 10 released", left)
	}
}

func TestRelay_CommitWakesTheRelayWithoutPolling(t *testing.T) {
	pool := db(t)
	seeds := kafkatest.Cluster(t, 1, "orders")
	a := &acks{}
	start(t, outbox.NewRelay(pool, producer(t, seeds, kgo.WithHooks(a)), outbox.WithPollInterval(time.Hour)))
	time.Sleep(50 * time.Millisecond) // let it find the table empty and wait

	for round := range 3 {
		enqueue(t, pool, outbox.NewWriter(), context.Background(),
			outbox.Message{Topic: "orders", Value: []byte(fmt.Sprint("round ", round))})
		waitEmpty(t, pool, 5*time.Second)
		if n := len(a.delivered()); n != round+1 {
			t.Fatalf("round %d: %d rows delivered, want %d", round, n, round+1)
		}
	}
}

func TestRelay_ListenerReconnectsAfterLosingItsConnection(t *testing.T) {
	app := fmt.Sprintf("outbox-listen-%d", time.Now().UnixNano())
	pool, _ := pgtest.Pool(t, func(c *pgxpool.Config) { c.ConnConfig.RuntimeParams["application_name"] = app })
	if err := outbox.Apply(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	seeds := kafkatest.Cluster(t, 1, "orders")
	reports := tracingtest.CaptureReports(t)

	a := &acks{}
	start(t, outbox.NewRelay(pool, producer(t, seeds, kgo.WithHooks(a)), outbox.WithPollInterval(time.Hour),
		outbox.WithRetryBackoff(10*time.Millisecond, 50*time.Millisecond)))
	ctx := context.Background()
	listeners := func() (n int) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND query = 'LISTEN outbox' AND pid <> pg_backend_pid()`, app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	eventually(t, 5*time.Second, "listening", func() (bool, string) { return listeners() == 1, "" })
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND query = 'LISTEN outbox' AND pid <> pg_backend_pid()`, app); err != nil {
		t.Fatal(err)
	}
	lost := reports.WaitFor(t, nil) // the first report
	eventually(t, 5*time.Second, "listening again", func() (bool, string) { return listeners() == 1, "" })
	// Polling is an hour away: only a notification on the new connection
	// can wake the relay.
	enqueue(t, pool, outbox.NewWriter(), ctx, outbox.Message{Topic: "orders", Value: []byte("after reconnect")})
	waitEmpty(t, pool, 5*time.Second)
	if !strings.Contains(lost.Error(), "outbox: relay: listen:") {
		t.Errorf("reported %q, want the lost listen connection", lost)
	}
}
