package tracing

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
)

// batchExporter records the batches it gets. While gate is not nil, an
// export waits for it to be closed or for the export's context to end.
type batchExporter struct {
	mu        sync.Mutex
	batches   [][]string
	deadlines []time.Duration
	gate      chan struct{}
	shutdowns int
	exported  chan struct{} // receives after each export, if not nil
}

func (e *batchExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if e.gate != nil {
		select {
		case <-e.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	e.mu.Lock()
	e.batches = append(e.batches, names)
	if d, ok := ctx.Deadline(); ok {
		e.deadlines = append(e.deadlines, time.Until(d))
	}
	e.mu.Unlock()
	if e.exported != nil {
		e.exported <- struct{}{}
	}
	return nil
}

func (e *batchExporter) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.shutdowns++
	return nil
}

func (e *batchExporter) sizes() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []int
	for _, b := range e.batches {
		out = append(out, len(b))
	}
	return out
}

func (e *batchExporter) total() int {
	n := 0
	for _, s := range e.sizes() {
		n += s
	}
	return n
}

// endSpans ends n sampled spans (or unsampled ones) through b.
func endSpans(t *testing.T, b sdktrace.SpanProcessor, n int, sampled bool) {
	t.Helper()
	sampler := sdktrace.AlwaysSample()
	if !sampled {
		// Recorded but not sampled: the processor still sees them.
		sampler = recordOnly{}
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(b))
	tr := tp.Tracer("t")
	for range n {
		_, s := tr.Start(context.Background(), "op")
		s.End()
	}
}

type recordOnly struct{}

func (recordOnly) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	return sdktrace.SamplingResult{Decision: sdktrace.RecordOnly, Tracestate: trace.SpanContextFromContext(p.ParentContext).TraceState()}
}
func (recordOnly) Description() string { return "RecordOnly" }

func testBatchConfig() batchConfig {
	c := defaultBatchConfig()
	c.delay = time.Hour
	return c
}

func noBatcherLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func TestBatcher_EndingSpansDoesNotWakeTheExporter(t *testing.T) {
	noBatcherLeaks(t)
	e := &batchExporter{}
	b := newBatcher(e, testBatchConfig())
	defer b.Shutdown(context.Background())

	endSpans(t, b, 100, true)
	// The SDK's batch processor wakes its goroutine for each of them.
	if w := b.wakes.Load(); w != 0 {
		t.Errorf("goroutine woke %d times for 100 spans below the batch size, want 0", w)
	}
	if n := e.total(); n != 0 {
		t.Errorf("%d spans exported before a full batch, the timer or a flush", n)
	}
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.sizes(); len(got) != 1 || got[0] != 100 {
		t.Errorf("after ForceFlush: batches %v, want [100]", got)
	}
}

func TestBatcher_ExportsFullBatchesAtOnce(t *testing.T) {
	noBatcherLeaks(t)
	e := &batchExporter{exported: make(chan struct{}, 16)}
	cfg := testBatchConfig()
	cfg.maxBatch = 4
	b := newBatcher(e, cfg)
	defer b.Shutdown(context.Background())

	endSpans(t, b, 9, true)
	for range 2 {
		select {
		case <-e.exported:
		case <-time.After(10 * time.Second):
			t.Fatalf("full batches not exported without the timer: %v", e.sizes())
		}
	}
	if got := e.sizes(); len(got) != 2 || got[0] != 4 || got[1] != 4 {
		t.Errorf("batches %v, want [4 4] with the 9th span waiting", got)
	}
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.sizes(); len(got) != 3 || got[2] != 1 {
		t.Errorf("after ForceFlush: batches %v, want [4 4 1]", got)
	}
}

func TestBatcher_ExportsPartialBatchOnTheTimer(t *testing.T) {
	noBatcherLeaks(t)
	e := &batchExporter{exported: make(chan struct{}, 1)}
	cfg := defaultBatchConfig()
	cfg.delay = 20 * time.Millisecond
	b := newBatcher(e, cfg)
	defer b.Shutdown(context.Background())

	endSpans(t, b, 3, true)
	select {
	case <-e.exported:
	case <-time.After(10 * time.Second):
		t.Fatal("partial batch not exported by the timer")
	}
	if got := e.sizes(); len(got) != 1 || got[0] != 3 {
		t.Errorf("batches %v, want [3]", got)
	}
}

func TestBatcher_IgnoresUnsampledSpans(t *testing.T) {
	noBatcherLeaks(t)
	e := &batchExporter{}
	b := newBatcher(e, testBatchConfig())
	endSpans(t, b, 10, false)
	endSpans(t, b, 2, true)
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.total(); n != 2 {
		t.Errorf("%d spans exported, want the 2 sampled ones", n)
	}
}

