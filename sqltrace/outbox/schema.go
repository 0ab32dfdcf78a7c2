package outbox

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Schema is the SQL that creates the outbox table, its indexes and the
// trigger that wakes the relays. It creates the objects in the first schema
// of the connection's search_path. [Apply] runs it; it is exported for
// migration tools that prefer to own the DDL.
//
// It needs PostgreSQL 14 or later (CREATE OR REPLACE TRIGGER).
//
//go:embed schema.sql
var Schema string

// TxBeginner is what [Apply] needs: a *pgxpool.Pool or a *pgx.Conn.
type TxBeginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Apply creates the outbox table, indexes and notification trigger if they
// do not exist yet. It is idempotent and safe to call from several processes
// at once (it serialises on a transaction-scoped advisory lock), so a relay
// or service can call it at start-up.
func Apply(ctx context.Context, db TxBeginner) (err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("outbox: apply schema: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if _, err = tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('otelkit.outbox.schema'))"); err != nil {
		return fmt.Errorf("outbox: apply schema: %w", err)
	}
	if _, err = tx.Exec(ctx, Schema); err != nil {
		return fmt.Errorf("outbox: apply schema: %w", err)
	}
	if err = tx.Commit(ctx); err != nil {
		return fmt.Errorf("outbox: apply schema: %w", err)
	}
	return nil
}
