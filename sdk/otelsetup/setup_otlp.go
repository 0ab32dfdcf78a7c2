package otelsetup

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The OTLP/HTTP exporters report a 429, 502, 503 or 504 as "retry-able
// request failure: body: (empty)", which does not say what the collector
// answered, and a shutdown cut short while an export waits for a retry or an
// answer knows only its context's error. Setup gives the OTLP exporters an
// HTTP client whose transport, or a gRPC interceptor, notes the collector's
// last answer, and wraps the exporter so that a failed export's error says
// it: "HTTP 503 Service Unavailable", the gRPC status, the transport's
// error, or that a request is still waiting for an answer.
//
// A client given to the exporter replaces the one it builds from
// OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE, _CLIENT_KEY and
// _TIMEOUT: Setup applies the timeout itself, and leaves the exporter its own
// client, and messages, when a certificate variable is set.

// defaultOTLPTimeout is the OTLP exporters' per-request timeout when
// OTEL_EXPORTER_OTLP_TIMEOUT is unset.
const defaultOTLPTimeout = 10 * time.Second

// otlpHTTPClient returns the client for signal's OTLP/HTTP exporter and its
// transport, or nil to leave the exporter its own.
func otlpHTTPClient(signal string) (*http.Client, *outcomeTransport) {
	for _, prefix := range []string{envOTLPPrefix, envOTLPPrefix + signal + "_"} {
		for _, v := range []string{"CERTIFICATE", "CLIENT_CERTIFICATE", "CLIENT_KEY"} {
			if getenv(prefix+v) != "" {
				return nil, nil
			}
		}
	}
	timeout := defaultOTLPTimeout
	for _, name := range []string{envOTLPPrefix + "TIMEOUT", envOTLPPrefix + signal + "_TIMEOUT"} {
		if ms, err := strconv.ParseInt(getenv(name), 10, 64); err == nil && ms >= 0 {
			timeout = time.Duration(ms) * time.Millisecond
		}
	}
	t := &outcomeTransport{next: http.DefaultTransport.(*http.Transport).Clone()}
	return &http.Client{Transport: t, Timeout: timeout}, t
}

// otlpGRPCOption returns a dial option noting the answers of an OTLP/gRPC
// collector, and where it notes them.
func otlpGRPCOption() (grpc.DialOption, *outcomeTransport) {
	t := new(outcomeTransport)
	return grpc.WithChainUnaryInterceptor(t.intercept), t
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

// outcomeTransport notes what the collector answered last, as the HTTP
// transport of an OTLP/HTTP exporter or through intercept for OTLP/gRPC.
type outcomeTransport struct {
	next http.RoundTripper // nil for gRPC

	mu      sync.Mutex
	waiting int    // requests sent and not answered
	answer  string // the last request's outcome if it failed
}

func (t *outcomeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.begin()
	resp, err := t.next.RoundTrip(req)
	answer := ""
	if err == nil && (resp.StatusCode < 200 || resp.StatusCode > 299) {
		answer = "HTTP " + resp.Status
	}
	t.end(req.Context(), answer, err)
	return resp, err
}

// intercept is a gRPC unary client interceptor noting the answer.
func (t *outcomeTransport) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	t.begin()
	err := invoker(ctx, method, req, reply, cc, opts...)
	t.end(ctx, "", err)
	return err
}

func (t *outcomeTransport) begin() {
	t.mu.Lock()
	t.waiting++
	t.mu.Unlock()
}

// end notes a request's outcome: answer, or else err.
func (t *outcomeTransport) end(ctx context.Context, answer string, err error) {
	switch {
	case answer != "" || err == nil:
	case ctx.Err() != nil || unanswered(err):
		answer = noAnswer
	default:
		answer = err.Error()
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			answer = ue.Err.Error() // the endpoint is named elsewhere
		}
	}
	t.mu.Lock()
	t.waiting--
	t.answer = answer
	t.mu.Unlock()
}

// noAnswer is what a request cut short by the exporter's timeout, the
// export's or the shutdown's deadline got: a collector that accepts
// connections and does not answer, or answers too slowly.
const noAnswer = "no answer before the deadline"

// unanswered reports whether err ended a request that had no answer yet:
// a timeout or a cancellation, not a refused connection.
func unanswered(err error) bool {
	var ne net.Error
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout() ||
		strings.Contains(err.Error(), "request canceled") || status.Code(err) == codes.DeadlineExceeded
}

// explain returns err, the error of an export or of a shutdown cut short,
// as what the collector answered last, wrapping err.
func (t *outcomeTransport) explain(err error) error {
	if err == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.waiting > 0:
		return &collectorError{answer: noAnswer, err: err}
	case t.answer != "":
		return &collectorError{answer: t.answer, err: err}
	}
	return err
}

// collectorError is an OTLP export error saying what the collector
// answered; it wraps the exporter's error.
type collectorError struct {
	answer string
	err    error
}

func (e *collectorError) Error() string { return e.answer }
func (e *collectorError) Unwrap() error { return e.err }

// explainedSpanExporter is an OTLP span exporter whose errors say what
// the collector answered.
type explainedSpanExporter struct {
	sdktrace.SpanExporter
	t *outcomeTransport
}

func (e explainedSpanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	return e.t.explain(e.SpanExporter.ExportSpans(ctx, spans))
}

// explainedMetricExporter is an OTLP metric exporter whose errors say
// what the collector answered and where it is.
type explainedMetricExporter struct {
	sdkmetric.Exporter
	t        *outcomeTransport
	endpoint string
}

func (e explainedMetricExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	return e.explain(e.Exporter.Export(ctx, rm))
}

// explain returns err, the error of an export or of a shutdown cut short,
// saying what the collector answered and where it is.
func (e explainedMetricExporter) explain(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("otlp metric export: metrics not exported to %s: %w", e.endpoint, e.t.explain(err))
}
