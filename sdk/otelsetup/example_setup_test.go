package otelsetup_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/sdk/otelsetup"
)

// A service calls Setup once in main. The deployment points it at a collector
// with OTEL_EXPORTER_OTLP_ENDPOINT; on a laptop the traces print in the
// terminal.
func ExampleSetup() {
	ctx := context.Background()
	shutdown, err := otelsetup.Setup(ctx,
		otelsetup.WithServiceName("checkout"),
		otelsetup.WithDefaultTracesExporter("waterfall"),
		otelsetup.WithDefaultMetricsExporter("none"),
	)
	if err != nil {
		log.Fatal(err)
	}
	// A collector that does not answer must not hold the exit: the error
	// counts the spans that did not reach it.
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			log.Print(err)
		}
	}()
}

// A variable Setup cannot use is an error naming it, not a silent fallback.
func ExampleSetup_badConfiguration() {
	os.Setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
	os.Setenv("OTEL_TRACES_SAMPLER_ARG", "10%")
	defer os.Unsetenv("OTEL_TRACES_SAMPLER")
	defer os.Unsetenv("OTEL_TRACES_SAMPLER_ARG")

	_, err := otelsetup.Setup(context.Background(), otelsetup.WithServiceName("checkout"))
	fmt.Println(err)
	// Output:
	// tracing: OTEL_TRACES_SAMPLER_ARG="10%": want a sampling ratio between 0 and 1 for OTEL_TRACES_SAMPLER=parentbased_traceidratio
}

// Each service of a process gets its own providers, and so its own
// service.name, without touching the globals.
func ExampleWithoutGlobals() {
	ctx := context.Background()
	mem := tracetest.NewInMemoryExporter()
	var orders otelsetup.Providers
	shutdown, err := otelsetup.Setup(ctx,
		otelsetup.WithServiceName("orders"),
		otelsetup.WithDefaultTracesExporter("none"),
		otelsetup.WithDefaultMetricsExporter("none"),
		otelsetup.WithSpanExporter(mem),
		otelsetup.WithoutGlobals(&orders),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer shutdown(ctx)

	tracer := orders.TracerProvider.Tracer("example")
	ctx, span := tracer.Start(ctx, "orders.create")
	_, child := tracer.Start(ctx, "orders.insert")
	child.End()
	span.End()

	_ = orders.TracerProvider.(*sdktrace.TracerProvider).ForceFlush(ctx)
	for _, s := range mem.GetSpans() {
		name, _ := s.Resource.Set().Value("service.name")
		fmt.Println(name.AsString(), s.Name)
	}
	// Output:
	// orders orders.insert
	// orders orders.create
}
