package pipeline_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
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
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(pipeline.NewRedactingExporter(rec.Exporter(), nil)))
	defer tp.Shutdown(context.Background())
	tr := tp.Tracer("t")
	_, other := tr.Start(context.Background(), "orders.other")
	other.End()
	_, span := tr.Start(context.Background(), "payments.charge",
		trace.WithLinks(trace.Link{SpanContext: other.SpanContext(), Attributes: []attribute.KeyValue{attribute.String("auth.token", "tok_abcdefghijklmnopqrstuv")}}),
		trace.WithAttributes(attribute.String("payment.provider.key", testPK), tracing.UserID.String("u-7"), tracing.TenantID.String("t-1")),
	)
	span.AddEvent("provider.request", trace.WithAttributes(attribute.String("http.request.header.authorization", "Bearer abcdefghijklmnopqrstuvwxyz")))
	tracing.RecordError(span, errors.New("declined card "+testCard))
	span.End()

	s := rec.Span(t, "payments.charge")
	dump := strings.Join([]string{
		attrsString(s.Attributes()), attrsString(s.Events()[0].Attributes), attrsString(s.Events()[1].Attributes),
		attrsString(s.Links()[0].Attributes), s.Status().Description,
	}, " | ")
	for _, secret := range []string{testPK, "u-7", "abcdefghijklmnopqrstuvwxyz", "tok_abcdefghijklmnopqrstuv", testCard} {
		if strings.Contains(dump, secret) {
			t.Errorf("%q exported in clear: %s", secret, dump)
		}
	}
	for _, kept := range []string{"t-1", "pk_live_abc...xyz", "Bearer abc...xyz", "****1111"} {
		if !strings.Contains(dump, kept) {
			t.Errorf("%q missing from %s", kept, dump)
		}
	}
	rec.AssertError(t, s, "*errors.errorString") // unrelated attributes kept
	rec.AssertNoSecrets(t, testPK, "u-7", "tok_abcdefghijklmnopqrstuv", testCard)
	// The untouched span is passed through as recorded.
	if o := rec.Span(t, "orders.other"); len(o.Attributes()) != 0 {
		t.Errorf("orders.other = %v", o.Attributes())
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
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(pipeline.NewRedactingExporter(rec.Exporter(), &r)))
	defer tp.Shutdown(context.Background())
	_, span := tp.Tracer("t").Start(context.Background(), "orders.zero", trace.WithAttributes(tracing.UserID.String("u-7")))
	span.End()
	rec.AssertAttrs(t, rec.Span(t, "orders.zero"), tracing.RedactAttr(tracing.UserID.String("u-7")))
	rec.AssertNoSecrets(t, "u-7")
}
