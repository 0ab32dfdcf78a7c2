//go:build !race

package sqltrace

import "testing"

// Naming spans by sqlc's comment adds no allocation: SQLCName returns a
// substring, and a cache hit stays free.
func TestAllocs_SQLCNameAllocatesNothing(t *testing.T) {
	for _, sql := range []string{
		"SELECT sku, qty FROM inventory WHERE sku = ANY($1)",
		"-- a comment\nSELECT sku FROM inventory",
		"-- name: GetStock :many\nSELECT sku, qty FROM inventory WHERE sku = ANY($1)",
	} {
		if n := testing.AllocsPerRun(1000, func() { SQLCName(sql) }); n != 0 {
			t.Errorf("SQLCName(%q): %v allocs, want 0", sql, n)
		}
	}
	c := newQueryCache(16)
	c.spanName = SQLCName
	for _, sql := range []string{"SELECT sku FROM inventory", "-- name: GetStock :many\nSELECT sku FROM inventory"} {
		c.get(sql)
		if n := testing.AllocsPerRun(1000, func() { c.get(sql) }); n != 0 {
			t.Errorf("cache hit of %q with SQLCName: %v allocs, want 0", sql, n)
		}
	}
	// On a miss, a text without a name costs what it cost without the
	// option.
	const unnamed = "SELECT sku, qty FROM inventory WHERE sku = ANY($1) AND qty < 5"
	without := testing.AllocsPerRun(100, func() { newQueryCache(1).get(unnamed) })
	with := testing.AllocsPerRun(100, func() {
		c := newQueryCache(1)
		c.spanName = SQLCName
		c.get(unnamed)
	})
	if with != without {
		t.Errorf("cache miss of a text without a name: %v allocs with SQLCName, %v without", with, without)
	}
}
