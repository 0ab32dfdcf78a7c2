package tracing

import (
	"context"
	"fmt"
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
// [ConfigError]; a batch size above the queue size is lowered to it, as the
// specification says.
func batchConfigFromEnv() (batchConfig, error) {
	c := defaultBatchConfig()
	var err error
	read := func(name string, min int64, set func(int64)) {
		v := getenv(name)
		if v == "" || err != nil {
			return
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < min {
			err = configErr(name, v, "want an integer of at least %d", min)
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
type batcher struct {
	exp sdktrace.SpanExporter
	cfg batchConfig

	mu      sync.Mutex
	queue   []sdktrace.ReadOnlySpan
	spare   []sdktrace.ReadOnlySpan // the other buffer, while not exporting
	stopped bool
	dropped int // since the last report

	full    chan struct{}      // a full batch is waiting (capacity 1)
	flushes chan chan struct{} // ForceFlush requests, closed when done
	stop    chan struct{}      // closed by Shutdown
	done    chan struct{}      // closed when the goroutine returns

	lastReport time.Time // of dropped spans; the goroutine's own
	stopOnce   sync.Once
	wakes      atomic.Int64 // times the goroutine woke up, for the tests
}

var _ sdktrace.SpanProcessor = (*batcher)(nil)

func newBatcher(e sdktrace.SpanExporter, cfg batchConfig) *batcher {
	b := &batcher{
		exp:     e,
		cfg:     cfg,
		queue:   make([]sdktrace.ReadOnlySpan, 0, cfg.maxBatch),
		full:    make(chan struct{}, 1),
		flushes: make(chan chan struct{}),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
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

// ForceFlush exports every span queued before the call, or returns ctx's
// error if ctx ends first.
func (b *batcher) ForceFlush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case b.flushes <- done:
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown stops queueing spans, exports those queued and shuts the exporter
// down. If ctx ends first, it returns ctx's error and the rest happens in
// the background, the exporter's error then reported through [otel.Handle].
// Later calls do nothing.
func (b *batcher) Shutdown(ctx context.Context) error {
	first := false
	b.stopOnce.Do(func() {
		first = true
		b.mu.Lock()
		b.stopped = true
		b.mu.Unlock()
		close(b.stop)
	})
	if !first {
		return nil
	}
	result := make(chan error, 1)
	go func() {
		<-b.done
		result <- b.exp.Shutdown(ctx)
	}()
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		go func() {
			if err := <-result; err != nil {
				otel.Handle(err)
			}
		}()
		return ctx.Err()
	}
}

func (b *batcher) run() {
	defer close(b.done)
	timer := time.NewTimer(b.cfg.delay)
	defer timer.Stop()
	for {
		select {
		case <-b.full:
			b.wakes.Add(1)
			b.export(false)
			continue
		case <-timer.C:
			b.wakes.Add(1)
			b.export(true)
		case done := <-b.flushes:
			b.wakes.Add(1)
			b.export(true)
			close(done)
		case <-b.stop:
			b.export(true)
			b.report(true)
			return
		}
		timer.Reset(b.cfg.delay)
	}
}

// export exports the queue in batches: all of it, or only its full batches.
func (b *batcher) export(all bool) {
	b.mu.Lock()
	n := len(b.queue)
	if !all {
		n -= n % b.cfg.maxBatch
	}
	if n == 0 {
		b.mu.Unlock()
		return
	}
	buf := b.queue
	b.queue = append(b.spare[:0], buf[n:]...) // a partial batch waits for the timer
	b.spare = nil
	b.mu.Unlock()

	for spans := buf[:n]; len(spans) > 0; {
		k := min(len(spans), b.cfg.maxBatch)
		b.exportBatch(spans[:k])
		spans = spans[k:]
	}
	clear(buf) // the spans can be collected
	b.mu.Lock()
	b.spare = buf[:0]
	b.mu.Unlock()
	b.report(false)
}

func (b *batcher) exportBatch(spans []sdktrace.ReadOnlySpan) {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if b.cfg.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, b.cfg.timeout)
	}
	defer cancel()
	if err := b.exp.ExportSpans(ctx, spans); err != nil {
		otel.Handle(err)
	}
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
