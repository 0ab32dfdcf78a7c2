package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kotel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/internal/kafkatest"
	"github.com/otelkit/otelkit/kafkatrace"
	"github.com/otelkit/otelkit/tracing/w3c"
)

// kafkaSDK is what both instrumentations run with: every span sampled and
// ended into a discarding exporter, and the propagators otelsetup.Setup
// installs.
type kafkaSDK struct {
	tp    *sdktrace.TracerProvider
	props propagation.TextMapPropagator
}

func newKafkaSDK(tb testing.TB) kafkaSDK {
	s := kafkaSDK{
		tp: sdktrace.NewTracerProvider(
			sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(tracetest.NewNoopExporter())),
		),
		props: propagation.NewCompositeTextMapPropagator(w3c.TraceContext{}, propagation.Baggage{}),
	}
	tb.Cleanup(func() { _ = s.tp.Shutdown(context.Background()) })
	return s
}

func (s kafkaSDK) kotel() *kotel.Tracer {
	return kotel.NewTracer(kotel.TracerProvider(s.tp), kotel.TracerPropagator(s.props))
}

func (s kafkaSDK) ours() *kafkatrace.Tracer {
	return kafkatrace.NewTracer(kafkatrace.WithTracerProvider(s.tp), kafkatrace.WithPropagators(s.props))
}

func kafkaClient(tb testing.TB, brokers []string, opts ...kgo.Opt) *kgo.Client {
	tb.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(cl.Close)
	return cl
}

// requestContext is the context of the request span a record is produced
// under, as in a service.
func (s kafkaSDK) requestContext() context.Context {
	ctx, span := s.tp.Tracer("bench").Start(context.Background(), "orders.create")
	span.End()
	return ctx
}

