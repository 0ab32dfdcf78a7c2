package httptrace_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/httptrace"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
	"github.com/otelkit/otelkit/tracing/w3c"
)

const remoteTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestHandler_NamesSpanFromMuxPatternWhenWrappingTheMux(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST example.com/orders", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(httptrace.NewHandler(mux, svc.opts()...))
	defer srv.Close()

	get(t, srv.Client(), srv.URL+"/orders/42", nil)
	get(t, srv.Client(), srv.URL+"/no/such/path", nil)
	routed := rec.WaitFor(t, "GET /orders/{id}", isServer)
	unmatched := rec.WaitFor(t, "GET", isServer)
	rec.AssertAttrs(t, routed, semconv.HTTPRoute("/orders/{id}"))
	rec.AssertAttrs(t, routed, semconv.HTTPResponseStatusCode(200))
	if routed.InstrumentationScope().Name != httptrace.ScopeName {
		t.Errorf("scope = %q", routed.InstrumentationScope().Name)
	}
	rec.AssertNoAttrs(t, unmatched, semconv.HTTPRouteKey)
	if unmatched.Status().Code != codes.Unset {
		t.Errorf("404 on the server is an error: %v", unmatched.Status())
	}

	var routes []string
	for _, set := range svc.metricAttrs(t, "http.server.request.duration") {
		v, _ := set.Value(semconv.HTTPRouteKey)
		routes = append(routes, v.AsString())
	}
	if !strings.Contains(strings.Join(routes, ","), "/orders/{id}") {
		t.Errorf("metric routes = %v", routes)
	}
}

func TestHandler_RouteAtStartWhenWrappedInsideTheMux(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	mux := http.NewServeMux()
	mux.Handle("GET /items/{id}", httptrace.NewHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), svc.opts()...))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get(t, srv.Client(), srv.URL+"/items/7", nil)
	s := rec.WaitFor(t, "GET /items/{id}", isServer)
	rec.AssertAttrs(t, s, semconv.HTTPRoute("/items/{id}"))
}

func TestHandler_RouteExtractorForOtherRouters(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	// A router that is not a ServeMux, and records its match where the
	// extractor can find it.
	type matchKey struct{}
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m, ok := r.Context().Value(matchKey{}).(*string); ok && strings.HasPrefix(r.URL.Path, "/carts/") {
			*m = "/carts/:cart"
		}
	})
	extract := func(r *http.Request) string {
		m, _ := r.Context().Value(matchKey{}).(*string)
		return *m
	}
	h := httptrace.NewHandler(router, svc.opts(httptrace.WithRouteExtractor(extract))...)
	withMatch := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), matchKey{}, new(string))))
	})
	srv := httptest.NewServer(withMatch)
	defer srv.Close()

	get(t, srv.Client(), srv.URL+"/carts/c-81", nil)
	s := rec.WaitFor(t, "GET /carts/:cart", isServer)
	rec.AssertAttrs(t, s, semconv.HTTPRoute("/carts/:cart"))
	if strings.Contains(s.Name(), "c-81") {
		t.Error("raw path in the span name")
	}
}

func TestHandler_ChildOfRemoteParent(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	srv := httptest.NewServer(httptrace.NewHandler(http.NotFoundHandler(), svc.opts()...))
	defer srv.Close()

	get(t, srv.Client(), srv.URL, http.Header{"Traceparent": {remoteTraceparent}})
	s := rec.WaitFor(t, "GET", isServer)
	if got := s.Parent(); got.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || got.SpanID().String() != "00f067aa0ba902b7" || !got.IsRemote() {
		t.Errorf("parent = %v", got)
	}
}

