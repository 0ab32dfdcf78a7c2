package shop_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/otelkit/otelkit/examples/checkout/shop"
)

// TestStartThrowaway starts a cluster from the installed binaries, as the
// example does on a machine with no server running, and removes it.
func TestStartThrowaway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg, err := shop.StartThrowaway(ctx)
	if errors.Is(err, shop.ErrNoPostgres) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	var one int
	err = conn.QueryRow(ctx, "SELECT 1").Scan(&one)
	conn.Close(ctx)
	if err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	if err := pg.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.Connect(ctx, pg.URL); err == nil {
		t.Error("throwaway cluster still answers after Close")
	}
}
