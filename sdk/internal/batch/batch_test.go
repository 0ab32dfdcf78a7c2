package batch

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
)

// batchExporter records the batches it gets. While gate is not nil, an
// export waits for it to be closed (see release) or for the export's
// context to end, and returns that context's error.
type batchExporter struct {
	mu        sync.Mutex
	batches   [][]string
	deadlines []time.Duration // of each export's context, from its start
	cut       []error         // the context errors of exports it ended
	gate      chan struct{}
	gateOnce  sync.Once
	shutdowns int
	entered   chan struct{} // receives when an export starts, if not nil
	exported  chan struct{} // receives after each export, if not nil
	fail      error         // returned by every export, if not nil

	busy   atomic.Bool
	misuse atomic.Value // string: what the Processor did wrong
}

// check fails t if the Processor called the exporter concurrently or after
// shutting it down.
func (e *batchExporter) check(t *testing.T) {
	t.Helper()
	if m := e.misuse.Load(); m != nil {
		t.Error(m)
	}
}

func (e *batchExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if e.busy.Swap(true) {
		e.misuse.Store("ExportSpans called concurrently")
	}
	defer e.busy.Store(false)
	e.mu.Lock()
	if e.shutdowns > 0 {
		e.misuse.Store("ExportSpans called after Shutdown")
	}
	if d, ok := ctx.Deadline(); ok {
		e.deadlines = append(e.deadlines, time.Until(d))
	}
	e.mu.Unlock()
	if e.entered != nil {
		e.entered <- struct{}{}
	}
	if e.fail != nil {
		return e.fail
	}
	if e.gate != nil {
		select {
		case <-e.gate:
		case <-ctx.Done():
			e.mu.Lock()
			e.cut = append(e.cut, ctx.Err())
			e.mu.Unlock()
			return ctx.Err()
		}
	}
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	e.mu.Lock()
	e.batches = append(e.batches, names)
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

// release lets the exports waiting at the gate, and all later ones, go.
func (e *batchExporter) release() { e.gateOnce.Do(func() { close(e.gate) }) }

// names returns the names of the spans exported, in order.
func (e *batchExporter) names() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, b := range e.batches {
		out = append(out, b...)
	}
	return out
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

// awaitTaken waits until b's goroutine has taken the queue for export.
func awaitTaken(t *testing.T, b *Processor) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		b.mu.Lock()
		taken := len(b.queue) == 0
		b.mu.Unlock()
		if taken {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("full batch not taken for export")
		}
	}
}

func testBatchConfig() Config {
	c := DefaultConfig()
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
	b := New(e, testBatchConfig())
	defer b.Shutdown(context.Background())

	endSpans(t, b, 100, true)
	// The SDK's batch processor wakes its goroutine for each of them.
	if n := len(b.full); n != 0 {
		t.Errorf("a wake-up is pending after 100 spans below the batch size")
	}
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
	b := New(e, cfg)
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
	cfg := DefaultConfig()
	cfg.delay = 20 * time.Millisecond
	b := New(e, cfg)
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
	b := New(e, testBatchConfig())
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
	b := New(e, cfg)

	// The first full batch is taken by the goroutine and blocks in the
	// exporter; then the queue fills up and the rest is dropped.
	endSpans(t, b, 4, true)
	awaitTaken(t, b)
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
	cfg.maxQueue, cfg.ReportEvery = 2, time.Hour // the batch is never full
	b := New(e, cfg)
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
	b := New(e, cfg)
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
	b := New(e, testBatchConfig())
	endSpans(t, b, 5, true)
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	endSpans(t, b, 5, true) // after shutdown: dropped
	if n := len(b.queue); n != 0 {
		t.Errorf("%d spans queued after Shutdown", n)
	}
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
	defer e.release()
	cfg := testBatchConfig()
	cfg.timeout = 0 // only the gate or the context ends an export
	b := New(e, cfg)
	endSpans(t, b, 1, true)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.ForceFlush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ForceFlush with a hung exporter: %v, want the deadline", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := b.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 spans not exported") {
		t.Errorf("Shutdown with a hung exporter: %v, want the deadline and the span counted", err)
	}
	// The flush's export, still in flight, ends with Shutdown's context
	// (the gate stays closed); then the exporter is shut down.
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
	if n := e.total(); n != 0 {
		t.Errorf("%d spans exported through a closed gate", n)
	}
}

