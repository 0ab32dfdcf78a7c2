package otelsetup

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// fuzzSetenv sets the variables for one fuzz input; it skips inputs no
// environment can hold (a NUL byte, or "=" in a name).
func fuzzSetenv(t *testing.T, kv ...string) {
	t.Helper()
	for i := 0; i < len(kv); i += 2 {
		if strings.ContainsRune(kv[i+1], 0) {
			t.Skip("NUL in an environment value")
		}
		t.Setenv(kv[i], kv[i+1])
	}
}

// fuzzConfigErrors returns the ConfigErrors err joins, and fails the test for
// any error that is not one or names no variable among vars.
func fuzzConfigErrors(t *testing.T, err error, vars ...string) []*ConfigError {
	t.Helper()
	var all []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		all = j.Unwrap()
	} else {
		all = []error{err}
	}
	var out []*ConfigError
	for _, e := range all {
		var ce *ConfigError
		if !errors.As(e, &ce) {
			t.Fatalf("error %v (%T) is not a *ConfigError", e, e)
		}
		if !slices.Contains(vars, ce.Variable) {
			t.Fatalf("error %v names %s, want one of %v", e, ce.Variable, vars)
		}
		out = append(out, ce)
	}
	return out
}

// ratioOf returns the ratio a TraceIDRatioBased sampler was made with, from
// its description.
func ratioOf(t *testing.T, s sdktrace.Sampler) (float64, bool) {
	t.Helper()
	d := s.Description()
	i := strings.Index(d, "TraceIDRatioBased{")
	if i < 0 {
		return 0, false
	}
	d = d[i+len("TraceIDRatioBased{"):]
	r, err := strconv.ParseFloat(d[:strings.IndexByte(d, '}')], 64)
	if err != nil {
		t.Fatalf("description %q: %v", s.Description(), err)
	}
	return r, true
}

// FuzzSamplerEnv: whatever OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG
// hold, parseSampler returns a sampler or a ConfigError naming one of them;
// a ratio sampler always has a ratio from 0 to 1 that is the argument.
func FuzzSamplerEnv(f *testing.F) {
	for _, c := range [][2]string{
		{"", ""}, {"always_on", ""}, {"ALWAYS_OFF", "x"}, {"traceidratio", "0.25"}, {"traceidratio", ""},
		{"parentbased_traceidratio", "1"}, {"parentbased_traceidratio", "NaN"}, {"traceidratio", "-0"},
		{"traceidratio", "+Inf"}, {"traceidratio", "1e-400"}, {"traceidratio", "0x1p-2"}, {"jaeger_remote", ""},
		{" traceidratio ", " 0.5 "}, {"traceidratio", "1_0"},
		{"parentbased_jaeger_remote", "endpoint=http://jaeger:5778/sampling,pollingIntervalMs=5000,initialSamplingRate=0.25"},
		{"JAEGER_REMOTE", "initialSamplingRate=1e-3"}, {"jaeger_remote", "0.5"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, name, arg string) {
		fuzzSetenv(t, envTracesSampler, name, envTracesSamplerArg, arg)
		s, remote, err := parseSampler(nil)
		if err != nil {
			fuzzConfigErrors(t, err, envTracesSampler, envTracesSamplerArg)
			return
		}
		if n := strings.ToLower(strings.TrimSpace(name)); (remote != nil) != (n == "jaeger_remote" || n == "parentbased_jaeger_remote") {
			t.Fatalf("%s=%q: remote sampler %v", envTracesSampler, name, remote)
		}
		if remote != nil {
			checkJaegerRemoteArgs(t, arg, remote.args)
			return
		}
		r, isRatio := ratioOf(t, s)
		if !isRatio {
			return
		}
		if !(r >= 0 && r <= 1) {
			t.Fatalf("%s=%q %s=%q: accepted ratio %v", envTracesSampler, name, envTracesSamplerArg, arg, r)
		}
		if a := strings.TrimSpace(arg); a != "" {
			want, _ := strconv.ParseFloat(a, 64)
			if r != want {
				t.Fatalf("%s=%q: ratio %v, want %v", envTracesSamplerArg, arg, r, want)
			}
		}
	})
}

