package kafkatrace_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/otelkit/otelkit/internal/kafkatest"
	"github.com/otelkit/otelkit/kafkatrace"
	"github.com/otelkit/otelkit/sdk/tracingtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is a kfake cluster and the test's span recorder, which leaves the
// globals alone: some tests check the behaviour without a global
// propagator.
type env struct {
	t       *testing.T
	brokers []string
	rec     *tracingtest.Recorder
	tp      *sdktrace.TracerProvider
}

func newEnv(t *testing.T, partitions int32, topics ...string) *env {
	t.Helper()
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	return &env{
		t:       t,
		brokers: kafkatest.Cluster(t, partitions, topics...),
		rec:     rec,
		tp:      rec.TracerProvider(),
	}
}

// tracer returns a Tracer exporting to e's recorder.
func (e *env) tracer(opts ...kafkatrace.Option) *kafkatrace.Tracer {
	return kafkatrace.NewTracer(append([]kafkatrace.Option{kafkatrace.WithTracerProvider(e.tp)}, opts...)...)
}

// client returns a client of e's cluster, closed when the test ends.
func (e *env) client(opts ...kgo.Opt) *kgo.Client {
	e.t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.brokers...)}, opts...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(cl.Close)
	return cl
}

// consumer returns a client consuming topics from the start.
func (e *env) consumer(tr *kafkatrace.Tracer, opts ...kgo.Opt) *kgo.Client {
	e.t.Helper()
	opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if tr != nil {
		opts = append(opts, kgo.WithHooks(tr))
	}
	return e.client(opts...)
}

// produce produces rs synchronously and fails the test on any error.
func produce(t *testing.T, cl *kgo.Client, rs ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// poll polls cl until it has n records.
func poll(t *testing.T, cl *kgo.Client, n int) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollRecords(ctx, n-len(out))
		if err := ctx.Err(); err != nil {
			t.Fatalf("polled %d of %d records: %v", len(out), n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// header returns the values of the headers of r named key.
func header(r *kgo.Record, key string) []string {
	var vs []string
	for _, h := range r.Headers {
		if h.Key == key {
			vs = append(vs, string(h.Value))
		}
	}
	return vs
}

// traceparent formats sc as a W3C traceparent.
func traceparent(sc trace.SpanContext) string {
	return "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String()
}
