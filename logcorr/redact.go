package logcorr

import (
	"log/slog"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/tracing"
)

// redactor applies the tracing conventions' default redaction rules to
// what a record carries, with the verdicts on literal keys and messages
// cached. It is nil under WithoutRedaction.
type redactor = *tracing.LiteralCache

// redactRecord redacts the message and attributes of *r, replacing *r
// with a new record only when something changes. A clean record costs no
// allocation: the first pass only looks, and a second pass rebuilds the
// record after the first change.
func redactRecord(red redactor, r *slog.Record) {
	msg, changed := red.Text(r.Message)
	if !changed {
		r.Attrs(func(a slog.Attr) bool {
			changed, _ = redactAttr(red, &a)
			return !changed
		})
		if !changed {
			return
		}
	}
	rebuildRecord(red, r, msg)
}

// rebuildRecord replaces *r with a record of message msg and of the
// redacted attributes of *r. It is a function of its own, so that the clean
// pass of redactRecord runs in a small frame.
func rebuildRecord(red redactor, r *slog.Record, msg string) {
	out := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if _, drop := redactAttr(red, &a); !drop {
			out.AddAttrs(a)
		}
		return true
	})
	*r = out
}

// redactAttrs returns as redacted, and as itself when nothing changes.
func redactAttrs(red redactor, as []slog.Attr) ([]slog.Attr, bool) {
	var out []slog.Attr
	for i, a := range as {
		changed, drop := redactAttr(red, &a)
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
		if !drop {
			out = append(out, a)
		}
	}
	if out == nil {
		return as, false
	}
	return out, true
}

// redactAttr redacts *a in place as the span exporter redacts the
// attribute of the same key, and reports whether it changed and whether it
// must be dropped. An attribute is judged by its own key, inside groups too
// (a group "user" holding "id" is not user.id): values of personal keys are
// hashed or dropped, string values of secret-looking keys masked, and
// strings and error messages under any key scanned for secrets. Values of
// other kinds (numbers, times, structs) are judged by their key only.
func redactAttr(red redactor, a *slog.Attr) (changed, drop bool) {
	v := a.Value
	kind := v.Kind()
	if kind == slog.KindLogValuer {
		v = v.Resolve()
		kind = v.Kind()
	}
	if kind == slog.KindGroup {
		return redactGroup(red, a, v), false
	}
	personal, secret := red.KeyClass(a.Key)
	if personal != tracing.NotPersonal || (secret && (kind == slog.KindString || kind == slog.KindAny)) {
		return redactByKey(red, a, v)
	}
	// The clean path: the value scan of Redactor.Attr, without building
	// the attribute. The other paths are functions of their own, so that
	// this one runs in a small frame.
	var s string
	switch kind {
	case slog.KindString:
		s = v.String()
	case slog.KindAny:
		err, ok := v.Any().(error)
		if !ok || err == nil {
			return false, false
		}
		s = err.Error()
	default:
		return false, false
	}
	// Values vary: scanned without the literal cache.
	if m, changed := red.Redactor().Text(s); changed {
		a.Value = slog.StringValue(m)
		return true, false
	}
	return false, false
}

// redactGroup redacts the attributes of the group v held by *a.
func redactGroup(red redactor, a *slog.Attr, v slog.Value) bool {
	g, changed := redactAttrs(red, v.Group())
	if changed {
		a.Value = slog.GroupValue(g...)
	}
	return changed
}

// redactByKey redacts *a, whose value v its key marks as personal or
// secret, as the span exporter does.
func redactByKey(red redactor, a *slog.Attr, v slog.Value) (changed, drop bool) {
	out, keep, changed := red.Redactor().Redact(attribute.KeyValue{Key: attribute.Key(a.Key), Value: otelValue(v)})
	if changed {
		a.Value = slogValue(out.Value)
	}
	return changed, !keep
}
