package otelsetup

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"go.opentelemetry.io/contrib/propagators/autoprop"

	"github.com/otelkit/otelkit/tracing/w3c"
)

// Environment variables Setup reads itself (the OTEL_BSP_* ones are in
// batch.go). The OTLP exporters read the rest of the standard variables
// (endpoints, certificates); Setup validates those it can get wrong
// silently.
const (
	envSDKDisabled        = "OTEL_SDK_DISABLED"
	envServiceName        = "OTEL_SERVICE_NAME"
	envResourceAttributes = "OTEL_RESOURCE_ATTRIBUTES"
	envTracesExporter     = "OTEL_TRACES_EXPORTER"
	envMetricsExporter    = "OTEL_METRICS_EXPORTER"
	envTracesSampler      = "OTEL_TRACES_SAMPLER"
	envTracesSamplerArg   = "OTEL_TRACES_SAMPLER_ARG"
	envPropagators        = "OTEL_PROPAGATORS"

	envOTLPPrefix = "OTEL_EXPORTER_OTLP_"
)

// maxMillis is the largest number of milliseconds a time.Duration holds
// (292 years).
const maxMillis = math.MaxInt64 / int64(time.Millisecond)

// ConfigError reports an environment variable or option value Setup cannot
// use.
type ConfigError struct {
	Variable string // the environment variable or option, e.g. "OTEL_TRACES_SAMPLER"
	Value    string // the value it had
	Err      error  // what is wrong with it
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("tracing: %s=%q: %v", e.Variable, e.Value, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

func configErr(name, value string, format string, args ...any) error {
	return &ConfigError{Variable: name, Value: value, Err: fmt.Errorf(format, args...)}
}

// getenv returns the trimmed value of the variable name.
func getenv(name string) string { return strings.TrimSpace(os.Getenv(name)) }

// splitList splits a comma-separated list, trimming and dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// parseBool parses a boolean variable the way the specification defines
// them: "true" and "false" in any case; empty is false.
func parseBool(name string) (bool, error) {
	v := getenv(name)
	switch strings.ToLower(v) {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, configErr(name, v, "want true or false")
}

// sdkDisabled reports whether OTEL_SDK_DISABLED is true.
func sdkDisabled() (bool, error) { return parseBool(envSDKDisabled) }

// parseSampler returns the sampler OTEL_TRACES_SAMPLER and
// OTEL_TRACES_SAMPLER_ARG describe, or def when OTEL_TRACES_SAMPLER is unset.
// For jaeger_remote and parentbased_jaeger_remote it also returns the remote
// sampler, which Setup starts once it knows the service name and stops at
// shutdown.
func parseSampler(def sdktrace.Sampler) (sdktrace.Sampler, *jaegerRemote, error) {
	name := strings.ToLower(getenv(envTracesSampler))
	if name == "" {
		if def != nil {
			return def, nil, nil
		}
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil, nil
	}
	arg := getenv(envTracesSamplerArg)
	ratio := func() (float64, error) {
		if arg == "" {
			return 1, nil
		}
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || !(r >= 0 && r <= 1) { // NaN is neither
			return 0, configErr(envTracesSamplerArg, arg, "want a sampling ratio between 0 and 1 for %s=%s", envTracesSampler, name)
		}
		return r, nil
	}
	var s sdktrace.Sampler
	switch name {
	case "always_on":
		s = sdktrace.AlwaysSample()
	case "always_off":
		s = sdktrace.NeverSample()
	case "traceidratio", "parentbased_traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, nil, err
		}
		s = sdktrace.TraceIDRatioBased(r)
	case "parentbased_always_on":
		s = sdktrace.AlwaysSample()
	case "parentbased_always_off":
		s = sdktrace.NeverSample()
	case "jaeger_remote", "parentbased_jaeger_remote":
		a, err := parseJaegerRemoteArgs(arg)
		if err != nil {
			return nil, nil, configErr(envTracesSamplerArg, arg, "%s=%s: %w", envTracesSampler, name, err)
		}
		j := &jaegerRemote{args: a}
		if name == "parentbased_jaeger_remote" {
			return sdktrace.ParentBased(j), j, nil
		}
		return j, j, nil
	default:
		return nil, nil, configErr(envTracesSampler, getenv(envTracesSampler),
			"unknown sampler (supported: always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio, jaeger_remote, parentbased_jaeger_remote)")
	}
	if strings.HasPrefix(name, "parentbased_") {
		s = sdktrace.ParentBased(s)
	}
	return s, nil, nil
}

// parsePropagators returns the propagator OTEL_PROPAGATORS names, by default
// W3C trace context and baggage. "tracecontext" is always [w3c.TraceContext];
// other names resolve through autoprop (b3, b3multi, jaeger, xray, ottrace and
// any registered with autoprop.RegisterTextMapPropagator).
func parsePropagators() (propagation.TextMapPropagator, error) {
	raw := getenv(envPropagators)
	names := splitList(raw)
	if len(names) == 0 {
		names = []string{"tracecontext", "baggage"}
	}
	var props []propagation.TextMapPropagator
	none := false
	for _, n := range names {
		switch n {
		case "none":
			// It wins over the other names, as in autoprop; they are still
			// checked, so that a typo is refused wherever it stands.
			none = true
		case "tracecontext":
			props = append(props, w3c.TraceContext{})
		case "baggage":
			props = append(props, propagation.Baggage{})
		default:
			p, err := autoprop.TextMapPropagator(n)
			if err != nil {
				return nil, configErr(envPropagators, raw, "unknown propagator %q (supported: tracecontext, baggage, b3, b3multi, jaeger, xray, ottrace, none)", n)
			}
			props = append(props, p)
		}
	}
	if none {
		return propagation.NewCompositeTextMapPropagator(), nil
	}
	return propagation.NewCompositeTextMapPropagator(props...), nil
}

// parseResourceAttributes parses OTEL_RESOURCE_ATTRIBUTES: comma-separated
// key=value pairs with percent-encoded values. The SDK's own parser reports
// a malformed value and carries on with part of it; Setup refuses it instead.
func parseResourceAttributes(s string) ([]attribute.KeyValue, error) {
	var out []attribute.KeyValue
	for item := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key=value", item)
		}
		val, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("value of %q: %w", k, err)
		}
		out = append(out, attribute.String(k, val))
	}
	return out, nil
}

