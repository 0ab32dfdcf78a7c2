package sqltrace

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/tracing"
)

// maxParameterLen bounds a recorded parameter value.
const maxParameterLen = 256

// redactAttr is the redaction every recorded parameter goes through.
var redactAttr = tracing.RedactAttr

// appendParameters appends db.query.parameter.<key> attributes for args,
// redacted. Positional arguments are keyed by index from 0, pgx.NamedArgs by
// name; pgx's query options (exec mode, result formats) are not arguments.
func appendParameters(attrs []attribute.KeyValue, args []any) []attribute.KeyValue {
	i := 0
	for _, arg := range args {
		switch arg := arg.(type) {
		case pgx.QueryExecMode, pgx.QueryResultFormats, pgx.QueryResultFormatsByOID:
		case pgx.NamedArgs:
			attrs = appendNamed(attrs, arg)
		case pgx.StrictNamedArgs:
			attrs = appendNamed(attrs, arg)
		default:
			attrs = appendParameter(attrs, strconv.Itoa(i), arg)
			i++
		}
	}
	return attrs
}

func appendNamed(attrs []attribute.KeyValue, args map[string]any) []attribute.KeyValue {
	for _, k := range slices.Sorted(maps.Keys(args)) {
		attrs = appendParameter(attrs, k, args[k])
	}
	return attrs
}

func appendParameter(attrs []attribute.KeyValue, key string, v any) []attribute.KeyValue {
	kv := redactAttr(semconv.DBQueryParameter(key, formatParameter(v)))
	if kv.Valid() {
		attrs = append(attrs, kv)
	}
	return attrs
}

func formatParameter(v any) string {
	var s string
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		s = v
	case []byte:
		return "<" + strconv.Itoa(len(v)) + " bytes>"
	default:
		s = fmt.Sprint(v)
	}
	if len(s) > maxParameterLen {
		cut := maxParameterLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
