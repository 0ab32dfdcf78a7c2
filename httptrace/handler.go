package httptrace

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing"
	"github.com/otelkit/otelkit/tracing/w3c"
)

// handler wraps otelhttp's handler: ServeHTTP runs before it (filters),
// serverExtractor and edge inside it, where otelhttp reads the request's
// trace context (extraction, edge policy), serveInner between it and the
// wrapped handler (response header, business hook, panic, route).
type handler struct {
	next           http.Handler
	otel           *tracing.Resolver[metric.MeterProvider, http.Handler]
	propagators    *tracing.Resolver[propagation.TextMapPropagator, propagation.TextMapPropagator]
	filters        []Filter
	publicEndpoint func(*http.Request) bool
	edgeBaggage    map[string]struct{}
	responseHeader ResponseHeader
	traceIDHeader  string
	exposeHeaders  string
	recoverPanics  bool
	route          func(*http.Request) string
	business       func(*http.Request) []attribute.KeyValue
	metricAttrs    func(*http.Request) []attribute.KeyValue
	spanName       func(*http.Request) string
	mux            *http.ServeMux // next, when it is one: see defersBusiness
}

var _ http.Handler = (*handler)(nil)

// NewHandler returns h wrapped in a server span and otelhttp's request
// metrics. See the package documentation for what it records.
func NewHandler(h http.Handler, opts ...Option) http.Handler {
	c := newConfig(opts)
	hd := &handler{
		next:           h,
		propagators:    tracing.Propagators(c.propagators),
		filters:        c.filters,
		publicEndpoint: c.publicEndpoint,
		edgeBaggage:    c.edgeBaggage,
		responseHeader: c.responseHeader,
		traceIDHeader:  c.traceIDHeader,
		recoverPanics:  c.recoverPanics,
		route:          c.route,
		business:       c.business,
		metricAttrs:    c.metricAttrs,
		spanName:       c.spanName,
	}
	hd.mux, _ = h.(*http.ServeMux)
	if c.exposeHeader {
		hd.exposeHeaders = hd.exposedHeaderNames()
	}
	oopts := []otelhttp.Option{
		otelhttp.WithTracerProvider(newTracerProvider(c.tp)),
		// otelhttp's extraction starts the request state (serverExtractor), so
		// that the request is not copied once more to carry it.
		otelhttp.WithPropagators(serverExtractor{hd}),
		otelhttp.WithSpanOptions(c.serverSpanStart...),
	}
	if c.publicEndpoint != nil {
		// otelhttp calls it between extraction and the span start, with
		// the request and the extracted context: where the edge policy
		// applies.
		oopts = append(oopts, otelhttp.WithPublicEndpointFn(hd.edge))
	}
	if c.spanName != nil {
		f := c.spanName
		oopts = append(oopts, otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return f(r) }))
	}
	// otelhttp creates its instruments when it is built: it is built
	// again for each MeterProvider in force (conv's rule).
	hd.otel = tracing.NewMeterResolver(c.mp, func(mp metric.MeterProvider) http.Handler {
		if !c.hostInMetrics {
			mp = newHostFilteringMeterProvider(mp)
		}
		// Builds may run concurrently (requests racing on a new global):
		// each appends to its own copy of the options.
		return otelhttp.NewHandler(http.HandlerFunc(hd.serveInner), "", append(slices.Clip(oopts), otelhttp.WithMeterProvider(mp))...)
	})
	return hd
}

func (h *handler) exposedHeaderNames() string {
	names := ""
	switch h.responseHeader {
	case TraceResponse:
		names = "traceresponse"
	case ServerTiming:
		names = "Server-Timing"
	}
	if h.traceIDHeader != "" {
		if names != "" {
			names += ", "
		}
		names += h.traceIDHeader
	}
	return names
}

// serverState is the state of one request; it is also the request context
// otelhttp receives (see requestState).
type serverState struct {
	stateContext
	parent       context.Context   // the request's context, before extraction
	link         trace.SpanContext // remote context of a public request
	routeAtStart bool
	route        string // found after the handler, for http.route
	span         serverSpan
	header       [1]string // the traceresponse value, saving an allocation

	// business is the hook left to the Routed handler of the route.
	business func(*http.Request) []attribute.KeyValue

	// Written by serveInner before otelhttp reads the span status.
	callerGone bool
	panicked   bool
}

func (s *serverState) startOptions(opts []trace.SpanStartOption) []trace.SpanStartOption {
	if !s.link.IsValid() {
		return opts
	}
	return appendOption(opts, trace.WithLinks(trace.Link{SpanContext: s.link}))
}