func TestHandler_PublicEndpointStartsLinkedRootAndDropsBaggage(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "gateway")
	var seen baggage.Baggage
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = baggage.FromContext(r.Context()) })
	srv := httptest.NewServer(httptrace.NewHandler(h, svc.opts(
		httptrace.WithPublicEndpoint(),
		httptrace.WithEdgeBaggage("session.locale"),
	)...))
	defer srv.Close()

	get(t, srv.Client(), srv.URL, http.Header{
		"Traceparent": {remoteTraceparent},
		"Baggage":     {"user.id=admin,session.locale=fr,order.id=forged"},
	})
	s := rec.WaitFor(t, "GET", isServer)
	if s.Parent().IsValid() {
		t.Errorf("untrusted context became the parent: %v", s.Parent())
	}
	if s.SpanContext().TraceID().String() == "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Error("untrusted trace id kept")
	}
	if len(s.Links()) != 1 || s.Links()[0].SpanContext.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("links = %v", s.Links())
	}
	if got := seen.String(); got != "session.locale=fr" {
		t.Errorf("baggage the handler sees = %q, want only the allowlisted member", got)
	}
	rec.AssertNoAttrs(t, s, "user.id")
	rec.AssertNoAttrs(t, s, "order.id")
}

func TestHandler_TrustedBaggageReachesTheSpan(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	srv := httptest.NewServer(httptrace.NewHandler(http.NotFoundHandler(), svc.opts()...))
	defer srv.Close()
	get(t, srv.Client(), srv.URL, http.Header{"Traceparent": {remoteTraceparent}, "Baggage": {"order.id=o-1"}})
	rec.AssertAttrs(t, rec.WaitFor(t, "GET", isServer), orderID.String("o-1"))
}

func TestHandler_ResponseHeaders(t *testing.T) {
	tests := []struct {
		name  string
		opts  []httptrace.Option
		check func(t *testing.T, h http.Header, s sdktrace.ReadOnlySpan)
	}{
		{"traceresponse by default", nil, func(t *testing.T, h http.Header, s sdktrace.ReadOnlySpan) {
			if got, want := h.Get("Traceresponse"), w3c.FormatTraceparent(s.SpanContext()); got != want {
				t.Errorf("traceresponse = %q, want %q", got, want)
			}
			if h.Get("Access-Control-Expose-Headers") != "" {
				t.Error("headers exposed by default")
			}
		}},
		{"server timing", []httptrace.Option{httptrace.WithResponseHeader(httptrace.ServerTiming)}, func(t *testing.T, h http.Header, s sdktrace.ReadOnlySpan) {
			if got, want := h.Get("Server-Timing"), `traceparent;desc="`+w3c.FormatTraceparent(s.SpanContext())+`"`; got != want {
				t.Errorf("Server-Timing = %q, want %q", got, want)
			}
			if h.Get("Traceresponse") != "" {
				t.Error("traceresponse set too")
			}
		}},
		{"named header exposed to browsers", []httptrace.Option{
			httptrace.WithResponseHeader(httptrace.NoResponseHeader),
			httptrace.WithTraceIDHeader("x-trace-id"),
			httptrace.WithExposeTraceHeaders(),
		}, func(t *testing.T, h http.Header, s sdktrace.ReadOnlySpan) {
			if got := h.Get("X-Trace-Id"); got != s.SpanContext().TraceID().String() {
				t.Errorf("X-Trace-Id = %q, want %s", got, s.SpanContext().TraceID())
			}
			if got := h.Get("Access-Control-Expose-Headers"); got != "X-Trace-Id" {
				t.Errorf("Access-Control-Expose-Headers = %q", got)
			}
			if h.Get("Traceresponse") != "" {
				t.Error("traceresponse set")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t)
			svc := newService(t, rec, "gateway")
			srv := httptest.NewServer(httptrace.NewHandler(http.NotFoundHandler(), svc.opts(tt.opts...)...))
			defer srv.Close()
			resp := get(t, srv.Client(), srv.URL, nil)
			tt.check(t, resp.Header, rec.WaitFor(t, "GET", isServer))
		})
	}
}