// FuzzPropagatorsEnv: parsePropagators accepts a list only when every name
// in it is known, wherever "none" stands ("none" then wins, as in autoprop),
// and reports anything else as a ConfigError naming OTEL_PROPAGATORS.
func FuzzPropagatorsEnv(f *testing.F) {
	for _, s := range []string{"", "tracecontext,baggage", "b3, b3multi", "none", "tracecontext,none,bogus", "none,bogus", "xray,jaeger,ottrace",
		",,", "TraceContext", "tracecontext,,baggage ", "b3\tmulti"} {
		f.Add(s)
	}
	known := []string{"tracecontext", "baggage", "b3", "b3multi", "jaeger", "xray", "ottrace", "none"}
	f.Fuzz(func(t *testing.T, v string) {
		fuzzSetenv(t, envPropagators, v)
		p, err := parsePropagators()
		names := splitList(strings.TrimSpace(v))
		if err != nil {
			fuzzConfigErrors(t, err, envPropagators)
			if !slices.ContainsFunc(names, func(n string) bool { return !slices.Contains(known, n) }) {
				t.Fatalf("%q: refused, all names known: %v", v, err)
			}
			return
		}
		for _, n := range names {
			if !slices.Contains(known, n) {
				t.Fatalf("%q: accepted unknown propagator %q", v, n)
			}
		}
		if slices.Contains(names, "none") && len(p.Fields()) != 0 {
			t.Fatalf("%q: none propagates %v", v, p.Fields())
		}
	})
}

// FuzzHeadersRoundTrip: a header map parseHeaders accepted, written back
// with percent-encoding, parses to the same map.
func FuzzHeadersRoundTrip(f *testing.F) {
	for _, s := range []string{"api-key=abc", "a=1,b=x%20y", "k=v=w", "k=%2C%3D", "a=1,a=2", "k= %20 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHeaders(s)
		if err != nil {
			return
		}
		var pairs []string
		for k, v := range h {
			pairs = append(pairs, k+"="+url.PathEscape(v))
		}
		back, err := parseHeaders(strings.Join(pairs, ","))
		if err != nil {
			t.Fatalf("%q: re-encoded %v: %v", s, pairs, err)
		}
		if len(back) != len(h) {
			t.Fatalf("%q: %v round-trips to %v", s, h, back)
		}
		for k, v := range h {
			if back[k] != v {
				t.Fatalf("%q: %s=%q round-trips to %q", s, k, v, back[k])
			}
		}
	})
}

// FuzzOTLPEnv: validateOTLPEnv reports each bad OTEL_EXPORTER_OTLP_*
// variable as a ConfigError naming it, never echoes a HEADERS value, and
// accepts only values the exporters apply as written: an http(s) URL with a
// host, a timeout in milliseconds a time.Duration can hold, gzip or none,
// true or false.
func FuzzOTLPEnv(f *testing.F) {
	f.Add(false, "api-key=secret", "http://localhost:4318", "10000", "gzip", "true")
	f.Add(true, "k=%zz", "localhost:4317", "-1", "zstd", "yes")
	f.Add(false, "Bearer secret-token", "https://[::1]:4318/v1/traces", "9223372036854775807", "none", "FALSE")
	f.Add(true, "k=a%0D%0Ab", "http://", "9223372036854", " gzip ", "")
	f.Add(false, "", "unix:///tmp/s", "1e3", "", "1")
	f.Fuzz(func(t *testing.T, traces bool, headers, endpoint, timeout, compression, insecure string) {
		prefix := envOTLPPrefix
		if traces {
			prefix += "TRACES_"
		}
		fuzzSetenv(t, prefix+"HEADERS", headers, prefix+"ENDPOINT", endpoint, prefix+"TIMEOUT", timeout,
			prefix+"COMPRESSION", compression, prefix+"INSECURE", insecure)
		bad := map[string]bool{}
		if err := validateOTLPEnv("TRACES"); err != nil {
			for _, ce := range fuzzConfigErrors(t, err, prefix+"HEADERS", prefix+"ENDPOINT", prefix+"TIMEOUT",
				prefix+"COMPRESSION", prefix+"INSECURE") {
				if bad[ce.Variable] {
					t.Fatalf("%s reported twice", ce.Variable)
				}
				bad[ce.Variable] = true
				if ce.Variable == prefix+"HEADERS" && ce.Value != "<redacted>" {
					t.Fatalf("HEADERS error carries the value %q", ce.Value)
				}
			}
		}
		if h := strings.TrimSpace(headers); !bad[prefix+"HEADERS"] && h != "" {
			if _, err := parseHeaders(h); err != nil {
				t.Fatalf("HEADERS %q accepted: %v", headers, err)
			}
		}
		if e := strings.TrimSpace(endpoint); !bad[prefix+"ENDPOINT"] && e != "" {
			u, err := url.Parse(e)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("ENDPOINT %q accepted", endpoint)
			}
		}
		if v := strings.TrimSpace(timeout); !bad[prefix+"TIMEOUT"] && v != "" {
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ms < 0 || ms > math.MaxInt64/int64(time.Millisecond) {
				t.Fatalf("TIMEOUT %q accepted", timeout)
			}
		}
		if v := strings.TrimSpace(compression); !bad[prefix+"COMPRESSION"] && v != "" && v != "gzip" && v != "none" {
			t.Fatalf("COMPRESSION %q accepted", compression)
		}
		if v := strings.ToLower(strings.TrimSpace(insecure)); !bad[prefix+"INSECURE"] && v != "" && v != "true" && v != "false" {
			t.Fatalf("INSECURE %q accepted", insecure)
		}
	})
}