// BenchmarkKafkaProduceSync produces one record at a time and waits for
// the acknowledgement, uninstrumented, with plugin/kotel and with
// kafkatrace, against one in-process kfake cluster.
func BenchmarkKafkaProduceSync(b *testing.B) {
	s := newKafkaSDK(b)
	brokers := kafkatest.Cluster(b, 1, "orders")
	value := []byte(`{"order_id":"o-42","total":1299}`)
	for _, v := range []struct {
		name string
		hook kgo.Hook
	}{
		{"plain", nil},
		{"kotel", kotel.NewKotel(kotel.WithTracer(s.kotel())).Hooks()[0]},
		{"kafkatrace", s.ours()},
	} {
		b.Run(v.name, func(b *testing.B) {
			var opts []kgo.Opt
			if v.hook != nil {
				opts = append(opts, kgo.WithHooks(v.hook))
			}
			cl := kafkaClient(b, brokers, opts...)
			ctx := s.requestContext()
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				r := &kgo.Record{Topic: "orders", Key: []byte("o-42"), Value: value}
				if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkKafkaConsume polls records that carry trace context and runs
// trivial work for each: uninstrumented, with plugin/kotel's hooks (a
// receive span per record, the work using Record.Context), and with
// kafkatrace's Process (a process span per record around the work).
func BenchmarkKafkaConsume(b *testing.B) {
	s := newKafkaSDK(b)
	for _, name := range []string{"plain", "kotel", "kafkatrace"} {
		b.Run(name, func(b *testing.B) {
			brokers := kafkatest.Cluster(b, 1, "orders")
			fill(b, s, brokers, b.N)

			var hook kgo.Hook
			process := func(ctx context.Context, r *kgo.Record, fn func(context.Context) error) error { return fn(ctx) }
			switch name {
			case "kotel":
				hook = s.kotel()
				process = func(_ context.Context, r *kgo.Record, fn func(context.Context) error) error { return fn(r.Context) }
			case "kafkatrace":
				tr := s.ours()
				hook = tr
				process = tr.Process
			}
			// One fetch holds every record, so that each variant pays for
			// fetching and decoding once, and its hooks, whichever goroutine
			// runs them, within the timed first poll.
			opts := []kgo.Opt{kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
				kgo.FetchMaxBytes(256 << 20), kgo.FetchMaxPartitionBytes(256 << 20), kgo.BrokerMaxReadBytes(512 << 20)}
			if hook != nil {
				opts = append(opts, kgo.WithHooks(hook))
			}
			cl := kafkaClient(b, brokers, opts...)
			var sampled int
			work := func(ctx context.Context) error {
				if trace.SpanContextFromContext(ctx).IsSampled() {
					sampled++
				}
				return nil
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for n := 0; n < b.N; {
				fs := cl.PollFetches(ctx)
				if err := fs.Err0(); err != nil {
					b.Fatal(err)
				}
				fs.EachRecord(func(r *kgo.Record) {
					n++
					if err := process(ctx, r, work); err != nil {
						b.Fatal(err)
					}
				})
			}
			b.StopTimer()
			reportCPU(b, cpu)
			if name != "plain" && sampled != b.N {
				b.Fatalf("work saw a sampled span for %d of %d records", sampled, b.N)
			}
		})
	}
}

// fill produces n records carrying trace context, as an instrumented
// producer leaves them.
func fill(b *testing.B, s kafkaSDK, brokers []string, n int) {
	b.Helper()
	cl := kafkaClient(b, brokers, kgo.WithHooks(s.ours()))
	ctx := s.requestContext()
	for i := 0; i < n; i += 1000 {
		var rs []*kgo.Record
		for j := i; j < min(i+1000, n); j++ {
			rs = append(rs, &kgo.Record{Topic: "orders", Key: fmt.Appendf(nil, "o-%d", j), Value: []byte(`{"total":1299}`)})
		}
		if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKafkaHooks measures the instrumentation alone, without the
// network: what each produced record costs in the produce hooks, and what
// each consumed record costs in plugin/kotel's fetch hooks (and the work
// run with Record.Context) or in kafkatrace's Process.
func BenchmarkKafkaHooks(b *testing.B) {
	s := newKafkaSDK(b)
	ctx := s.requestContext()
	kt, ours := s.kotel(), s.ours()
	in := &kgo.Record{Topic: "orders", Context: ctx}
	ours.OnProduceRecordBuffered(in)
	ours.OnProduceRecordUnbuffered(in, nil)
	work := func(context.Context) error { return nil }
	for _, v := range []struct {
		name    string
		headers []kgo.RecordHeader
		record  func(r *kgo.Record)
	}{
		{"produce/kotel", nil, func(r *kgo.Record) {
			kt.OnProduceRecordBuffered(r)
			kt.OnProduceRecordUnbuffered(r, nil)
		}},
		{"produce/kafkatrace", nil, func(r *kgo.Record) {
			ours.OnProduceRecordBuffered(r)
			ours.OnProduceRecordUnbuffered(r, nil)
		}},
		{"consume/kotel", in.Headers, func(r *kgo.Record) {
			kt.OnFetchRecordBuffered(r)
			kt.OnFetchRecordUnbuffered(r, true)
			_ = work(r.Context)
		}},
		{"consume/kafkatrace", in.Headers, func(r *kgo.Record) {
			_ = ours.Process(context.Background(), r, work)
		}},
	} {
		b.Run(v.name, func(b *testing.B) {
			value := []byte(`{"order_id":"o-42","total":1299}`)
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				r := &kgo.Record{Topic: "orders", Key: []byte("o-42"), Value: value, Headers: v.headers}
				if v.headers == nil {
					r.Context = ctx
				}
				v.record(r)
			}
			reportCPU(b, cpu)
		})
	}
}

// TestKafkaInteropWithKotel checks, against plugin/kotel itself on a kfake
// cluster, that a record produced by kotel continues its trace in
// kafkatrace's Process, and that a record produced by kafkatrace continues
// its trace in kotel's consumer span.
func TestKafkaInteropWithKotel(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	props := propagation.NewCompositeTextMapPropagator(w3c.TraceContext{}, propagation.Baggage{})
	brokers := kafkatest.Cluster(t, 3, "from-kotel", "from-kafkatrace")
	kt := kotel.NewTracer(kotel.TracerProvider(tp), kotel.TracerPropagator(props))
	ours := kafkatrace.NewTracer(kafkatrace.WithTracerProvider(tp), kafkatrace.WithPropagators(props))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	spanByID := func(id trace.SpanID) sdktrace.ReadOnlySpan {
		for _, s := range rec.Ended() {
			if s.SpanContext().SpanID() == id {
				return s
			}
		}
		t.Fatalf("no span %s", id)
		return nil
	}
	consumeOne := func(hook kgo.Hook, topic string) *kgo.Record {
		cl := kafkaClient(t, brokers, kgo.WithHooks(hook), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		for {
			fs := cl.PollRecords(ctx, 1)
			if err := fs.Err0(); err != nil {
				t.Fatal(err)
			}
			if rs := fs.Records(); len(rs) == 1 {
				return rs[0]
			}
		}
	}

	// kotel produces, kafkatrace consumes.
	prod := kafkaClient(t, brokers, kgo.WithHooks(kt))
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "from-kotel", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var kotelSend sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "from-kotel publish" {
			kotelSend = s
		}
	}
	if kotelSend == nil {
		t.Fatal("kotel produced no publish span")
	}
	r := consumeOne(ours, "from-kotel")
	var proc trace.SpanContext
	if err := ours.Process(ctx, r, func(ctx context.Context) error {
		proc = trace.SpanContextFromContext(ctx)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if p := spanByID(proc.SpanID()).Parent(); p.SpanID() != kotelSend.SpanContext().SpanID() || p.TraceID() != kotelSend.SpanContext().TraceID() {
		t.Errorf("our process span's parent %s, want kotel's publish span %s", p.SpanID(), kotelSend.SpanContext().SpanID())
	}

	// kafkatrace produces, kotel consumes.
	prod2 := kafkaClient(t, brokers, kgo.WithHooks(kafkatrace.NewTracer(kafkatrace.WithTracerProvider(tp), kafkatrace.WithPropagators(props))))
	if err := prod2.ProduceSync(ctx, &kgo.Record{Topic: "from-kafkatrace", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	r = consumeOne(kt, "from-kafkatrace")
	receive := trace.SpanFromContext(r.Context).SpanContext()
	var ourSend sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "send from-kafkatrace" {
			ourSend = s
		}
	}
	if ourSend == nil {
		t.Fatal("kafkatrace produced no send span")
	}
	if p := spanByID(receive.SpanID()).Parent(); p.SpanID() != ourSend.SpanContext().SpanID() || p.TraceID() != ourSend.SpanContext().TraceID() {
		t.Errorf("kotel's receive span's parent %s, want our send span %s", p.SpanID(), ourSend.SpanContext().SpanID())
	}
}
