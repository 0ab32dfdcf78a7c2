package otelsetup

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

// buildPipeline builds a provider the way Setup does, through the conventions
// hooks, over a recorder behind a batch span processor.
func buildPipeline(t *testing.T, head sdktrace.Sampler, opts ...Option) (*sdktrace.TracerProvider, *tracingtest.Recorder) {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o.apply(&cfg)
	}
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(cfg.conv.sampler(head))}
	for _, p := range cfg.conv.spanProcessors() {
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(p))
	}
	tpOpts = append(tpOpts, sdktrace.WithBatcher(cfg.conv.wrapExporter(rec.Exporter())))
	tp := sdktrace.NewTracerProvider(tpOpts...)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, rec
}

// exportedNames flushes tp and returns the names of the spans exported, in
// order: flushing, not waiting, shows that the others were not exported.
func exportedNames(t *testing.T, tp *sdktrace.TracerProvider, rec *tracingtest.Recorder) []string {
	t.Helper()
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range rec.Spans() {
		names = append(names, s.Name())
	}
	sort.Strings(names)
	return names
}

func TestKeepErrors_ExportsErrorsSlowSpansAndTheirLocalAncestors(t *testing.T) {
	tp, rec := buildPipeline(t, sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0)), WithKeepErrors(time.Second))
	tr := tp.Tracer("t")

	// A normal trace: recorded, not exported.
	ctx, root := tr.Start(context.Background(), "normal.root")
	_, child := tr.Start(ctx, "normal.child")
	if !root.IsRecording() {
		t.Fatalf("unsampled spans must be recorded")
	}
	if trace.SpanContextFromContext(ctx).IsSampled() {
		t.Fatalf("the sampled flag sent downstream must stay the head sampler's")
	}
	child.End()
	root.End()

	// A failing trace: the error and the spans ending after it in this
	// process; the sibling that ended before is not kept.
	ctx, root = tr.Start(context.Background(), "failing.root")
	_, before := tr.Start(ctx, "failing.sibling_before")
	before.End()
	cctx, mid := tr.Start(ctx, "failing.mid")
	err := tracing.Run(cctx, "failing.leaf", func(context.Context) error { return errors.New("declined") })
	if err == nil {
		t.Fatal("Run lost the error")
	}
	mid.End()
	root.End()

	// A slow span, timed without sleeping.
	start := time.Now()
	_, slow := tr.Start(context.Background(), "slow.query", trace.WithTimestamp(start))
	slow.End(trace.WithTimestamp(start.Add(1500 * time.Millisecond)))
	_, quick := tr.Start(context.Background(), "quick.query", trace.WithTimestamp(start))
	quick.End(trace.WithTimestamp(start.Add(999 * time.Millisecond)))

	got := exportedNames(t, tp, rec)
	want := []string{"failing.leaf", "failing.mid", "failing.root", "slow.query"}
	if len(got) != len(want) {
		t.Fatalf("exported %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("exported %v, want %v", got, want)
		}
	}
	for _, s := range rec.Spans() {
		if !s.SpanContext().IsSampled() {
			t.Errorf("%s exported with the unsampled flag", s.Name())
		}
	}
	rec.AssertParent(t, rec.Span(t, "failing.mid"), rec.Span(t, "failing.leaf"))
}

func TestKeepErrors_SampledTracesExportedOnceAndRedacted(t *testing.T) {
	tp, rec := buildPipeline(t, sdktrace.AlwaysSample(), WithKeepErrors(time.Second))
	ctx, root := tp.Tracer("t").Start(context.Background(), "sampled.root")
	_ = tracing.Run(ctx, "sampled.leaf", func(context.Context) error { return errors.New("x") })
	root.End()
	got := exportedNames(t, tp, rec)
	if len(got) != 2 {
		t.Fatalf("exported %v, want each span once", got)
	}

	tp, rec = buildPipeline(t, sdktrace.NeverSample(), WithKeepErrors(0))
	_, s := tp.Tracer("t").Start(context.Background(), "redacted.root")
	s.SetAttributes(attribute.String("db.password", "hunter2"))
	tracing.RecordError(s, errors.New("x"))
	s.End()
	if got := exportedNames(t, tp, rec); len(got) != 1 {
		t.Fatalf("exported %v, want redacted.root", got)
	}
	rec.AssertAttrs(t, rec.Span(t, "redacted.root"), attribute.String("db.password", "***"))
	rec.AssertNoSecrets(t, "hunter2")
}

func TestConventionsConfig_Defaults(t *testing.T) {
	var cfg config
	ps := cfg.conv.spanProcessors()
	if len(ps) != 1 {
		t.Fatalf("default processors = %d, want the baggage processor only", len(ps))
	}
	if fmt.Sprintf("%T", ps[0]) != "pipeline.baggageProcessor" {
		t.Errorf("default processor = %T", ps[0])
	}
	s := sdktrace.AlwaysSample()
	if cfg.conv.sampler(s) != s {
		t.Errorf("default sampler wrapped")
	}
	exp := tracetest.NewInMemoryExporter()
	if e := cfg.conv.wrapExporter(exp); fmt.Sprintf("%T", e) != "pipeline.redactingExporter" {
		t.Errorf("default exporter not redacting")
	}
	WithoutRedaction().apply(&cfg)
	WithoutBusinessBaggage().apply(&cfg)
	if cfg.conv.wrapExporter(exp) != exp || len(cfg.conv.spanProcessors()) != 0 {
		t.Errorf("options not applied")
	}
}

// WithErrorClassifier applies to the spans of the provider Setup builds,
// and only to them: two Setups in one process keep their own, and Shutdown
// removes it.
func TestWithErrorClassifier_IsPerProvider(t *testing.T) {
	errMiss := errors.New("cache miss")
	setup := func(opts ...Option) (Providers, *tracingtest.Recorder, func(context.Context) error) {
		rec := tracingtest.New(t, tracingtest.WithoutGlobals())
		var p Providers
		shutdown, err := Setup(context.Background(), append([]Option{WithServiceName("svc"),
			WithDefaultTracesExporter("none"), WithDefaultMetricsExporter("none"),
			WithSpanExporter(rec.Exporter()), WithoutGlobals(&p)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return p, rec, shutdown
	}
	lookup := func(p Providers, rec *tracingtest.Recorder) sdktrace.ReadOnlySpan {
		ctx, parent := p.TracerProvider.Tracer("t").Start(context.Background(), "test.parent")
		_, span := tracing.Start(ctx, "test.lookup")
		tracing.RecordError(span, errMiss)
		span.End()
		parent.End()
		return rec.WaitFor(t, "test.lookup")
	}
	classified, recC, shutdownC := setup(WithErrorClassifier(func(err error) bool { return errors.Is(err, errMiss) }))
	plain, recP, shutdownP := setup()
	defer shutdownP(context.Background())
	recC.AssertOK(t, lookup(classified, recC))
	recP.AssertError(t, lookup(plain, recP), "*errors.errorString") // the classifier did not leak
	if err := shutdownC(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := tracing.ProviderClassifiers(); n != 0 {
		t.Errorf("%d provider classifiers left after Shutdown", n)
	}
}
