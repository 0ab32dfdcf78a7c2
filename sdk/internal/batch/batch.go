package batch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/internal/report"
)

// The batch span processor's variables; DefaultConfig has their
// defaults.
const (
	envBSPScheduleDelay      = "OTEL_BSP_SCHEDULE_DELAY"
	envBSPExportTimeout      = "OTEL_BSP_EXPORT_TIMEOUT"
	envBSPMaxQueueSize       = "OTEL_BSP_MAX_QUEUE_SIZE"
	envBSPMaxExportBatchSize = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"
)

// Config is the configuration of a [Processor].
type Config struct {
	delay       time.Duration // between exports of a partial batch
	timeout     time.Duration // of one export
	maxQueue    int           // ended spans waiting; more are dropped
	maxBatch    int           // spans per export
	ReportEvery time.Duration // between two reports of dropped spans
}

func DefaultConfig() Config {
	return Config{delay: 5 * time.Second, timeout: 30 * time.Second, maxQueue: 2048, maxBatch: 512, ReportEvery: time.Minute}
}

// ConfigFromEnv reads the OTEL_BSP_* variables. A malformed value is a
// [*VarError]; a batch size above the queue size is lowered to it (the
// specification requires it to be at most the queue size).
func ConfigFromEnv() (Config, error) {
	c := DefaultConfig()
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
			err = &VarError{Name: name, Value: v, Err: fmt.Errorf("want an integer from %d to %d", min, maxMillis)}
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

// VarError is a malformed OTEL_BSP_* variable.
type VarError struct {
	Name, Value string
	Err         error
}

func (e *VarError) Error() string { return fmt.Sprintf("%s=%q: %v", e.Name, e.Value, e.Err) }

func (e *VarError) Unwrap() error { return e.Err }

// getenv returns the trimmed value of the variable name.
func getenv(name string) string { return strings.TrimSpace(os.Getenv(name)) }

// Processor is the batch span processor Setup puts in front of each exporter.
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
type Processor struct {
	exp sdktrace.SpanExporter
	cfg Config

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

	// The context of the exports before Shutdown, cancelled when
	// Shutdown's ends: an export in flight then does not outlive it.
	runCtx    context.Context
	cancelRun context.CancelFunc

	inst *observer // the SDK's processor metrics; nil unless switched on

	// Set before use, if at all: Loss makes the error counting the spans a
	// shutdown could not export (by default "N spans not exported: why"),
	// and Explain adds what the collector answered last to a shutdown cut
	// short.
	Loss    func(spans int, why error) error
	Explain func(error) error

	reports      *report.Limiter // of dropped spans, summed up between reports
	stopOnce     sync.Once
	shutdownDone chan struct{} // closed when the first Shutdown has a result
	stopErr      error
	wakes        atomic.Int64 // times the goroutine woke up, for the tests
}

var _ sdktrace.SpanProcessor = (*Processor)(nil)

func New(e sdktrace.SpanExporter, cfg Config) *Processor {
	b := &Processor{
		exp:          e,
		cfg:          cfg,
		queue:        make([]sdktrace.ReadOnlySpan, 0, cfg.maxBatch),
		full:         make(chan struct{}, 1),
		flushes:      make(chan chan error),
		stop:         make(chan struct{}),
		done:         make(chan struct{}),
		shutdownDone: make(chan struct{}),
		reports:      report.New(cfg.ReportEvery),
	}
	b.runCtx, b.cancelRun = context.WithCancel(context.Background())
	var err error
	b.inst, err = newObserver(b.queueLen, int64(cfg.maxQueue))
	if err != nil {
		otel.Handle(err)
	}
	go b.run()
	return b
}

// OnStart does nothing.
func (b *Processor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues s for export if it is sampled.
func (b *Processor) OnEnd(s sdktrace.ReadOnlySpan) {
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
		if b.inst != nil {
			b.inst.dropped(context.Background())
		}
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
func (b *Processor) ForceFlush(ctx context.Context) error {
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
// exporter down. If ctx ends first, it returns then, an export in flight
// since before the call is cancelled, and the rest happens in the
// background, the exporter's error then reported through [otel.Handle].
// When spans queued or being exported at the call were not exported by the
// time it returns, the error counts them (see Loss), with the last export
// error or else ctx's. A later call returns the first one's
// result once it has one, or, if its own ctx ends first, the count then.
func (b *Processor) Shutdown(ctx context.Context) error {
	first := false
	stopCancel := func() bool { return false }
	b.stopOnce.Do(func() {
		first = true
		// An export in flight, started before with no deadline of
		// Shutdown's, ends with ctx too.
		stopCancel = context.AfterFunc(ctx, b.cancelRun)
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
		stopCancel()
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
	if b.inst != nil {
		if err := b.inst.shutdown(); err != nil {
			b.stopErr = errors.Join(b.stopErr, err)
		}
	}
	close(b.shutdownDone)
	return b.stopErr
}

// loss returns the error counting the spans Shutdown owes, or ctxErr if it
// owes none.
func (b *Processor) loss(ctxErr error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.owed == 0 {
		return ctxErr
	}
	why := b.lastErr
	if why == nil {
		why = ctxErr
		if why == nil {
			why = b.stopCtx.Err() // it cancelled an export in flight
		}
		if b.Explain != nil {
			why = b.Explain(why)
		}
	}
	if b.Loss != nil {
		return b.Loss(b.owed, why)
	}
	return fmt.Errorf("%d spans not exported: %w", b.owed, why)
}

// Reported marks an export error the exporter has reported (or counted for a
// later report) itself: the processor counts the spans lost without
// reporting it again.
type Reported struct{ Err error }

func (e Reported) Error() string { return e.Err.Error() }
func (e Reported) Unwrap() error { return e.Err }

// Timeout returns the time one export may take (OTEL_BSP_EXPORT_TIMEOUT);
// 0 is no limit.
func (c Config) Timeout() time.Duration { return c.timeout }

func (b *Processor) run() {
	defer close(b.done)
	defer b.cancelRun()
	timer := time.NewTimer(b.cfg.delay)
	defer timer.Stop()
	for {
		select {
		case <-b.full:
			b.wakes.Add(1)
			b.handle(b.export(b.runCtx, false))
			// The timer goes on: a partial batch left behind still leaves
			// on schedule.
			continue
		case <-timer.C:
			b.wakes.Add(1)
			b.handle(b.export(b.runCtx, true))
		case done := <-b.flushes:
			b.wakes.Add(1)
			done <- b.export(b.runCtx, true)
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
func (b *Processor) handle(err error) {
	if err != nil && !errors.As(err, new(Reported)) {
		otel.Handle(err)
	}
}

// export exports the queue in batches, all of it or only its full batches,
// with contexts derived from ctx, and reports drops. It returns the export
// errors.
func (b *Processor) export(ctx context.Context, all bool) error {
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
		if b.inst != nil {
			b.inst.exported(ctx, k)
		}
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
				// An export Shutdown cancelled (see runCtx) failed for
				// the reason Shutdown's context gives, not its own.
				if ctx != b.runCtx || b.runCtx.Err() == nil {
					b.lastErr = err
				}
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

func (b *Processor) exportBatch(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	cancel := context.CancelFunc(func() {})
	if b.cfg.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, b.cfg.timeout)
	}
	defer cancel()
	return b.exp.ExportSpans(ctx, spans)
}

// report reports the spans dropped from a full queue: at once the first
// time, then at most once per interval, and at shutdown.
func (b *Processor) report(final bool) {
	b.mu.Lock()
	n := b.dropped
	if n == 0 {
		b.mu.Unlock()
		return
	}
	if ok, _ := b.reports.Allow(); !ok && !final {
		b.mu.Unlock()
		return
	}
	b.dropped = 0
	b.mu.Unlock()
	otel.Handle(fmt.Errorf("tracing: span queue full (OTEL_BSP_MAX_QUEUE_SIZE=%d): %d spans dropped", b.cfg.maxQueue, n))
}

// queueLen returns the number of spans waiting in the queue, for the
// queue size metric: as in the SDK's processor, not those being exported.
func (b *Processor) queueLen() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return int64(len(b.queue))
}

// Serial returns e with its calls serialised, for an exporter shared by two
// batch processors: an exporter may assume ExportSpans is not called
// concurrently.
func Serial(e sdktrace.SpanExporter) sdktrace.SpanExporter { return &serialExporter{next: e} }

type serialExporter struct {
	mu   sync.Mutex
	next sdktrace.SpanExporter
}

func (e *serialExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.next.ExportSpans(ctx, spans)
}

func (e *serialExporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.next.Shutdown(ctx)
}
