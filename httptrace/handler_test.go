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
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/httptrace"
	"github.com/otelkit/otelkit/tracing"
	"github.com/otelkit/otelkit/tracing/w3c"
)

const remoteTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestHandler_NamesSpanFromMuxPatternWhenWrappingTheMux(t *testing.T) {
	svc := newService(t, "orders")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST example.com/orders", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(httptrace.NewHandler(mux, svc.opts()...))
	defer srv.Close()

	get(t, srv.Client(), srv.URL+"/orders/42", nil)
	get(t, srv.Client(), srv.URL+"/no/such/path", nil)
	spans := svc.ended(t, 2)

	routed, unmatched := spans[0], spans[1]
	if routed.Name() != "GET /orders/{id}" {
		t.Errorf("name = %q, want %q", routed.Name(), "GET /orders/{id}")
	}
	if routed.SpanKind() != trace.SpanKindServer {
		t.Errorf("kind = %v", routed.SpanKind())
	}
	wantAttr(t, routed, semconv.HTTPRoute("/orders/{id}"))
	wantAttr(t, routed, semconv.HTTPResponseStatusCode(200))
	if routed.InstrumentationScope().Name != httptrace.ScopeName {
		t.Errorf("scope = %q", routed.InstrumentationScope().Name)
	}
	if unmatched.Name() != "GET" {
		t.Errorf("unmatched request name = %q, want %q", unmatched.Name(), "GET")
	}
	wantNoAttr(t, unmatched, semconv.HTTPRouteKey)
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
	svc := newService(t, "orders")
	mux := http.NewServeMux()
	mux.Handle("GET /items/{id}", httptrace.NewHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), svc.opts()...))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get(t, srv.Client(), srv.URL+"/items/7", nil)
	s := svc.ended(t, 1)[0]
	if s.Name() != "GET /items/{id}" {
		t.Errorf("name = %q", s.Name())
	}
	wantAttr(t, s, semconv.HTTPRoute("/items/{id}"))
}

func TestHandler_RouteExtractorForOtherRouters(t *testing.T) {
	svc := newService(t, "orders")
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
	s := svc.ended(t, 1)[0]
	if s.Name() != "GET /carts/:cart" {
		t.Errorf("name = %q", s.Name())
	}
	wantAttr(t, s, semconv.HTTPRoute("/carts/:cart"))
	if strings.Contains(s.Name(), "c-81") {
		t.Error("raw path in the span name")
	}
}

func TestHandler_ChildOfRemoteParent(t *testing.T) {
	svc := newService(t, "orders")
	srv := httptest.NewServer(httptrace.NewHandler(http.NotFoundHandler(), svc.opts()...))
	defer srv.Close()

	get(t, srv.Client(), srv.URL, http.Header{"Traceparent": {remoteTraceparent}})
	s := svc.ended(t, 1)[0]
	if got := s.Parent(); got.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || got.SpanID().String() != "00f067aa0ba902b7" || !got.IsRemote() {
		t.Errorf("parent = %v", got)
	}
}

func TestHandler_PublicEndpointStartsLinkedRootAndDropsBaggage(t *testing.T) {
	svc := newService(t, "gateway")
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
	s := svc.ended(t, 1)[0]
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
	wantNoAttr(t, s, "user.id")
	wantNoAttr(t, s, "order.id")
}

func TestHandler_TrustedBaggageReachesTheSpan(t *testing.T) {
	svc := newService(t, "orders")
	srv := httptest.NewServer(httptrace.NewHandler(http.NotFoundHandler(), svc.opts()...))
	defer srv.Close()
	get(t, srv.Client(), srv.URL, http.Header{"Traceparent": {remoteTraceparent}, "Baggage": {"order.id=o-1"}})
	wantAttr(t, svc.ended(t, 1)[0], orderID.String("o-1"))
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
			svc := newService(t, "gateway")
			srv := httptest.NewServer(httptrace.NewHandler(http.NotFoundHandler(), svc.opts(tt.opts...)...))
			defer srv.Close()
			resp := get(t, srv.Client(), srv.URL, nil)
			tt.check(t, resp.Header, svc.ended(t, 1)[0])
		})
	}
}

