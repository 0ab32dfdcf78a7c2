package otelsetup_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/otelsetup"
	"github.com/otelkit/otelkit/sdk/tracingtest"
)

// strategyServer serves what a Jaeger agent or collector serves at
// /sampling: the sampling strategy for the service named in the query, here
// a probability of 1. It holds its first answer until release is closed,
// and sends on polled after each answer.
func strategyServer(t *testing.T, service string, release <-chan struct{}) (url string, polled <-chan int) {
	t.Helper()
	ch := make(chan int, 100)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("service"); got != service {
			t.Errorf("strategy asked for service %q, want %q", got, service)
		}
		i := int(n.Add(1))
		if i == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":1}}`)
		select {
		case ch <- i:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/sampling", ch
}

// The initial rate applies until the first poll answers; then the
// probability the endpoint serves applies, and the sampler's attributes say
// which. parentbased_jaeger_remote follows a remote parent's decision.
func TestSetup_JaegerRemoteSamplerFollowsTheEndpoint(t *testing.T) {
	for _, name := range []string{"jaeger_remote", "parentbased_jaeger_remote"} {
		t.Run(name, func(t *testing.T) {
			noLeaks(t)
			release := make(chan struct{})
			endpoint, polled := strategyServer(t, "orders", release)
			setenv(t, "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none",
				"OTEL_TRACES_SAMPLER", name,
				"OTEL_TRACES_SAMPLER_ARG", "endpoint="+endpoint+", pollingIntervalMs=5,initialSamplingRate=0")
			rec := tracingtest.New(t, tracingtest.WithoutGlobals())
			p, shutdown := setup(t, otelsetup.WithServiceName("orders"), otelsetup.WithSyncSpanExporter(rec.Exporter()))
			tr := p.TracerProvider.Tracer("test")

			// The endpoint has not answered: Setup did not wait for it, and
			// initialSamplingRate=0 applies.
			_, s := tr.Start(context.Background(), "before")
			s.End()
			if s.SpanContext().IsSampled() {
				t.Fatal("span sampled before the first poll answered, with initialSamplingRate=0")
			}
			sampledParent := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, Remote: true,
			}))
			_, c := tr.Start(sampledParent, "child")
			c.End()
			if want := name == "parentbased_jaeger_remote"; c.SpanContext().IsSampled() != want {
				t.Errorf("child of a sampled remote parent: sampled = %v, want %v", c.SpanContext().IsSampled(), want)
			}

			close(release)
			<-polled
			<-polled // the second poll starts after the first one's strategy is in effect
			_, s = tr.Start(context.Background(), "after")
			s.End()
			if !s.SpanContext().IsSampled() {
				t.Fatal("span not sampled after the endpoint served a probability of 1")
			}
			rec.AssertAttrs(t, rec.Span(t, "after"),
				attribute.String("jaeger.sampler.type", "probabilistic"), attribute.Float64("jaeger.sampler.param", 1))
			rec.AssertNoSpan(t, "before")
			if err := shutdown(); err != nil {
				t.Errorf("shutdown: %v", err)
			}
			// noLeaks: the poller has stopped.
		})
	}
}

// An endpoint that is down neither fails nor delays Setup: the initial rate
// applies, the failed polls are reported through otel.Handle, and shutdown
// stops the poller.
func TestSetup_JaegerRemoteEndpointDown(t *testing.T) {
	noLeaks(t)
	keepGlobals(t)
	reports := tracingtest.CaptureReports(t)
	setenv(t, "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none",
		"OTEL_TRACES_SAMPLER", "jaeger_remote",
		"OTEL_TRACES_SAMPLER_ARG", "endpoint=http://"+freeAddr(t)+"/sampling,initialSamplingRate=1")
	p, shutdown := setup(t, otelsetup.WithServiceName("orders"))
	_, s := p.TracerProvider.Tracer("test").Start(context.Background(), "op")
	s.End()
	if !s.SpanContext().IsSampled() {
		t.Error("span not sampled with initialSamplingRate=1 and the endpoint down")
	}
	err := reports.WaitFor(t, func(err error) bool { return strings.Contains(err.Error(), "jaeger_remote sampler") })
	if !strings.Contains(err.Error(), "failed to fetch sampling strategy") {
		t.Errorf("report %q does not say the fetch failed", err)
	}
	if err := shutdown(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// A poll that never answers does not hold shutdown: shutdown cancels it
// rather than wait for the fetch timeout (10 s), longer than the deadline
// given here.
func TestSetup_JaegerRemoteShutdownCancelsAPollInFlight(t *testing.T) {
	noLeaks(t)
	never := make(chan struct{})
	endpoint, _ := strategyServer(t, "orders", never)
	t.Cleanup(func() { close(never) }) // before the server closes
	setenv(t, "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none",
		"OTEL_TRACES_SAMPLER", "jaeger_remote", "OTEL_TRACES_SAMPLER_ARG", "endpoint="+endpoint)
	var p otelsetup.Providers
	shutdown, err := otelsetup.Setup(context.Background(), otelsetup.WithServiceName("orders"), otelsetup.WithoutGlobals(&p))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Errorf("shutdown with a poll in flight: %v", err)
	}
}

func TestSetup_JaegerRemoteBadArguments(t *testing.T) {
	for _, arg := range []string{
		"endpoint=localhost:5778",
		"endpoint=ftp://jaeger/sampling",
		"endpoint=http://jaeger:5778/sampling?service=x",
		"pollingIntervalMs=0",
		"pollingIntervalMs=1.5",
		"pollingIntervalMs=-5",
		"pollingIntervalMs=99999999999999999999",
		"initialSamplingRate=2",
		"initialSamplingRate=NaN",
		"initialSamplingRate=",
		"initialSamplingRate=0.5,initialSamplingRate=0.1",
		"endpoint",
		"0.25",
		"polingIntervalMs=100",
	} {
		t.Run(arg, func(t *testing.T) {
			noLeaks(t)
			setenv(t, "OTEL_SERVICE_NAME", "svc", "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none",
				"OTEL_TRACES_SAMPLER", "parentbased_jaeger_remote", "OTEL_TRACES_SAMPLER_ARG", arg)
			shutdown, err := otelsetup.Setup(context.Background())
			if err == nil {
				_ = shutdown(context.Background())
				t.Fatal("Setup accepted the argument")
			}
			var ce *otelsetup.ConfigError
			if !errors.As(err, &ce) || ce.Variable != "OTEL_TRACES_SAMPLER_ARG" || ce.Value != arg {
				t.Errorf("error %v, want a ConfigError for OTEL_TRACES_SAMPLER_ARG=%q", err, arg)
			}
		})
	}
}
