package outbox

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// statsSQL reads the table-wide gauges. The count scans the pending rows;
// the age uses the pending index (the oldest pending row has the lowest id).
const statsSQL = `SELECT
	(SELECT count(*) FROM outbox WHERE dead_at IS NULL),
	coalesce((SELECT extract(epoch FROM clock_timestamp() - created_at)::float8
		FROM outbox WHERE dead_at IS NULL ORDER BY id LIMIT 1), 0),
	(SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL)`

// registerMetrics registers the observable gauges, read from Postgres on
// each collection (once per export interval, not per batch).
func (r *Relay) registerMetrics() (metric.Registration, error) {
	m := r.cfg.meter()
	pending, err := m.Int64ObservableGauge("outbox.pending",
		metric.WithUnit("{row}"),
		metric.WithDescription("Rows waiting in the outbox to be published (set-aside rows excluded)."))
	if err != nil {
		return nil, fmt.Errorf("outbox: metrics: %w", err)
	}
	lag, err := m.Float64ObservableGauge("outbox.lag",
		metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest row waiting in the outbox; 0 when none waits."))
	if err != nil {
		return nil, fmt.Errorf("outbox: metrics: %w", err)
	}
	setAside, err := m.Int64ObservableGauge("outbox.set_aside",
		metric.WithUnit("{row}"),
		metric.WithDescription("Rows set aside after too many failed publish attempts."))
	if err != nil {
		return nil, fmt.Errorf("outbox: metrics: %w", err)
	}
	return m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(trace.ContextWithSpanContext(ctx, bookkeeping), 5*time.Second)
		defer cancel()
		var n, dead int64
		var age float64
		if err := r.pool.QueryRow(ctx, statsSQL).Scan(&n, &age, &dead); err != nil {
			return fmt.Errorf("outbox: metrics: %w", err)
		}
		o.ObserveInt64(pending, n)
		o.ObserveFloat64(lag, age)
		o.ObserveInt64(setAside, dead)
		return nil
	}, pending, lag, setAside)
}
