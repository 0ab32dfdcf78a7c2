package bench

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/httptrace"
	"github.com/otelkit/otelkit/tracing/w3c"
)

// httpSDK is the SDK both sides of a comparison run with: every span sampled
// and ended into a discarding exporter, metrics into a manual reader, and
// the propagators otelsetup.Setup installs.
type httpSDK struct {
	tp    *sdktrace.TracerProvider
	mp    *sdkmetric.MeterProvider
	props propagation.TextMapPropagator
}

func newHTTPSDK(b *testing.B) httpSDK {
	s := httpSDK{
		tp: sdktrace.NewTracerProvider(
			sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(tracetest.NewNoopExporter())),
		),
		mp:    sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
		props: propagation.NewCompositeTextMapPropagator(w3c.TraceContext{}, propagation.Baggage{}),
	}
	b.Cleanup(func() {
		_ = s.tp.Shutdown(context.Background())
		_ = s.mp.Shutdown(context.Background())
	})
	return s
}

// discardWriter is a reusable ResponseWriter, so that the benchmark
// measures the middleware, not httptest.ResponseRecorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

func (w *discardWriter) reset() {
	clear(w.h)
	w.code = 0
}

func BenchmarkHTTPServer(b *testing.B) {
	sdk := newHTTPSDK(b)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	handlers := []struct {
		name string
		h    http.Handler
	}{
		{"otelhttp", otelhttp.NewHandler(mux, "",
			otelhttp.WithTracerProvider(sdk.tp), otelhttp.WithMeterProvider(sdk.mp), otelhttp.WithPropagators(sdk.props))},
		{"httptrace", httptrace.NewHandler(mux,
			httptrace.WithTracerProvider(sdk.tp), httptrace.WithMeterProvider(sdk.mp), httptrace.WithPropagators(sdk.props))},
	}
	req, _ := http.NewRequest(http.MethodGet, "http://orders.internal/orders/42", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	req.Header.Set("Baggage", "order.id=o-42")
	req.RemoteAddr = "10.0.0.7:51234"
	for _, bc := range handlers {
		b.Run(bc.name, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				w.reset()
				bc.h.ServeHTTP(w, req)
			}
			reportCPU(b, cpu)
		})
	}
}

// cannedTransport answers every request without a network, so that the
// benchmark measures the instrumentation.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

func BenchmarkHTTPClient(b *testing.B) {
	sdk := newHTTPSDK(b)
	transports := []struct {
		name string
		rt   http.RoundTripper
	}{
		{"otelhttp", otelhttp.NewTransport(cannedTransport{},
			otelhttp.WithTracerProvider(sdk.tp), otelhttp.WithMeterProvider(sdk.mp), otelhttp.WithPropagators(sdk.props))},
		{"httptrace", httptrace.NewTransport(cannedTransport{},
			httptrace.WithTracerProvider(sdk.tp), httptrace.WithMeterProvider(sdk.mp), httptrace.WithPropagators(sdk.props))},
	}
	ctx, parent := sdk.tp.Tracer("bench").Start(context.Background(), "orders.create")
	defer parent.End()
	u, _ := url.Parse("http://inventory.internal/stock/42")
	for _, bc := range transports {
		b.Run(bc.name, func(b *testing.B) {
			req := (&http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}, Host: u.Host}).WithContext(ctx)
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				resp, err := bc.rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				_ = resp.Body.Close()
			}
			reportCPU(b, cpu)
		})
	}
}

// cpuTime is the user and system CPU time of the process so far. On a
// shared machine wall time per operation swings with the load of other
// processes; the CPU time the process spends (its GC included) swings far
// less, so the benchmarks report it too, as cpu-ns/op.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkHTTPServerGlobal compares httptrace.NewHandler and
// otelhttp.NewHandler with default options, both reading the global
// providers a program sets without otelsetup.Setup: an SDK TracerProvider
// (every span sampled, a discarding batch exporter) and W3C propagators;
// the MeterProvider is left unset. The same request goes through the same
// mux, in alternating blocks (see paired), so one run gives the ratio;
// the allocations per request of each side are reported too.
func BenchmarkHTTPServerGlobal(b *testing.B) {
	globalProvider(b, sdktrace.AlwaysSample())
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	b.Cleanup(func() { otel.SetTextMapPropagator(prev) })

	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	raw := otelhttp.NewHandler(mux, "")
	ours := httptrace.NewHandler(mux)
	req, _ := http.NewRequest(http.MethodGet, "http://orders.internal/orders/42", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	req.Header.Set("Baggage", "order.id=o-42")
	req.RemoteAddr = "10.0.0.7:51234"
	w := &discardWriter{h: http.Header{}}
	serve := func(h http.Handler) func() {
		return func() {
			w.reset()
			h.ServeHTTP(w, req)
		}
	}
	rawAllocs := testing.AllocsPerRun(100, serve(raw))
	oursAllocs := testing.AllocsPerRun(100, serve(ours))
	pairedBlocks(b, 8, "otelhttp", serve(raw), "httptrace", serve(ours))
	b.ReportMetric(rawAllocs, "otelhttp-allocs/req")
	b.ReportMetric(oursAllocs, "httptrace-allocs/req")
	b.ReportMetric(oursAllocs-rawAllocs, "delta-allocs/req")
}
