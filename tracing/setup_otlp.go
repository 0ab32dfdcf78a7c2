package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The OTLP/HTTP exporters report a 429, 502, 503 or 504 as "retry-able
// request failure: body: (empty)", which does not say what the collector
// answered. Setup gives them an HTTP client whose transport notes each
// request's outcome in the export's context, and wraps the exporter so that a
// failed export's error says it: "HTTP 503 Service Unavailable", or the
// transport's error.
//
// A client given to the exporter replaces the one it builds from
// OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE, _CLIENT_KEY and
// _TIMEOUT: Setup applies the timeout itself, and leaves the exporter its own
// client, and messages, when a certificate variable is set.

// defaultOTLPTimeout is the OTLP exporters' per-request timeout when
// OTEL_EXPORTER_OTLP_TIMEOUT is unset.
const defaultOTLPTimeout = 10 * time.Second

// otlpHTTPClient returns the client for signal's OTLP/HTTP exporter, or nil to
// leave the exporter its own.
func otlpHTTPClient(signal string) *http.Client {
	for _, prefix := range []string{envOTLPPrefix, envOTLPPrefix + signal + "_"} {
		for _, v := range []string{"CERTIFICATE", "CLIENT_CERTIFICATE", "CLIENT_KEY"} {
			if getenv(prefix+v) != "" {
				return nil
			}
		}
	}
	timeout := defaultOTLPTimeout
	for _, name := range []string{envOTLPPrefix + "TIMEOUT", envOTLPPrefix + signal + "_TIMEOUT"} {
		if ms, err := strconv.ParseInt(getenv(name), 10, 64); err == nil && ms >= 0 {
			timeout = time.Duration(ms) * time.Millisecond
		}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Transport: outcomeTransport{t}, Timeout: timeout}
}

// otlpEndpoint returns where signal's OTLP exporter sends, as the exporters
// resolve it from the environment, without credentials or query.
func otlpEndpoint(signal, protocol string) string {
	path := "/v1/" + strings.ToLower(signal)
	raw, generic := getenv(envOTLPPrefix+signal+"_ENDPOINT"), false
	if raw == "" {
		raw, generic = getenv(envOTLPPrefix+"ENDPOINT"), true
	}
	if raw == "" {
		if protocol == "grpc" {
			return "localhost:4317"
		}
		return "http://localhost:4318" + path
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if protocol == "grpc" {
		return u.Host
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	if generic {
		u.Path = strings.TrimSuffix(u.Path, "/") + path
	} else if u.Path == "" {
		u.Path = "/"
	}
	return u.String()
}

// outcomeKey is the context key of an export's *outcome.
type outcomeKey struct{}

// outcome is what the collector last answered to an export's requests.
type outcome struct {
	mu     sync.Mutex
	status string // e.g. "503 Service Unavailable"
	err    error  // the transport's error
}

// outcomeTransport notes each request's outcome in its context's outcome.
type outcomeTransport struct{ next http.RoundTripper }

func (t outcomeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if o, ok := req.Context().Value(outcomeKey{}).(*outcome); ok {
		o.mu.Lock()
		o.status, o.err = "", err
		if err == nil && (resp.StatusCode < 200 || resp.StatusCode > 299) {
			o.status = resp.Status
		}
		o.mu.Unlock()
	}
	return resp, err
}

// explain runs export with a context noting the outcome of its requests and
// returns its error, prefixed with what the collector answered last.
func explain(ctx context.Context, export func(context.Context) error) error {
	o := new(outcome)
	err := export(context.WithValue(ctx, outcomeKey{}, o))
	if err == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.status != "":
		return &collectorError{answer: "HTTP " + o.status, err: err}
	case o.err != nil:
		answer := o.err.Error()
		if ue := (*url.Error)(nil); errors.As(o.err, &ue) {
			answer = ue.Err.Error() // the endpoint is named elsewhere
		}
		return &collectorError{answer: answer, err: err}
	}
	return err
}

// collectorError is an OTLP/HTTP export error saying what the collector
// answered; it wraps the exporter's error.
type collectorError struct {
	answer string
	err    error
}

func (e *collectorError) Error() string { return e.answer }
func (e *collectorError) Unwrap() error { return e.err }

// explainedSpanExporter is an OTLP/HTTP span exporter whose errors say what
// the collector answered.
type explainedSpanExporter struct{ sdktrace.SpanExporter }

func (e explainedSpanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	return explain(ctx, func(ctx context.Context) error { return e.SpanExporter.ExportSpans(ctx, spans) })
}

// explainedMetricExporter is an OTLP/HTTP metric exporter whose errors say
// what the collector answered.
type explainedMetricExporter struct {
	sdkmetric.Exporter
	endpoint string
}

func (e explainedMetricExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	err := explain(ctx, func(ctx context.Context) error { return e.Exporter.Export(ctx, rm) })
	if err != nil {
		return fmt.Errorf("tracing: otlp metric export to %s: %w", e.endpoint, err)
	}
	return nil
}