func TestBatcher_DropsAndReportsWhenTheQueueIsFull(t *testing.T) {
	noBatcherLeaks(t)
	reported := captureReports(t)
	e := &batchExporter{gate: make(chan struct{}), exported: make(chan struct{}, 64)}
	cfg := testBatchConfig()
	cfg.maxQueue, cfg.maxBatch = 8, 4
	b := newBatcher(e, cfg)

	// The first full batch is taken by the goroutine and blocks in the
	// exporter; then the queue fills up and the rest is dropped.
	endSpans(t, b, 4, true)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		b.mu.Lock()
		taken := len(b.queue) == 0
		b.mu.Unlock()
		if taken {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("full batch not taken for export")
		}
	}
	endSpans(t, b, 100, true)
	close(e.gate)
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.total(); n != 4+8 {
		t.Errorf("%d spans exported, want 12: the batch in flight and a full queue", n)
	}
	var msgs []string
	for _, err := range reported() {
		msgs = append(msgs, err.Error())
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "92 spans dropped") || !strings.Contains(msgs[0], "OTEL_BSP_MAX_QUEUE_SIZE=8") {
		t.Errorf("reports %q, want one that 92 spans were dropped", msgs)
	}
}

func TestBatcher_ReportsDropsAtMostOncePerInterval(t *testing.T) {
	noBatcherLeaks(t)
	reported := captureReports(t)
	e := &batchExporter{}
	cfg := testBatchConfig()
	cfg.maxQueue, cfg.every = 2, time.Hour // the batch is never full
	b := newBatcher(e, cfg)
	for range 3 {
		endSpans(t, b, 5, true) // 3 dropped each time
		if err := b.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := reported(); len(got) != 1 || !strings.Contains(got[0].Error(), "3 spans dropped") {
		t.Errorf("reports %v within the interval, want the first 3 drops only", got)
	}
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := reported()
	if len(got) != 2 || !strings.Contains(got[1].Error(), "6 spans dropped") {
		t.Errorf("reports %v, want the 6 later drops reported at shutdown", got)
	}
}

func TestBatcher_ExportTimeout(t *testing.T) {
	noBatcherLeaks(t)
	e := &batchExporter{}
	cfg := testBatchConfig()
	cfg.timeout = 3 * time.Second
	b := newBatcher(e, cfg)
	endSpans(t, b, 1, true)
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(e.deadlines) != 1 || e.deadlines[0] > 3*time.Second || e.deadlines[0] < time.Second {
		t.Errorf("export deadlines %v, want one of at most 3s", e.deadlines)
	}
}

func TestBatcher_ShutdownExportsTheQueueOnce(t *testing.T) {
	noBatcherLeaks(t)
	e := &batchExporter{}
	b := newBatcher(e, testBatchConfig())
	endSpans(t, b, 5, true)
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	endSpans(t, b, 5, true) // after shutdown: dropped
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Errorf("ForceFlush after Shutdown: %v", err)
	}
	if n := e.total(); n != 5 {
		t.Errorf("%d spans exported, want the 5 queued before Shutdown", n)
	}
	if e.shutdowns != 1 {
		t.Errorf("exporter shut down %d times, want 1", e.shutdowns)
	}
}

func TestBatcher_ShutdownAndFlushHonourTheDeadline(t *testing.T) {
	noBatcherLeaks(t)
	captureReports(t) // the exporter's Shutdown error, if any, goes there
	e := &batchExporter{gate: make(chan struct{})}
	cfg := testBatchConfig()
	cfg.timeout = 0 // only the gate ends an export
	b := newBatcher(e, cfg)
	endSpans(t, b, 1, true)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.ForceFlush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ForceFlush with a hung exporter: %v, want the deadline", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a hung exporter: %v, want the deadline", err)
	}
	// The export goes on in the background; once it returns, the exporter
	// is shut down.
	close(e.gate)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		e.mu.Lock()
		done := e.shutdowns == 1
		e.mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("exporter not shut down after the export returned")
		}
	}
	if n := e.total(); n != 1 {
		t.Errorf("%d spans exported, want 1", n)
	}
}

func TestBatchConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want batchConfig
		bad  string
	}{
		{env: nil, want: defaultBatchConfig()},
		{env: []string{envBSPScheduleDelay, "200", envBSPExportTimeout, "0", envBSPMaxQueueSize, "100", envBSPMaxExportBatchSize, "10"},
			want: batchConfig{delay: 200 * time.Millisecond, maxQueue: 100, maxBatch: 10, every: time.Minute}},
		// A batch larger than the queue is the queue.
		{env: []string{envBSPMaxQueueSize, "100"}, want: batchConfig{delay: 5 * time.Second, timeout: 30 * time.Second, maxQueue: 100, maxBatch: 100, every: time.Minute}},
		{env: []string{envBSPScheduleDelay, "0"}, bad: envBSPScheduleDelay},
		{env: []string{envBSPExportTimeout, "-1"}, bad: envBSPExportTimeout},
		{env: []string{envBSPMaxQueueSize, "lots"}, bad: envBSPMaxQueueSize},
		{env: []string{envBSPMaxExportBatchSize, "0"}, bad: envBSPMaxExportBatchSize},
	} {
		for _, name := range []string{envBSPScheduleDelay, envBSPExportTimeout, envBSPMaxQueueSize, envBSPMaxExportBatchSize} {
			t.Setenv(name, "")
		}
		for i := 0; i < len(tc.env); i += 2 {
			t.Setenv(tc.env[i], tc.env[i+1])
		}
		got, err := batchConfigFromEnv()
		if tc.bad != "" {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Variable != tc.bad {
				t.Errorf("%v: error %v, want a ConfigError for %s", tc.env, err, tc.bad)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v: %+v, %v; want %+v", tc.env, got, err, tc.want)
		}
	}
}