// A batch that fills while the previous one is being exported leaves as
// soon as the exporter is free, without the timer.
func TestBatcher_BatchFilledDuringAnExportLeavesNext(t *testing.T) {
	noBatcherLeaks(t)
	e := &batchExporter{gate: make(chan struct{}), exported: make(chan struct{}, 16)}
	cfg := testBatchConfig()
	cfg.maxBatch = 4
	b := New(e, cfg)
	defer b.Shutdown(context.Background())

	endSpans(t, b, 4, true)
	awaitTaken(t, b)
	endSpans(t, b, 8, true) // two more full batches while the first is stuck
	close(e.gate)
	for range 3 {
		select {
		case <-e.exported:
		case <-time.After(10 * time.Second):
			t.Fatalf("batches %v, want three of 4 without the timer", e.sizes())
		}
	}
	if got := e.sizes(); len(got) != 3 || got[0] != 4 || got[1] != 4 || got[2] != 4 {
		t.Errorf("batches %v, want [4 4 4]", got)
	}
	e.check(t)
}

// Under spans ended from many goroutines, flushes and timer exports, every
// span is exported exactly once, one export at a time.
func TestBatcher_ConcurrentUseExportsEverySpanOnce(t *testing.T) {
	noBatcherLeaks(t)
	var (
		mu   sync.Mutex
		seen = map[trace.SpanID]int{}
	)
	e := &recordingExporter{record: func(spans []sdktrace.ReadOnlySpan) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range spans {
			seen[s.SpanContext().SpanID()]++
		}
	}}
	cfg := DefaultConfig()
	cfg.delay, cfg.maxBatch, cfg.maxQueue = time.Millisecond, 7, 1<<20
	b := New(e, cfg)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b))
	tr := tp.Tracer("t")

	const goroutines, perGoroutine = 8, 500
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				_, s := tr.Start(context.Background(), "op")
				s.End()
				if i%100 == 0 {
					_ = b.ForceFlush(context.Background())
				}
			}
		})
	}
	wg.Wait()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != goroutines*perGoroutine {
		t.Errorf("%d distinct spans exported, want %d", len(seen), goroutines*perGoroutine)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("span %s exported %d times", id, n)
			break
		}
	}
	if m := e.misuse.Load(); m != nil {
		t.Error(m)
	}
}

// recordingExporter hands every batch to record and checks that exports
// never overlap.
type recordingExporter struct {
	record func([]sdktrace.ReadOnlySpan)
	busy   atomic.Bool
	misuse atomic.Value
}

func (e *recordingExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	if e.busy.Swap(true) {
		e.misuse.Store("ExportSpans called concurrently")
	}
	defer e.busy.Store(false)
	e.record(spans)
	return nil
}

func (e *recordingExporter) Shutdown(context.Context) error { return nil }

