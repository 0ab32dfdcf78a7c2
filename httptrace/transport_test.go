package httptrace_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/httptrace"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

// TestTwoServices_ParentChild runs gateway -> orders over real HTTP: one
// trace, gateway server -> gateway client -> orders server, with the
// business context set at the edge on the spans of both services.
func TestTwoServices_ParentChild(t *testing.T) {
	rec := newRecorder(t)
	gw, orders := newService(t, rec, "gateway"), newService(t, rec, "orders")

	ordersSrv := httptest.NewServer(httptrace.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	}), orders.opts()...))
	defer ordersSrv.Close()

	client := &http.Client{Transport: httptrace.NewTransport(nil, gw.opts()...)}
	gwSrv := httptest.NewServer(httptrace.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, ordersSrv.URL+"/orders", nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_ = resp.Body.Close()
	}), gw.opts(
		httptrace.WithPublicEndpoint(),
		httptrace.WithBusinessAttributes(func(r *http.Request) []attribute.KeyValue {
			return []attribute.KeyValue{orderID.String("o-42")}
		}),
	)...))
	defer gwSrv.Close()

	get(t, gwSrv.Client(), gwSrv.URL, nil)

	gwServer := rec.WaitFor(t, "GET", isServer, tracingtest.InService("gateway"))
	gwClient := rec.WaitFor(t, "POST", isClient, tracingtest.InService("gateway"))
	ordersSpan := rec.WaitFor(t, "POST", isServer, tracingtest.InService("orders"))
	rec.AssertParent(t, gwServer, gwClient)
	rec.AssertParent(t, gwClient, ordersSpan)
	if !ordersSpan.Parent().IsRemote() {
		t.Errorf("orders span parent = %v, want the remote gateway client span", ordersSpan.Parent())
	}
	rec.AssertAttrs(t, gwServer, orderID.String("o-42"))
	rec.AssertAttrs(t, gwClient, orderID.String("o-42"))
	rec.AssertAttrs(t, ordersSpan, orderID.String("o-42"))
	rec.AssertAttrs(t, gwClient, semconv.HTTPResponseStatusCode(201))
}

func TestTransport_RandomFlagKept(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("Traceparent") }))
	defer srv.Close()
	client := &http.Client{Transport: httptrace.NewTransport(nil, svc.opts()...)}
	in := httptrace.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, srv.URL, nil)
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
	}), svc.opts()...)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03")
	in.ServeHTTP(httptest.NewRecorder(), req)
	if !strings.HasPrefix(got, "00-4bf92f3577b34da6a3ce929d0e0e4736-") || !strings.HasSuffix(got, "-03") {
		t.Errorf("outbound traceparent = %q, want the trace id with flags 03", got)
	}
}

// thirdParty is a server outside the company: it records what arrives.
type thirdParty struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newThirdParty(t *testing.T) *thirdParty {
	tp := &thirdParty{}
	tp.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tp.mu.Lock()
		tp.headers = append(tp.headers, r.Header.Clone())
		tp.mu.Unlock()
	}))
	t.Cleanup(tp.Close)
	return tp
}

func TestTransport_PropagationPolicy(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "payments")
	provider := newThirdParty(t)
	internal := newThirdParty(t)
	trusted := httptrace.WithTrustedHostFn(func(r *http.Request) bool { return r.URL.Host == internal.Listener.Addr().String() })

	call := func(t *testing.T, url string, opts ...httptrace.Option) {
		t.Helper()
		ctx, span := svc.tp.Tracer("test").Start(context.Background(), "payments.charge")
		defer span.End()
		ctx = tracing.SetBusiness(ctx, tracing.UserID.String("alice@example.com"), orderID.String("o-1"))
		client := &http.Client{Transport: httptrace.NewTransport(nil, svc.opts(append([]httptrace.Option{trusted}, opts...)...)...)}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
		req.Header.Set("Baggage", "api.key=set-by-hand")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}

	t.Run("untrusted host gets nothing", func(t *testing.T) {
		call(t, provider.URL)
		h := provider.headers[len(provider.headers)-1]
		for _, k := range []string{"Baggage", "Traceparent", "Tracestate"} {
			if v := h.Values(k); v != nil {
				t.Errorf("third party received %s: %q", k, v)
			}
		}
	})
	t.Run("untrusted host gets traceparent when allowed", func(t *testing.T) {
		call(t, provider.URL, httptrace.WithTraceparentToUntrusted())
		h := provider.headers[len(provider.headers)-1]
		if h.Get("Traceparent") == "" {
			t.Error("no traceparent")
		}
		if v := h.Values("Baggage"); v != nil {
			t.Errorf("third party received baggage %q", v)
		}
	})
	t.Run("trusted host gets context and baggage", func(t *testing.T) {
		call(t, internal.URL)
		h := internal.headers[len(internal.headers)-1]
		if h.Get("Traceparent") == "" {
			t.Error("no traceparent")
		}
		if b := h.Get("Baggage"); !strings.Contains(b, "order.id=o-1") {
			t.Errorf("baggage = %q", b)
		}
	})
}

