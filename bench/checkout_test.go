package bench

import (
	"context"
	"net/http"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/otelkit/otelkit/examples/checkout/shop"
	"github.com/otelkit/otelkit/internal/pgtest"
)

// BenchmarkCheckout measures the latency of one checkout through the example
// system (gateway, pricing, inventory and recommendations in parallel, then
// orders with its Postgres transaction and outbox row) with every service
// fully instrumented, against the same system started with
// OTEL_SDK_DISABLED=true. Both systems run side by side and each iteration
// places one order on each, alternately, so that both see the same machine
// load. The asynchronous part (relay, Kafka, payments, notifications) runs
// concurrently, as in production, but is not part of the latency.
//
// It reports the median and 90th percentile latency of the gateway's answer
// for both systems and the median's overhead in percent:
//
//	go test -run '^$' -bench Checkout -benchtime 1000x -count 10 . | tee checkout.txt
//	go tool benchstat checkout.txt
func BenchmarkCheckout(b *testing.B) {
	b.Setenv("OTEL_TRACES_EXPORTER", "")
	b.Setenv("OTEL_SDK_DISABLED", "false")
	on := startCheckout(b)
	b.Setenv("OTEL_SDK_DISABLED", "true")
	off := startCheckout(b)

	order := []shop.CheckoutRequest{{UserID: "u-1", Currency: "EUR", Card: "4242424242424242",
		Items: []shop.Item{{SKU: "sku-0001", Qty: 1}, {SKU: "sku-0002", Qty: 1}, {SKU: "sku-0003", Qty: 1}}}}
	place := func(url string) time.Duration {
		start := time.Now()
		p := shop.Place(context.Background(), url, order, 1)[0]
		took := time.Since(start)
		if p.Err != nil || p.Status != http.StatusCreated {
			b.Fatalf("checkout: %d %v %s", p.Status, p.Err, p.Response.Error)
		}
		return took
	}
	// Connections, prepared statements, Kafka partitions and the heap reach
	// their steady state.
	for range 50 {
		place(on)
		place(off)
	}
	runtime.GC()
	var latOn, latOff []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			latOn = append(latOn, place(on))
			latOff = append(latOff, place(off))
		} else {
			latOff = append(latOff, place(off))
			latOn = append(latOn, place(on))
		}
	}
	b.StopTimer()
	p50on, p50off := quantile(latOn, 0.5), quantile(latOff, 0.5)
	b.ReportMetric(float64(p50on.Microseconds()), "p50-otel-µs")
	b.ReportMetric(float64(p50off.Microseconds()), "p50-disabled-µs")
	b.ReportMetric(float64(quantile(latOn, 0.9).Microseconds()), "p90-otel-µs")
	b.ReportMetric(float64(quantile(latOff, 0.9).Microseconds()), "p90-disabled-µs")
	b.ReportMetric(100*(float64(p50on)/float64(p50off)-1), "p50-overhead-%")
}

func quantile(d []time.Duration, q float64) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[int(float64(len(d)-1)*q)]
}

// startCheckout starts the example system on its own schema and Kafka and
// returns the gateway's URL. otelsetup.Setup reads OTEL_SDK_DISABLED when each
// service starts.
func startCheckout(b *testing.B) string {
	_, schema := pgtest.Schema(b)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cluster.Close)
	ctx := context.Background()
	tel, err := shop.NewTelemetry(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	tel.Discard() // spans go through the whole pipeline but are not kept
	sys, err := shop.Start(ctx, shop.Config{DatabaseURL: pgtest.URL(), Schema: schema, Brokers: cluster.ListenAddrs(), Telemetry: tel})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		sys.Close(context.Background())
		tel.Shutdown(context.Background())
	})
	return sys.GatewayURL()
}
