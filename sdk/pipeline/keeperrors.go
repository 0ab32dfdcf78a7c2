package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/otelkit/otelkit/sdk/internal/batch"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// KeepErrorsSampler wraps a head sampler so that the spans it drops are
// still recorded (but not sampled: the sampled flag sent downstream stays the
// head sampler's). Used with [NewKeepErrorsProcessor], it lets spans that end
// with status Error or run long be exported although their trace was not
// sampled. [WithKeepErrors] sets both up in [Setup].
//
// Recording every span costs what a sampled span costs in CPU and memory
// until it ends; only the export is saved for normal traffic.
func KeepErrorsSampler(head sdktrace.Sampler) sdktrace.Sampler {
	return keepSampler{head: head}
}

type keepSampler struct{ head sdktrace.Sampler }

var _ sdktrace.Sampler = keepSampler{}

func (s keepSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	r := s.head.ShouldSample(p)
	if r.Decision == sdktrace.Drop {
		r.Decision = sdktrace.RecordOnly
	}
	return r
}

func (s keepSampler) Description() string { return "KeepErrors{" + s.head.Description() + "}" }

// maxKeptTraces bounds the memory of the traces marked interesting.
const maxKeptTraces = 4096

// KeepErrorsProcessor exports the interesting spans of traces that head
// sampling did not sample: a recorded, unsampled span that ends with status
// Error or lasts at least the latency threshold is exported, and so is every
// span of the same trace that ends after it in this process (its local
// ancestors: a parent ends after its children). Sampled spans are left to the
// regular pipeline.
//
// The batch span processor drops unsampled spans, so the processor exports
// through batch processors of its own, to which spans are handed as sampled.
// Traces exported this way are partial: they hold the failing or slow
// branch, not the siblings that ended earlier nor other services' spans.
// Pair it with collector-side tail sampling for the whole picture (see the
// package documentation).
//
// OnEnd runs on the goroutine that ends the span and takes a mutex for
// unsampled spans only.
type KeepErrorsProcessor struct {
	slow time.Duration

	mu     sync.Mutex
	bsps   []sdktrace.SpanProcessor
	marked map[trace.TraceID]struct{}
	ring   [maxKeptTraces]trace.TraceID
	next   int
}

var _ sdktrace.SpanProcessor = (*KeepErrorsProcessor)(nil)

// NewKeepErrorsProcessor returns a processor exporting unsampled spans that
// end with status Error or last at least slowerThan (never, if slowerThan is
// zero or negative) to exporters, each through a batch processor of its own.
// More exporters can be added with [KeepErrorsProcessor.AddExporter]. Use it
// with a TracerProvider whose sampler is wrapped by [KeepErrorsSampler];
// without that no unsampled span is recorded and it does nothing.
//
// The exporters must be safe for concurrent use when they are also used by
// another processor: Shutdown of this processor does not shut them down.
func NewKeepErrorsProcessor(slowerThan time.Duration, exporters ...sdktrace.SpanExporter) *KeepErrorsProcessor {
	p := &KeepErrorsProcessor{slow: slowerThan, marked: make(map[trace.TraceID]struct{})}
	for _, e := range exporters {
		p.AddExporter(e)
	}
	return p
}

// AddExporter adds an exporter that interesting unsampled spans are exported
// to. It is not shut down by [KeepErrorsProcessor.Shutdown].
func (p *KeepErrorsProcessor) AddExporter(e sdktrace.SpanExporter) {
	if e == nil {
		return
	}
	cfg, err := batch.ConfigFromEnv()
	if err != nil {
		cfg = batch.DefaultConfig() // Setup reports malformed variables
	}
	bsp := batch.New(keepShutdown{e}, cfg)
	p.mu.Lock()
	p.bsps = append(p.bsps, bsp)
	p.mu.Unlock()
}

// OnStart does nothing.
func (p *KeepErrorsProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd exports s if its trace was not sampled and s, or a span of its trace
// that ended before it in this process, is interesting.
func (p *KeepErrorsProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	sc := s.SpanContext()
	if sc.IsSampled() {
		return
	}
	interesting := s.Status().Code == codes.Error ||
		(p.slow > 0 && s.EndTime().Sub(s.StartTime()) >= p.slow)
	p.mu.Lock()
	id := sc.TraceID()
	if _, ok := p.marked[id]; !ok {
		if !interesting {
			p.mu.Unlock()
			return
		}
		if old := p.ring[p.next]; old.IsValid() {
			delete(p.marked, old)
		}
		p.ring[p.next] = id
		p.next = (p.next + 1) % maxKeptTraces
		p.marked[id] = struct{}{}
	}
	bsps := p.bsps
	p.mu.Unlock()
	v := sampledView{s}
	for _, b := range bsps {
		b.OnEnd(v)
	}
}

// ForceFlush exports the spans queued so far.
func (p *KeepErrorsProcessor) ForceFlush(ctx context.Context) error {
	return p.each(func(b sdktrace.SpanProcessor) error { return b.ForceFlush(ctx) })
}

// Shutdown exports the spans queued so far and stops.
func (p *KeepErrorsProcessor) Shutdown(ctx context.Context) error {
	return p.each(func(b sdktrace.SpanProcessor) error { return b.Shutdown(ctx) })
}

func (p *KeepErrorsProcessor) each(f func(sdktrace.SpanProcessor) error) error {
	p.mu.Lock()
	bsps := p.bsps
	p.mu.Unlock()
	var first error
	for _, b := range bsps {
		if err := f(b); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// sampledView shows an unsampled span as sampled, the only kind a batch span
// processor exports.
type sampledView struct{ sdktrace.ReadOnlySpan }

func (s sampledView) SpanContext() trace.SpanContext {
	sc := s.ReadOnlySpan.SpanContext()
	return sc.WithTraceFlags(sc.TraceFlags().WithSampled(true))
}

// keepShutdown leaves the shutdown of a shared exporter to its owner.
type keepShutdown struct{ sdktrace.SpanExporter }

func (keepShutdown) Shutdown(context.Context) error { return nil }
