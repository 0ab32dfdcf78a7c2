package outbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	_ "github.com/otelkit/otelkit/internal/kafkaerr" // Kafka error codes as error.type
	"github.com/otelkit/otelkit/internal/report"
	"github.com/otelkit/otelkit/tracing"
)

// Attribute keys of the outbox.relay span.
const (
	// AttrID is the outbox row id (int64).
	AttrID = attribute.Key("outbox.id")
	// AttrAttempt is the publish attempt, 1 for the first (int64).
	AttrAttempt = attribute.Key("outbox.attempt")
	// AttrWait is how long the row waited in the outbox before this
	// attempt, in seconds (float64).
	AttrWait = attribute.Key("outbox.wait.duration")
	// AttrTraceContext is set to "missing" or "invalid" when the row's
	// stored trace context could not be restored and the span started a new
	// trace.
	AttrTraceContext = attribute.Key("outbox.trace_context")
	// AttrSetAside is true on the attempt after which the row was set aside.
	AttrSetAside = attribute.Key("outbox.set_aside")
	// AttrHeadersDropped is true when the row's user headers could not be
	// paired (header_keys and header_values of different lengths, or a NULL
	// key) and the record was published without them.
	AttrHeadersDropped = attribute.Key("outbox.headers_dropped")
)

// SpanName is the name of the span the relay starts for every row.
const SpanName = "outbox.relay"

var internalKind = trace.WithSpanKind(trace.SpanKindInternal)

var (
	// ErrRelayRunning is returned by Run when the relay is already running.
	ErrRelayRunning = errors.New("outbox: relay is already running")
	// ErrRelayClosed is returned by Run after Shutdown, or after an
	// earlier Run returned: a Relay runs once; make a new one to restart.
	ErrRelayClosed = errors.New("outbox: relay is shut down")
)

// Relay publishes outbox rows to Kafka. Make one with [NewRelay] and start
// it with [Relay.Run]; any number of relays, in one process or many, can
// work on the same table.
type Relay struct {
	pool   *pgxpool.Pool
	client *kgo.Client
	cfg    config

	mu       sync.Mutex
	running  bool
	closed   bool
	stopping chan struct{} // closed by Shutdown: finish the batch, claim no more
	done     chan struct{} // closed when Run returns
	abort    context.CancelFunc
	// reports limits the reports of the relay's retried failures
	// (Postgres or Kafka unavailable): one a minute, with the count of
	// those held back. A bad row is always reported, with its id.
	reports *report.Limiter

	// stepHook, set only by tests before Run, runs on the worker's
	// goroutine at each step of a batch with the batch's row ids; a test
	// blocks in it to crash the relay at that exact point.
	stepHook func(s step, ids []int64)
}

// step is a point in a batch's life where a relay can die.
type step int

const (
	stepClaimed  step = iota // rows locked, nothing produced
	stepProduced             // every record handed to the client, no answer awaited
	stepAnswered             // Kafka answered every record, nothing settled
	stepSettled              // deletes and reschedules sent, not committed
)

func (w *worker) hook(s step) {
	if h := w.r.stepHook; h != nil {
		ids := make([]int64, len(w.rows))
		for i := range w.rows {
			ids[i] = w.rows[i].id
		}
		h(s, ids)
	}
}

// NewRelay returns a relay that claims rows through pool and produces them
// with client. Configure client as for any producer, with the kafkatrace
// hooks so that the send span continues the row's trace; the relay only
// sets each record's Context. The relay never closes pool or client.
func NewRelay(pool *pgxpool.Pool, client *kgo.Client, opts ...Option) *Relay {
	return &Relay{
		pool:     pool,
		client:   client,
		cfg:      newConfig(opts),
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
		reports:  report.New(report.Every),
	}
}

type row struct {
	id          int64
	topic       string
	key         []byte
	payload     []byte
	headerKeys  []pgtype.Text // not []string: a NULL key must not fail the claim of the whole batch
	headerVals  [][]byte
	traceparent string
	tracestate  string
	baggage     string
	extra       []byte
	createdAt   time.Time
	attempts    int32

	span trace.Span
}

// claimSQL locks the oldest ready rows that are the head of their key: a
// row is skipped while an earlier row of the same key is pending, whether
// that one waits for its retry, is locked by another relay or sits in this
// very batch. Hence at most one row per key is in flight across all relays,
// and a key's rows reach Kafka in id order even when an earlier one keeps
// failing. Rows with a NULL key are not ordered.
const claimSQL = `SELECT o.id, o.topic, o.key, o.payload, o.header_keys, o.header_values,
	coalesce(o.traceparent, ''), coalesce(o.tracestate, ''), coalesce(o.baggage, ''),
	o.trace_extra::text, o.created_at, o.attempts
FROM outbox o
WHERE o.dead_at IS NULL
	AND (o.retry_at IS NULL OR o.retry_at <= now())
	AND NOT EXISTS (
		SELECT 1 FROM outbox p
		WHERE p.key = o.key AND p.id < o.id AND p.dead_at IS NULL)
ORDER BY o.id
LIMIT $1
FOR UPDATE OF o SKIP LOCKED`