// FuzzJaegerRemoteArgs: parseJaegerRemoteArgs refuses or returns arguments
// the sampler can use, and those the value gave.
func FuzzJaegerRemoteArgs(f *testing.F) {
	for _, s := range []string{"", "endpoint=http://jaeger:5778/sampling", "pollingIntervalMs=1", "initialSamplingRate=0",
		"endpoint=https://j/s, pollingIntervalMs = 60000 ,initialSamplingRate=1", ",,", "endpoint=http://j/s,endpoint=http://k/s",
		"pollingIntervalMs=9223372036854", "pollingIntervalMs=9223372036855", "initialSamplingRate=-0", "endpoint=http://[::1]:5778/x",
		"endpoint=http://j/s?x=1", "k=v=w", "=1", "endpoint=http://%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseJaegerRemoteArgs(s)
		if err != nil {
			return
		}
		checkJaegerRemoteArgs(t, s, a)
		// What was accepted reads back the same.
		again, err := parseJaegerRemoteArgs(fmt.Sprintf("endpoint=%s,pollingIntervalMs=%d,initialSamplingRate=%s",
			a.endpoint, a.polling.Milliseconds(), strconv.FormatFloat(a.initialRate, 'g', -1, 64)))
		if err != nil || again != a {
			t.Fatalf("%q: %+v reads back as %+v, %v", s, a, again, err)
		}
	})
}

// checkJaegerRemoteArgs fails the test unless a is usable and holds what
// the value arg gave, defaults for the rest.
func checkJaegerRemoteArgs(t *testing.T, arg string, a jaegerRemoteArgs) {
	t.Helper()
	want := jaegerRemoteArgs{endpoint: defaultJaegerEndpoint, polling: defaultJaegerPolling, initialRate: defaultJaegerInitialRate}
	for item := range strings.SplitSeq(arg, ",") {
		k, v, _ := strings.Cut(item, "=")
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "endpoint":
			want.endpoint = v
		case "pollingIntervalMs":
			ms, _ := strconv.ParseInt(v, 10, 64)
			want.polling = time.Duration(ms) * time.Millisecond
		case "initialSamplingRate":
			want.initialRate, _ = strconv.ParseFloat(v, 64)
		}
	}
	if a != want {
		t.Fatalf("%q: arguments %+v, want %+v", arg, a, want)
	}
	if u, err := url.Parse(a.endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		t.Fatalf("%q: accepted endpoint %q", arg, a.endpoint)
	}
	if a.polling <= 0 || !(a.initialRate >= 0 && a.initialRate <= 1) {
		t.Fatalf("%q: accepted %+v", arg, a)
	}
}
