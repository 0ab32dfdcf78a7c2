package httptrace

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing"
	"github.com/otelkit/otelkit/tracing/w3c"
)

// transport wraps otelhttp's transport: RoundTrip runs before it (filters,
// retries), send between it and the base transport (propagation policy).
type transport struct {
	base           http.RoundTripper
	otel           *tracing.Resolver[metric.MeterProvider, http.RoundTripper]
	propagators    *tracing.Resolver[propagation.TextMapPropagator, propagation.TextMapPropagator]
	filters        []Filter
	trusted        func(*http.Request) bool
	traceparentOut bool
	statusIsError  func(int) bool
	retries        int
	retryable      func(*http.Request, *http.Response, error) bool
	backoff        time.Duration
}

var _ http.RoundTripper = (*transport)(nil)

// NewTransport returns base wrapped in a client span per attempt, otelhttp's
// client metrics and the propagation policy. A nil base is
// http.DefaultTransport. See the package documentation.
func NewTransport(base http.RoundTripper, opts ...Option) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	c := newConfig(opts)
	t := &transport{
		base:           base,
		propagators:    tracing.Propagators(c.propagators),
		filters:        c.filters,
		trusted:        c.trusted,
		traceparentOut: c.traceparentOut,
		statusIsError:  c.statusIsError,
		retries:        c.retries,
		retryable:      c.retryable,
		backoff:        c.retryBackoff,
	}
	name := clientName
	if c.spanName != nil {
		name = c.spanName
	}
	tp := newTracerProvider(c.tp)
	// otelhttp creates its instruments when it is built: it is built again
	// for each MeterProvider in force (conv's rule).
	t.otel = tracing.NewMeterResolver(c.mp, func(mp metric.MeterProvider) http.RoundTripper {
		return otelhttp.NewTransport(roundTripperFunc(t.send),
			otelhttp.WithTracerProvider(tp),
			otelhttp.WithMeterProvider(mp),
			// Injection happens in send, where the host is known.
			otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
			otelhttp.WithSpanOptions(c.clientSpanOption...),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return name(r) }),
		)
	})
	return t
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// urlTemplateKey is the context key of ContextWithURLTemplate.
type urlTemplateKey struct{}

// ContextWithURLTemplate returns ctx carrying the URL template of the
// requests sent with it (`/orders/{id}`): their client spans are named
// `{method} {url.template}` and get the url.template attribute, as the
// HTTP semantic conventions say, so that the calls of a trace are told
// apart. Give the template the code calls, a constant; never the request's
// path, whose cardinality is unbounded and which may carry ids or secrets.
// A redirect does not keep it (the target's template is unknown). An empty
// template is ignored. By default a client span is named `{method}`.
func ContextWithURLTemplate(ctx context.Context, template string) context.Context {
	return context.WithValue(ctx, urlTemplateKey{}, template)
}

// urlTemplate is the template ContextWithURLTemplate put in ctx, or "".
func urlTemplate(ctx context.Context) string {
	t, _ := ctx.Value(urlTemplateKey{}).(string)
	return t
}

// clientName is the default client span name: `{method} {url.template}`,
// or `{method}` without a template.
func clientName(r *http.Request) string {
	if st, ok := r.Context().Value(stateKey{}).(*clientState); ok && st.template != "" {
		return clientSpanName(r) + " " + st.template
	}
	return clientSpanName(r)
}

