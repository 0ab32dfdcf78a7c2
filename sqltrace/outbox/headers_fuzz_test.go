package outbox

import (
	"bytes"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

// FuzzRowHeaders: whatever a row's header arrays hold, headers never
// panics; it pairs them in order when they have the same length and no NULL
// key, and otherwise returns none and an error naming the problem.
func FuzzRowHeaders(f *testing.F) {
	f.Add("tenant,source", "t-1,web", uint8(0))
	f.Add("tenant,source", "t-1", uint8(0))
	f.Add("", "x", uint8(0))
	f.Add("a,b,c", "1,2,3", uint8(2))
	f.Add("", "", uint8(0))
	f.Fuzz(func(t *testing.T, keys, vals string, nullKeys uint8) {
		o := &row{id: 7}
		for i, k := range split(keys) {
			o.headerKeys = append(o.headerKeys, pgtype.Text{String: k, Valid: nullKeys&(1<<(i%8)) == 0})
		}
		for _, v := range split(vals) {
			o.headerVals = append(o.headerVals, []byte(v))
		}
		h, err := o.headers()
		nullKey := false
		for _, k := range o.headerKeys {
			nullKey = nullKey || !k.Valid
		}
		if want := len(o.headerKeys) != len(o.headerVals) || nullKey; (err != nil) != want {
			t.Fatalf("keys %v values %q: error %v, want one: %v", o.headerKeys, o.headerVals, err, want)
		}
		if err != nil {
			if h != nil || !strings.Contains(err.Error(), "user headers dropped") {
				t.Fatalf("headers %v, error %v", h, err)
			}
			return
		}
		if len(h) != len(o.headerKeys) || (len(h) > 0 && cap(h) == len(h)) {
			t.Fatalf("%d headers (cap %d) from %d pairs", len(h), cap(h), len(o.headerKeys))
		}
		for i := range h {
			if h[i].Key != o.headerKeys[i].String || !bytes.Equal(h[i].Value, o.headerVals[i]) {
				t.Fatalf("header %d = %s=%q, want %s=%q", i, h[i].Key, h[i].Value, o.headerKeys[i].String, o.headerVals[i])
			}
		}
	})
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
