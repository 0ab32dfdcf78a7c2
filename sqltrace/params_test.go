package sqltrace

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
)

func TestAppendParameters(t *testing.T) {
	long := strings.Repeat("é", 200)
	got := appendParameters(nil, []any{
		pgx.QueryExecModeSimpleProtocol, // an option, not an argument
		"sku-1", nil, []byte("raw"), 42, long,
		pgx.NamedArgs{"b": "Bearer abcdefghijklmnopqrstuvwxyz0123456789", "a": 1},
	})
	want := map[attribute.Key]string{
		"db.query.parameter.0": "sku-1",
		"db.query.parameter.1": "NULL",
		"db.query.parameter.2": "<3 bytes>",
		"db.query.parameter.3": "42",
		"db.query.parameter.a": "1",
	}
	keys := []attribute.Key{}
	for _, kv := range got {
		keys = append(keys, kv.Key)
		v := kv.Value.AsString()
		switch kv.Key {
		case "db.query.parameter.4":
			if len(v) > maxParameterLen+len("…") || !strings.HasSuffix(v, "…") || !strings.HasPrefix(v, "éé") {
				t.Errorf("long value not cut on a rune: %d bytes %q", len(v), v)
			}
		case "db.query.parameter.b":
			if strings.Contains(v, "abcdefghijklmnopqrstuvwxyz") {
				t.Errorf("bearer token not redacted: %q", v)
			}
		default:
			if v != want[kv.Key] {
				t.Errorf("%s = %q, want %q", kv.Key, v, want[kv.Key])
			}
		}
	}
	wantKeys := "db.query.parameter.0 db.query.parameter.1 db.query.parameter.2 db.query.parameter.3 db.query.parameter.4 db.query.parameter.a db.query.parameter.b"
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(k))
	}
	if b.String() != wantKeys {
		t.Errorf("keys %q, want %q", b.String(), wantKeys)
	}
}