func panickingHandler(w http.ResponseWriter, r *http.Request) {
	panic(fmt.Errorf("stock table locked"))
}

func TestHandler_PanicRecordedAndRepanicked(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "inventory")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stock/{sku}", panickingHandler)
	h := httptrace.NewHandler(mux, svc.opts()...)

	func() {
		defer func() {
			if v := recover(); v == nil {
				t.Error("panic swallowed by default")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/stock/a-1", nil))
	}()
	s := rec.WaitFor(t, "GET /stock/{sku}", isServer)
	if s.Status().Code != codes.Error || !strings.Contains(s.Status().Description, "stock table locked") {
		t.Errorf("status = %v", s.Status())
	}
	rec.AssertAttrs(t, s, semconv.HTTPRoute("/stock/{sku}"))
	rec.AssertAttrs(t, s, semconv.ErrorTypeKey.String("*errors.errorString"))
	rec.AssertAttrs(t, s, semconv.HTTPResponseStatusCode(500))
	e, _ := tracingtest.Event(s, semconv.ExceptionEventName)
	if stack, _ := tracingtest.Attr(e.Attributes, semconv.ExceptionStacktraceKey); !strings.Contains(stack.AsString(), "panickingHandler") {
		t.Errorf("stack does not name the panicking function:\n%s", stack.AsString())
	}
}

func TestHandler_PanicRecovered(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "inventory")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stock/{sku}", panickingHandler)
	srv := httptest.NewServer(httptrace.NewHandler(mux, svc.opts(httptrace.WithRecoverPanics())...))
	defer srv.Close()

	resp := get(t, srv.Client(), srv.URL+"/stock/a-1", nil)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", resp.StatusCode)
	}
	s := rec.WaitFor(t, "GET /stock/{sku}", isServer)
	if s.Status().Code != codes.Error || !strings.Contains(s.Status().Description, "stock table locked") {
		t.Errorf("status = %v", s.Status())
	}
	rec.AssertAttrs(t, s, semconv.HTTPResponseStatusCode(500))
	rec.AssertAttrs(t, s, semconv.ErrorTypeKey.String("*errors.errorString"))
	rec.AssertAttrs(t, s, semconv.HTTPRoute("/stock/{sku}"))
}

func TestHandler_ErrAbortHandlerRespected(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "gateway")
	h := httptrace.NewHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }),
		svc.opts(httptrace.WithRecoverPanics())...)
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler { //nolint:errorlint // identity is the contract
				t.Errorf("recovered %v, want http.ErrAbortHandler re-raised", v)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	}()
	s := rec.WaitFor(t, "GET", isServer)
	e, _ := tracingtest.Event(s, semconv.ExceptionEventName)
	if _, stack := tracingtest.Attr(e.Attributes, semconv.ExceptionStacktraceKey); s.Status().Code == codes.Error || stack {
		t.Errorf("abort recorded as a failure: %v, events %v", s.Status(), s.Events())
	}
}

func TestHandler_StatusMapping(t *testing.T) {
	tests := []struct {
		code    int
		status  codes.Code
		errType string
	}{
		{200, codes.Unset, ""},
		{404, codes.Unset, ""},
		{429, codes.Unset, ""},
		{500, codes.Error, "500"},
		{503, codes.Error, "503"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			rec := newRecorder(t)
			svc := newService(t, rec, "orders")
			srv := httptest.NewServer(httptrace.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.code)
			}), svc.opts()...))
			defer srv.Close()
			get(t, srv.Client(), srv.URL, nil)
			s := rec.WaitFor(t, "GET", isServer)
			if s.Status().Code != tt.status {
				t.Errorf("status = %v, want %v", s.Status().Code, tt.status)
			}
			if tt.errType == "" {
				rec.AssertNoAttrs(t, s, semconv.ErrorTypeKey)
			} else {
				rec.AssertAttrs(t, s, semconv.ErrorTypeKey.String(tt.errType))
			}
		})
	}
}

