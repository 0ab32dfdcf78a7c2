package httptrace_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/httptrace"
	"github.com/otelkit/otelkit/sdk/pipeline"
	"github.com/otelkit/otelkit/tracing"
	"github.com/otelkit/otelkit/tracing/w3c"
)

// orderID is a business key of the tests' own, declared as a company
// declares its keys: it travels.
var orderID = tracing.NewStringKey("order.id", tracing.Travels())

// propagators is what otelsetup.Setup installs by default.
var propagators = propagation.NewCompositeTextMapPropagator(w3c.TraceContext{}, propagation.Baggage{})

// service is the telemetry of one service under test.
type service struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newService(t *testing.T, name string) *service {
	t.Helper()
	s := &service{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	s.tp = sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(s.spans),
		sdktrace.WithSpanProcessor(pipeline.NewBaggageSpanProcessor()),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(name))),
	)
	s.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader))
	t.Cleanup(func() {
		_ = s.tp.Shutdown(context.Background())
		_ = s.mp.Shutdown(context.Background())
	})
	return s
}

func (s *service) opts(more ...httptrace.Option) []httptrace.Option {
	return append([]httptrace.Option{
		httptrace.WithTracerProvider(s.tp),
		httptrace.WithMeterProvider(s.mp),
		httptrace.WithPropagators(propagators),
	}, more...)
}

// ended waits for n ended spans: a server span ends after the response is
// written, so a client may see the response first.
func (s *service) ended(t *testing.T, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := s.spans.Ended()
		if len(got) >= n {
			if len(got) > n {
				t.Fatalf("%d spans ended, want %d: %v", len(got), n, names(got))
			}
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d spans ended, want %d: %v", len(got), n, names(got))
		}
		time.Sleep(time.Millisecond)
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}

func attrOf(s sdktrace.ReadOnlySpan, k attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func wantAttr(t *testing.T, s sdktrace.ReadOnlySpan, kv attribute.KeyValue) {
	t.Helper()
	v, ok := attrOf(s, kv.Key)
	if !ok {
		t.Errorf("span %q has no %s, want %s", s.Name(), kv.Key, kv.Value.String())
		return
	}
	if v != kv.Value {
		t.Errorf("span %q: %s = %s, want %s", s.Name(), kv.Key, v.String(), kv.Value.String())
	}
}

func wantNoAttr(t *testing.T, s sdktrace.ReadOnlySpan, k attribute.Key) {
	t.Helper()
	if v, ok := attrOf(s, k); ok {
		t.Errorf("span %q: unexpected %s = %s", s.Name(), k, v.String())
	}
}

// metricAttrs returns the attribute sets of the data points of the named
// histogram.
func (s *service) metricAttrs(t *testing.T, name string) []attribute.Set {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := s.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var out []attribute.Set
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out = append(out, p.Attributes)
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					out = append(out, p.Attributes)
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no data points for %s", name)
	}
	return out
}

func get(t *testing.T, c *http.Client, url string, hdr http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp
}
