// Package spanconv converts between the SDK's spans and the span model of
// [diagnose], so that spans recorded in a test, buffered by an exporter or
// read from a file are diagnosed and drawn alike.
//
//	ds := diagnose.Diagnose(spanconv.FromSDK(exporter.GetSpans().Snapshots()))
//
// Both directions copy the span's identity, name, kind, times, status,
// attributes, events and links, and the service.name and other resource
// attributes; nothing else of a span is read by the analysis.
package spanconv

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing/diagnose"
)

// FromSDK converts SDK spans, skipping nil ones. The attribute slices are
// shared with the SDK spans, which are read-only.
func FromSDK(spans []sdktrace.ReadOnlySpan) []diagnose.Span {
	out := make([]diagnose.Span, 0, len(spans))
	for _, s := range spans {
		if s == nil {
			continue
		}
		out = append(out, fromSDK(s))
	}
	return out
}

func fromSDK(s sdktrace.ReadOnlySpan) diagnose.Span {
	sc := s.SpanContext()
	d := diagnose.Span{
		TraceID:       sc.TraceID(),
		SpanID:        sc.SpanID(),
		ParentID:      s.Parent().SpanID(),
		Name:          s.Name(),
		Kind:          s.SpanKind(),
		Start:         s.StartTime(),
		End:           s.EndTime(),
		Status:        s.Status().Code,
		StatusMessage: s.Status().Description,
		Attributes:    s.Attributes(),
	}
	if res := s.Resource(); res != nil {
		d.Resource = res.Attributes()
		if v, ok := res.Set().Value(semconv.ServiceNameKey); ok {
			d.Service = v.String()
		}
	}
	if evs := s.Events(); len(evs) > 0 {
		d.Events = make([]diagnose.Event, len(evs))
		for i, e := range evs {
			d.Events[i] = diagnose.Event{Name: e.Name, Time: e.Time, Attributes: e.Attributes}
		}
	}
	if ls := s.Links(); len(ls) > 0 {
		d.Links = make([]diagnose.Link, len(ls))
		for i, l := range ls {
			d.Links[i] = diagnose.Link{TraceID: l.SpanContext.TraceID(), SpanID: l.SpanContext.SpanID(), Attributes: l.Attributes}
		}
	}
	return d
}

// ToSDK converts spans to read-only SDK spans, for renderers and exporters
// that take them, such as the waterfall. A span without a service.name
// resource attribute gets its Service as one.
func ToSDK(spans []diagnose.Span) []sdktrace.ReadOnlySpan {
	stubs := make(tracetest.SpanStubs, len(spans))
	for i := range spans {
		s := &spans[i]
		res := s.Resource
		if s.Service != "" && !hasKey(res, semconv.ServiceNameKey) {
			res = append(append([]attribute.KeyValue(nil), res...), semconv.ServiceName(s.Service))
		}
		var parent trace.SpanContext
		if s.ParentID.IsValid() {
			parent = trace.NewSpanContext(trace.SpanContextConfig{TraceID: s.TraceID, SpanID: s.ParentID})
		}
		st := tracetest.SpanStub{
			Name:        s.Name,
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: s.TraceID, SpanID: s.SpanID, TraceFlags: trace.FlagsSampled}),
			Parent:      parent,
			SpanKind:    s.Kind,
			StartTime:   s.Start,
			EndTime:     s.End,
			Attributes:  s.Attributes,
			Status:      sdktrace.Status{Code: s.Status, Description: s.StatusMessage},
			Resource:    resource.NewSchemaless(res...),
		}
		if st.Status.Code != codes.Error {
			st.Status.Description = ""
		}
		for _, e := range s.Events {
			st.Events = append(st.Events, sdktrace.Event{Name: e.Name, Time: e.Time, Attributes: e.Attributes})
		}
		for _, l := range s.Links {
			st.Links = append(st.Links, sdktrace.Link{
				SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: l.TraceID, SpanID: l.SpanID}),
				Attributes:  l.Attributes,
			})
		}
		stubs[i] = st
	}
	return stubs.Snapshots()
}

func hasKey(kvs []attribute.KeyValue, k attribute.Key) bool {
	for _, kv := range kvs {
		if kv.Key == k {
			return true
		}
	}
	return false
}