func TestHandler_CallerCancellingIsNotAnError(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	started := make(chan struct{})
	srv := httptest.NewServer(httptrace.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		http.Error(w, r.Context().Err().Error(), http.StatusInternalServerError)
	}), svc.opts()...))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	go func() {
		<-started
		cancel()
	}()
	if _, err := srv.Client().Do(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	s := rec.WaitFor(t, "GET", isServer)
	if s.Status().Code == codes.Error {
		t.Errorf("caller cancelling marked the span as error: %v", s.Status())
	}
	rec.AssertNoAttrs(t, s, semconv.ErrorTypeKey)
}

func TestHandler_BusinessHook(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "gateway")
	var carried []attribute.KeyValue
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { carried = tracing.Business(r.Context()) })
	srv := httptest.NewServer(httptrace.NewHandler(h, svc.opts(
		httptrace.WithBusinessAttributes(func(r *http.Request) []attribute.KeyValue {
			return []attribute.KeyValue{tracing.UserID.String(r.Header.Get("X-Authenticated-User"))}
		}),
	)...))
	defer srv.Close()

	get(t, srv.Client(), srv.URL, http.Header{"X-Authenticated-User": {"u-7"}})
	rec.AssertAttrs(t, rec.WaitFor(t, "GET", isServer), tracing.UserID.String("u-7"))
	if len(carried) != 1 || carried[0] != tracing.UserID.String("u-7") {
		t.Errorf("business context the handler sees = %v", carried)
	}
}

func TestHandler_HostStaysOffMetrics(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprint("keep=", keep), func(t *testing.T) {
			rec := newRecorder(t)
			svc := newService(t, rec, "orders")
			opts := svc.opts()
			if keep {
				opts = append(opts, httptrace.WithHostInMetrics())
			}
			srv := httptest.NewServer(httptrace.NewHandler(http.NotFoundHandler(), opts...))
			defer srv.Close()
			for _, host := range []string{"a.example", "b.example"} {
				req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
				req.Host = host
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
			}
			rec.WaitForN(t, 2, "GET", isServer)
			rec.Span(t, "GET", tracingtest.WithAttr(semconv.ServerAddress("a.example")))
			rec.Span(t, "GET", tracingtest.WithAttr(semconv.ServerAddress("b.example")))
			for _, name := range []string{"http.server.request.duration", "http.server.request.body.size", "http.server.response.body.size"} {
				sets := svc.metricAttrs(t, name)
				_, has := sets[0].Value(semconv.ServerAddressKey)
				if has != keep {
					t.Errorf("%s: server.address present = %v, want %v (%v)", name, has, keep, sets[0].Encoded(attributeEncoder))
				}
				if want := map[bool]int{false: 1, true: 2}[keep]; len(sets) != want {
					t.Errorf("%s: %d series, want %d", name, len(sets), want)
				}
			}
		})
	}
}

var attributeEncoder = attribute.DefaultEncoder()

func TestHandler_FilteredRequestsAreNotTraced(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	srv := httptest.NewServer(httptrace.NewHandler(http.NotFoundHandler(), svc.opts(
		httptrace.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" }),
	)...))
	defer srv.Close()
	resp := get(t, srv.Client(), srv.URL+"/healthz", nil)
	get(t, srv.Client(), srv.URL+"/orders", nil)
	if resp.Header.Get("Traceresponse") != "" {
		t.Error("filtered request got a trace id")
	}
	rec.WaitFor(t, "GET", isServer, tracingtest.WithAttr(semconv.URLPath("/orders")))
	rec.AssertNoSpan(t, "GET", tracingtest.WithAttr(semconv.URLPath("/healthz")))
}

