package bench

import (
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing/diagnose"
)

// syntheticTrace builds a checkout-shaped trace of about n spans: a server
// span fanning out to services, each with a handler, pooled statements
// (some repeated), a retried client call, and a Kafka hop, with a few
// failures so that every detector has work.
func syntheticTrace(tid trace.TraceID, n int) []diagnose.Span {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	spans := make([]diagnose.Span, 0, n)
	var next uint64
	add := func(parent trace.SpanID, svc, name string, kind trace.SpanKind, from, to time.Duration, attrs ...attribute.KeyValue) trace.SpanID {
		next++
		var id trace.SpanID
		for i := range 8 {
			id[i] = byte(next >> (8 * i))
		}
		spans = append(spans, diagnose.Span{TraceID: tid, SpanID: id, ParentID: parent, Name: name, Kind: kind, Service: svc,
			Start: t0.Add(from), End: t0.Add(to), Attributes: attrs, Resource: []attribute.KeyValue{semconv.ServiceName(svc)}})
		return id
	}
	ms := time.Millisecond
	root := add(trace.SpanID{}, "gateway", "POST /checkout", trace.SpanKindServer, 0, time.Hour, semconv.HTTPResponseStatusCode(201))
	at := time.Duration(0)
	for i := 0; len(spans) < n; i++ {
		svc := fmt.Sprintf("svc-%d", i%7)
		c := add(root, "gateway", "POST", trace.SpanKindClient, at, at+20*ms, semconv.ServerAddress(svc), semconv.HTTPRequestResendCount(i%3))
		if i%3 != 2 {
			spans[len(spans)-1].Status = codes.Error
			spans[len(spans)-1].StatusMessage = "timeout awaiting response headers"
		}
		srv := add(c, svc, "POST /work", trace.SpanKindServer, at+ms, at+19*ms)
		h := add(srv, svc, "svc.handle", trace.SpanKindInternal, at+ms, at+19*ms, attribute.Int("order.item_count", i%50))
		add(h, svc, "pgxpool.acquire", trace.SpanKindInternal, at+ms, at+3*ms)
		for q := range 6 {
			from := at + 3*ms + time.Duration(q)*2*ms
			add(h, svc, "SELECT stock", trace.SpanKindClient, from, from+2*ms, semconv.DBSystemNamePostgreSQL, semconv.DBQuerySummary("SELECT stock"))
		}
		p := add(h, svc, "send orders", trace.SpanKindProducer, at+16*ms, at+17*ms, semconv.MessagingDestinationPartitionID(fmt.Sprint(i%6)))
		if i%6 != 5 {
			add(p, "consumer", "process orders", trace.SpanKindConsumer, at+30*ms, at+40*ms)
		}
		at += 21 * ms
	}
	return spans
}

// BenchmarkDiagnose diagnoses one trace of 1,000 and 10,000 spans, and
// compares 1,000 traces of 100 spans; B/op at 1k and 10k spans shows that
// memory grows linearly with the spans read.
func BenchmarkDiagnose(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		spans := syntheticTrace(trace.TraceID{1}, n)
		b.Run(fmt.Sprintf("spans=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				ds := diagnose.Diagnose(spans)
				if len(ds) != 1 || len(ds[0].Findings) == 0 {
					b.Fatalf("%d diagnoses, findings %v", len(ds), ds)
				}
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(n), "spans/op")
		})
	}
	var all []diagnose.Span
	for i := range 1000 {
		all = append(all, syntheticTrace(trace.TraceID{2, byte(i >> 8), byte(i)}, 100)...)
	}
	b.Run("compare/traces=1000", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			ds := diagnose.Diagnose(all)
			diffs := diagnose.Compare(ds)
			if len(ds) != 1000 || len(diffs) == 0 {
				b.Fatalf("%d diagnoses, %d differences", len(ds), len(diffs))
			}
		}
		reportCPU(b, cpu)
		b.ReportMetric(float64(len(all)), "spans/op")
	})
}