func TestInternalHost(t *testing.T) {
	tests := map[string]bool{
		"http://inventory:8080/x":                  true,
		"http://localhost/x":                       true,
		"http://127.0.0.1:9/x":                     true,
		"http://[::1]/x":                           true,
		"http://10.1.2.3/x":                        true,
		"http://192.168.0.7/x":                     true,
		"http://orders.shop.svc.cluster.local/x":   true,
		"http://ledger.internal/x":                 true,
		"https://api.stripe.com/v1/charges":        false,
		"https://8.8.8.8/":                         false,
		"https://payments.example.com.evil.test/x": false,
	}
	for url, want := range tests {
		r := httptest.NewRequest(http.MethodGet, url, nil)
		if got := httptrace.InternalHost(r); got != want {
			t.Errorf("InternalHost(%s) = %v, want %v", url, got, want)
		}
	}
}

func TestTransport_RetriesOneSpanPerAttempt(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()

	client := &http.Client{Transport: httptrace.NewTransport(nil, svc.opts(httptrace.WithRetry(3, 0, nil))...)}
	resp := get(t, client, srv.URL+"/stock", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	spans := rec.WaitForN(t, 3, "GET", isClient)
	for i, s := range spans {
		if i == 0 {
			rec.AssertNoAttrs(t, s, semconv.HTTPRequestResendCountKey)
		} else {
			rec.AssertAttrs(t, s, semconv.HTTPRequestResendCount(i))
		}
		wantCode, wantStatus := 503, codes.Error
		if i == 2 {
			wantCode, wantStatus = 200, codes.Unset
		}
		rec.AssertAttrs(t, s, semconv.HTTPResponseStatusCode(wantCode))
		if s.Status().Code != wantStatus {
			t.Errorf("attempt %d: status %v, want %v", i, s.Status().Code, wantStatus)
		}
	}
}

func TestTransport_RetryResendsBody(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		if len(bodies) == 1 {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	client := &http.Client{Transport: httptrace.NewTransport(nil, svc.opts(httptrace.WithRetry(1, 0, nil))...)}
	req, _ := http.NewRequest(http.MethodPut, srv.URL, strings.NewReader("stock=3"))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if len(bodies) != 2 || bodies[1] != "stock=3" {
		t.Errorf("bodies = %q", bodies)
	}
	rec.WaitForN(t, 2, "PUT", isClient)
}

func TestTransport_RedirectIsAResend(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusFound)
		}
	}))
	defer srv.Close()
	client := &http.Client{Transport: httptrace.NewTransport(nil, svc.opts()...)}
	get(t, client, srv.URL+"/old", nil)
	spans := rec.WaitForN(t, 2, "GET", isClient)
	rec.AssertNoAttrs(t, spans[0], semconv.HTTPRequestResendCountKey)
	rec.AssertAttrs(t, spans[1], semconv.HTTPRequestResendCount(1))
}

func TestTransport_ClientErrorStatus(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	for _, tt := range []struct {
		name   string
		opts   []httptrace.Option
		status codes.Code
	}{
		{"404 is an error by default", nil, codes.Error},
		{"404 expected", []httptrace.Option{httptrace.WithStatusIsError(func(code int) bool { return code >= 400 && code != 404 })}, codes.Unset},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t)
			svc := newService(t, rec, "orders")
			client := &http.Client{Transport: httptrace.NewTransport(nil, svc.opts(tt.opts...)...)}
			get(t, client, srv.URL, nil)
			s := rec.WaitFor(t, "GET", isClient)
			if s.Status().Code != tt.status {
				t.Errorf("status = %v, want %v", s.Status().Code, tt.status)
			}
			if tt.status == codes.Error {
				rec.AssertAttrs(t, s, semconv.ErrorTypeKey.String("404"))
			} else {
				rec.AssertNoAttrs(t, s, semconv.ErrorTypeKey)
			}
			rec.AssertAttrs(t, s, semconv.HTTPResponseStatusCode(404))
		})
	}
}

func TestTransport_TransportErrorRecorded(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	client := &http.Client{Transport: httptrace.NewTransport(nil, svc.opts()...)}
	if _, err := client.Get(url); err == nil {
		t.Fatal("no error from a closed server")
	}
	rec.AssertError(t, rec.WaitFor(t, "GET", isClient), "")
}