func exceptionStack(s sdktrace.ReadOnlySpan) string {
	for _, e := range s.Events() {
		if e.Name == semconv.ExceptionEventName {
			for _, kv := range e.Attributes {
				if kv.Key == semconv.ExceptionStacktraceKey {
					return kv.Value.AsString()
				}
			}
		}
	}
	return ""
}

func panickingHandler(w http.ResponseWriter, r *http.Request) {
	panic(fmt.Errorf("stock table locked"))
}

func TestHandler_PanicRecordedAndRepanicked(t *testing.T) {
	svc := newService(t, "inventory")
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
	s := svc.ended(t, 1)[0]
	if s.Status().Code != codes.Error || !strings.Contains(s.Status().Description, "stock table locked") {
		t.Errorf("status = %v", s.Status())
	}
	if s.Name() != "GET /stock/{sku}" {
		t.Errorf("name = %q, want the route", s.Name())
	}
	wantAttr(t, s, semconv.HTTPRoute("/stock/{sku}"))
	wantAttr(t, s, semconv.ErrorTypeKey.String("*errors.errorString"))
	wantAttr(t, s, semconv.HTTPResponseStatusCode(500))
	if stack := exceptionStack(s); !strings.Contains(stack, "panickingHandler") {
		t.Errorf("stack does not name the panicking function:\n%s", stack)
	}
}

func TestHandler_PanicRecovered(t *testing.T) {
	svc := newService(t, "inventory")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stock/{sku}", panickingHandler)
	srv := httptest.NewServer(httptrace.NewHandler(mux, svc.opts(httptrace.WithRecoverPanics())...))
	defer srv.Close()

	resp := get(t, srv.Client(), srv.URL+"/stock/a-1", nil)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", resp.StatusCode)
	}
	s := svc.ended(t, 1)[0]
	if s.Status().Code != codes.Error || !strings.Contains(s.Status().Description, "stock table locked") {
		t.Errorf("status = %v", s.Status())
	}
	wantAttr(t, s, semconv.HTTPResponseStatusCode(500))
	wantAttr(t, s, semconv.ErrorTypeKey.String("*errors.errorString"))
	if s.Name() != "GET /stock/{sku}" {
		t.Errorf("name = %q, want the route", s.Name())
	}
	wantAttr(t, s, semconv.HTTPRoute("/stock/{sku}"))
}

func TestHandler_ErrAbortHandlerRespected(t *testing.T) {
	svc := newService(t, "gateway")
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
	s := svc.ended(t, 1)[0]
	if s.Status().Code == codes.Error || exceptionStack(s) != "" {
		t.Errorf("abort recorded as a failure: %v", s.Status())
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
			svc := newService(t, "orders")
			srv := httptest.NewServer(httptrace.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.code)
			}), svc.opts()...))
			defer srv.Close()
			get(t, srv.Client(), srv.URL, nil)
			s := svc.ended(t, 1)[0]
			if s.Status().Code != tt.status {
				t.Errorf("status = %v, want %v", s.Status().Code, tt.status)
			}
			if tt.errType == "" {
				wantNoAttr(t, s, semconv.ErrorTypeKey)
			} else {
				wantAttr(t, s, semconv.ErrorTypeKey.String(tt.errType))
			}
		})
	}
}

func TestHandler_CallerCancellingIsNotAnError(t *testing.T) {
	svc := newService(t, "orders")
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
	s := svc.ended(t, 1)[0]
	if s.Status().Code == codes.Error {
		t.Errorf("caller cancelling marked the span as error: %v", s.Status())
	}
	wantNoAttr(t, s, semconv.ErrorTypeKey)
}

