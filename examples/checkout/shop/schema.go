package shop

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/otelkit/otelkit/sqltrace/outbox"
)

// CatalogSize is the number of SKUs in stock, sku-0000 to sku-1999, each
// held in StockWarehouses warehouses.
const (
	CatalogSize     = 2000
	StockWarehouses = 20
)

// Migrate creates the tables in schema (created if missing) and fills the
// stock table when it is empty. With index false the stock table has no index
// on sku: the missing-index incident.
func Migrate(ctx context.Context, url, schema string, index bool) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	// Services started together in separate processes migrate one at a time.
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	s := pgx.Identifier{schema}.Sanitize()
	stmts := []string{
		`SELECT pg_advisory_xact_lock(hashtext('otelkit-checkout-migrate'))`,
		`CREATE SCHEMA IF NOT EXISTS ` + s,
		`SET LOCAL search_path TO ` + s,
		`CREATE TABLE IF NOT EXISTS orders (
			id text PRIMARY KEY,
			user_id text NOT NULL,
			amount_cents bigint NOT NULL,
			currency text NOT NULL,
			created_at timestamptz NOT NULL DEFAULT now())`,
		`CREATE TABLE IF NOT EXISTS order_items (
			order_id text NOT NULL REFERENCES orders(id),
			sku text NOT NULL,
			qty int NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS stock (
			sku text NOT NULL,
			warehouse int NOT NULL,
			qty int NOT NULL)`,
		`INSERT INTO stock (sku, warehouse, qty)
			SELECT format('sku-%s', lpad(s::text, 4, '0')), w, 20
			FROM generate_series(0, ` + fmt.Sprint(CatalogSize-1) + `) s, generate_series(1, ` + fmt.Sprint(StockWarehouses) + `) w
			WHERE NOT EXISTS (SELECT 1 FROM stock)`,
		`ANALYZE stock`,
	}
	if index {
		stmts = append(stmts, `CREATE INDEX IF NOT EXISTS stock_sku_idx ON stock (sku)`)
	} else {
		stmts = append(stmts, `DROP INDEX IF EXISTS stock_sku_idx`)
	}
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	if err := outbox.Apply(ctx, tx); err != nil {
		return fmt.Errorf("migrate outbox: %w", err)
	}
	return tx.Commit(ctx)
}

// DropSchema removes the schema and everything in it.
func DropSchema(ctx context.Context, url, schema string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
	return err
}
