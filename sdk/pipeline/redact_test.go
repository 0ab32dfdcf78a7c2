package pipeline_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/pipeline"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

const (
	testCard = "4111 1111 1111 1111"
	testPK   = "pk_live_abcdefghijklmnopxyz"
)

func TestRedactor_ExporterCoversSpanEventLinkAttributesAndStatus(t *testing.T) {
	inner := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(pipeline.NewRedactingExporter(inner, nil)))
	defer tp.Shutdown(context.Background())
	tr := tp.Tracer("t")
	_, other := tr.Start(context.Background(), "orders.other")
	other.End()
	_, span := tr.Start(context.Background(), "payments.charge",
		trace.WithLinks(trace.Link{SpanContext: other.SpanContext(), Attributes: []attribute.KeyValue{attribute.String("auth.token", "tok_abcdefghijklmnopqrstuv")}}),
		trace.WithAttributes(attribute.String("payment.provider.key", testPK), tracing.UserID.String("u-7"), tracing.OrderID.String("o-1")),
	)
	span.AddEvent("provider.request", trace.WithAttributes(attribute.String("http.request.header.authorization", "Bearer abcdefghijklmnopqrstuvwxyz")))
	tracing.RecordError(span, errors.New("declined card "+testCard))
	span.End()

	spans := inner.GetSpans()
	s := spanNamed(t, spans, "payments.charge")
	dump := strings.Join([]string{
		attrsString(s.Attributes), attrsString(s.Events[0].Attributes), attrsString(s.Events[1].Attributes),
		attrsString(s.Links[0].Attributes), s.Status.Description,
	}, " | ")
	for _, secret := range []string{testPK, "u-7", "abcdefghijklmnopqrstuvwxyz", "tok_abcdefghijklmnopqrstuv", testCard} {
		if strings.Contains(dump, secret) {
			t.Errorf("%q exported in clear: %s", secret, dump)
		}
	}
	for _, kept := range []string{"o-1", "pk_live_abc...xyz", "Bearer abc...xyz", "****1111"} {
		if !strings.Contains(dump, kept) {
			t.Errorf("%q missing from %s", kept, dump)
		}
	}
	if v, _ := tracingtest.Attr(s.Attributes, semconv.ErrorTypeKey); v.AsString() == "" {
		t.Errorf("unrelated attributes lost: %s", dump)
	}
	// The untouched span is passed through as recorded.
	if o := spanNamed(t, spans, "orders.other"); len(o.Attributes) != 0 {
		t.Errorf("orders.other = %v", o.Attributes)
	}
}

func attrsString(kvs []attribute.KeyValue) string {
	var b strings.Builder
	for _, kv := range kvs {
		b.WriteString(string(kv.Key) + "=" + kv.Value.String() + " ")
	}
	return b.String()
}

func TestRedactor_ZeroValueHashesPersonalDataOnly(t *testing.T) {
	var r tracing.Redactor
	if got, keep := r.Attr(attribute.String("db.password", "hunter2")); !keep || got.Value.AsString() != "hunter2" {
		t.Errorf("zero tracing.Redactor masked %v without secret words", got)
	}
	if got, _ := r.Attr(tracing.UserID.String("u-7")); got != tracing.RedactAttr(tracing.UserID.String("u-7")) {
		t.Errorf("zero tracing.Redactor: user.id = %q, want the default hash", got.Value.AsString())
	}
	inner := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(pipeline.NewRedactingExporter(inner, &r)))
	defer tp.Shutdown(context.Background())
	_, span := tp.Tracer("t").Start(context.Background(), "orders.zero", trace.WithAttributes(tracing.UserID.String("u-7")))
	span.End()
	if v, _ := tracingtest.Attr(inner.GetSpans()[0].Attributes, tracing.UserID.Key()); strings.Contains(v.AsString(), "u-7") {
		t.Errorf("zero tracing.Redactor exported user.id in clear: %q", v.AsString())
	}
}

func spanNamed(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no span %q in %d spans", name, len(spans))
	return tracetest.SpanStub{}
}
