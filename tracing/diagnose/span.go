package diagnose

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Span is one span of a trace, as any OpenTelemetry backend stores it. It
// holds only what the analysis reads, so that spans converted from the SDK,
// from OTLP or from a trace backend's API look alike.
type Span struct {
	TraceID  trace.TraceID
	SpanID   trace.SpanID
	ParentID trace.SpanID // invalid for a root
	Name     string
	Kind     trace.SpanKind
	// Service is the service.name resource attribute.
	Service    string
	Start, End time.Time
	Status     codes.Code
	// StatusMessage is the status description of a failed span.
	StatusMessage string
	Attributes    []attribute.KeyValue
	// Resource holds the resource attributes (service.version, host.name...),
	// which comparison reads too.
	Resource []attribute.KeyValue
	Events   []Event
	Links    []Link
}

// Event is a span event, such as the exception event of a failed span.
type Event struct {
	Name       string
	Time       time.Time
	Attributes []attribute.KeyValue
}

// Link is a span link, such as a consumer's link to the producer of a
// message it processed in a batch.
type Link struct {
	TraceID    trace.TraceID
	SpanID     trace.SpanID
	Attributes []attribute.KeyValue
}

// Attr returns the value of the span attribute k, else of the resource
// attribute k.
func (s *Span) Attr(k attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	for _, kv := range s.Resource {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// Duration is End - Start, never negative.
func (s *Span) Duration() time.Duration {
	if s.End.Before(s.Start) {
		return 0
	}
	return s.End.Sub(s.Start)
}

func (s *Span) failed() bool { return s.Status == codes.Error }

// errorText is what the span says about its failure: the status
// description, else the last exception message, else error.type.
func (s *Span) errorText() string {
	if s.StatusMessage != "" {
		return s.StatusMessage
	}
	for i := len(s.Events) - 1; i >= 0; i-- {
		if s.Events[i].Name != semconv.ExceptionEventName {
			continue
		}
		for _, kv := range s.Events[i].Attributes {
			if kv.Key == semconv.ExceptionMessageKey {
				return kv.Value.String()
			}
		}
	}
	if v, ok := s.Attr(semconv.ErrorTypeKey); ok {
		return v.String()
	}
	return ""
}

func (s *Span) ref() SpanRef { return SpanRef{Name: s.Name, Service: s.Service, SpanID: s.SpanID} }

// SpanRef names a span in a finding.
type SpanRef struct {
	Name    string       `json:"span"`
	Service string       `json:"service"`
	SpanID  trace.SpanID `json:"span_id"`
}

func (r SpanRef) String() string {
	if r.Service == "" {
		return r.Name
	}
	return r.Service + " " + r.Name
}