func (s *serverState) started(span trace.Span) trace.Span {
	s.span = serverSpan{Span: span, st: s}
	return &s.span
}

// serverSpan is the span otelhttp holds: the status it sets after the
// handler gives way to what serveInner found (a panic, the caller gone), and
// a 5xx status code brings error.type.
type serverSpan struct {
	trace.Span
	st *serverState
}

func (s *serverSpan) SetStatus(code codes.Code, description string) {
	if s.st.panicked || s.st.callerGone && code == codes.Error {
		return
	}
	s.Span.SetStatus(code, description)
}

// SetAttributes receives otelhttp's response attributes, once the handler
// returned; a 5xx status code brings error.type, in a second call so that
// otelhttp's slice is not copied (the SDK appends either way).
func (s *serverSpan) SetAttributes(kv ...attribute.KeyValue) {
	s.Span.SetAttributes(kv...)
	if s.st.panicked || s.st.callerGone {
		return
	}
	for _, a := range kv {
		if a.Key == semconv.HTTPResponseStatusCodeKey && a.Value.AsInt64() >= 500 {
			s.Span.SetAttributes(semconv.ErrorTypeKey.String(strconv.FormatInt(a.Value.AsInt64(), 10)))
			return
		}
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, f := range h.filters {
		if !f(r) {
			h.next.ServeHTTP(w, r)
			return
		}
	}
	h.otel.Get().ServeHTTP(w, r)
}

// serverExtractor is the propagator otelhttp's handler extracts with: it
// starts the request state, which is the context otelhttp starts the span
// in and hands on to serveInner.
type serverExtractor struct{ h *handler }

func (e serverExtractor) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	st := &serverState{parent: ctx}
	st.stateContext = stateContext{Context: e.h.propagators.Get().Extract(ctx, carrier), state: st}
	return st
}

func (serverExtractor) Inject(context.Context, propagation.TextMapCarrier) {}
func (serverExtractor) Fields() []string                                   { return nil }

// edge applies the edge policy to a request the public endpoint predicate
// calls public: its remote context is only linked, and only the allowlisted
// baggage is kept. It returns false, so that otelhttp adds nothing itself.
func (h *handler) edge(r *http.Request) bool {
	st, _ := r.Context().Value(stateKey{}).(*serverState)
	if st == nil || !h.publicEndpoint(r) {
		return false
	}
	remote := st.Context
	if sc := trace.SpanContextFromContext(remote); sc.IsRemote() {
		st.link = sc
	}
	st.Context = st.parent
	if bag := h.keepEdgeBaggage(baggage.FromContext(remote)); bag.Len() > 0 {
		st.Context = baggage.ContextWithBaggage(st.parent, bag)
	}
	return false
}

func (h *handler) keepEdgeBaggage(in baggage.Baggage) baggage.Baggage {
	if in.Len() == 0 || len(h.edgeBaggage) == 0 {
		return baggage.Baggage{}
	}
	var keep []baggage.Member
	for _, m := range in.Members() {
		if _, ok := h.edgeBaggage[m.Key()]; ok {
			keep = append(keep, m)
		}
	}
	out, _ := baggage.New(keep...)
	return out
}

// serveInner runs inside otelhttp's span: r is otelhttp's own copy of the
// request, which it reads again after serveInner returns.
func (h *handler) serveInner(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, _ := ctx.Value(stateKey{}).(*serverState)
	span := trace.SpanFromContext(ctx)
	if st != nil {
		st.routeAtStart = r.Pattern != ""
	}
	h.setResponseHeaders(w, span.SpanContext(), st)

	req := r
	if h.business != nil {
		if st != nil && !st.routeAtStart && h.defersBusiness(r) {
			st.business = h.business
		} else {
			req = withBusiness(r, h.business)
		}
	}

	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
				panic(v)
			}
			if st != nil {
				st.panicked = true
				// otelhttp renames the span only when the handler returns.
				h.finish(r, req, st)
				if st.route != "" {
					span.SetName(h.name(r))
				}
			}
			recordPanic(span, v)
			if !h.recoverPanics {
				panic(v)
			}
			w.WriteHeader(http.StatusInternalServerError)
		}
	}()
	h.next.ServeHTTP(w, req)

	h.finish(r, req, st)
}

