//go:build !race

package httptrace_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/httptrace"
	"github.com/otelkit/otelkit/sdk/tracingtest"
)

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, ProtoMajor: 1, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

// serverAllocs returns the ServeMux both sides wrap and a function that
// counts the allocations of a traced request through a handler.
func serverAllocs() (*http.ServeMux, func(http.Handler) float64) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	req, _ := http.NewRequest(http.MethodGet, "http://orders.internal/orders/42", nil)
	req.Header.Set("Traceparent", remoteTraceparent)
	w := &discardWriter{h: http.Header{}}
	return mux, func(h http.Handler) float64 {
		return testing.AllocsPerRun(200, func() {
			clear(w.h)
			h.ServeHTTP(w, req)
		})
	}
}

// The budget of the package: at most 5 allocations per request on top of
// raw otelhttp with the same SDK, on both sides.
func TestAllocsOnTopOfOtelhttp(t *testing.T) {
	const budget = 5
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(tracetest.NewNoopExporter())))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()
	var props propagation.TextMapPropagator = tracingtest.Propagator()

	mux, serve := serverAllocs()
	raw := serve(otelhttp.NewHandler(mux, "", otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp), otelhttp.WithPropagators(props)))
	ours := serve(httptrace.NewHandler(mux, httptrace.WithTracerProvider(tp), httptrace.WithMeterProvider(mp), httptrace.WithPropagators(props)))
	if ours-raw > budget {
		t.Errorf("server: %v allocs, otelhttp %v: +%v over a budget of %d", ours, raw, ours-raw, budget)
	}
	t.Logf("server: %v allocs, otelhttp %v", ours, raw)

	ctx, parent := tp.Tracer("test").Start(context.Background(), "orders.create")
	defer parent.End()
	u, _ := url.Parse("http://inventory.internal/stock/42")
	creq := (&http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}, Host: u.Host}).WithContext(ctx)
	send := func(rt http.RoundTripper) float64 {
		return testing.AllocsPerRun(200, func() {
			resp, err := rt.RoundTrip(creq)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
		})
	}
	raw = send(otelhttp.NewTransport(cannedTransport{}, otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp), otelhttp.WithPropagators(props)))
	ours = send(httptrace.NewTransport(cannedTransport{}, httptrace.WithTracerProvider(tp), httptrace.WithMeterProvider(mp), httptrace.WithPropagators(props)))
	if ours-raw > budget {
		t.Errorf("client: %v allocs, otelhttp %v: +%v over a budget of %d", ours, raw, ours-raw, budget)
	}
	t.Logf("client: %v allocs, otelhttp %v", ours, raw)

	// A URL template adds the span name and its attribute.
	creq = creq.WithContext(httptrace.ContextWithURLTemplate(ctx, "/stock/{sku}"))
	ours = send(httptrace.NewTransport(cannedTransport{}, httptrace.WithTracerProvider(tp), httptrace.WithMeterProvider(mp), httptrace.WithPropagators(props)))
	if ours-raw > budget {
		t.Errorf("client with a URL template: %v allocs, otelhttp %v: +%v over a budget of %d", ours, raw, ours-raw, budget)
	}
	t.Logf("client with a URL template: %v allocs, otelhttp %v", ours, raw)
}

// The same budget with default options and the global providers a program
// sets without otelsetup.Setup (an SDK TracerProvider, W3C propagators, no
// MeterProvider), which both sides resolve per request.
func TestAllocsOnTopOfOtelhttp_GlobalProviders(t *testing.T) {
	const budget = 5
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(tracetest.NewNoopExporter())))
	prevTP, prevProps := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(tracingtest.Propagator())
	defer func() {
		otel.SetTracerProvider(prevTP)
		otel.SetTextMapPropagator(prevProps)
		_ = tp.Shutdown(context.Background())
	}()

	mux, serve := serverAllocs()
	raw := serve(otelhttp.NewHandler(mux, ""))
	ours := serve(httptrace.NewHandler(mux))
	if ours-raw > budget {
		t.Errorf("server: %v allocs, otelhttp %v: +%v over a budget of %d", ours, raw, ours-raw, budget)
	}
	t.Logf("server: %v allocs, otelhttp %v", ours, raw)
}
