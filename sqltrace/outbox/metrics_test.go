package outbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelkit/otelkit/internal/kafkatest"
	"github.com/otelkit/otelkit/sqltrace/outbox"
)

// gauges collects the outbox gauges as "pending lag set_aside" with the lag
// in whole seconds.
func gauges(t *testing.T, reader *sdkmetric.ManualReader) string {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != outbox.ScopeName || sm.Scope.Version != outbox.Version {
			continue
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				vals[m.Name+" "+m.Unit] = fmt.Sprint(d.DataPoints[0].Value)
			case metricdata.Gauge[float64]:
				vals[m.Name+" "+m.Unit] = fmt.Sprintf("%.0f", d.DataPoints[0].Value)
			}
		}
	}
	return fmt.Sprintf("pending=%s lag=%s set_aside=%s",
		vals["outbox.pending {row}"], vals["outbox.lag s"], vals["outbox.set_aside {row}"])
}

func TestRelay_ReportsPendingLagAndSetAside(t *testing.T) {
	pool := db(t)
	seeds := kafkatest.Cluster(t, 1, "orders")
	ctx := context.Background()
	enqueue(t, pool, outbox.NewWriter(), ctx, numbered("orders", 4, 0)...)
	// Three rows wait for a retry, the oldest for a minute already; one
	// row was set aside.
	if _, err := pool.Exec(ctx, `UPDATE outbox SET retry_at = now() + interval '1 hour',
		created_at = now() - interval '60 seconds' * (4 - id)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE outbox SET dead_at = now() WHERE id = 4`); err != nil {
		t.Fatal(err)
	}

	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(ctx) }()
	stop := start(t, outbox.NewRelay(pool, producer(t, seeds), outbox.WithMeterProvider(mp),
		outbox.WithPollInterval(5*time.Millisecond)))
	eventually(t, 5*time.Second, "gauges registered", func() (bool, string) {
		g := gauges(t, reader)
		return g == "pending=3 lag=180 set_aside=1", g
	})

	if _, err := pool.Exec(ctx, `UPDATE outbox SET retry_at = NULL`); err != nil {
		t.Fatal(err)
	}
	waitEmpty(t, pool, 5*time.Second)
	if g := gauges(t, reader); g != "pending=0 lag=0 set_aside=1" {
		t.Errorf("after draining: %s, want pending=0 lag=0 set_aside=1", g)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if g := gauges(t, reader); g != "pending= lag= set_aside=" {
		t.Errorf("after Run returned: %s, want the callback unregistered", g)
	}
}
