package sqltrace

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"SELECT sku, qty FROM inventory WHERE sku = ANY($1)",
	"-- name: GetStock :many\nSELECT * FROM inventory WHERE qty < 10",
	"WITH r AS (SELECT * FROM orders WHERE total > 100.5) SELECT * FROM r JOIN users u ON u.id = r.user_id",
	`INSERT INTO "Order Items" (id, note) VALUES (1, 'it''s'); DELETE FROM outbox WHERE id = 2 RETURNING *`,
	"SELECT E'\\'', $$x$$, $a$ $$ $a$, B'01', 1e-5, .5, 0x1F /* /* nested */ */",
	"UPDATE t SET a = 'unterminated",
	"SELECT $1, $$",
	"\xff\xfe SELECT '\xff'",
	"MERGE INTO s USING i ON s.k = i.k WHEN MATCHED THEN UPDATE SET q = 1",
	"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx ON t (c)",
	"SELECT (((((((((( 1 ))))))))))",
	")))(((;;;,,,",
}

// FuzzQuerySummary: the summary never panics, is valid UTF-8, at most 255
// bytes, and holds no literal: summarising it again changes nothing about
// its literals (it has none) and it has no quote character of a string.
func FuzzQuerySummary(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		a := analyze(sql)
		if len(a.summary) > maxSummaryLen {
			t.Fatalf("summary of %d bytes: %q", len(a.summary), a.summary)
		}
		if !utf8.ValidString(a.summary) || !utf8.ValidString(a.text) {
			t.Fatalf("invalid UTF-8: %q / %q", a.summary, a.text)
		}
		if hasLiteral(a.summary) {
			t.Fatalf("summary %q of %q holds a literal", a.summary, sql)
		}
		if a.name == "" || len(a.batch) > maxSummaryLen+6 {
			t.Fatalf("name %q batch %q", a.name, a.batch)
		}
	})
}

// FuzzSanitizeQuery: the sanitised text of any input holds no literal token
// and sanitising it again changes nothing.
func FuzzSanitizeQuery(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		out := SanitizeQuery(sql)
		if hasLiteral(out) {
			t.Fatalf("SanitizeQuery(%q) = %q still holds a literal", sql, out)
		}
		if again := SanitizeQuery(out); again != out {
			t.Fatalf("not idempotent:\n%q\n%q", out, again)
		}
	})
}

// literalTemplates are queries with a hole for a literal; none of them is
// changed by the lexer around the hole.
var literalTemplates = []string{
	"SELECT * FROM users WHERE email = %s",
	"INSERT INTO orders (id, note) VALUES ($1, %s) RETURNING id",
	"-- name: Find :one\nSELECT a FROM t WHERE b IN (1, %s, 3) /* c */",
	"UPDATE t SET a=%s;DELETE FROM t WHERE a=%s",
	`SELECT "col"||%s||'x' FROM "T"`,
}

// FuzzSanitizeQueryLiteral writes an arbitrary value as every kind of
// PostgreSQL literal into real-looking queries and checks that the value
// does not survive sanitising.
func FuzzSanitizeQueryLiteral(f *testing.F) {
	f.Add("alice@example.com", int64(4111111111111111), 3.25)
	f.Add("it's $$ a 'trap' -- /*", int64(-42), -1e-9)
	f.Add("\\'; DROP TABLE x; --", int64(0), 0.0)
	f.Fuzz(func(t *testing.T, value string, n int64, x float64) {
		if !utf8.ValidString(value) || math.IsNaN(x) || math.IsInf(x, 0) {
			return // NaN and Inf are written as words in SQL, not literals
		}
		literals := []string{
			"'" + strings.ReplaceAll(value, "'", "''") + "'",
			"E'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(value) + "'",
			strconv.FormatInt(n, 10),
			strconv.FormatFloat(x, 'g', -1, 64),
		}
		if !strings.Contains(value, "$q$") && !strings.HasSuffix(value, "$q") {
			literals = append(literals, "$q$"+value+"$q$")
		}
		if !strings.Contains(value, "$$") && !strings.HasSuffix(value, "$") {
			literals = append(literals, "$$"+value+"$$")
		}
		for _, tmpl := range literalTemplates {
			for _, lit := range literals {
				sql := strings.ReplaceAll(tmpl, "%s", lit)
				out := SanitizeQuery(sql)
				secret := strings.TrimLeft(lit, "-") // the sign is an operator
				for _, s := range []string{value, secret} {
					if len(s) >= 3 && !strings.Contains(strings.ReplaceAll(tmpl, "%s", "?"), s) && strings.Contains(out, s) {
						t.Fatalf("literal %q survives in %q (from %q)", s, out, sql)
					}
				}
				if sum := QuerySummary(sql); strings.Contains(sum, lit) || (len(value) >= 3 && strings.Contains(sum, value) && !strings.Contains(tmpl, value)) {
					t.Fatalf("literal in summary %q of %q", sum, sql)
				}
			}
		}
	})
}

// hasLiteral reports whether the lexer finds a literal token in s.
func hasLiteral(s string) bool {
	l := lexer{s: s}
	for {
		kind, _, _ := l.next()
		if kind == tokEOF {
			return false
		}
		if isLiteral(kind) {
			return true
		}
	}
}
