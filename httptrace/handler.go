package httptrace

import (
	"context"
	"errors"
	"net/http"
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

// handler wraps otelhttp's handler: ServeHTTP runs before it (filters,
// extraction, edge policy), serveInner between it and the wrapped handler
// (response header, business hook, panic, route).
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
	if c.exposeHeader {
		hd.exposeHeaders = hd.exposedHeaderNames()
	}
	oopts := []otelhttp.Option{
		otelhttp.WithTracerProvider(newTracerProvider(c.tp)),
		// Extraction happens in ServeHTTP, where the edge policy applies.
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
		otelhttp.WithSpanOptions(c.serverSpanStart...),
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
		return otelhttp.NewHandler(http.HandlerFunc(hd.serveInner), "", append(oopts, otelhttp.WithMeterProvider(mp))...)
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
	link         trace.SpanContext // remote context of a public request
	routeAtStart bool
	route        string // found after the handler, for http.route
	span         serverSpan
	header       [1]string // the traceresponse value, saving an allocation

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
// returned; the route found after the handler and the error.type of a 5xx
// join them, so that the span's attributes grow once.
func (s *serverSpan) SetAttributes(kv ...attribute.KeyValue) {
	var errType attribute.KeyValue
	if !s.st.panicked && !s.st.callerGone {
		for _, a := range kv {
			if a.Key == semconv.HTTPResponseStatusCodeKey && a.Value.AsInt64() >= 500 {
				errType = semconv.ErrorTypeKey.String(strconv.FormatInt(a.Value.AsInt64(), 10))
			}
		}
	}
	if s.st.route == "" && !errType.Valid() {
		s.Span.SetAttributes(kv...)
		return
	}
	all := make([]attribute.KeyValue, len(kv), len(kv)+2)
	copy(all, kv)
	if s.st.route != "" {
		all = append(all, semconv.HTTPRoute(s.st.route))
		s.st.route = ""
	}
	if errType.Valid() {
		all = append(all, errType)
	}
	s.Span.SetAttributes(all...)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, f := range h.filters {
		if !f(r) {
			h.next.ServeHTTP(w, r)
			return
		}
	}
	st := &serverState{routeAtStart: r.Pattern != ""}
	ctx := r.Context()
	carrier := propagation.HeaderCarrier(r.Header)
	props := h.propagators.Get()
	if h.publicEndpoint != nil && h.publicEndpoint(r) {
		// An untrusted client's context is only linked, and only the
		// allowlisted baggage is kept.
		remote := props.Extract(context.Background(), carrier)
		st.link = trace.SpanContextFromContext(remote)
		if bag := h.keepEdgeBaggage(baggage.FromContext(remote)); bag.Len() > 0 {
			ctx = baggage.ContextWithBaggage(ctx, bag)
		}
	} else {
		ctx = props.Extract(ctx, carrier)
	}
	st.stateContext = stateContext{Context: ctx, state: st}
	h.otel.Get().ServeHTTP(w, r.WithContext(st))
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
	h.setResponseHeaders(w, span.SpanContext(), st)

	req := r
	if h.business != nil {
		if attrs := h.business(r); len(attrs) > 0 {
			req = r.WithContext(tracing.SetBusiness(ctx, attrs...))
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
					span.SetAttributes(semconv.HTTPRoute(st.route))
					st.route = ""
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
		// once serveInner returns; serverSpan adds the attribute.
		if r.Pattern == "" {
			r.Pattern = route
		}
		st.route = route
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
