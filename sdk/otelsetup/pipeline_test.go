package otelsetup_test

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/otelsetup"
	"github.com/otelkit/otelkit/tracing"
)

// Setup wires the conventions: business baggage reaches later spans,
// redaction runs before the exporter, and with WithKeepErrors a failing
// branch of an unsampled trace is still exported.
func TestSetup_ConventionsInThePipeline(t *testing.T) {
	for _, v := range []string{"OTEL_TRACES_SAMPLER", "OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		t.Setenv(v, "")
	}
	exp := tracetest.NewInMemoryExporter()
	var p otelsetup.Providers
	shutdown, err := otelsetup.Setup(context.Background(),
		otelsetup.WithServiceName("payments"),
		otelsetup.WithDefaultTracesExporter("none"),
		otelsetup.WithDefaultMetricsExporter("none"),
		otelsetup.WithSpanExporter(exp),
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
	ctx = tracing.SetBusiness(ctx, tracing.OrderID.String("o-42"), tracing.UserID.String("u-7"))
	err = tracing.Run(ctx, "payments.call_provider", func(ctx context.Context) error {
		trace.SpanFromContext(ctx).SetAttributes(attribute.String("payment.provider.key", "sk_live_abcdefghijklmnopxyz"))
		return errors.New("401 from provider")
	})
	root.End()
	if err == nil {
		t.Fatal("error lost")
	}
	// The in-memory exporter forgets its spans when shut down: flush instead.
	if err := p.TracerProvider.(*sdktrace.TracerProvider).ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	sort.Strings(names)
	if len(names) != 2 || names[0] != "payments.call_provider" || names[1] != "payments.charge" {
		t.Fatalf("exported %v, want the failing branch only", names)
	}
	for _, s := range spans {
		got := map[attribute.Key]string{}
		for _, kv := range s.Attributes {
			got[kv.Key] = kv.Value.String()
		}
		if got["order.id"] != "o-42" {
			t.Errorf("%s: order.id = %q", s.Name, got["order.id"])
		}
		if u := got["user.id"]; u == "" || u == "u-7" {
			t.Errorf("%s: user.id = %q, want a hash", s.Name, u)
		}
		if s.Name == "payments.call_provider" && got["payment.provider.key"] != "sk_live_abc...xyz" {
			t.Errorf("provider key exported as %q", got["payment.provider.key"])
		}
	}
}