const deleteSQL = `DELETE FROM outbox WHERE id = ANY($1)`

const failSQL = `UPDATE outbox o SET
	attempts = o.attempts + 1,
	last_error = f.err,
	retry_at = clock_timestamp() + make_interval(secs => f.backoff),
	dead_at = CASE WHEN f.dead THEN clock_timestamp() END
FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::bool[]) AS f(id, err, backoff, dead)
WHERE o.id = f.id`

// bookkeeping is the span context the relay's own queries run under: valid
// but not sampled, so a query tracer on the pool (with the default
// parent-based sampler) records no root trace for every poll. The per-row
// spans never descend from it.
var bookkeeping = trace.SpanContext{}.
	WithTraceID(trace.TraceID{0x6f, 0x75, 0x74, 0x62, 0x6f, 0x78}).
	WithSpanID(trace.SpanID{0x72, 0x65, 0x6c, 0x61, 0x79}).
	WithRemote(true)

// Run relays rows until ctx is cancelled or [Relay.Shutdown] is called.
//
// Cancelling ctx stops at once: the batches in flight are rolled back, their
// rows are released to other relays (or the next Run) and published again, so
// they may reach Kafka twice. Run then returns ctx's error. After Shutdown,
// Run returns nil.
//
// Run holds one connection of the pool for LISTEN while it runs, and one
// more per batch in flight (see [WithConcurrency]). Errors it survives
// (Postgres or Kafka unavailable, bad rows) are reported through otel.Handle
// and retried; it returns an error of its own only when the client is
// closed under it.
func (r *Relay) Run(ctx context.Context) error {
	r.mu.Lock()
	switch {
	case r.closed:
		r.mu.Unlock()
		return ErrRelayClosed
	case r.running:
		r.mu.Unlock()
		return ErrRelayRunning
	}
	r.running = true
	ctx, cancel := context.WithCancel(ctx)
	r.abort = cancel
	r.mu.Unlock()
	defer close(r.done)
	defer func() {
		r.mu.Lock()
		r.closed = true // a relay runs once
		r.mu.Unlock()
	}()
	defer cancel()

	ctx = trace.ContextWithSpanContext(ctx, bookkeeping)

	var schema string
	if err := r.pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		if ctx.Err() != nil {
			return r.stopErr(ctx)
		}
		return fmt.Errorf("outbox: relay: %w", err)
	}
	if reg, err := r.registerMetrics(); err != nil {
		otel.Handle(err)
	} else {
		defer func() {
			if err := reg.Unregister(); err != nil {
				otel.Handle(err)
			}
		}()
	}

	workers := make([]*worker, r.cfg.workers)
	wakes := make([]chan struct{}, len(workers))
	for i := range workers {
		workers[i] = &worker{r: r, wake: make(chan struct{}, 1)}
		wakes[i] = workers[i].wake
	}
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		r.listen(ctx, schema, wakes)
	}()
	var wg sync.WaitGroup
	errs := make([]error, len(workers))
	for i, w := range workers {
		wg.Go(func() {
			errs[i] = w.loop(ctx)
			if errs[i] != nil {
				cancel() // a fatal error stops the other workers too
			}
		})
	}
	wg.Wait()
	stopped := r.stopErr(ctx)
	cancel()
	<-listening
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return stopped
}

// worker runs the claim-publish-settle loop. A relay runs several, so that
// one batch's CPU work overlaps another's round trips to Postgres and Kafka;
// they coordinate through row locks exactly as separate relays do.
type worker struct {
	r    *Relay
	wake chan struct{}

	// per batch, reused
	rows    []row
	results []error
	attrs   [5]attribute.KeyValue
	carrier carrier
}

// loop relays batches until ctx ends or the relay stops (nil), or the
// client is closed (fatal).
func (w *worker) loop(ctx context.Context) error {
	r := w.r
	poll := time.NewTimer(r.cfg.pollInterval)
	defer poll.Stop()
	errDelay := r.cfg.backoffMin
	for {
		select {
		case <-r.stopping:
			return nil
		default:
		}
		n, err := w.relayBatch(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := r.cfg.pollInterval
		switch {
		case errors.Is(err, kgo.ErrClientClosed):
			return fmt.Errorf("outbox: relay: %w", err)
		case err != nil:
			r.reports.Report(err)
			wait = min(errDelay, r.cfg.pollInterval)
			errDelay = min(2*errDelay, r.cfg.backoffMax)
		case n > 0:
			// Publishing a key's row makes its next row claimable, and
			// more rows may be ready: look again until a claim is empty.
			errDelay = r.cfg.backoffMin
			continue
		default:
			errDelay = r.cfg.backoffMin
		}
		poll.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-r.stopping:
			return nil
		case <-w.wake:
		case <-poll.C:
		}
	}
}

