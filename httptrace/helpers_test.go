package httptrace_test

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/httptrace"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

// orderID is a business key of the tests' own, declared as a company
// declares its keys: it travels.
var orderID = tracing.NewStringKey("order.id", tracing.Travels())

// service is the telemetry of one service under test: its spans go to the
// test's recorder, its metrics to a manual reader.
type service struct {
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

// newRecorder records the spans of the test's services as they are ended,
// without redaction, so that the tests see what httptrace itself sets, and
// without touching the globals: every provider is passed explicitly.
func newRecorder(t *testing.T) *tracingtest.Recorder {
	return tracingtest.New(t, tracingtest.WithoutGlobals(), tracingtest.WithoutRedaction())
}

func newService(t *testing.T, rec *tracingtest.Recorder, name string) *service {
	t.Helper()
	s := &service{tp: rec.Service(name), reader: sdkmetric.NewManualReader()}
	s.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader))
	t.Cleanup(func() { _ = s.mp.Shutdown(context.Background()) })
	return s
}

func (s *service) opts(more ...httptrace.Option) []httptrace.Option {
	return append([]httptrace.Option{
		httptrace.WithTracerProvider(s.tp),
		httptrace.WithMeterProvider(s.mp),
		httptrace.WithPropagators(tracingtest.Propagator()),
	}, more...)
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

// isServer and isClient select the spans of the handler and the transport.
var (
	isServer = tracingtest.OfKind(trace.SpanKindServer)
	isClient = tracingtest.OfKind(trace.SpanKindClient)
)
