package otelsetup

import (
	"maps"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseHeaders(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]string
		bad  bool
	}{
		{"", map[string]string{}, false},
		{"api-key=abc", map[string]string{"api-key": "abc"}, false},
		{" a = 1 , b=x%20y,,", map[string]string{"a": "1", "b": "x y"}, false},
		{"authorization=Basic%20dTpw=", map[string]string{"authorization": "Basic dTpw="}, false},
		{"novalue", nil, true},
		{"=v", nil, true},
		{"bad key=v", nil, true},
		{"k=%zz", nil, true},
		{"k=a%0D%0AInjected: 1", nil, true},
	} {
		got, err := parseHeaders(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("parseHeaders(%q) error = %v, want error %v", tc.in, err, tc.bad)
			continue
		}
		if !tc.bad && !maps.Equal(got, tc.want) {
			t.Errorf("parseHeaders(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// FuzzParseHeaders checks that whatever OTEL_EXPORTER_OTLP_HEADERS holds,
// parsing never panics and every accepted pair is a header net/http would
// send as is.
func FuzzParseHeaders(f *testing.F) {
	for _, s := range []string{"api-key=abc", "a=1,b=x%20y", "k=%zz", "=", ",,,", "k=v=w", "x-honeycomb-team=%E2%9C%93"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHeaders(s)
		if err != nil {
			if strings.Contains(err.Error(), s) && strings.Contains(s, "secret") {
				t.Errorf("error echoes the value: %v", err)
			}
			return
		}
		for k, v := range h {
			if !isToken(k) {
				t.Errorf("accepted header name %q", k)
			}
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Errorf("accepted header value %q", v)
			}
			req, _ := http.NewRequest("GET", "http://x", nil)
			req.Header.Set(k, v)
		}
	})
}

// FuzzParseResourceAttributes checks that parsing OTEL_RESOURCE_ATTRIBUTES
// never panics and that accepted keys are non-empty and trimmed.
func FuzzParseResourceAttributes(f *testing.F) {
	for _, s := range []string{"service.name=a,team=b", "k=%20v", "broken", "k=%zz", "=v", " a = b "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		attrs, err := parseResourceAttributes(s)
		if err != nil {
			return
		}
		for _, kv := range attrs {
			k := string(kv.Key)
			if k == "" || strings.TrimSpace(k) != k {
				t.Errorf("accepted key %q from %q", k, s)
			}
			if utf8.ValidString(s) && !utf8.ValidString(k) {
				t.Errorf("invalid UTF-8 key from valid input")
			}
		}
	})
}