// clientSpanName is `{method}`, as the HTTP semantic conventions name a
// client span without a URL template; an unknown method is `HTTP`.
func clientSpanName(r *http.Request) string {
	switch m := r.Method; m {
	case "", http.MethodGet:
		return http.MethodGet
	case http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "HTTP"
}

// clientState is the state of one attempt; it is also the request context
// otelhttp receives (see requestState).
type clientState struct {
	stateContext
	t        *transport
	resend   int
	template string // url.template, from ContextWithURLTemplate
	span     clientSpan
	// urlFull, when set, replaces otelhttp's url.full: the query had
	// values to mask.
	urlFull string

	// Written by send before otelhttp sets the span status.
	status   int
	err      error // the transport's error
	expected bool  // err is no failure (tracing.Failed): the caller cancelled
}

func (s *clientState) startOptions(opts []trace.SpanStartOption) []trace.SpanStartOption {
	if s.resend == 0 {
		return opts
	}
	return appendOption(opts, trace.WithAttributes(semconv.HTTPRequestResendCount(s.resend)))
}

// maskedURL returns u as url.full records it (without credentials) with the
// values of sensitive query parameters masked (see tracing.MaskQuery), or ""
// when its query holds nothing to mask and otelhttp's url.full stands.
func maskedURL(u *url.URL) string {
	if u == nil || u.RawQuery == "" {
		return ""
	}
	q, changed := tracing.MaskQuery(u.RawQuery)
	if !changed {
		return ""
	}
	c := *u
	c.User, c.RawQuery = nil, q
	return c.String()
}

func (s *clientState) started(span trace.Span) trace.Span {
	// Set after the start, where it costs no start option: url.template is
	// not among the attributes the conventions give samplers.
	if s.template != "" && span.IsRecording() {
		span.SetAttributes(semconv.URLTemplate(s.template))
	}
	s.span = clientSpan{Span: span, st: s}
	return &s.span
}

// clientSpan is the span otelhttp holds: a status code WithStatusIsError
// does not call an error, or an error that is no failure by the one policy
// (tracing.Failed: the caller cancelling the request), leaves the status unset
// and brings no error.type; a transport error gets the error.type every
// package records for it (tracing.ErrorType), not otelhttp's; url.full
// gets its query masked.
type clientSpan struct {
	trace.Span
	st *clientState
}

func (s *clientSpan) expected() bool {
	return s.st.expected || s.st.status >= 400 && !s.st.t.statusIsError(s.st.status)
}

func (s *clientSpan) SetStatus(code codes.Code, description string) {
	if code == codes.Error && s.expected() {
		return
	}
	s.Span.SetStatus(code, description)
}

func (s *clientSpan) SetAttributes(kv ...attribute.KeyValue) {
	if full := s.st.urlFull; full != "" {
		for i, a := range kv {
			if a.Key == semconv.URLFullKey {
				kv = append([]attribute.KeyValue(nil), kv...)
				kv[i] = semconv.URLFull(full)
				break
			}
		}
	}
	if s.expected() {
		kept := make([]attribute.KeyValue, 0, len(kv))
		for _, a := range kv {
			if a.Key != semconv.ErrorTypeKey {
				kept = append(kept, a)
			}
		}
		kv = kept
	} else if s.st.err != nil {
		kv = slices.Clone(kv)
		for i := range kv {
			if kv[i].Key == semconv.ErrorTypeKey {
				kv[i] = tracing.ErrorType(s.st.Context, s.st.err)
			}
		}
	}
	s.Span.SetAttributes(kv...)
}

// RoundTrip sends r, and, with WithRetry, sends it again while the policy
// says so: every attempt goes through otelhttp and gets its own span.
func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	for _, f := range t.filters {
		if !f(r) {
			return t.base.RoundTrip(r)
		}
	}
	resend := redirects(r)
	full := maskedURL(r.URL)
	template := ""
	if resend == 0 {
		template = urlTemplate(r.Context())
	}
	req := r
	for attempt := 0; ; attempt++ {
		st := &clientState{t: t, resend: resend + attempt, urlFull: full, template: template}
		st.stateContext = stateContext{Context: req.Context(), state: st}
		resp, err := t.otel.Get().RoundTrip(req.WithContext(st))
		if attempt >= t.retries || r.Context().Err() != nil || !t.retryable(req, resp, err) {
			return resp, err
		}
		next, ok := rewind(r)
		if !ok {
			return resp, err
		}
		if resp != nil {
			// Drain a little so that the connection can be reused.
			_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
			_ = resp.Body.Close()
		}
		if err := sleep(r.Context(), t.backoff<<attempt); err != nil {
			return nil, err
		}
		req = next
	}
}

// redirects counts the redirects http.Client followed to produce r: they
// are resends too, for http.request.resend_count.
func redirects(r *http.Request) int {
	n := 0
	for resp := r.Response; resp != nil && resp.Request != nil; resp = resp.Request.Response {
		n++
	}
	return n
}

// rewind returns r ready to be sent again: a request with a body needs
// GetBody.
func rewind(r *http.Request) (*http.Request, bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return r, true
	}
	if r.GetBody == nil {
		return nil, false
	}
	body, err := r.GetBody()
	if err != nil {
		return nil, false
	}
	next := r.Clone(r.Context())
	next.Body = body
	return next, true
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func defaultRetryable(r *http.Request, resp *http.Response, err error) bool {
	if !idempotent(r.Method) {
		return false
	}
	if err != nil {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func idempotent(method string) bool {
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// send runs inside otelhttp's span with otelhttp's own copy of the request,
// so it may set headers. It applies the propagation policy.
func (t *transport) send(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	props := t.propagators.Get()
	if t.trusted(r) {
		props.Inject(ctx, propagation.HeaderCarrier(r.Header))
	} else {
		// Nothing the propagators (or the caller) put in a header
		// leaves for an untrusted host; personal data in baggage above all.
		for _, f := range props.Fields() {
			r.Header.Del(f)
		}
		r.Header.Del("Baggage")
		r.Header.Del("Traceparent")
		r.Header.Del("Tracestate")
		if t.traceparentOut {
			if tp := w3c.FormatTraceparent(trace.SpanContextFromContext(ctx)); tp != "" {
				r.Header["Traceparent"] = []string{tp}
			}
		}
	}
	resp, err := t.base.RoundTrip(r)
	if st, ok := ctx.Value(stateKey{}).(*clientState); ok {
		if resp != nil {
			st.status = resp.StatusCode
		}
		// The caller giving up is not a failure of the call; a deadline is.
		st.err = err
		st.expected = err != nil && !tracing.Failed(ctx, trace.SpanFromContext(ctx).TracerProvider(), err, nil)
	}
	return resp, err
}