// parseHeaders parses an OTEL_EXPORTER_OTLP_*HEADERS value: comma-separated
// key=value pairs, percent-encoded, keys HTTP tokens. The OTLP exporters skip
// malformed pairs with a log line, which leaves a collector rejecting every
// export for a missing API key; Setup refuses the value instead.
func parseHeaders(s string) (map[string]string, error) {
	out := make(map[string]string)
	i := 0
	for item := range strings.SplitSeq(s, ",") {
		i++
		if strings.TrimSpace(item) == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			// Not quoted: a pair missing its "=" may be a bare credential.
			return nil, fmt.Errorf("pair %d is not key=value", i)
		}
		key, err := url.PathUnescape(strings.TrimSpace(k))
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		if !isToken(key) {
			return nil, fmt.Errorf("key %q is not a valid header name", key)
		}
		val, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("value of %q: %w", key, err)
		}
		if strings.ContainsAny(val, "\r\n\x00") {
			return nil, fmt.Errorf("value of %q contains a line break or NUL", key)
		}
		out[key] = val
	}
	return out, nil
}

// isToken reports whether s is an RFC 9110 token, the syntax of a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// otlpProtocol returns the OTLP protocol for signal ("TRACES" or "METRICS"):
// the signal's variable, else OTEL_EXPORTER_OTLP_PROTOCOL, else
// http/protobuf.
func otlpProtocol(signal string) (string, error) {
	name := envOTLPPrefix + signal + "_PROTOCOL"
	v := getenv(name)
	if v == "" {
		name = envOTLPPrefix + "PROTOCOL"
		v = getenv(name)
	}
	switch v {
	case "":
		return "http/protobuf", nil
	case "grpc", "http/protobuf":
		return v, nil
	}
	return "", configErr(name, v, "unsupported OTLP protocol (supported: grpc, http/protobuf)")
}

// validateOTLPEnv checks the generic and signal-specific OTLP variables the
// exporters would otherwise half-apply or ignore with only a log line.
func validateOTLPEnv(signal string) error {
	var errs []error
	for _, prefix := range []string{envOTLPPrefix, envOTLPPrefix + signal + "_"} {
		if v := getenv(prefix + "HEADERS"); v != "" {
			if _, err := parseHeaders(v); err != nil {
				// The value may hold credentials: name the variable and the
				// problem, not the value.
				errs = append(errs, &ConfigError{Variable: prefix + "HEADERS", Value: "<redacted>", Err: err})
			}
		}
		if v := getenv(prefix + "ENDPOINT"); v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				errs = append(errs, configErr(prefix+"ENDPOINT", v, "want an http:// or https:// URL"))
			}
		}
		if v := getenv(prefix + "TIMEOUT"); v != "" {
			// The exporters multiply by time.Millisecond: a larger value
			// overflows into a negative timeout that fails every export.
			if ms, err := strconv.ParseInt(v, 10, 64); err != nil || ms < 0 || ms > maxMillis {
				errs = append(errs, configErr(prefix+"TIMEOUT", v, "want milliseconds from 0 to %d", maxMillis))
			}
		}
		if v := getenv(prefix + "COMPRESSION"); v != "" && v != "gzip" && v != "none" {
			errs = append(errs, configErr(prefix+"COMPRESSION", v, "want gzip or none"))
		}
		if _, err := parseBool(prefix + "INSECURE"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// otlpEndpointSet reports whether an OTLP endpoint is configured for signal.
func otlpEndpointSet(signal string) bool {
	return getenv(envOTLPPrefix+"ENDPOINT") != "" || getenv(envOTLPPrefix+signal+"_ENDPOINT") != ""
}
