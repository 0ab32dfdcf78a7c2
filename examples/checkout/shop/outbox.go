package shop

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/propagation"
)

var outboxDDL = []string{
	`CREATE TABLE IF NOT EXISTS outbox (
		id bigserial PRIMARY KEY,
		topic text NOT NULL,
		key bytea,
		payload bytea NOT NULL,
		carrier jsonb NOT NULL DEFAULT '{}',
		created_at timestamptz NOT NULL DEFAULT now(),
		sent_at timestamptz)`,
	`CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL`,
}

// enqueue writes an event into the outbox in the caller's transaction, with
// the trace context of ctx, so that the relay publishes it in the same trace.
func (s svc) enqueue(ctx context.Context, tx pgx.Tx, topic string, key, payload []byte) error {
	carrier := propagation.MapCarrier{}
	s.prop.Inject(ctx, carrier)
	c, _ := json.Marshal(carrier)
	_, err := tx.Exec(ctx, `INSERT INTO outbox (topic, key, payload, carrier) VALUES ($1, $2, $3, $4)`, topic, key, payload, c)
	return err
}

// relay moves outbox rows to Kafka, each published under the trace context
// stored with its row.
type relay struct {
	s     svc
	pool  *pgxpool.Pool
	kafka *kgo.Client
	every time.Duration
}

func (r *relay) run(ctx context.Context) {
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		for {
			n, err := r.once(ctx)
			if err != nil && ctx.Err() == nil {
				r.s.log.ErrorContext(ctx, "outbox relay", "err", err)
			}
			if n == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *relay) once(ctx context.Context) (int, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.Background())
	rows, err := tx.Query(ctx, `SELECT id, topic, key, payload, carrier FROM outbox
		WHERE sent_at IS NULL ORDER BY id LIMIT 20 FOR UPDATE SKIP LOCKED`)
	if err != nil {
		return 0, err
	}
	type row struct {
		id      int64
		rec     kgo.Record
		carrier propagation.MapCarrier
	}
	var batch []row
	for rows.Next() {
		var x row
		if err := rows.Scan(&x.id, &x.rec.Topic, &x.rec.Key, &x.rec.Value, &x.carrier); err != nil {
			rows.Close()
			return 0, err
		}
		batch = append(batch, x)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var errs []error
	for _, x := range batch {
		pctx := r.s.prop.Extract(ctx, x.carrier)
		if err := r.s.produce(pctx, r.kafka, &x.rec); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE outbox SET sent_at = now() WHERE id = $1`, x.id); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	return len(batch), errors.Join(errs...)
}