func TestBatcher_ForceFlushReturnsExportErrors(t *testing.T) {
	noBatcherLeaks(t)
	reported := captureReports(t)
	boom := errors.New("collector refused")
	e := &batchExporter{fail: boom}
	b := New(e, testBatchConfig())
	defer b.Shutdown(context.Background())
	endSpans(t, b, 3, true)
	if err := b.ForceFlush(context.Background()); !errors.Is(err, boom) {
		t.Errorf("ForceFlush: %v, want the export's error", err)
	}
	if n := len(reported()); n != 0 {
		t.Errorf("the error returned to the caller was also reported %d times", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.ForceFlush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("ForceFlush with a cancelled context: %v", err)
	}
}

// A hung export is cut off by the export timeout and the next one goes out.
func TestBatcher_ExportTimeoutCutsOffAHungExport(t *testing.T) {
	noBatcherLeaks(t)
	captureReports(t)
	e := &batchExporter{gate: make(chan struct{})} // never opened
	cfg := testBatchConfig()
	cfg.timeout = 20 * time.Millisecond
	b := New(e, cfg)
	endSpans(t, b, 2, true)
	start := time.Now()
	err := b.ForceFlush(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ForceFlush: %v, want the export's deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("ForceFlush took %v with a 20ms export timeout", d)
	}
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A second Shutdown waits for the first one's result.
func TestBatcher_ConcurrentShutdownsShareTheResult(t *testing.T) {
	noBatcherLeaks(t)
	e := &batchExporter{gate: make(chan struct{})}
	cfg := testBatchConfig()
	cfg.timeout = 0
	b := New(e, cfg)
	endSpans(t, b, 1, true)
	first := make(chan error, 1)
	go func() { first <- b.Shutdown(context.Background()) }()
	second := make(chan error, 1)
	go func() {
		for !b.shuttingDown() {
			time.Sleep(time.Millisecond)
		}
		second <- b.Shutdown(context.Background())
	}()
	select {
	case err := <-second:
		t.Fatalf("second Shutdown returned %v while the first was still exporting", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(e.gate)
	if err := <-first; err != nil {
		t.Error(err)
	}
	if err := <-second; err != nil {
		t.Error(err)
	}
	if e.shutdowns != 1 {
		t.Errorf("exporter shut down %d times", e.shutdowns)
	}
}

func TestBatchConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want Config
		bad  string
	}{
		{env: nil, want: DefaultConfig()},
		{env: []string{envBSPScheduleDelay, "200", envBSPExportTimeout, "0", envBSPMaxQueueSize, "100", envBSPMaxExportBatchSize, "10"},
			want: Config{delay: 200 * time.Millisecond, maxQueue: 100, maxBatch: 10, ReportEvery: time.Minute}},
		// A batch larger than the queue is the queue.
		{env: []string{envBSPMaxQueueSize, "100"}, want: Config{delay: 5 * time.Second, timeout: 30 * time.Second, maxQueue: 100, maxBatch: 100, ReportEvery: time.Minute}},
		{env: []string{envBSPScheduleDelay, "0"}, bad: envBSPScheduleDelay},
		{env: []string{envBSPExportTimeout, "-1"}, bad: envBSPExportTimeout},
		{env: []string{envBSPMaxQueueSize, "lots"}, bad: envBSPMaxQueueSize},
		{env: []string{envBSPMaxExportBatchSize, "0"}, bad: envBSPMaxExportBatchSize},
		// Beyond what a time.Duration holds: the timer would fire at once, forever.
		{env: []string{envBSPScheduleDelay, "10000000000000"}, bad: envBSPScheduleDelay},
	} {
		for _, name := range []string{envBSPScheduleDelay, envBSPExportTimeout, envBSPMaxQueueSize, envBSPMaxExportBatchSize} {
			t.Setenv(name, "")
		}
		for i := 0; i < len(tc.env); i += 2 {
			t.Setenv(tc.env[i], tc.env[i+1])
		}
		got, err := ConfigFromEnv()
		if tc.bad != "" {
			var ce *VarError
			if !errors.As(err, &ce) || ce.Name != tc.bad {
				t.Errorf("%v: error %v, want a VarError for %s", tc.env, err, tc.bad)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v: %+v, %v; want %+v", tc.env, got, err, tc.want)
		}
	}
}

// shuttingDown reports whether Shutdown has begun.
func (b *Processor) shuttingDown() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stopped
}

// captureReports routes otel.Handle to a slice for the test's duration (the
// test kit's Reports, which this package cannot import: the kit depends on
// it).
func captureReports(t *testing.T) func() []error {
	t.Helper()
	prev := otel.GetErrorHandler()
	var (
		mu   sync.Mutex
		errs []error
	)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	return func() []error {
		mu.Lock()
		defer mu.Unlock()
		return append([]error(nil), errs...)
	}
}

// A Shutdown whose deadline comes before a slow export ends returns by the
// deadline with the count of the spans it did not export, those in flight
// and those queued, and the exports end with its context rather than go on
// in the background.
func TestBatcher_ShutdownDeadlineCutsTheExportsAndCountsTheSpans(t *testing.T) {
	noBatcherLeaks(t)
	captureReports(t)
	e := &batchExporter{gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	defer e.release()
	cfg := testBatchConfig()
	cfg.maxBatch, cfg.timeout = 4, 0 // only the gate or the context ends an export
	b := New(e, cfg)
	endSpans(t, b, 4, true) // a full batch, held at the gate
	select {
	case <-e.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("full batch not exported")
	}
	endSpans(t, b, 3, true) // queued behind it

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	result := make(chan error, 1)
	go func() { result <- b.Shutdown(ctx) }()
	var err error
	select {
	case err = <-result:
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after its deadline")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "7 spans not exported") {
		t.Errorf("Shutdown: %v, want the deadline and 7 spans not exported", err)
	}
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the export in flight goes on after Shutdown's deadline")
	}
	if n := e.total(); n != 0 {
		t.Errorf("%d spans exported through a closed gate", n)
	}
}
