package pipeline

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/tracing"
)

// redactSpans returns spans with every attribute of the span, its events and
// its links redacted, copying only the spans that change. The copies of a
// batch share one allocation: a user id makes most spans change.
func redactSpans(r *tracing.Redactor, spans []sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	out := spans
	var copies []redactedSpan
	for i, s := range spans {
		rs, changed := redactSpan(r, s)
		if !changed {
			continue
		}
		if copies == nil {
			out = append([]sdktrace.ReadOnlySpan(nil), spans...)
			copies = make([]redactedSpan, 0, len(spans)-i)
		}
		copies = append(copies, rs)
		out[i] = &copies[len(copies)-1]
	}
	return out
}

func redactSpan(c *tracing.Redactor, s sdktrace.ReadOnlySpan) (redactedSpan, bool) {
	attrs, a := c.Attrs(s.Attributes())
	events := s.Events()
	e := false
	for i, ev := range events {
		if na, changed := c.Attrs(ev.Attributes); changed {
			if !e {
				events = append([]sdktrace.Event(nil), events...)
				e = true
			}
			events[i].Attributes = na
		}
	}
	links := s.Links()
	l := false
	for i, ln := range links {
		if na, changed := c.Attrs(ln.Attributes); changed {
			if !l {
				links = append([]sdktrace.Link(nil), links...)
				l = true
			}
			links[i].Attributes = na
		}
	}
	status := s.Status()
	var st bool
	status.Description, st = c.Text(status.Description)
	if !a && !e && !l && !st {
		return redactedSpan{}, false
	}
	return redactedSpan{ReadOnlySpan: s, attrs: attrs, events: events, links: links, status: status}, true
}

// redactedSpan is a span as exported after redaction. Everything it does not
// override comes from the recorded span.
type redactedSpan struct {
	sdktrace.ReadOnlySpan
	attrs  []attribute.KeyValue
	events []sdktrace.Event
	links  []sdktrace.Link
	status sdktrace.Status
}

func (s redactedSpan) Attributes() []attribute.KeyValue { return s.attrs }
func (s redactedSpan) Events() []sdktrace.Event         { return s.events }
func (s redactedSpan) Links() []sdktrace.Link           { return s.links }
func (s redactedSpan) Status() sdktrace.Status          { return s.status }

// NewRedactingExporter returns an exporter that redacts spans with r and
// hands them to next: every attribute of a span, of its events and of its
// links, and its status description (see [tracing.Redactor]). A nil r
// applies the default rules ([tracing.RedactAttr]). otelsetup.Setup wraps
// every exporter it creates with one. ExportSpans runs on the exporting
// goroutine (the batch processor's); a span with nothing to redact is passed
// through as it is, and a batch whose spans change is copied with one
// allocation.
func NewRedactingExporter(next sdktrace.SpanExporter, r *tracing.Redactor) sdktrace.SpanExporter {
	if r == nil {
		r = tracing.NewRedactor(tracing.RedactionRules{})
	}
	return redactingExporter{r: r, next: next}
}

type redactingExporter struct {
	r    *tracing.Redactor
	next sdktrace.SpanExporter
}

var _ sdktrace.SpanExporter = redactingExporter{}

func (e redactingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	return e.next.ExportSpans(ctx, redactSpans(e.r, spans))
}

func (e redactingExporter) Shutdown(ctx context.Context) error { return e.next.Shutdown(ctx) }