func TestHandler_BodyAndWriterStillWork(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	srv := httptest.NewServer(httptrace.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(append([]byte("echo:"), b...))
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}), svc.opts()...))
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL, "text/plain", strings.NewReader("hi"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(b) != "echo:hi" {
		t.Errorf("body = %q", b)
	}
	s := rec.WaitFor(t, "POST", isServer)
	rec.AssertAttrs(t, s, semconv.HTTPRequestBodySize(2))
	rec.AssertAttrs(t, s, semconv.HTTPResponseBodySize(7))
}

func TestHandler_SpanNameFormatterAndMetricAttributes(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(http.ResponseWriter, *http.Request) {})
	srv := httptest.NewServer(httptrace.NewHandler(mux, svc.opts(
		httptrace.WithSpanNameFormatter(func(r *http.Request) string { return "orders " + r.Method }),
		httptrace.WithMetricAttributesFn(func(r *http.Request) []attribute.KeyValue {
			return []attribute.KeyValue{attribute.String("api.version", "v2")}
		}),
	)...))
	defer srv.Close()
	get(t, srv.Client(), srv.URL+"/orders/1", nil)
	rec.WaitFor(t, "orders GET", isServer)
	set := svc.metricAttrs(t, "http.server.request.duration")[0]
	if v, _ := set.Value("api.version"); v.AsString() != "v2" {
		t.Errorf("metric attributes = %v", set.Encoded(attributeEncoder))
	}
}

// A middleware that wraps the mux receives the request before routing; a
// route wrapped with Routed runs the business hook after routing, once,
// with its path values.
func TestHandler_BusinessHookSeesRoutedRequest(t *testing.T) {
	for _, tc := range []struct {
		name      string
		routed    bool
		wantOrder bool
	}{
		{"Routed route", true, true},
		{"plain route", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t)
			svc := newService(t, rec, "orders")
			var calls int
			var carried []attribute.KeyValue
			var route http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { carried = tracing.Business(r.Context()) })
			if tc.routed {
				route = httptrace.Routed(route)
			}
			mux := http.NewServeMux()
			mux.Handle("GET /orders/{id}", route)
			srv := httptest.NewServer(httptrace.NewHandler(mux, svc.opts(
				httptrace.WithBusinessAttributes(func(r *http.Request) []attribute.KeyValue {
					calls++
					return []attribute.KeyValue{
						tracing.UserID.String(r.Header.Get("X-Authenticated-User")),
						orderID.String(r.PathValue("id")),
					}
				}),
			)...))
			defer srv.Close()

			get(t, srv.Client(), srv.URL+"/orders/o-42", http.Header{"X-Authenticated-User": {"u-7"}})
			s := rec.WaitFor(t, "GET /orders/{id}", isServer)
			if calls != 1 {
				t.Errorf("hook ran %d times, want once", calls)
			}
			rec.AssertAttrs(t, s, tracing.UserID.String("u-7"))
			want := []attribute.KeyValue{tracing.UserID.String("u-7")}
			if tc.wantOrder {
				rec.AssertAttrs(t, s, orderID.String("o-42"))
				want = []attribute.KeyValue{orderID.String("o-42"), tracing.UserID.String("u-7")} // by key
			} else {
				// Before routing the path value is empty, and an empty
				// business value is never written.
				rec.AssertNoAttrs(t, s, orderID.Key())
			}
			if !slices.Equal(carried, want) {
				t.Errorf("business context the handler sees = %v, want %v", carried, want)
			}
		})
	}
}

// A public request without trace context links nothing, also when the
// request's own context holds a span of this process (an outer middleware's).
func TestHandler_PublicEndpointLinksOnlyTheRemoteContext(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "gateway")
	h := httptrace.NewHandler(http.NotFoundHandler(), svc.opts(httptrace.WithPublicEndpoint())...)
	ctx, outer := svc.tp.Tracer("test").Start(context.Background(), "outer")
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil))
	outer.End()
	s := rec.WaitFor(t, "GET", isServer)
	if len(s.Links()) != 0 {
		t.Errorf("links = %v, want none", s.Links())
	}
	rec.AssertParent(t, outer, s)
}
