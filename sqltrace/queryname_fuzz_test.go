package sqltrace

import (
	"strings"
	"testing"
)

func TestSQLCName(t *testing.T) {
	for _, tc := range []struct{ sql, want string }{
		{"-- name: GetOrder :one\nSELECT 1", "GetOrder"},
		{"  \n-- name: list_orders_2 :many\r\nSELECT 1", "list_orders_2"},
		{"/* header */ -- note\n--name:GetOrder\t:exec\nDELETE FROM t", "GetOrder"},
		{"-- name: GetOrder :one", "GetOrder"},
		{"SELECT 1 -- name: GetOrder :one", ""},
		{"-- name: GetOrder\nSELECT 1", ""},       // no command
		{"-- name: GetOrder:one\nSELECT 1", ""},   // no space before it
		{"-- name: Get Order :one\nSELECT 1", ""}, // not an identifier
		{"-- name: 1GetOrder :one\nSELECT 1", ""},
		{"-- name: GetOrder :one extra\nSELECT 1", ""},
		{"-- name: Get'Order :one", ""},
		{"-- name: " + strings.Repeat("a", 129) + " :one", ""},
		{"-- name: " + strings.Repeat("a", 128) + " :one", strings.Repeat("a", 128)},
		{"/* -- name: GetOrder :one */ SELECT 1", ""},
		{"", ""},
	} {
		if got := SQLCName(tc.sql); got != tc.want {
			t.Errorf("SQLCName(%q) = %q, want %q", tc.sql, got, tc.want)
		}
	}
}

// FuzzSQLCName: whatever the text, SQLCName returns "" or an identifier of
// at most 128 bytes that a "-- name:" comment before the statement holds.
func FuzzSQLCName(f *testing.F) {
	for _, s := range append([]string{"-- name: GetOrder :one\nSELECT 1", "--name:a :b", "-- name: a :", "-- name:  :one",
		"-- x\n-- name: B_2 :many \n", "SELECT 1 -- name: X :one", "/* unterminated -- name: X :one", "-- name: X :one\r\n"}, fuzzSeeds...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		n := SQLCName(sql)
		if n == "" {
			return
		}
		if len(n) > maxQueryNameLen {
			t.Fatalf("%q: name of %d bytes", sql, len(n))
		}
		for i := 0; i < len(n); i++ {
			if !isNameByte(n[i], i == 0) {
				t.Fatalf("%q: name %q is not an identifier", sql, n)
			}
		}
		// The name is in a comment before the first token of the statement.
		l := lexer{s: sql}
		for {
			kind, start, end := l.next()
			if kind == tokComment && strings.Contains(sql[start:end], n) {
				return
			}
			if kind != tokSpace && kind != tokComment {
				t.Fatalf("%q: name %q not in a comment before the statement", sql, n)
			}
		}
	})
}
