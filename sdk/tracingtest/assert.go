package tracingtest

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
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

// InTraceID matches spans of trace id, as a response header or a client's
// result names it when the test holds no span of the trace.
func InTraceID(id trace.TraceID) Match {
	return func(s sdktrace.ReadOnlySpan) bool { return s.SpanContext().TraceID() == id }
}

// ChildOf matches the spans whose parent is parent: a recorded span or a
// live [trace.Span].
func ChildOf(parent interface{ SpanContext() trace.SpanContext }) Match {
	sc := parent.SpanContext()
	return func(s sdktrace.ReadOnlySpan) bool {
		return s.Parent().TraceID() == sc.TraceID() && s.Parent().SpanID() == sc.SpanID()
	}
}

// WithSpanContext matches the span with the trace and span ids of sc: the
// span a test saw from inside, through trace.SpanContextFromContext, while
// the other matches check its name, kind and parent in one call:
//
//	rec.Span(t, "process orders", tracingtest.WithSpanContext(inner), tracingtest.ChildOf(send))
func WithSpanContext(sc trace.SpanContext) Match {
	return func(s sdktrace.ReadOnlySpan) bool {
		return s.SpanContext().TraceID() == sc.TraceID() && s.SpanContext().SpanID() == sc.SpanID()
	}
}

// Trace returns the ended spans of trace id, whatever their name, in the
// order they ended: for checks that every span of a request carries
// something, or that none leaks it.
func (r *Recorder) Trace(id trace.TraceID) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range r.Spans() {
		if s.SpanContext().TraceID() == id {
			out = append(out, s)
		}
	}
	return out
}

// Find returns the ended spans named name that all of match select, in the
// order they ended.
func (r *Recorder) Find(name string, match ...Match) []sdktrace.ReadOnlySpan {
	return find(r.Spans(), name, match)
}

// Span returns the one ended span named name that all of match select, and
// fails the test with Fatalf if there is none or more than one, naming what
// was recorded instead. A span that ends on another goroutine may not have
// ended yet: wait for it with [Recorder.WaitFor].
func (r *Recorder) Span(tb TB, name string, match ...Match) sdktrace.ReadOnlySpan {
	tb.Helper()
	found := r.Find(name, match...)
	switch len(found) {
	case 1:
		return found[0]
	case 0:
		r.fail(tb, true, "want one ended span %q, found none: %s", name, r.whatIsThere(name, match, 0))
	default:
		r.fail(tb, true, "want one ended span %q, found %d: %s", name, len(found), describeAll(found))
	}
	return nil
}

// AssertNoSpan checks that no span named name that all of match select was
// recorded, ended or still open.
func (r *Recorder) AssertNoSpan(tb TB, name string, match ...Match) bool {
	tb.Helper()
	found := append(r.Find(name, match...), find(r.openSpans(), name, match)...)
	if len(found) == 0 {
		return true
	}
	r.fail(tb, false, "want no span %q, found %d: %s", name, len(found), describeAll(found))
	return false
}

// AssertParent checks that parent is the parent of child, across services
// too. parent is a recorded span or a live [trace.Span], such as the span a
// test starts around the call under test.
func (r *Recorder) AssertParent(tb TB, parent interface{ SpanContext() trace.SpanContext }, child sdktrace.ReadOnlySpan) bool {
	tb.Helper()
	want := parent.SpanContext()
	if child.Parent().TraceID() == want.TraceID() && child.Parent().SpanID() == want.SpanID() {
		return true
	}
	r.fail(tb, false, "want %s as the parent of %s, found %s", r.nameOf(want), describe(child), r.nameOf(child.Parent()))
	return false
}

// AssertLinked checks that from has a link to to, as a batch consumer links
// the producers of its messages. to is a recorded span or a live
// [trace.Span].
func (r *Recorder) AssertLinked(tb TB, from sdktrace.ReadOnlySpan, to interface{ SpanContext() trace.SpanContext }) bool {
	tb.Helper()
	want := to.SpanContext()
	var have []string
	for _, l := range from.Links() {
		if l.SpanContext.TraceID() == want.TraceID() && l.SpanContext.SpanID() == want.SpanID() {
			return true
		}
		have = append(have, r.nameOf(l.SpanContext))
	}
	if len(have) == 0 {
		have = []string{"none"}
	}
	r.fail(tb, false, "want a link from %s to %s, found links to %s", describe(from), r.nameOf(want), list(have))
	return false
}

