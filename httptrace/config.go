package httptrace

import (
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Filter reports whether a request is traced: a request any filter rejects
// passes through untouched, with no span, no metrics and no propagation.
// It is otelhttp's type, so the predicates of the otelhttp/filters package
// can be used.
type Filter = otelhttp.Filter

// ResponseHeader selects how the server returns the trace id to the client.
type ResponseHeader int

const (
	// TraceResponse sets the W3C `traceresponse` header:
	// `00-{trace-id}-{span-id}-{flags}`.
	TraceResponse ResponseHeader = iota
	// ServerTiming sets `Server-Timing: traceparent;desc="00-..."`, which
	// browsers expose to scripts through the Resource Timing API.
	ServerTiming
	// NoResponseHeader sends no trace id back.
	NoResponseHeader
)

// config is shared by [NewHandler] and [NewTransport]; options that concern
// only one side are ignored by the other.
type config struct {
	tp          trace.TracerProvider
	mp          metric.MeterProvider
	propagators propagation.TextMapPropagator
	filters     []Filter
	spanName    func(r *http.Request) string

	// Server.
	publicEndpoint  func(*http.Request) bool
	edgeBaggage     map[string]struct{}
	responseHeader  ResponseHeader
	traceIDHeader   string
	exposeHeader    bool
	recoverPanics   bool
	route           func(*http.Request) string
	business        func(*http.Request) []attribute.KeyValue
	hostInMetrics   bool
	metricAttrs     func(*http.Request) []attribute.KeyValue
	serverSpanStart []trace.SpanStartOption

	// Client.
	trusted          func(*http.Request) bool
	traceparentOut   bool
	statusIsError    func(code int) bool
	retries          int
	retryable        func(*http.Request, *http.Response, error) bool
	retryBackoff     time.Duration
	clientSpanOption []trace.SpanStartOption
}

func newConfig(opts []Option) *config {
	c := &config{
		trusted: InternalHost,
		statusIsError: func(code int) bool {
			return code >= 400
		},
		retryable:    defaultRetryable,
		retryBackoff: 100 * time.Millisecond,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// Option configures [NewHandler] and [NewTransport].
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithTracerProvider sets the TracerProvider spans are created with. By
// default the global TracerProvider is used, read for every request, so that
// a handler or transport built before the providers are installed uses
// them. A nil provider is ignored.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp != nil {
			c.tp = tp
		}
	})
}

// WithMeterProvider sets the MeterProvider of otelhttp's request metrics. By
// default the global MeterProvider is used, read for every request. A nil
// provider is ignored.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) {
		if mp != nil {
			c.mp = mp
		}
	})
}

// WithPropagators sets the propagators that read and write trace context
// and baggage. By default the global TextMapPropagator is used (the one
// otelsetup.Setup installs), read for every request; while it is the no-op
// default, W3C trace context and baggage are used, as in every package of
// this module. A nil propagator is ignored.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.propagators = p
		}
	})
}

// WithFilter adds a filter; a request is traced only if every filter
// returns true. By default every request is traced. Filters run on every
// request, on its goroutine: keep them cheap.
func WithFilter(f Filter) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.filters = append(c.filters, f)
		}
	})
}

// WithSpanNameFormatter replaces the span name. By default a server span is
// named `{method} {route}` (`{method}` when no route matched) and a client
// span `{method} {url.template}` with [ContextWithURLTemplate], `{method}`
// without, as the HTTP semantic conventions say. On the server the
// formatter runs when the span starts and again after the handler, when the
// route is known. Never return the raw URL path: it has unbounded
// cardinality and may carry ids or secrets.
func WithSpanNameFormatter(f func(r *http.Request) string) Option {
	return optionFunc(func(c *config) {
		c.spanName = f
	})
}

// WithPublicEndpoint marks every request to the handler as coming from an
// untrusted client (the edge of the system): the trace context it sends does
// not become the parent; a new trace starts, linked to it, and its baggage is
// dropped except the keys of [WithEdgeBaggage]. By default the caller is
// trusted.
func WithPublicEndpoint() Option {
	return WithPublicEndpointFn(func(*http.Request) bool { return true })
}

// WithPublicEndpointFn is [WithPublicEndpoint] for the requests fn returns
// true for (say, those without an internal authentication header). fn runs
// on every request before the span starts. By default no request is public.
func WithPublicEndpointFn(fn func(*http.Request) bool) Option {
	return optionFunc(func(c *config) {
		c.publicEndpoint = fn
	})
}

// WithEdgeBaggage lists the baggage keys kept from a public request (see
// [WithPublicEndpoint]). By default all inbound baggage of a public request
// is dropped.
func WithEdgeBaggage(keys ...string) Option {
	return optionFunc(func(c *config) {
		if c.edgeBaggage == nil {
			c.edgeBaggage = make(map[string]struct{}, len(keys))
		}
		for _, k := range keys {
			c.edgeBaggage[k] = struct{}{}
		}
	})
}

// WithResponseHeader selects the header that returns the trace id to the
// client, so that a support ticket can quote it. By default it is
// [TraceResponse].
func WithResponseHeader(h ResponseHeader) Option {
	return optionFunc(func(c *config) {
		c.responseHeader = h
	})
}

// WithTraceIDHeader also returns the bare trace id in the named header (for
// example `X-Trace-Id`). By default no such header is set.
func WithTraceIDHeader(name string) Option {
	return optionFunc(func(c *config) {
		c.traceIDHeader = http.CanonicalHeaderKey(name)
	})
}

