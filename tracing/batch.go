package tracing

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The batch span processor's variables; defaultBatchConfig has their
// defaults.
const (
	envBSPScheduleDelay      = "OTEL_BSP_SCHEDULE_DELAY"
	envBSPExportTimeout      = "OTEL_BSP_EXPORT_TIMEOUT"
	envBSPMaxQueueSize       = "OTEL_BSP_MAX_QUEUE_SIZE"
	envBSPMaxExportBatchSize = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"
)

// batchConfig is the configuration of a [batcher].
type batchConfig struct {
	delay    time.Duration // between exports of a partial batch
	timeout  time.Duration // of one export
	maxQueue int           // ended spans waiting; more are dropped
	maxBatch int           // spans per export
	every    time.Duration // between two reports of dropped spans
}

func defaultBatchConfig() batchConfig {
	return batchConfig{delay: 5 * time.Second, timeout: 30 * time.Second, maxQueue: 2048, maxBatch: 512, every: time.Minute}
}

// batchConfigFromEnv reads the OTEL_BSP_* variables. A malformed value is a
// [ConfigError]; a batch size above the queue size is lowered to it (the
// specification requires it to be at most the queue size).
func batchConfigFromEnv() (batchConfig, error) {
	c := defaultBatchConfig()
	var err error
	// Milliseconds beyond this overflow a time.Duration (292 years).
	const maxMillis = math.MaxInt64 / int64(time.Millisecond)
	read := func(name string, min int64, set func(int64)) {
		v := getenv(name)
		if v == "" || err != nil {
			return
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < min || n > maxMillis {
			err = configErr(name, v, "want an integer from %d to %d", min, maxMillis)
			return
		}
		set(n)
	}
	read(envBSPScheduleDelay, 1, func(ms int64) { c.delay = time.Duration(ms) * time.Millisecond })
	read(envBSPExportTimeout, 0, func(ms int64) { c.timeout = time.Duration(ms) * time.Millisecond })
	read(envBSPMaxQueueSize, 1, func(n int64) { c.maxQueue = int(min(n, 1<<24)) })
	read(envBSPMaxExportBatchSize, 1, func(n int64) { c.maxBatch = int(min(n, 1<<24)) })
	c.maxBatch = min(c.maxBatch, c.maxQueue)
	return c, err
}

// batcher is the batch span processor Setup puts in front of each exporter.
// It behaves as the SDK's [sdktrace.NewBatchSpanProcessor] configured by the
// same OTEL_BSP_* variables: sampled spans wait in a bounded queue, the
// excess is dropped rather than block the application, and they are
// exported by one goroutine in batches, when a batch is full and every
// schedule delay.
//
// It differs in what ending a span costs. The SDK's processor sends every
// ended span over a channel to its goroutine, which wakes up for each span
// only to append it to the batch: a goroutine switch, and often an OS
// thread woken, on the path of every span, paid by the request that ends
// it. Here ending a span appends it to the queue under a mutex; the
// goroutine is woken only when a batch is full, by the timer and by flushes.
// It also counts the spans dropped from a full queue and reports them
// through [otel.Handle], at most once a minute.
//
// While a queue is being exported, ended spans fill the next one: up to
// twice OTEL_BSP_MAX_QUEUE_SIZE spans can be held at once (the SDK's holds
// the queue and one batch).
type batcher struct {
	exp sdktrace.SpanExporter
	cfg batchConfig

	mu      sync.Mutex
	queue   []sdktrace.ReadOnlySpan
	spare   []sdktrace.ReadOnlySpan // the other buffer, while not exporting
	stopped bool
	dropped int // since the last report

	full    chan struct{}   // a full batch is waiting (capacity 1)
	flushes chan chan error // ForceFlush requests, answered with the export errors
	stop    chan struct{}   // closed by Shutdown
	done    chan struct{}   // closed when the goroutine returns

	// From Shutdown on: the spans queued or taken for export when it was
	// called and not exported since, and the last export error.
	taken   int // spans taken from the queue and not yet through the exporter
	owed    int
	lastErr error
	stopCtx context.Context // Shutdown's, for exporting what is left

	// Name the exporter in a shutdown's [ExportError], and add what the
	// collector answered last to a shutdown cut short (may be nil).
	name, endpoint string
	explain        func(error) error

	lastReport   time.Time // of dropped spans; the goroutine's own
	stopOnce     sync.Once
	shutdownDone chan struct{} // closed when the first Shutdown has a result
	stopErr      error
	wakes        atomic.Int64 // times the goroutine woke up, for the tests
}

var _ sdktrace.SpanProcessor = (*batcher)(nil)

func newBatcher(e sdktrace.SpanExporter, cfg batchConfig) *batcher {
	b := &batcher{
		exp:          e,
		cfg:          cfg,
		queue:        make([]sdktrace.ReadOnlySpan, 0, cfg.maxBatch),
		full:         make(chan struct{}, 1),
		flushes:      make(chan chan error),
		stop:         make(chan struct{}),
		done:         make(chan struct{}),
		shutdownDone: make(chan struct{}),
	}
	go b.run()
	return b
}

// OnStart does nothing.
func (b *batcher) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues s for export if it is sampled.
func (b *batcher) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	if len(b.queue) >= b.cfg.maxQueue {
		b.dropped++
		b.mu.Unlock()
		return
	}
	b.queue = append(b.queue, s)
	full := len(b.queue) >= b.cfg.maxBatch
	b.mu.Unlock()
	if full {
		select {
		case b.full <- struct{}{}:
		default: // already signalled
		}
	}
}