func TestHandler_BusinessHook(t *testing.T) {
	svc := newService(t, "gateway")
	var carried []attribute.KeyValue
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { carried = tracing.Business(r.Context()) })
	srv := httptest.NewServer(httptrace.NewHandler(h, svc.opts(
		httptrace.WithBusinessAttributes(func(r *http.Request) []attribute.KeyValue {
			return []attribute.KeyValue{tracing.UserID.String(r.Header.Get("X-Authenticated-User"))}
		}),
	)...))
	defer srv.Close()

	get(t, srv.Client(), srv.URL, http.Header{"X-Authenticated-User": {"u-7"}})
	wantAttr(t, svc.ended(t, 1)[0], tracing.UserID.String("u-7"))
	if len(carried) != 1 || carried[0] != tracing.UserID.String("u-7") {
		t.Errorf("business context the handler sees = %v", carried)
	}
}

func TestHandler_HostStaysOffMetrics(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprint("keep=", keep), func(t *testing.T) {
			svc := newService(t, "orders")
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
			spans := svc.ended(t, 2)
			wantAttr(t, spans[0], semconv.ServerAddress("a.example"))
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
	svc := newService(t, "orders")
	srv := httptest.NewServer(httptrace.NewHandler(http.NotFoundHandler(), svc.opts(
		httptrace.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" }),
	)...))
	defer srv.Close()
	resp := get(t, srv.Client(), srv.URL+"/healthz", nil)
	get(t, srv.Client(), srv.URL+"/orders", nil)
	if resp.Header.Get("Traceresponse") != "" {
		t.Error("filtered request got a trace id")
	}
	if s := svc.ended(t, 1); s[0].Name() != "GET" {
		t.Errorf("spans = %v", names(s))
	}
}

func TestHandler_BodyAndWriterStillWork(t *testing.T) {
	svc := newService(t, "orders")
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
	s := svc.ended(t, 1)[0]
	wantAttr(t, s, semconv.HTTPRequestBodySize(2))
	wantAttr(t, s, semconv.HTTPResponseBodySize(7))
}

func TestHandler_SpanNameFormatterAndMetricAttributes(t *testing.T) {
	svc := newService(t, "orders")
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
	if s := svc.ended(t, 1)[0]; s.Name() != "orders GET" {
		t.Errorf("name = %q", s.Name())
	}
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
			svc := newService(t, "orders")
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
			s := svc.ended(t, 1)[0]
			if s.Name() != "GET /orders/{id}" {
				t.Errorf("name = %q", s.Name())
			}
			if calls != 1 {
				t.Errorf("hook ran %d times, want once", calls)
			}
			wantAttr(t, s, tracing.UserID.String("u-7"))
			want := []attribute.KeyValue{tracing.UserID.String("u-7")}
			if tc.wantOrder {
				wantAttr(t, s, orderID.String("o-42"))
				want = []attribute.KeyValue{orderID.String("o-42"), tracing.UserID.String("u-7")} // by key
			} else {
				// Before routing the path value is empty, and an empty
				// business value is never written.
				wantNoAttr(t, s, orderID.Key())
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
	svc := newService(t, "gateway")
	h := httptrace.NewHandler(http.NotFoundHandler(), svc.opts(httptrace.WithPublicEndpoint())...)
	ctx, outer := svc.tp.Tracer("test").Start(context.Background(), "outer")
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil))
	outer.End()
	s := svc.ended(t, 2)[0]
	if s.SpanKind() != trace.SpanKindServer {
		t.Fatalf("first span = %q", s.Name())
	}
	if len(s.Links()) != 0 {
		t.Errorf("links = %v, want none", s.Links())
	}
	if s.Parent().SpanID() != outer.SpanContext().SpanID() {
		t.Errorf("parent = %v, want the span of the request's context", s.Parent())
	}
}