func TestWithTrustedHosts(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "orders")
	var got []string
	rt := httptrace.NewTransport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = append(got, r.URL.Hostname()+":"+r.Header.Get("Traceparent"))
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	}), svc.opts(httptrace.WithTrustedHosts("ledger", ".corp.example"))...)
	ctx, span := svc.tp.Tracer("test").Start(context.Background(), "orders.create")
	defer span.End()
	for _, u := range []string{"http://ledger/x", "http://a.corp.example/x", "http://corp.example/x", "http://inventory/x"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	for i, trusted := range []bool{true, true, false, false} {
		if has := !strings.HasSuffix(got[i], ":"); has != trusted {
			t.Errorf("%s: traceparent sent = %v, want %v", got[i], has, trusted)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransport_CallerCancellingIsNotAnError(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "gateway")
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	}))
	defer srv.Close()
	client := &http.Client{Transport: httptrace.NewTransport(nil, svc.opts()...)}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/recommendations", nil)
	if _, err := client.Do(req); err == nil {
		t.Fatal("no error")
	}
	s := rec.WaitFor(t, "GET", isClient)
	if s.Status().Code == codes.Error {
		t.Errorf("cancelled call is an error: %v", s.Status())
	}
	rec.AssertNoAttrs(t, s, semconv.ErrorTypeKey)

	// A deadline is a failure (a timeout).
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer slow.Close()
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, slow.URL+"/recommendations", nil)
	if _, err := client.Do(req); err == nil {
		t.Fatal("no error")
	}
	s = rec.WaitForN(t, 2, "GET", isClient)[1]
	if s.Status().Code != codes.Error {
		t.Errorf("timed out call: status %v, want Error", s.Status())
	}
}

// TestTransport_URLFullMasksQueryCredentials checks the client span's
// url.full at the source, with no redacting exporter behind it: the values
// of the conventions' sensitive parameters and of secret-looking ones are
// REDACTED, names and other values kept, credentials removed; personal
// data is left for the exporter's redactor to hash.
func TestTransport_URLFullMasksQueryCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	rec := newRecorder(t)
	client := newService(t, rec, "client")
	c := &http.Client{Transport: httptrace.NewTransport(nil, client.opts()...)}
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct{ query, want string }{
		{"token=abc&api_key=k1&page=2", "token=REDACTED&api_key=REDACTED&page=2"},
		{"AWSAccessKeyId=AKIA&Signature=c2ln&sig=x&X-Goog-Signature=y&Expires=1", "AWSAccessKeyId=REDACTED&Signature=REDACTED&sig=REDACTED&X-Goog-Signature=REDACTED&Expires=1"},
		{"page=2&email=a@example.com", "page=2&email=a@example.com"},
	} {
		rec.Reset()
		resp, err := c.Get("http://app:hunter2@" + host + "/p?" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		span := rec.WaitFor(t, "GET", isClient)
		want := "http://" + host + "/p?" + tc.want
		var got []string
		for _, kv := range span.Attributes() {
			if kv.Key == semconv.URLFullKey {
				got = append(got, kv.Value.AsString())
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("url.full = %q, want [%q]", got, want)
		}
	}
}

func TestTransport_URLTemplateNamesTheSpan(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, tc := range []struct {
		name     string
		template string // "" = no ContextWithURLTemplate
		want     string
	}{
		{"template", "/orders/{id}", "GET /orders/{id}"},
		{"no template", "", "GET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t)
			svc := newService(t, rec, "checkout")
			client := &http.Client{Transport: httptrace.NewTransport(nil, svc.opts()...)}
			ctx := context.Background()
			if tc.template != "" {
				ctx = httptrace.ContextWithURLTemplate(ctx, tc.template)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/orders/o-42", nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			s := rec.WaitFor(t, tc.want, isClient)
			if tc.template != "" {
				rec.AssertAttrs(t, s, semconv.URLTemplate(tc.template))
			} else {
				rec.AssertNoAttrs(t, s, semconv.URLTemplateKey)
			}
			rec.AssertAttrs(t, s, semconv.URLFull(srv.URL+"/orders/o-42"))
		})
	}
}

// A redirect goes to a URL the template does not describe: its span is
// named by the method only.
func TestTransport_URLTemplateNotKeptOnRedirect(t *testing.T) {
	rec := newRecorder(t)
	svc := newService(t, rec, "checkout")
	mux := http.NewServeMux()
	mux.HandleFunc("/old/{id}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusFound) })
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := &http.Client{Transport: httptrace.NewTransport(nil, svc.opts()...)}
	req, _ := http.NewRequestWithContext(httptrace.ContextWithURLTemplate(context.Background(), "/old/{id}"), http.MethodGet, srv.URL+"/old/7", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	first := rec.WaitFor(t, "GET /old/{id}", isClient)
	redirected := rec.WaitFor(t, "GET", isClient)
	// The template names the first attempt, not the redirect.
	rec.AssertNoAttrs(t, first, semconv.HTTPRequestResendCountKey)
	rec.AssertAttrs(t, redirected, semconv.HTTPRequestResendCount(1))
	rec.AssertNoAttrs(t, redirected, semconv.URLTemplateKey)
}
