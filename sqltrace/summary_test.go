package sqltrace

import (
	"strings"
	"testing"
)

func TestQuerySummary(t *testing.T) {
	tests := []struct{ sql, want string }{
		{"SELECT wuser_table.username FROM wuser_table", "SELECT wuser_table"},
		{"INSERT INTO shipping_details (id, first_name) SELECT id, first_name FROM orders", "INSERT shipping_details SELECT orders"},
		{"SELECT * FROM songs, artists WHERE songs.artist_id = artists.id", "SELECT songs artists"},
		{"SELECT * FROM songs s JOIN artists a ON s.artist_id = a.id", "SELECT songs artists"},
		{"SELECT order_date FROM (SELECT * FROM orders o JOIN customers c ON o.customer_id = c.customer_id) t", "SELECT SELECT orders customers"},
		{"select sku, qty from inventory where sku = any($1)", "SELECT inventory"},
		{"-- name: GetStock :many\nSELECT sku, qty FROM inventory WHERE sku = ANY($1)", "SELECT inventory"},
		{"/* leading /* nested */ comment */ UPDATE inventory SET qty = qty - $1 WHERE sku = $2", "UPDATE inventory"},
		{"DELETE FROM outbox WHERE id = $1 RETURNING payload", "DELETE outbox"},
		{`SELECT * FROM "Order Items" oi, public."Stock" s`, `SELECT "Order Items" public."Stock"`},
		{"SELECT * FROM shop.inventory", "SELECT shop.inventory"},
		{"WITH recent AS (SELECT id FROM orders WHERE created_at > now() - interval '1 day') SELECT * FROM recent JOIN users ON users.id = recent.user_id", "SELECT orders SELECT users"},
		{"WITH moved AS (DELETE FROM outbox RETURNING *) INSERT INTO outbox_archive SELECT * FROM moved", "DELETE outbox INSERT outbox_archive SELECT"},
		{"INSERT INTO orders (id) VALUES ($1); INSERT INTO outbox (payload) VALUES ($2)", "INSERT orders INSERT outbox"},
		{"INSERT INTO stock (sku, qty) VALUES ($1, $2) ON CONFLICT (sku) DO UPDATE SET qty = excluded.qty", "INSERT stock"},
		{"SELECT id FROM outbox ORDER BY id LIMIT 10 FOR UPDATE SKIP LOCKED", "SELECT outbox"},
		{"SELECT extract(year FROM created_at), substring(name FROM 2 FOR 3) FROM orders", "SELECT orders"},
		{"SELECT a IS DISTINCT FROM b FROM t", "SELECT t"},
		{"SELECT * FROM generate_series(1, 10) g, orders", "SELECT orders"},
		{"SELECT * FROM event, role", "SELECT event role"},
		{"UPDATE orders o SET status = $1 FROM payments p WHERE p.order_id = o.id", "UPDATE orders payments"},
		{"DELETE FROM orders USING payments WHERE payments.order_id = orders.id", "DELETE orders payments"},
		{"MERGE INTO stock s USING incoming i ON s.sku = i.sku WHEN MATCHED THEN UPDATE SET qty = i.qty WHEN NOT MATCHED THEN INSERT VALUES (i.sku, i.qty)", "MERGE stock incoming"},
		{"CREATE TABLE IF NOT EXISTS orders (id bigint primary key)", "CREATE TABLE orders"},
		{"CREATE UNIQUE INDEX CONCURRENTLY idx_sku ON inventory (sku)", "CREATE INDEX idx_sku"},
		{"DROP TABLE IF EXISTS orders CASCADE", "DROP TABLE orders"},
		{"TRUNCATE TABLE outbox", "TRUNCATE outbox"},
		{`copy "inventory" ( "sku", "qty" ) from stdin binary;`, `COPY "inventory"`},
		{"begin", "BEGIN"},
		{"begin isolation level serializable", "BEGIN"},
		{"commit", "COMMIT"},
		{"rollback", "ROLLBACK"},
		{"SAVEPOINT sp1", "SAVEPOINT"},
		{"SET search_path = shop", "SET"},
		{"SELECT 1", "SELECT"},
		{"SELECT $$ FROM secret $$ FROM t", "SELECT t"},
		{"SELECT 'FROM secret' FROM t", "SELECT t"},
		{"SELECT * FROM t1 UNION ALL SELECT * FROM t2", "SELECT t1 SELECT t2"},
		{"EXPLAIN ANALYZE SELECT * FROM t", "EXPLAIN SELECT t"},
		{"SELECT * FROM (VALUES (1), (2)) v(x)", "SELECT"},
		{"SELECT * FROM (SELECT id FROM orders) o, payments p WHERE p.order_id = o.id", "SELECT SELECT orders payments"},
		{"SELECT * FROM a, (SELECT 1 FROM b) x, c", "SELECT a SELECT b c"},
		{"SELECT 1; SELECT * FROM t; begin", "SELECT SELECT t BEGIN"},
		{"", ""},
		{"   ;  ", ""},
		{"hello world", ""},
	}
	for _, tt := range tests {
		if got := QuerySummary(tt.sql); got != tt.want {
			t.Errorf("QuerySummary(%q)\n got %q\nwant %q", tt.sql, got, tt.want)
		}
	}
}

func TestQuerySummary_CutAtWholeWordWithin255(t *testing.T) {
	var b strings.Builder
	b.WriteString("SELECT * FROM ")
	for i := range 60 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("table_number_")
		b.WriteByte(byte('a' + i%26))
	}
	got := QuerySummary(b.String())
	if len(got) > 255 || len(got) < 200 {
		t.Fatalf("len = %d: %q", len(got), got)
	}
	if !strings.HasSuffix(got, "table_number_"+string(rune('a'+(strings.Count(got, " ")-1)%26))) {
		t.Fatalf("cut inside a word: %q", got)
	}
}

func TestSanitizeQuery(t *testing.T) {
	tests := []struct{ sql, want string }{
		{"SELECT * FROM t WHERE id = $1", "SELECT * FROM t WHERE id = $1"},
		{"SELECT * FROM t WHERE name = 'alice' AND age > 42", "SELECT * FROM t WHERE name = ? AND age > ?"},
		{"SELECT 'it''s', E'a\\'b', B'0101', X'ff', N'x', U&'d\\0061t'", "SELECT ?, ?, ?, ?, ?, U&?"},
		{"SELECT $$secret$$, $tag$ a $$ b $tag$, $1", "SELECT ?, ?, $1"},
		{"SELECT 1.5e-3, .5, 0x1F, 1_000, -7", "SELECT ?, ?, ?, ?, -?"},
		{"SELECT t1.c2 FROM t1", "SELECT t1.c2 FROM t1"},
		{"SELECT 'unterminated", "SELECT ?"},
		{"SELECT interval '1 day'::interval -- 'kept comment'", "SELECT interval ?::interval -- 'kept comment'"},
		{`SELECT "col'umn" FROM t`, `SELECT "col'umn" FROM t`},
		{"SELECT \xff'x'", "SELECT \uFFFD?"},
	}
	for _, tt := range tests {
		if got := SanitizeQuery(tt.sql); got != tt.want {
			t.Errorf("SanitizeQuery(%q)\n got %q\nwant %q", tt.sql, got, tt.want)
		}
	}
}