// ForceFlush exports every span queued before the call and returns the
// export errors, or ctx's error if ctx ends first.
func (b *batcher) ForceFlush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	select {
	case b.flushes <- done:
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown stops queueing spans, exports those queued with ctx and shuts the
// exporter down. If ctx ends first, it returns then and the rest happens in
// the background, the exporter's error then reported through [otel.Handle].
// When spans queued or being exported at the call were not exported by the
// time it returns, the error is an [*ExportError] counting them, with the
// last export error or else ctx's. A later call returns the first one's
// result once it has one, or, if its own ctx ends first, the count then.
func (b *batcher) Shutdown(ctx context.Context) error {
	first := false
	b.stopOnce.Do(func() {
		first = true
		b.mu.Lock()
		b.stopped = true
		b.owed = len(b.queue) + b.taken
		b.stopCtx = ctx
		b.mu.Unlock()
		close(b.stop)
	})
	if !first {
		select {
		case <-b.shutdownDone:
			return b.stopErr
		case <-ctx.Done():
			return b.loss(ctx.Err())
		}
	}
	result := make(chan error, 1)
	go func() {
		<-b.done
		result <- b.exp.Shutdown(ctx)
	}()
	select {
	case err := <-result:
		b.stopErr = errors.Join(b.loss(nil), err)
	case <-ctx.Done():
		go func() {
			// The deadline itself is in the error returned below.
			if err := <-result; err != nil && !errors.Is(err, ctx.Err()) {
				otel.Handle(err)
			}
		}()
		b.stopErr = b.loss(ctx.Err())
	}
	close(b.shutdownDone)
	return b.stopErr
}

// loss returns the [*ExportError] counting the spans Shutdown owes, or
// ctxErr if it owes none.
func (b *batcher) loss(ctxErr error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.owed == 0 {
		return ctxErr
	}
	why := b.lastErr
	if why == nil {
		why = ctxErr
		if b.explain != nil {
			why = b.explain(why)
		}
	}
	return &ExportError{Exporter: b.name, Endpoint: b.endpoint, Spans: b.owed, Err: why}
}

func (b *batcher) run() {
	defer close(b.done)
	timer := time.NewTimer(b.cfg.delay)
	defer timer.Stop()
	for {
		select {
		case <-b.full:
			b.wakes.Add(1)
			b.handle(b.export(context.Background(), false))
			// The timer goes on: a partial batch left behind still leaves
			// on schedule.
			continue
		case <-timer.C:
			b.wakes.Add(1)
			b.handle(b.export(context.Background(), true))
		case done := <-b.flushes:
			b.wakes.Add(1)
			done <- b.export(context.Background(), true)
		case <-b.stop:
			// Shutdown's context ends these exports: the spans left are
			// counted, not exported in the background after it returned.
			b.handle(b.export(b.stopCtx, true))
			b.report(true)
			return
		}
		timer.Reset(b.cfg.delay)
	}
}

// handle reports export errors, except those the exporter reported itself.
func (b *batcher) handle(err error) {
	if err != nil && !errors.As(err, new(reportedError)) {
		otel.Handle(err)
	}
}

// export exports the queue in batches, all of it or only its full batches,
// with contexts derived from ctx, and reports drops. It returns the export
// errors.
func (b *batcher) export(ctx context.Context, all bool) error {
	defer b.report(false)
	b.mu.Lock()
	n := len(b.queue)
	if !all {
		n -= n % b.cfg.maxBatch
	}
	if n == 0 {
		b.mu.Unlock()
		return nil
	}
	buf := b.queue
	b.queue = append(b.spare[:0], buf[n:]...) // a partial batch waits for the timer
	b.spare = nil
	b.taken = n
	b.mu.Unlock()

	var errs []error
	for spans := buf[:n]; len(spans) > 0; {
		k := min(len(spans), b.cfg.maxBatch)
		// Capped, so that an exporter appending to its batch cannot
		// write over the next one.
		err := b.exportBatch(ctx, spans[:k:k])
		if err != nil {
			errs = append(errs, err)
		}
		b.mu.Lock()
		b.taken -= k
		if b.stopped {
			if err != nil {
				b.lastErr = err
			} else {
				b.owed -= k
			}
		}
		b.mu.Unlock()
		spans = spans[k:]
	}
	clear(buf) // the spans can be collected
	b.mu.Lock()
	b.spare = buf[:0]
	b.mu.Unlock()
	return errors.Join(errs...)
}

func (b *batcher) exportBatch(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	cancel := context.CancelFunc(func() {})
	if b.cfg.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, b.cfg.timeout)
	}
	defer cancel()
	return b.exp.ExportSpans(ctx, spans)
}

// report reports the spans dropped from a full queue: at once the first
// time, then at most once per interval, and at shutdown.
func (b *batcher) report(final bool) {
	b.mu.Lock()
	n := b.dropped
	now := time.Now()
	if n == 0 || !final && !b.lastReport.IsZero() && now.Sub(b.lastReport) < b.cfg.every {
		b.mu.Unlock()
		return
	}
	b.dropped = 0
	b.mu.Unlock()
	b.lastReport = now
	otel.Handle(fmt.Errorf("tracing: span queue full (OTEL_BSP_MAX_QUEUE_SIZE=%d): %d spans dropped", b.cfg.maxQueue, n))
}
