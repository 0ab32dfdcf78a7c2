package tracingtest

import (
	"fmt"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/spanconv"
	"github.com/otelkit/otelkit/tracing/diagnose"
)

// Named selects spans named name, for the assertions that take only
// filters, such as [Recorder.AssertFinding].
func Named(name string) Match {
	return func(s sdktrace.ReadOnlySpan) bool { return s.Name() == name }
}

// Diagnose diagnoses the ended spans of trace id with [diagnose.Diagnose];
// with an invalid id, the spans of the earliest trace recorded. A trace
// with no recorded span gives an empty diagnosis.
func (r *Recorder) Diagnose(id trace.TraceID) diagnose.Diagnosis {
	spans := r.Spans()
	if id.IsValid() {
		spans = r.Trace(id)
	}
	ds := diagnose.Diagnose(spanconv.FromSDK(spans))
	if len(ds) == 0 {
		return diagnose.Diagnosis{TraceID: id}
	}
	return ds[0]
}

// AssertFinding checks that the diagnosis of the recorded traces holds a
// finding of kind on a span that all of match select, and returns the
// first such finding. A failure lists the findings there are.
func (r *Recorder) AssertFinding(tb TB, kind diagnose.Kind, match ...Match) (diagnose.Finding, bool) {
	tb.Helper()
	spans := r.Spans()
	byID := make(map[trace.SpanID]sdktrace.ReadOnlySpan, len(spans))
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	var all []string
	for _, d := range diagnose.Diagnose(spanconv.FromSDK(spans)) {
		for _, f := range d.Findings {
			all = append(all, f.String())
			if s, ok := byID[f.SpanID]; f.Kind == kind && ok && matches(s, match) {
				return f, true
			}
		}
	}
	found := "no finding"
	if len(all) > 0 {
		found = strings.Join(all, "; ")
	}
	r.fail(tb, false, "want a %s finding on a matching span, found %s", kind, found)
	return diagnose.Finding{}, false
}

// AssertNoFinding checks that the diagnosis of trace id (of every recorded
// trace with an invalid id) holds no finding: a healthy request raises no
// false alarm.
func (r *Recorder) AssertNoFinding(tb TB, id trace.TraceID) bool {
	tb.Helper()
	spans := r.Spans()
	var all []string
	for _, d := range diagnose.Diagnose(spanconv.FromSDK(spans)) {
		if id.IsValid() && d.TraceID != id {
			continue
		}
		for _, f := range d.Findings {
			all = append(all, f.String())
		}
	}
	if len(all) == 0 {
		return true
	}
	r.fail(tb, false, "want no finding, found %s", strings.Join(all, "; "))
	return false
}

// diagnosisText is the failure output's first part: each recorded trace's
// findings, before its picture.
func diagnosisText(spans []sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	for _, d := range diagnose.Diagnose(spanconv.FromSDK(spans)) {
		if len(d.Findings) == 0 {
			continue
		}
		fmt.Fprintf(&b, "trace %s %s:\n", d.TraceID, d.Root)
		for _, f := range d.Findings {
			fmt.Fprintf(&b, "  ⚑ %s\n", f)
		}
	}
	return b.String()
}