// stopErr is Run's result once ctx is done: nil when Shutdown asked for the
// stop, ctx's error otherwise.
func (r *Relay) stopErr(ctx context.Context) error {
	select {
	case <-r.stopping:
		return nil
	default:
		return context.Cause(ctx)
	}
}

// Shutdown stops the relay gracefully: it claims no new batch, lets the
// batches in flight finish (published rows are deleted, failed ones
// rescheduled) and waits for Run to return. If ctx ends first, they are
// abandoned as if Run's context had been cancelled (their rows are released
// and published again later) and Shutdown returns ctx's error. Calling
// Shutdown on a relay that is not running only prevents later runs.
func (r *Relay) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.stopping)
	}
	running := r.running
	r.mu.Unlock()
	if !running {
		return nil
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		r.abort()
		<-r.done
		return ctx.Err()
	}
}

// relayBatch claims, publishes and settles one batch in one transaction.
// The row locks are held until Kafka answered and the outcome is committed,
// so a relay that dies at any point leaves its rows pending, never lost.
func (w *worker) relayBatch(ctx context.Context) (n int, err error) {
	tx, err := w.r.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("outbox: relay: begin: %w", err)
	}
	defer func() {
		if err != nil || ctx.Err() != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = tx.Rollback(rctx) // a broken connection is closed by pgx; the server then rolls back
			cancel()
		}
	}()
	if err := w.claim(ctx, tx); err != nil {
		return 0, err
	}
	if len(w.rows) == 0 {
		return 0, tx.Commit(ctx)
	}
	w.hook(stepClaimed)

	w.publish(ctx)
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return len(w.rows), w.settle(ctx, tx)
}

func (w *worker) claim(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, claimSQL, w.r.cfg.batchSize)
	if err != nil {
		return fmt.Errorf("outbox: relay: claim: %w", err)
	}
	clear(w.rows) // drop references to the previous batch's payloads and spans
	w.rows = w.rows[:0]
	for rows.Next() {
		w.rows = append(w.rows, row{})
		o := &w.rows[len(w.rows)-1]
		var extra *string
		if err := rows.Scan(&o.id, &o.topic, &o.key, &o.payload, &o.headerKeys, &o.headerVals,
			&o.traceparent, &o.tracestate, &o.baggage, &extra, &o.createdAt, &o.attempts); err != nil {
			rows.Close()
			return fmt.Errorf("outbox: relay: claim: %w", err)
		}
		if extra != nil {
			o.extra = []byte(*extra)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("outbox: relay: claim: %w", err)
	}
	return nil
}

// publish produces every claimed row and waits for Kafka's answers (or for
// ctx). The answers land in w.results, index-aligned with w.rows.
func (w *worker) publish(ctx context.Context) {
	// Records must outlive a cancelled Run: once handed to the client they
	// are produced or not, and a record failed by cancellation would fail
	// every later record buffered for its partition, including the next
	// run's.
	base := cleanBase(context.WithoutCancel(ctx))
	now := time.Now()
	if cap(w.results) < len(w.rows) {
		w.results = make([]error, len(w.rows))
	}
	w.results = w.results[:len(w.rows)]
	clear(w.results)

	results := w.results // the promises may outlive this batch; see below
	var pending atomic.Int64
	pending.Store(int64(len(w.rows)))
	allDone := make(chan struct{})
	for i := range w.rows {
		o := &w.rows[i]
		rctx := w.startSpan(base, o, now)
		rec := &kgo.Record{Topic: o.topic, Key: o.key, Value: o.payload, Context: rctx}
		var err error
		if rec.Headers, err = o.headers(); err != nil {
			// The business message goes out all the same, without them.
			otel.Handle(fmt.Errorf("outbox: row %d: %w", o.id, err))
			o.span.SetAttributes(AttrHeadersDropped.Bool(true))
		}
		w.r.client.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			results[i] = err
			if pending.Add(-1) == 0 {
				close(allDone)
			}
		})
	}
	w.hook(stepProduced)
	select {
	case <-allDone:
		w.hook(stepAnswered)
	case <-ctx.Done():
		// The promises still run later and write results; the next
		// batch must not share the slice with them. The rows are released
		// by the rollback: not an error of theirs.
		w.results = nil
		for i := range w.rows {
			w.rows[i].span.AddEvent("relay stopped before Kafka answered; row released")
			w.rows[i].span.End()
		}
	}
}

