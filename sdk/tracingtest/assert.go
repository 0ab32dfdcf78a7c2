package tracingtest

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing"
)

// Match selects spans for [Recorder.Find] and [Recorder.Span].
type Match func(sdktrace.ReadOnlySpan) bool

// InService matches spans of the service named name (resource service.name).
func InService(name string) Match {
	return func(s sdktrace.ReadOnlySpan) bool { return serviceOf(s) == name }
}

// OfKind matches spans of kind k.
func OfKind(k trace.SpanKind) Match {
	return func(s sdktrace.ReadOnlySpan) bool { return s.SpanKind() == k }
}

// WithAttr matches spans carrying kv.
func WithAttr(kv attribute.KeyValue) Match {
	return func(s sdktrace.ReadOnlySpan) bool {
		v, ok := attr(s, kv.Key)
		return ok && v == kv.Value
	}
}

// InTrace matches spans of the trace of s.
func InTrace(s sdktrace.ReadOnlySpan) Match {
	id := s.SpanContext().TraceID()
	return func(o sdktrace.ReadOnlySpan) bool { return o.SpanContext().TraceID() == id }
}

// Find returns the ended spans named name that all of match select.
func (r *Recorder) Find(name string, match ...Match) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
next:
	for _, s := range r.Spans() {
		if s.Name() != name {
			continue
		}
		for _, m := range match {
			if m != nil && !m(s) {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// Span returns the one ended span named name that all of match select, and
// fails the test, showing the recorded waterfall, if there is none or more
// than one.
func (r *Recorder) Span(tb TB, name string, match ...Match) sdktrace.ReadOnlySpan {
	tb.Helper()
	found := r.Find(name, match...)
	if len(found) != 1 {
		tb.Fatalf("tracingtest: want one ended span %q, found %d\n%s", name, len(found), r.Waterfall())
		return nil
	}
	return found[0]
}

// AssertParent checks that parent is the parent of child, across services
// too.
func (r *Recorder) AssertParent(tb TB, parent, child sdktrace.ReadOnlySpan) bool {
	tb.Helper()
	if child.Parent().TraceID() == parent.SpanContext().TraceID() && child.Parent().SpanID() == parent.SpanContext().SpanID() {
		return true
	}
	tb.Errorf("tracingtest: %s is not the parent of %s (its parent is %s)\n%s",
		describe(parent), describe(child), r.nameOf(child.Parent()), r.Waterfall())
	return false
}

// AssertLinked checks that from has a link to to, as a batch consumer links
// the producers of its messages.
func (r *Recorder) AssertLinked(tb TB, from, to sdktrace.ReadOnlySpan) bool {
	tb.Helper()
	want := to.SpanContext()
	var have []string
	for _, l := range from.Links() {
		if l.SpanContext.TraceID() == want.TraceID() && l.SpanContext.SpanID() == want.SpanID() {
			return true
		}
		have = append(have, r.nameOf(l.SpanContext))
	}
	tb.Errorf("tracingtest: %s has no link to %s (links: %v)\n%s", describe(from), describe(to), have, r.Waterfall())
	return false
}

// AssertSameTrace checks that spans all belong to one trace.
func (r *Recorder) AssertSameTrace(tb TB, spans ...sdktrace.ReadOnlySpan) bool {
	tb.Helper()
	for _, s := range spans[min(1, len(spans)):] {
		if s.SpanContext().TraceID() != spans[0].SpanContext().TraceID() {
			tb.Errorf("tracingtest: %s and %s are in different traces\n%s", describe(spans[0]), describe(s), r.Waterfall())
			return false
		}
	}
	return true
}

// AssertAllEnded checks that every span started from the recorder's
// providers has ended. [New] runs it when the test ends.
func (r *Recorder) AssertAllEnded(tb TB) bool {
	tb.Helper()
	open := r.openSpans()
	if len(open) == 0 {
		return true
	}
	names := make([]string, len(open))
	for i, s := range open {
		names[i] = describe(s)
	}
	tb.Errorf("tracingtest: %d span(s) started and never ended: %s\n%s", len(open), strings.Join(names, ", "), r.Waterfall())
	return false
}

// AssertNames checks that the recorded spans follow the naming convention:
// internal spans are `<domain>.<operation>` ([tracing.ValidName]); protocol
// spans (server, client, producer, consumer) are not built from data: no
// long digit runs (ids), no query strings, no URL schemes.
func (r *Recorder) AssertNames(tb TB) bool {
	tb.Helper()
	var bad []string
	for _, s := range r.Spans() {
		var err error
		if s.SpanKind() == trace.SpanKindInternal || s.SpanKind() == trace.SpanKindUnspecified {
			err = tracing.ValidName(s.Name())
		} else {
			err = protocolName(s.Name())
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", serviceOf(s), err))
		}
	}
	if len(bad) == 0 {
		return true
	}
	tb.Errorf("tracingtest: span names break the convention:\n  %s\n%s", strings.Join(bad, "\n  "), r.Waterfall())
	return false
}

func protocolName(name string) error {
	digits := 0
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= '0' && c <= '9' {
			if digits++; digits >= 4 {
				return fmt.Errorf("span name %q contains an id", name)
			}
		} else {
			digits = 0
		}
	}
	if strings.ContainsAny(name, "?#") || strings.Contains(name, "://") {
		return fmt.Errorf("span name %q contains a URL", name)
	}
	return nil
}

// AssertBusiness checks that every recorded span matching all of match
// carries each of keys, as business context set once at the edge should.
// Use match to leave out spans that start before the business context is
// known.
func (r *Recorder) AssertBusiness(tb TB, keys []attribute.Key, match ...Match) bool {
	tb.Helper()
	var missing []string
next:
	for _, s := range r.Spans() {
		for _, m := range match {
			if m != nil && !m(s) {
				continue next
			}
		}
		var lack []string
		for _, k := range keys {
			if _, ok := attr(s, k); !ok {
				lack = append(lack, string(k))
			}
		}
		if len(lack) > 0 {
			missing = append(missing, fmt.Sprintf("%s lacks %s", describe(s), strings.Join(lack, ", ")))
		}
	}
	if len(missing) == 0 {
		return true
	}
	tb.Errorf("tracingtest: business attributes missing:\n  %s\n%s", strings.Join(missing, "\n  "), r.Waterfall())
	return false
}

// AssertAttrs checks that s carries each of kvs.
func (r *Recorder) AssertAttrs(tb TB, s sdktrace.ReadOnlySpan, kvs ...attribute.KeyValue) bool {
	tb.Helper()
	var bad []string
	for _, kv := range kvs {
		v, ok := attr(s, kv.Key)
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s missing, want %s", kv.Key, kv.Value.String()))
		case v != kv.Value:
			bad = append(bad, fmt.Sprintf("%s = %s, want %s", kv.Key, v.String(), kv.Value.String()))
		}
	}
	if len(bad) == 0 {
		return true
	}
	tb.Errorf("tracingtest: %s: %s\n%s", describe(s), strings.Join(bad, "; "), r.Waterfall())
	return false
}

// AssertNoSecrets checks that nothing secret or personal was exported in
// clear: no attribute of a span, event or link that the default redaction
// rules would still change (a secret-looking key, a bearer token, a JWT, a
// card number, a provider key, URL credentials, a secret pair, an e-mail
// address, a registered personal-data key in clear), no such value in a span
// name, event name or status, and none of values (the passwords, emails,
// user ids the test used) anywhere, resource values included.
func (r *Recorder) AssertNoSecrets(tb TB, values ...string) bool {
	tb.Helper()
	if leaks := Leaks(r.Spans(), values...); len(leaks) > 0 {
		tb.Errorf("tracingtest: secrets or personal data exported in clear:\n  %s\n%s", strings.Join(leaks, "\n  "), r.Waterfall())
		return false
	}
	return true
}

// Leaks returns what [Recorder.AssertNoSecrets] reports, one line per leak,
// for spans exported elsewhere (by an otelsetup.Setup pipeline into an
// [Exporter]).
func Leaks(spans []sdktrace.ReadOnlySpan, values ...string) []string {
	var leaks []string
	leak := func(s sdktrace.ReadOnlySpan, where, v string) {
		for _, want := range values {
			if want != "" && strings.Contains(v, want) {
				leaks = append(leaks, fmt.Sprintf("%s: %s contains %q", describe(s), where, want))
			}
		}
		probe := attribute.String("tracingtest.probe", v)
		if tracing.RedactAttr(probe) != probe {
			leaks = append(leaks, fmt.Sprintf("%s: %s holds a secret-looking value", describe(s), where))
		}
	}
	attrs := func(s sdktrace.ReadOnlySpan, where string, kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			if got := tracing.RedactAttr(kv); got != kv {
				leaks = append(leaks, fmt.Sprintf("%s: %s %s exported in clear", describe(s), where, kv.Key))
				continue
			}
			if kv.Value.Type() == attribute.STRINGSLICE {
				for _, v := range kv.Value.AsStringSlice() {
					leak(s, fmt.Sprintf("%s %s", where, kv.Key), v)
				}
				continue
			}
			leak(s, fmt.Sprintf("%s %s", where, kv.Key), kv.Value.String())
		}
	}
	for _, s := range spans {
		leak(s, "name", s.Name())
		leak(s, "status", s.Status().Description)
		attrs(s, "attribute", s.Attributes())
		for _, e := range s.Events() {
			leak(s, "event name", e.Name)
			attrs(s, "event "+e.Name+" attribute", e.Attributes)
		}
		for _, l := range s.Links() {
			attrs(s, "link attribute", l.Attributes)
		}
		if res := s.Resource(); res != nil {
			for _, kv := range res.Attributes() {
				for _, want := range values {
					if want != "" && strings.Contains(kv.Value.String(), want) {
						leaks = append(leaks, fmt.Sprintf("%s: resource %s contains %q", describe(s), kv.Key, want))
					}
				}
			}
		}
	}
	return leaks
}

func attr(s sdktrace.ReadOnlySpan, k attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func serviceOf(s sdktrace.ReadOnlySpan) string {
	if res := s.Resource(); res != nil {
		if v, ok := res.Set().Value(semconv.ServiceNameKey); ok {
			return v.AsString()
		}
	}
	return ""
}

func describe(s sdktrace.ReadOnlySpan) string {
	return fmt.Sprintf("%q (%s, span %s)", s.Name(), serviceOf(s), s.SpanContext().SpanID())
}

// nameOf names the recorded span with context sc, for failure messages.
func (r *Recorder) nameOf(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return "none: a root span"
	}
	for _, s := range append(r.Spans(), r.openSpans()...) {
		if s.SpanContext().SpanID() == sc.SpanID() && s.SpanContext().TraceID() == sc.TraceID() {
			return describe(s)
		}
	}
	return "span " + sc.SpanID().String() + ", not recorded"
}

// Attr returns the value of key in attrs: the attributes of a span, an event
// or a link.
func Attr(attrs []attribute.KeyValue, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range attrs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}
