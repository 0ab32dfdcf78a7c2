package bench

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/otelkit/otelkit/internal/kafkatest"
	"github.com/otelkit/otelkit/internal/pgtest"
	"github.com/otelkit/otelkit/kafkatrace"
	"github.com/otelkit/otelkit/sqltrace/outbox"
	"github.com/otelkit/otelkit/tracing/w3c"
)

// BenchmarkOutboxRelay measures the relay end to end, Postgres to an
// in-process Kafka (kfake): b.N rows, each with its own key and a stored
// trace context, are relayed in batches of 1000 until the table is empty.
//
//   - untraced: the same relay on a no-op tracer provider, the client
//     without hooks (the baseline);
//   - traced: every row's trace sampled; each row gets its outbox.relay span
//     and the kafkatrace send span, ended into a batch processor with a
//     discarding exporter;
//   - traced-10pct: as traced, but one stored trace context in ten is
//     sampled (a service sampling 10% upstream, parent-based downstream);
//   - traced-setup and traced-setup-10pct: as traced and traced-10pct, but
//     through the pipeline otelsetup.Setup builds (its batch processor,
//     business attributes from the rows' baggage, redaction).
//
// msgs/s is the throughput; cpu-ns/msg the CPU time of this process (relay,
// client and kfake; Postgres not included) per message.
//
//	go test -run XXX -bench OutboxRelay -benchtime 20000x -count 6
func BenchmarkOutboxRelay(b *testing.B) {
	for _, mode := range []struct {
		name    string
		sampled int // one row in sampled carries a sampled trace context; 0: untraced
		setup   bool
	}{{"untraced", 0, false}, {"traced", 1, false}, {"traced-10pct", 10, false},
		{"traced-setup", 1, true}, {"traced-setup-10pct", 10, true}} {
		b.Run(mode.name, func(b *testing.B) { benchRelay(b, mode.sampled, mode.setup) })
	}
}

func benchRelay(b *testing.B, sampled int, setup bool) {
	ctx := context.Background()
	pool, _ := pgtest.Pool(b, func(c *pgxpool.Config) { c.MaxConns = 4 })
	if err := outbox.Apply(ctx, pool); err != nil {
		b.Fatal(err)
	}
	brokers := kafkatest.Cluster(b, 3, "orders")

	props := propagation.NewCompositeTextMapPropagator(w3c.TraceContext{}, propagation.Baggage{})
	var tp trace.TracerProvider = noop.NewTracerProvider()
	kopts := []kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ProducerLinger(0)}
	// A batch of 1000 rows ends 2000 spans at once: with the default queue
	// of 2048 both batch processors drop some of them.
	const queue = 8192
	switch {
	case setup:
		b.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", fmt.Sprint(queue))
		tp = setupTracing(b, tracetest.NewNoopExporter()).TracerProvider
	case sampled > 0:
		sdk := sdktrace.NewTracerProvider(
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
			sdktrace.WithBatcher(tracetest.NewNoopExporter(), sdktrace.WithMaxQueueSize(queue)))
		b.Cleanup(func() { _ = sdk.Shutdown(ctx) })
		tp = sdk
	}
	if sampled > 0 {
		kopts = append(kopts, kgo.WithHooks(kafkatrace.NewTracer(kafkatrace.WithTracerProvider(tp), kafkatrace.WithPropagators(props))))
	}
	client, err := kgo.NewClient(kopts...)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()

	// The rows as Enqueue writes them, bulk-loaded outside the timer.
	payload := []byte(`{"type":"order.created","order":{"id":"o-000000","amount":"42.50","currency":"EUR","items":3}}`)
	rows := make([][]any, b.N)
	for i := range rows {
		flags := "00"
		if sampled <= 1 || i%sampled == 0 {
			flags = "01"
		}
		tpHeader := fmt.Sprintf("00-%016x%016x-%016x-%s", i+1, i+1, i+1, flags)
		rows[i] = []any{"orders", []byte(fmt.Sprintf("o-%d", i)), payload, tpHeader, "user.id=u-1"}
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"outbox"},
		[]string{"topic", "key", "payload", "traceparent", "baggage"}, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE outbox"); err != nil {
		b.Fatal(err)
	}

	relay := outbox.NewRelay(pool, client, outbox.WithBatchSize(1000),
		outbox.WithTracerProvider(tp), outbox.WithPropagators(props))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	cpu0 := processCPU()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- relay.Run(runCtx) }()
	for {
		var left bool
		if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM outbox)").Scan(&left); err != nil {
			b.Fatal(err)
		}
		if !left {
			break
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	b.StopTimer()
	if err := relay.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	cancel()
	<-done
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/msg")
}

// processCPU is the CPU time this process used so far, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
