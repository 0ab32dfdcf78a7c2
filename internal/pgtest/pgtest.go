// Package pgtest gives tests a real PostgreSQL connection and an isolated
// schema to work in.
//
// The server is taken from PGTEST_DATABASE_URL, then DATABASE_URL, then
// postgres://postgres@127.0.0.1:5432/test. When no server answers, a test is
// skipped on a developer's machine and fails when CI=true: in CI a skipped
// database test would prove nothing.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is used when neither PGTEST_DATABASE_URL nor DATABASE_URL is set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL returns the connection string of the test server.
func URL() string {
	if u := os.Getenv("PGTEST_DATABASE_URL"); u != "" {
		return u
	}
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Require makes sure the server answers. Without one it skips the test, or
// fails it when CI=true.
func Require(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, URL())
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(context.Background())
	}
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("pgtest: PostgreSQL is required when CI=true but %s does not answer: %v", URL(), err)
	}
	tb.Skipf("pgtest: no PostgreSQL at %s (%v); set PGTEST_DATABASE_URL to run this test", URL(), err)
}

// Schema creates a fresh schema for the test, dropped at cleanup, and returns
// a connection config whose search_path points at it. Tests in parallel
// packages never see each other's tables.
func Schema(tb testing.TB) (*pgx.ConnConfig, string) {
	tb.Helper()
	Require(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, URL())
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("pgtest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), URL())
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	cfg, err := pgx.ParseConfig(URL())
	if err != nil {
		tb.Fatalf("pgtest: parse %s: %v", URL(), err)
	}
	cfg.RuntimeParams["search_path"] = schema
	return cfg, schema
}

// Pool returns a pool on a fresh schema (see [Schema]), closed at cleanup.
// configure, when not nil, may change the pool config (tracer, sizes) first.
func Pool(tb testing.TB, configure func(*pgxpool.Config)) (*pgxpool.Pool, string) {
	tb.Helper()
	connCfg, schema := Schema(tb)
	cfg, err := pgxpool.ParseConfig(URL())
	if err != nil {
		tb.Fatalf("pgtest: parse %s: %v", URL(), err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = connCfg.RuntimeParams["search_path"]
	if configure != nil {
		configure(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("pgtest: pool: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool, schema
}