// defersBusiness reports whether the business hook is left to the route's
// handler: the middleware wraps a ServeMux that routes r to a handler
// wrapped with Routed, where r.PathValue is set. It costs a route lookup,
// made only for requests with a business hook that are not routed yet.
func (h *handler) defersBusiness(r *http.Request) bool {
	if h.mux == nil {
		return false
	}
	rh, _ := h.mux.Handler(r)
	_, ok := rh.(*routed)
	return ok
}

// withBusiness returns r with the business context fn returns for it.
func withBusiness(r *http.Request, fn func(*http.Request) []attribute.KeyValue) *http.Request {
	attrs := fn(r)
	if len(attrs) == 0 {
		return r
	}
	return r.WithContext(tracing.SetBusiness(r.Context(), attrs...))
}

// Routed wraps the handler of a ServeMux route so that the business hook
// ([WithBusinessAttributes]) of the NewHandler that wraps the mux runs
// there, after routing, with the request the route's handler receives:
// r.PathValue and r.Pattern are set. Without it the hook runs before the
// mux, where path values are still empty (and tracing.SetBusiness refuses
// the empty value of a business key). Where no such NewHandler wraps the
// mux (the middleware is inside the mux, or another handler stands
// between), Routed only calls h.
//
//	mux.Handle("GET /orders/{id}", httptrace.Routed(http.HandlerFunc(getOrder)))
//	srv := httptrace.NewHandler(mux, httptrace.WithBusinessAttributes(func(r *http.Request) []attribute.KeyValue {
//		return []attribute.KeyValue{orderID.String(r.PathValue("id"))}
//	}))
func Routed(h http.Handler) http.Handler {
	return &routed{next: h}
}

type routed struct{ next http.Handler }

var _ http.Handler = (*routed)(nil)

func (rt *routed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st, _ := r.Context().Value(stateKey{}).(*serverState)
	if st == nil || st.business == nil {
		rt.next.ServeHTTP(w, r)
		return
	}
	fn := st.business
	st.business = nil
	rt.next.ServeHTTP(w, withBusiness(r, fn))
}

func (h *handler) finish(r, req *http.Request, st *serverState) {
	if st == nil {
		return
	}
	route := ""
	if req.Pattern != "" {
		route = routeOf(req.Pattern)
	} else if h.route != nil {
		route = h.route(req)
	}
	if route != "" && !st.routeAtStart {
		// otelhttp names the span and labels the metrics from r.Pattern
		// once serveInner returns, but sets no http.route on the span.
		// Set before otelhttp's response attributes, it makes the SDK
		// grow the span's attributes for both at once.
		if r.Pattern == "" {
			r.Pattern = route
		}
		st.route = route
		if st.span.Span != nil {
			st.span.Span.SetAttributes(semconv.HTTPRoute(route))
		}
	}
	if h.metricAttrs != nil {
		if l, ok := otelhttp.LabelerFromContext(r.Context()); ok {
			l.Add(h.metricAttrs(req)...)
		}
	}
	if errors.Is(r.Context().Err(), context.Canceled) {
		st.callerGone = true
	}
}

// name is the span name once the route is known in r.Pattern.
func (h *handler) name(r *http.Request) string {
	if h.spanName != nil {
		return h.spanName(r)
	}
	return clientSpanName(r) + " " + routeOf(r.Pattern)
}

// routeOf strips the method and host of a ServeMux pattern.
func routeOf(pattern string) string {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '/' {
			return pattern[i:]
		}
	}
	return ""
}

func (h *handler) setResponseHeaders(w http.ResponseWriter, sc trace.SpanContext, st *serverState) {
	if !sc.IsValid() {
		return
	}
	hdr := w.Header()
	switch h.responseHeader {
	case TraceResponse:
		if st == nil {
			st = &serverState{}
		}
		st.header[0] = w3c.FormatTraceparent(sc)
		hdr["Traceresponse"] = st.header[:]
	case ServerTiming:
		hdr.Add("Server-Timing", `traceparent;desc="`+w3c.FormatTraceparent(sc)+`"`)
	}
	if h.traceIDHeader != "" {
		hdr[h.traceIDHeader] = []string{sc.TraceID().String()}
	}
	if h.exposeHeaders != "" {
		hdr.Add("Access-Control-Expose-Headers", h.exposeHeaders)
	}
}

// recordPanic records a panic of the handler as tracing.End does (status
// Error, error.type the panic value's type, an exception event with the
// stack) and the 500 the client gets.
func recordPanic(span trace.Span, v any) {
	tracing.RecordPanic(span, v)
	span.SetAttributes(semconv.HTTPResponseStatusCode(http.StatusInternalServerError))
}
