package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/otelkit/otelkit/internal/pgtest"
	"github.com/otelkit/otelkit/kafkatrace"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/sqltrace/outbox"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// db returns a pool on a fresh schema with the outbox applied.
func db(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, _ := pgtest.Pool(t, nil)
	if err := outbox.Apply(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

// acks records, per row, what the producer hooks saw: every record handed
// to the client and every answer from Kafka, in order. Rows are told apart
// by their value, which the tests set to the row's label.
type acks struct {
	mu     sync.Mutex
	events []ackEvent
	run    int // tests that restart relays number the runs

	// onBuffered, when set, runs (under mu) after each produce attempt
	// with the number of events so far.
	onBuffered func(n int)
}

type ackEvent struct {
	label    string
	run      int
	buffered bool // produce attempt started; otherwise Kafka answered
	err      error
	headers  []kgo.RecordHeader
}

var (
	_ kgo.HookProduceRecordBuffered   = (*acks)(nil)
	_ kgo.HookProduceRecordUnbuffered = (*acks)(nil)
)

func (a *acks) OnProduceRecordBuffered(r *kgo.Record) {
	a.mu.Lock()
	a.events = append(a.events, ackEvent{label: label(r), run: a.run, buffered: true})
	if a.onBuffered != nil {
		a.onBuffered(len(a.events))
	}
	a.mu.Unlock()
}

func (a *acks) OnProduceRecordUnbuffered(r *kgo.Record, err error) {
	a.mu.Lock()
	a.events = append(a.events, ackEvent{label: label(r), run: a.run, err: err, headers: r.Headers})
	a.mu.Unlock()
}

// label names a record by its value; large values are the poison rows.
func label(r *kgo.Record) string {
	if len(r.Value) > 64 {
		return "poison"
	}
	return string(r.Value)
}

// firstIndex returns the index of the first event matching, or -1.
func firstIndex(events []ackEvent, match func(ackEvent) bool) int {
	for i, e := range events {
		if match(e) {
			return i
		}
	}
	return -1
}

// delivered counts successful acks per label.
func (a *acks) delivered() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := map[string]int{}
	for _, e := range a.events {
		if !e.buffered && e.err == nil {
			m[e.label]++
		}
	}
	return m
}

func (a *acks) snapshot() []ackEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]ackEvent(nil), a.events...)
}

func producer(t *testing.T, seeds []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...), kgo.ProducerLinger(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// enqueue commits one transaction with the given messages.
func enqueue(t *testing.T, pool *pgxpool.Pool, w *outbox.Writer, ctx context.Context, msgs ...outbox.Message) {
	t.Helper()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Enqueue(ctx, tx, msgs...); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// numbered returns n messages to topic whose values are "0".."n-1" and
// whose keys cycle through keys distinct keys (nil keys when keys is 0).
func numbered(topic string, n, keys int) []outbox.Message {
	msgs := make([]outbox.Message, n)
	for i := range msgs {
		msgs[i] = outbox.Message{Topic: topic, Value: []byte(strconv.Itoa(i))}
		if keys > 0 {
			msgs[i].Key = []byte("k" + strconv.Itoa(i%keys))
		}
	}
	return msgs
}

// start runs r until the test ends (or stop is called) and returns stop,
// which cancels Run and returns its error.
func start(t *testing.T, r *outbox.Relay) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
			if errors.Is(err, context.Canceled) {
				err = nil
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// drain runs a relay traced by tp, with the kafkatrace producer hooks,
// until no row is pending, stops it and returns what the producer saw.
func drain(t *testing.T, pool *pgxpool.Pool, seeds []string, tp trace.TracerProvider) *acks {
	t.Helper()
	a := &acks{}
	prop := tracingtest.Propagator()
	kt := kafkatrace.NewTracer(kafkatrace.WithTracerProvider(tp), kafkatrace.WithPropagators(prop))
	stop := start(t, outbox.NewRelay(pool, producer(t, seeds, kgo.WithHooks(kt, a)),
		outbox.WithTracerProvider(tp), outbox.WithPropagators(prop)))
	waitEmpty(t, pool, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	return a
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v: %s", what, within, msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitEmpty waits until no row is pending.
func waitEmpty(t *testing.T, pool *pgxpool.Pool, within time.Duration) {
	t.Helper()
	eventually(t, within, "outbox drained", func() (bool, string) {
		var n int
		if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM outbox WHERE dead_at IS NULL").Scan(&n); err != nil {
			return false, err.Error()
		}
		return n == 0, fmt.Sprintf("%d rows pending", n)
	})
}
