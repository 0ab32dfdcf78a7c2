package logcorr

import (
	"log/slog"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/internal/conv"
)

// redactor applies the tracing conventions' default redaction rules to
// what a record carries. It is nil under WithoutRedaction.
type redactor = *conv.Redactor

// redactRecord returns r with its message and attributes redacted, and
// whether anything changed. A clean record is returned as it is, without
// allocating: the first pass only looks, and a second pass rebuilds the
// record after the first change.
func redactRecord(red redactor, r slog.Record) (slog.Record, bool) {
	msg, changed := red.Text(r.Message)
	if !changed {
		r.Attrs(func(a slog.Attr) bool {
			_, _, changed = redactAttr(red, a)
			return !changed
		})
		if !changed {
			return r, false
		}
	}
	out := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a, keep, _ := redactAttr(red, a); keep {
			out.AddAttrs(a)
		}
		return true
	})
	return out, true
}

// redactAttrs returns as redacted, and as itself when nothing changes.
func redactAttrs(red redactor, as []slog.Attr) ([]slog.Attr, bool) {
	var out []slog.Attr
	for i, a := range as {
		na, keep, changed := redactAttr(red, a)
		if !changed {
			if out != nil {
				out = append(out, a)
			}
			continue
		}
		if out == nil {
			out = make([]slog.Attr, i, len(as))
			copy(out, as[:i])
		}
		if keep {
			out = append(out, na)
		}
	}
	if out == nil {
		return as, false
	}
	return out, true
}

// redactAttr redacts one attribute as the span exporter redacts the
// attribute of the same key: by its own key (inside groups too, so a group
// "user" holding "id" is not user.id), values of personal keys hashed or
// dropped, string values of secret-looking keys masked, and strings and
// error messages scanned for secrets under any key. Values of other kinds
// (numbers, times, structs) are judged by their key only.
func redactAttr(red redactor, a slog.Attr) (out slog.Attr, keep, changed bool) {
	v := a.Value.Resolve()
	key := attribute.Key(a.Key)
	switch v.Kind() {
	case slog.KindGroup:
		g, changed := redactAttrs(red, v.Group())
		if !changed {
			return a, true, false
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(g...)}, true, true
	case slog.KindString:
		return redactKV(red, a, attribute.String(a.Key, v.String()))
	}
	personal, secret := red.KeyClass(key)
	if personal != conv.NotPersonal || (secret && v.Kind() == slog.KindAny) {
		return redactKV(red, a, attribute.KeyValue{Key: key, Value: otelValue(v)})
	}
	if v.Kind() == slog.KindAny {
		if err, ok := v.Any().(error); ok && err != nil {
			if s, changed := red.Text(err.Error()); changed {
				return slog.String(a.Key, s), true, true
			}
		}
	}
	return a, true, false
}

// redactKV returns a with the value of kv (a's value in OpenTelemetry
// form) redacted.
func redactKV(red redactor, a slog.Attr, kv attribute.KeyValue) (slog.Attr, bool, bool) {
	out, keep, changed := red.Redact(kv)
	if !changed {
		return a, true, false
	}
	if !keep {
		return slog.Attr{}, false, true
	}
	return slog.Attr{Key: a.Key, Value: slogValue(out.Value)}, true, true
}