// headers returns the row's user headers, with room for the trace context
// headers the producer hooks add. When the two arrays cannot be paired, it
// returns none and an error: once the lengths differ the positions cannot
// be trusted, and a value published under the wrong key is worse than a
// missing header.
func (o *row) headers() ([]kgo.RecordHeader, error) {
	if len(o.headerKeys) != len(o.headerVals) {
		return nil, fmt.Errorf("header_keys has %d entries and header_values %d; user headers dropped",
			len(o.headerKeys), len(o.headerVals))
	}
	if len(o.headerKeys) == 0 {
		return nil, nil
	}
	h := make([]kgo.RecordHeader, len(o.headerKeys), len(o.headerKeys)+1)
	for j, k := range o.headerKeys {
		if !k.Valid {
			return nil, fmt.Errorf("header_keys[%d] is NULL; user headers dropped", j+1)
		}
		h[j] = kgo.RecordHeader{Key: k.String, Value: o.headerVals[j]}
	}
	return h, nil
}

// startSpan restores the row's trace context and starts its outbox.relay
// span, backdated to when the row was written, so the waterfall shows the
// time spent in the outbox as the gap before the send span.
func (w *worker) startSpan(base context.Context, o *row, now time.Time) context.Context {
	c := &w.carrier
	*c = carrier{traceparent: o.traceparent, tracestate: o.tracestate, baggage: o.baggage}
	ctx, restored, err := restore(base, w.r.cfg.textMapPropagator(), c, o.extra)
	if err != nil {
		otel.Handle(fmt.Errorf("outbox: row %d: %w", o.id, err))
	}
	start := o.createdAt
	if start.After(now) { // clock skew between Postgres and this host
		start = now
	}
	attrs := append(w.attrs[:0],
		semconv.MessagingDestinationName(o.topic),
		AttrID.Int64(o.id),
		AttrAttempt.Int64(int64(o.attempts)+1),
		AttrWait.Float64(now.Sub(start).Seconds()))
	if !restored {
		v := "missing"
		if err != nil {
			v = "invalid"
		}
		attrs = append(attrs, AttrTraceContext.String(v))
	}
	// The SDK copies the attributes: w.attrs is free again once Start
	// returns.
	ctx, o.span = w.r.cfg.tracer().Start(ctx, SpanName,
		trace.WithTimestamp(start),
		internalKind,
		trace.WithAttributes(attrs...))
	return ctx
}

// settle ends the spans, deletes the published rows, reschedules or sets
// aside the failed ones and commits.
func (w *worker) settle(ctx context.Context, tx pgx.Tx) error {
	r := w.r
	var okIDs, failIDs []int64
	var failErrs []string
	var failDelay []float64
	var failDead []bool
	for i := range w.rows {
		o, err := &w.rows[i], w.results[i]
		if err == nil {
			okIDs = append(okIDs, o.id)
			o.span.End()
			continue
		}
		if errors.Is(err, kgo.ErrClientClosed) {
			for j := i; j < len(w.rows); j++ {
				w.rows[j].span.End()
			}
			return err
		}
		dead := int(o.attempts)+1 >= r.cfg.maxAttempts
		failIDs = append(failIDs, o.id)
		failErrs = append(failErrs, err.Error())
		failDelay = append(failDelay, r.backoff(int(o.attempts)).Seconds())
		failDead = append(failDead, dead)
		tracing.RecordOutcome(context.Background(), o.span, err)
		if dead {
			o.span.SetAttributes(AttrSetAside.Bool(true))
			otel.Handle(fmt.Errorf("outbox: row %d set aside after %d attempts: %w", o.id, o.attempts+1, err))
		}
		o.span.End()
	}
	b := &pgx.Batch{}
	if len(okIDs) > 0 {
		b.Queue(deleteSQL, okIDs)
	}
	if len(failIDs) > 0 {
		b.Queue(failSQL, failIDs, failErrs, failDelay, failDead)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("outbox: relay: settle: %w", err)
	}
	w.hook(stepSettled)
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("outbox: relay: commit: %w", err)
	}
	return nil
}

// backoff is the delay after a row's attempts-th failure (0-based):
// exponential with jitter in [d/2, d).
func (r *Relay) backoff(attempts int) time.Duration {
	d := r.cfg.backoffMin
	for range min(attempts, 30) {
		d *= 2
		if d >= r.cfg.backoffMax {
			d = r.cfg.backoffMax
			break
		}
	}
	half := d / 2
	return half + rand.N(half+1)
}
