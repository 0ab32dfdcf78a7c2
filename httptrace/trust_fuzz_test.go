package httptrace

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/tracingtest"
)

// fuzzRequest parses rawURL as a client would send it; ok is false when it is
// not a URL with a host.
func fuzzRequest(rawURL string) (*http.Request, bool) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, false
	}
	return &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}}, true
}

var fuzzInternalSuffixes = []string{".local", ".internal", ".localhost", ".svc", ".cluster.local"}

// FuzzInternalHost checks the default trust policy on any host: it never
// panics, ignores case and port, and trusts a dotted name only under an
// internal suffix and an IP address only when it is loopback, private or
// link-local.
func FuzzInternalHost(f *testing.F) {
	for _, h := range []string{"inventory", "localhost", "api.stripe.com", "10.0.0.7", "8.8.8.8", "[::1]", "[fe80::1%25eth0]",
		"[::ffff:10.1.2.3]", "db.svc", "Orders.Cluster.Local", "evil.com.local.attacker.io", "1.2.3.4.svc", "2130706433",
		"[2001:db8::1]", "xn--bcher-kva.internal", "a..b", "."} {
		f.Add(h, "8443")
	}
	f.Fuzz(func(t *testing.T, host, port string) {
		r, ok := fuzzRequest("http://" + host)
		if !ok {
			return
		}
		got := InternalHost(r)
		if u, ok := fuzzRequest("http://" + strings.ToUpper(host)); ok && InternalHost(u) != got {
			t.Fatalf("%q trusted %v, upper case %v", host, got, !got)
		}
		if p, ok := fuzzRequest("http://" + host + ":" + port); ok && p.URL.Hostname() == r.URL.Hostname() && InternalHost(p) != got {
			t.Fatalf("%q trusted %v, with port %q %v", host, got, port, !got)
		}
		if !got {
			return
		}
		name := strings.ToLower(r.URL.Hostname())
		if ip, err := netip.ParseAddr(name); err == nil {
			ip = ip.Unmap()
			if !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() {
				t.Fatalf("public address %q trusted", host)
			}
			return
		}
		if strings.Contains(name, ".") && !slices.ContainsFunc(fuzzInternalSuffixes, func(s string) bool { return strings.HasSuffix(name, s) }) {
			t.Fatalf("%q trusted: dotted, not an address, no internal suffix", host)
		}
	})
}

// FuzzTrustedHosts checks WithTrustedHosts against its definition: a host
// is trusted exactly when it equals an entry, or ends with an entry that
// starts with a dot, ignoring ASCII case and the port.
func FuzzTrustedHosts(f *testing.F) {
	for _, c := range [][2]string{{"inventory", "inventory"}, {".corp.example", "api.corp.example"}, {".corp.example", "corp.example"},
		{"Inventory", "INVENTORY:8080"}, {"", "x"}, {".", "evil."}, {"corp.example", "evilcorp.example"}, {".svc", "[::1]"},
		{"k.svc", "\u212a.svc"}, {"api.example", "api.example.attacker.io"}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, entry, host string) {
		r, ok := fuzzRequest("http://" + host)
		if !ok {
			return
		}
		trusted := newConfig([]Option{WithTrustedHosts(entry)}).trusted
		got := trusted(r)
		name, e := fuzzLowerASCII(r.URL.Hostname()), fuzzLowerASCII(entry)
		want := e != "" && (name == e || e[0] == '.' && len(name) > len(e) && strings.HasSuffix(name, e))
		if got != want {
			t.Fatalf("WithTrustedHosts(%q) trusts %q: %v, want %v", entry, host, got, want)
		}
		if u, ok := fuzzRequest("http://" + strings.ToUpper(host)); ok && trusted(u) != got {
			t.Fatalf("WithTrustedHosts(%q): %q trusted %v, upper case %v", entry, host, got, !got)
		}
		if p, ok := fuzzRequest("http://" + host + ":443"); ok && p.URL.Hostname() == r.URL.Hostname() && trusted(p) != got {
			t.Fatalf("WithTrustedHosts(%q): %q trusted %v, with a port %v", entry, host, got, !got)
		}
	})
}

func fuzzLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// FuzzSpanName serves any request through a ServeMux with any valid
// pattern: the server span is named from the method and the pattern's path,
// never from the request path (bounded cardinality), and never from a
// method outside the standard ones.
func FuzzSpanName(f *testing.F) {
	for _, c := range [][3]string{{"GET", "/orders/{id}", "/orders/42"}, {"POST", "POST /orders", "/orders"},
		{"PROPFIND", "/x", "/x"}, {"GET", "example.com/a/{rest...}", "/a/b/c"}, {"get", "/{$}", "/"},
		{"DELETE", "/secret-token-123", "/other"}, {"", "GET /", "/"}} {
		f.Add(c[0], c[1], c[2])
	}
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "HTTP"}
	f.Fuzz(func(t *testing.T, method, pattern, path string) {
		mux := http.NewServeMux()
		if !fuzzRegisters(mux, pattern) {
			return
		}
		if !fuzzIsMethod(method) && method != "" {
			return
		}
		rec := tracingtest.New(t, tracingtest.WithoutGlobals())
		h := NewHandler(mux, WithTracerProvider(rec.TracerProvider()))
		req := httptest.NewRequest(http.MethodGet, "http://example.com/", nil)
		req.Method, req.URL.Path, req.URL.RawPath, req.RequestURI = method, path, "", path
		h.ServeHTTP(httptest.NewRecorder(), req)
		spans := rec.Spans()
		if len(spans) != 1 {
			t.Fatalf("%d spans", len(spans))
		}
		verb, route, _ := strings.Cut(spans[0].Name(), " ")
		if !slices.Contains(methods, verb) {
			t.Fatalf("span %q: method %q", spans[0].Name(), verb)
		}
		if route != "" && (!strings.HasPrefix(route, "/") || !strings.HasSuffix(pattern, route)) {
			t.Fatalf("pattern %q, path %q: span %q is not named from the pattern", pattern, path, spans[0].Name())
		}
	})
}

// fuzzRegisters adds pattern to mux, reporting false when ServeMux refuses it.
func fuzzRegisters(mux *http.ServeMux, pattern string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return true
}

func fuzzIsMethod(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

// FuzzEdgeBaggage sends any baggage and traceparent headers to a public
// endpoint: the handler keeps exactly the allowlisted members of what the
// baggage propagator parses, unchanged, and the server span starts a new
// trace whatever traceparent said.
func FuzzEdgeBaggage(f *testing.F) {
	for _, c := range [][2]string{
		{"user.id=u-1,tenant=t-9,session=secret", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		{"user.id=u%201;prop=x,user.id=u-2", "garbage"},
		{"tenant", ""}, {",,,", "00-00000000000000000000000000000000-0000000000000000-01"},
		{"TENANT=upper,tenant=lower", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		{"tenant=" + strings.Repeat("x", 9000), ""},
	} {
		f.Add(c[0], c[1])
	}
	allow := []string{"user.id", "tenant"}
	f.Fuzz(func(t *testing.T, bag, traceparent string) {
		rec := tracingtest.New(t, tracingtest.WithoutGlobals())
		var kept baggage.Baggage
		var parent trace.SpanContext
		h := NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			kept = baggage.FromContext(r.Context())
		}), WithTracerProvider(rec.TracerProvider()), WithPropagators(tracingtest.Propagator()),
			WithPublicEndpoint(), WithEdgeBaggage(allow...))
		req := httptest.NewRequest(http.MethodGet, "http://example.com/", nil)
		req.Header["Baggage"] = []string{bag}
		req.Header["Traceparent"] = []string{traceparent}
		h.ServeHTTP(httptest.NewRecorder(), req)

		sent, _ := baggage.Parse(bag) // what the propagator extracts, all or nothing
		for _, m := range kept.Members() {
			if !slices.Contains(allow, m.Key()) {
				t.Fatalf("baggage %q: kept %q", bag, m.Key())
			}
		}
		for _, k := range allow {
			if got, want := kept.Member(k), sent.Member(k); got.String() != want.String() {
				t.Fatalf("baggage %q: member %s = %q, want %q", bag, k, got, want)
			}
		}
		spans := rec.Spans()
		if len(spans) != 1 {
			t.Fatalf("%d spans", len(spans))
		}
		if parent = spans[0].Parent(); parent.IsValid() {
			t.Fatalf("traceparent %q: server span has parent %v, want a new trace", traceparent, parent)
		}
	})
}