// WithExposeTraceHeaders lists the trace id headers in
// `Access-Control-Expose-Headers`, so that scripts of a cross-origin browser
// page can read them. By default they are not exposed.
func WithExposeTraceHeaders() Option {
	return optionFunc(func(c *config) {
		c.exposeHeader = true
	})
}

// WithRecoverPanics recovers a panic of the handler after recording it,
// and answers 500 if nothing was written yet. By default the panic is
// recorded and re-raised, so that net/http or an outer middleware sees it.
// http.ErrAbortHandler is always re-raised and not recorded as a failure.
func WithRecoverPanics() Option {
	return optionFunc(func(c *config) {
		c.recoverPanics = true
	})
}

// WithRouteExtractor sets how the route template (`/orders/{id}`) of a
// request is found, for routers other than http.ServeMux. It runs after the
// handler, with the request the handler received. By default the pattern
// http.ServeMux sets on the request is used.
func WithRouteExtractor(fn func(r *http.Request) string) Option {
	return optionFunc(func(c *config) {
		c.route = fn
	})
}

// WithBusinessAttributes sets a hook that returns the business attributes of
// a request (the authenticated user id, the tenant): they are set with
// tracing.SetBusiness, so they land on the server span and, for traveling
// keys, in the baggage of everything the handler calls. The hook runs once
// per request, on its goroutine, after the span starts and before the
// handler, with the request the handler receives; when the middleware wraps
// a ServeMux, that request is not routed yet (r.PathValue is empty) unless
// the route's handler is wrapped with [Routed], where the hook then runs.
// By default there is no hook.
func WithBusinessAttributes(fn func(r *http.Request) []attribute.KeyValue) Option {
	return optionFunc(func(c *config) {
		c.business = fn
	})
}

// WithHostInMetrics keeps `server.address` and `server.port`, taken from the
// client-controlled Host header, on the server request metrics. By default
// they are removed from metrics (unbounded cardinality) and kept on spans.
func WithHostInMetrics() Option {
	return optionFunc(func(c *config) {
		c.hostInMetrics = true
	})
}

// WithMetricAttributesFn adds the attributes fn returns to the request
// metrics. fn runs once per request; its attributes must have low
// cardinality. By default no attribute is added.
func WithMetricAttributesFn(fn func(r *http.Request) []attribute.KeyValue) Option {
	return optionFunc(func(c *config) {
		c.metricAttrs = fn
	})
}

// WithTrustedHosts sets the hosts trace context and baggage are sent to.
// An entry matches the host name (without the port) exactly, or, if it
// starts with a dot, as a suffix (`.corp.example`), ignoring ASCII case as
// DNS does. Empty entries match nothing. It replaces the default,
// [InternalHost].
func WithTrustedHosts(hosts ...string) Option {
	list := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if h != "" {
			list = append(list, h)
		}
	}
	return WithTrustedHostFn(func(r *http.Request) bool {
		host := r.URL.Hostname()
		for _, h := range list {
			if equalFoldASCII(host, h) ||
				h[0] == '.' && len(host) > len(h) && equalFoldASCII(host[len(host)-len(h):], h) {
				return true
			}
		}
		return false
	})
}

// equalFoldASCII is strings.EqualFold for ASCII letters only: host names
// are ASCII (IDNs travel as punycode), and Unicode folding would let the
// Kelvin sign stand for a "k".
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// WithTrustedHostFn sets the predicate that decides whether a request goes
// to a host trusted with trace context and baggage. It replaces the default,
// [InternalHost]. To an untrusted host no baggage is ever sent (a baggage
// header the caller set is removed too), and no trace context unless
// [WithTraceparentToUntrusted].
func WithTrustedHostFn(fn func(r *http.Request) bool) Option {
	return optionFunc(func(c *config) {
		if fn != nil {
			c.trusted = fn
		}
	})
}

// WithTraceparentToUntrusted sends the traceparent header (and nothing else:
// no tracestate, no baggage) to untrusted hosts, for third parties that
// join traces. By default untrusted hosts receive no trace context.
func WithTraceparentToUntrusted() Option {
	return optionFunc(func(c *config) {
		c.traceparentOut = true
	})
}

// WithStatusIsError decides which response status codes make a client span
// an error. By default every code >= 400 does, as the HTTP semantic
// conventions say for clients; return false for the 404 a lookup expects.
func WithStatusIsError(fn func(code int) bool) Option {
	return optionFunc(func(c *config) {
		if fn != nil {
			c.statusIsError = fn
		}
	})
}

// WithRetry makes the transport retry a request up to maxRetries more times
// when retryable returns true, waiting backoff, doubled at each attempt. Each
// attempt has its own client span with `http.request.resend_count`. A
// request with a body is retried only if it has GetBody (http.NewRequest
// sets it). A nil retryable retries, for idempotent methods, transport
// errors other than the context's and 502, 503 and 504 responses. By
// default requests are not retried.
func WithRetry(maxRetries int, backoff time.Duration, retryable func(*http.Request, *http.Response, error) bool) Option {
	return optionFunc(func(c *config) {
		c.retries = max(maxRetries, 0)
		c.retryBackoff = max(backoff, 0)
		if retryable != nil {
			c.retryable = retryable
		}
	})
}

// WithSpanOptions adds options to every span start (attributes a sampler
// should see, for example). By default there are none.
func WithSpanOptions(opts ...trace.SpanStartOption) Option {
	return optionFunc(func(c *config) {
		c.serverSpanStart = append(c.serverSpanStart, opts...)
		c.clientSpanOption = append(c.clientSpanOption, opts...)
	})
}
