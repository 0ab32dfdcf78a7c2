// Package httptrace traces HTTP servers and clients the same way in every
// service: it wraps otelhttp
// (go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp) and adds
// what otelhttp leaves to each service: route naming when the middleware
// wraps a mux, an edge policy for untrusted clients, the trace id returned to
// the client, panics, a propagation policy that keeps trace context and
// baggage inside the company, and retries with one span per attempt.
//
// # Wiring
//
//	shutdown, err := otelsetup.Setup(ctx)          // SDK and propagators
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /orders/{id}", getOrder)
//	srv := &http.Server{Handler: httptrace.NewHandler(mux, httptrace.WithPublicEndpoint())}
//	client := &http.Client{Transport: httptrace.NewTransport(nil)}
//
// Providers and propagators default to the globals otelsetup.Setup installs,
// read for every request (the rule of every package of this module), so a
// handler or transport built before Setup uses them; while the global
// propagator is the no-op default, W3C trace context and baggage are used.
// Pass WithTracerProvider, WithMeterProvider and WithPropagators to use
// others.
//
// # Server spans
//
// One SERVER span per request, named `{method} {route}` after the pattern
// http.ServeMux matched, also when the middleware wraps the mux from outside;
// `{method}` when nothing matched (never the raw path). For other routers,
// [WithRouteExtractor] returns the route. Attributes are otelhttp's (HTTP
// semantic conventions v1.43: http.request.method, url.path, url.scheme,
// server.address, server.port, client.address, user_agent.original,
// network.protocol.version, http.request.body.size, http.response.body.size,
// http.response.status_code) plus http.route.
//
// Status: a 5xx response is an error with error.type set to the code; 4xx is
// not an error on the server; a request the caller cancelled is not an error.
// A panic is recorded as an exception event with its stack, status Error,
// error.type (the panic value's type) and http.response.status_code 500,
// then re-raised ([WithRecoverPanics] answers 500 instead).
// http.ErrAbortHandler is always re-raised and not recorded as a failure.
//
// The trace id goes back in a `traceresponse` header by default
// ([WithResponseHeader], [WithTraceIDHeader], [WithExposeTraceHeaders] for
// browsers), so that a support ticket can quote it.
//
// # Edge
//
// [WithPublicEndpoint] marks requests from untrusted clients: their trace
// context is linked, not adopted (a new trace starts), and their baggage is
// dropped except the keys of [WithEdgeBaggage], so that a client cannot
// forge the order.id or user.id every span of the system carries.
// [WithBusinessAttributes] then sets the business context from what the
// service itself authenticated, through tracing.SetBusiness.
//
// # Business attributes and routes
//
// The hook of [WithBusinessAttributes] runs once per request, on its
// goroutine, after the span starts and before the handler, with the request
// the handler receives. A middleware that wraps a ServeMux receives the
// request before routing: r.PathValue is still empty there. Wrap the routes
// whose path values the hook reads with [Routed]: the hook then runs in the
// route's handler, after routing.
//
//	mux.Handle("GET /orders/{id}", httptrace.Routed(http.HandlerFunc(getOrder)))
//	h := httptrace.NewHandler(mux, httptrace.WithBusinessAttributes(func(r *http.Request) []attribute.KeyValue {
//		return []attribute.KeyValue{orderID.String(r.PathValue("id"))}
//	}))
//
// To know whether a request goes to a Routed handler, the middleware looks
// its route up in the mux (http.ServeMux.Handler) before the handler; only
// requests of a middleware with a hook, wrapping a ServeMux directly, pay
// for that lookup. The values are set with tracing.SetBusiness, which
// refuses an empty value: a path value read before routing is never written
// as "".
//
// # Client spans
//
// One CLIENT span per attempt, named `{method}`, with otelhttp's attributes;
// a redirect or a retry ([WithRetry]) is another attempt, with
// http.request.resend_count. Calls of a trace that all read `GET` look
// alike: give the route the code calls with [ContextWithURLTemplate] on the
// request context, and the span is named `{method} {url.template}`
// (`POST /stock/validate`) with the url.template attribute, as the HTTP
// semantic conventions say. The template is never derived from the URL
// path, whose cardinality is unbounded; a redirect drops it.
//
//	ctx = httptrace.ContextWithURLTemplate(ctx, "/orders/{id}")
//	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/orders/"+id, nil)
//
// url.full holds no credentials (otelhttp leaves the user and password
// out) and the values of sensitive query parameters are REDACTED at the
// source (tracing.MaskQuery: the conventions' list,
// AWSAccessKeyId, Signature, sig, X-Goog-Signature, and secret-looking
// names such as token or api_key), so they are masked even for an exporter
// without the tracing redaction; personal data in the query is hashed by
// that redaction at export. Every status code >= 400 is an error unless
// [WithStatusIsError] says otherwise (error.type is then the status code).
// A transport error follows the one rule of the tracing package, so that
// the same failure has the same error.type in every package: a call the
// caller cancelled is not an error (nor is any error the tracing
// classifier, tracing.SetErrorClassifier, calls expected); one that ran
// out of time is, with error.type "timeout"; any other has the Go error
// type ("*net.OpError"). otelhttp's http.client.request.duration metric
// keeps otelhttp's own error.type for transport errors.
//
// Trace context and baggage are injected only for trusted hosts
// ([InternalHost] by default, [WithTrustedHosts], [WithTrustedHostFn]).
// An untrusted host (a payment provider) never receives baggage, not even a
// baggage header the caller set by hand, and receives traceparent only with
// [WithTraceparentToUntrusted].
//
// # Metrics
//
// otelhttp's metrics are kept: http.server.request.duration,
// http.server.request.body.size, http.server.response.body.size and their
// client counterparts. On the server, server.address and server.port come
// from the client-controlled Host header and are removed from metrics (not
// from spans) unless [WithHostInMetrics].
//
// # Cost
//
// On top of otelhttp with the same SDK, a traced server request costs three
// allocations (the request state, the traceresponse value, and http.route
// when the route is only known after the handler: the SDK grows the span's
// attributes for it) and a client attempt one (its state), four with a
// URL template (the span name and its attribute); alloc_test.go holds
// both sides to at most five more than otelhttp, with explicit providers
// and with the global ones. The request state is the context otelhttp
// extracts into, so the request is not copied once more to carry it.
// Filtered metric attribute sets are cached, so the Host filter allocates
// only for a set it has not seen. In the side-by-side benchmarks of the
// bench module (bench/README.md: BenchmarkHTTPServer, BenchmarkHTTPClient
// with explicit providers, BenchmarkHTTPServerGlobal with the global ones
// and default options, every span sampled) a server request takes 1.06
// times as long as with otelhttp.NewHandler alone with explicit providers,
// 1.08 times its CPU time with the global ones, and a client request 1.04
// times as long as with otelhttp.NewTransport. A business hook on a
// middleware that wraps a ServeMux adds a route lookup per request (see
// [Routed]). Providers given by no option
// are resolved per request (tracing's rule): an atomic load and a
// comparison for each of the TracerProvider, MeterProvider and propagator.
// Everything runs on the request goroutine; nothing starts a goroutine.
package httptrace
