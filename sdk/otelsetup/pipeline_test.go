package otelsetup_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/otelsetup"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

// Setup wires the conventions: business baggage reaches later spans,
// redaction runs before the exporter, and with WithKeepErrors a failing
// branch of an unsampled trace is still exported.
func TestSetup_ConventionsInThePipeline(t *testing.T) {
	for _, v := range []string{"OTEL_TRACES_SAMPLER", "OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		t.Setenv(v, "")
	}
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	var p otelsetup.Providers
	shutdown, err := otelsetup.Setup(context.Background(),
		otelsetup.WithServiceName("payments"),
		otelsetup.WithDefaultTracesExporter("none"),
		otelsetup.WithDefaultMetricsExporter("none"),
		otelsetup.WithSpanExporter(rec.Exporter()),
		otelsetup.WithSampler(sdktrace.NeverSample()),
		otelsetup.WithKeepErrors(time.Second),
		otelsetup.WithoutGlobals(&p),
	)
	if err != nil {
		t.Fatal(err)
	}
	tr := p.TracerProvider.Tracer("test")

	// An unsampled trace that succeeds: nothing exported.
	ctx, ok := tr.Start(context.Background(), "payments.ok")
	_ = tracing.Run(ctx, "payments.step", func(context.Context) error { return nil })
	ok.End()

	// An unsampled trace that fails.
	ctx, root := tr.Start(context.Background(), "payments.charge")
	ctx = tracing.SetBusiness(ctx, tracing.TenantID.String("t-42"), tracing.UserID.String("u-7"))
	err = tracing.Run(ctx, "payments.call_provider", func(ctx context.Context) error {
		trace.SpanFromContext(ctx).SetAttributes(attribute.String("payment.provider.key", "sk_live_abcdefghijklmnopxyz"))
		return errors.New("401 from provider")
	})
	root.End()
	if err == nil {
		t.Fatal("error lost")
	}
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The failing branch only.
	rec.AssertNoSpan(t, "payments.ok")
	rec.AssertNoSpan(t, "payments.step")
	if n := len(rec.Spans()); n != 2 {
		t.Errorf("exported %d spans, want 2", n)
	}
	charge, call := rec.Span(t, "payments.charge"), rec.Span(t, "payments.call_provider")
	rec.AssertParent(t, charge, call)
	rec.AssertError(t, call, "*errors.errorString")
	for _, s := range []sdktrace.ReadOnlySpan{charge, call} {
		rec.AssertAttrs(t, s, tracing.TenantID.String("t-42"), tracing.RedactAttr(tracing.UserID.String("u-7")))
	}
	rec.AssertAttrs(t, call, attribute.String("payment.provider.key", "sk_live_abc...xyz"))
	rec.AssertNoSecrets(t, "u-7", "sk_live_abcdefghijklmnopxyz")
}