// SpanOf returns the ended span with span context sc, as found in a link,
// a message's headers or a response, and fails the test with Fatalf if it
// was not recorded.
func (r *Recorder) SpanOf(tb TB, sc trace.SpanContext) sdktrace.ReadOnlySpan {
	tb.Helper()
	for _, s := range r.Spans() {
		if s.SpanContext().TraceID() == sc.TraceID() && s.SpanContext().SpanID() == sc.SpanID() {
			return s
		}
	}
	r.fail(tb, true, "want the ended span %s of trace %s, found %s", sc.SpanID(), sc.TraceID(), r.nameOf(sc))
	return nil
}

// AssertSameTrace checks that spans all belong to one trace.
func (r *Recorder) AssertSameTrace(tb TB, spans ...sdktrace.ReadOnlySpan) bool {
	tb.Helper()
	for _, s := range spans[min(1, len(spans)):] {
		if s.SpanContext().TraceID() != spans[0].SpanContext().TraceID() {
			r.fail(tb, false, "want %s in the trace of %s, found it in trace %s", describe(s), describe(spans[0]), s.SpanContext().TraceID())
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
	r.fail(tb, false, "want every span ended, found %d open: %s", len(open), describeAll(open))
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
	r.fail(tb, false, "span names break the convention: %s", list(bad))
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
	r.fail(tb, false, "business attributes missing: %s", list(missing))
	return false
}

// AssertAttrs checks that s carries each of kvs.
func (r *Recorder) AssertAttrs(tb TB, s sdktrace.ReadOnlySpan, kvs ...attribute.KeyValue) bool {
	tb.Helper()
	bad := mismatches(s.Attributes(), kvs)
	if len(bad) == 0 {
		return true
	}
	r.fail(tb, false, "%s: %s", describe(s), strings.Join(bad, "; "))
	return false
}

// AssertLinkAttrs checks that from has a link to to carrying each of kvs,
// as a batch consumer's link names the partition and offset of the message
// it links to. to is a recorded span or a live [trace.Span].
func (r *Recorder) AssertLinkAttrs(tb TB, from sdktrace.ReadOnlySpan, to interface{ SpanContext() trace.SpanContext }, kvs ...attribute.KeyValue) bool {
	tb.Helper()
	want := to.SpanContext()
	for _, l := range from.Links() {
		if l.SpanContext.TraceID() != want.TraceID() || l.SpanContext.SpanID() != want.SpanID() {
			continue
		}
		bad := mismatches(l.Attributes, kvs)
		if len(bad) == 0 {
			return true
		}
		r.fail(tb, false, "%s: link to %s: %s", describe(from), r.nameOf(want), strings.Join(bad, "; "))
		return false
	}
	return r.AssertLinked(tb, from, to)
}

// AssertEventAttrs checks that s has an event named name, such as
// semconv.ExceptionEventName, whose attributes include each of kvs. Of
// several events of that name, the first is checked, as [Event] returns it.
func (r *Recorder) AssertEventAttrs(tb TB, s sdktrace.ReadOnlySpan, name string, kvs ...attribute.KeyValue) bool {
	tb.Helper()
	e, ok := Event(s, name)
	if !ok {
		have := make([]string, 0, len(s.Events()))
		for _, e := range s.Events() {
			have = append(have, fmt.Sprintf("%q", e.Name))
		}
		if len(have) == 0 {
			have = []string{"none"}
		}
		r.fail(tb, false, "%s: want an event %q, found events %s", describe(s), name, list(have))
		return false
	}
	bad := mismatches(e.Attributes, kvs)
	if len(bad) == 0 {
		return true
	}
	r.fail(tb, false, "%s: event %q: %s", describe(s), name, strings.Join(bad, "; "))
	return false
}

// mismatches describes each of want that have lacks or holds with another
// value.
func mismatches(have, want []attribute.KeyValue) []string {
	var bad []string
	for _, kv := range want {
		v, ok := Attr(have, kv.Key)
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s missing, want %s", kv.Key, kv.Value.String()))
		case v != kv.Value:
			bad = append(bad, fmt.Sprintf("%s = %s, want %s", kv.Key, v.String(), kv.Value.String()))
		}
	}
	return bad
}

// AssertNoAttrs checks that s carries none of keys.
func (r *Recorder) AssertNoAttrs(tb TB, s sdktrace.ReadOnlySpan, keys ...attribute.Key) bool {
	tb.Helper()
	var bad []string
	for _, k := range keys {
		if v, ok := attr(s, k); ok {
			bad = append(bad, fmt.Sprintf("%s = %s, want none", k, v.String()))
		}
	}
	if len(bad) == 0 {
		return true
	}
	r.fail(tb, false, "%s: %s", describe(s), strings.Join(bad, "; "))
	return false
}

// AssertError checks that s records a failure as the conventions do: status
// Error and `error.type` errorType (any value when errorType is empty).
func (r *Recorder) AssertError(tb TB, s sdktrace.ReadOnlySpan, errorType string) bool {
	tb.Helper()
	typ, ok := attr(s, semconv.ErrorTypeKey)
	if s.Status().Code == codes.Error && ok && (errorType == "" || typ.AsString() == errorType) {
		return true
	}
	want := "any error.type"
	if errorType != "" {
		want = fmt.Sprintf("error.type %q", errorType)
	}
	r.fail(tb, false, "%s: want status Error and %s, found %s", describe(s), want, outcome(s))
	return false
}

// AssertOK checks that s records no failure: its status is not Error and it
// has no `error.type`, as for a success or an expected outcome.
func (r *Recorder) AssertOK(tb TB, s sdktrace.ReadOnlySpan) bool {
	tb.Helper()
	if _, ok := attr(s, semconv.ErrorTypeKey); !ok && s.Status().Code != codes.Error {
		return true
	}
	r.fail(tb, false, "%s: want no error, found %s", describe(s), outcome(s))
	return false
}

// outcome describes the status and error.type of s in a failure message.
func outcome(s sdktrace.ReadOnlySpan) string {
	st := s.Status().Code.String()
	if d := s.Status().Description; d != "" {
		st += fmt.Sprintf(" %q", d)
	}
	if typ, ok := attr(s, semconv.ErrorTypeKey); ok {
		return fmt.Sprintf("status %s and error.type %q", st, typ.AsString())
	}
	return fmt.Sprintf("status %s and no error.type", st)
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
	leaks := Leaks(r.Spans(), values...)
	if len(leaks) == 0 {
		return true
	}
	r.fail(tb, false, "secrets or personal data exported in clear: %s", list(leaks))
	return false
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
	return Attr(s.Attributes(), k)
}

func serviceOf(s sdktrace.ReadOnlySpan) string {
	if res := s.Resource(); res != nil {
		if v, ok := res.Set().Value(semconv.ServiceNameKey); ok {
			return v.AsString()
		}
	}
	return ""
}

// nameOf names the recorded span with context sc, for failure messages.
func (r *Recorder) nameOf(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return "none: a root span"
	}
	same := func(s sdktrace.ReadOnlySpan) bool {
		return s.SpanContext().SpanID() == sc.SpanID() && s.SpanContext().TraceID() == sc.TraceID()
	}
	for _, s := range r.Spans() {
		if same(s) {
			return describe(s)
		}
	}
	for _, s := range r.openSpans() {
		if same(s) {
			return describe(s) + ", still open"
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

// Event returns the first event of s named name, such as
// semconv.ExceptionEventName; read its attributes with [Attr].
func Event(s sdktrace.ReadOnlySpan, name string) (sdktrace.Event, bool) {
	for _, e := range s.Events() {
		if e.Name == name {
			return e, true
		}
	}
	return sdktrace.Event{}, false
}
