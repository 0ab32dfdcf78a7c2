package logcorr

import (
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// MessageKey is the attribute that carries the log message on the exception
// event the error bridge records (the event's own name is "exception").
const MessageKey = attribute.Key("log.message")

type bridgeAttr = attribute.KeyValue

func (h *Handler) groupPrefix() string {
	if len(h.groups) == 0 {
		return ""
	}
	var b strings.Builder
	for _, g := range h.groups {
		b.WriteString(g.name)
		b.WriteByte('.')
	}
	return b.String()
}

// bridge records r on span (see WithSpanEvents). It runs on the logging
// goroutine, before the record is written, and only for recording spans.
func (h *Handler) bridge(span trace.Span, r slog.Record) {
	prefix := h.groupPrefix()
	kvs := make([]attribute.KeyValue, 0, len(h.bridgeAttrs)+r.NumAttrs()+1)
	kvs = append(kvs, h.bridgeAttrs...)
	var err error
	r.Attrs(func(a slog.Attr) bool {
		if v := a.Value.Resolve(); err == nil && v.Kind() == slog.KindAny {
			if e, ok := v.Any().(error); ok {
				err = e
				return true
			}
		}
		kvs = appendBridgeAttr(kvs, prefix, a)
		return true
	})
	if err != nil {
		kvs = append(kvs, MessageKey.String(r.Message))
		span.RecordError(err, trace.WithAttributes(kvs...), trace.WithTimestamp(r.Time))
	} else {
		span.AddEvent(r.Message, trace.WithAttributes(kvs...), trace.WithTimestamp(r.Time))
	}
	if h.cfg.bridgeStatus {
		span.SetStatus(codes.Error, r.Message)
		span.SetAttributes(semconv.ErrorType(err))
	}
}

func appendBridgeAttrs(dst []bridgeAttr, prefix string, as []slog.Attr) []bridgeAttr {
	for _, a := range as {
		dst = appendBridgeAttr(dst, prefix, a)
	}
	return dst
}

// appendBridgeAttr converts a to OpenTelemetry attributes, flattening groups
// into dotted keys and dropping empty attributes as slog handlers do.
func appendBridgeAttr(dst []bridgeAttr, prefix string, a slog.Attr) []bridgeAttr {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p = prefix + a.Key + "."
		}
		for _, ga := range v.Group() {
			dst = appendBridgeAttr(dst, p, ga)
		}
		return dst
	}
	if a.Key == "" {
		return dst
	}
	return append(dst, attribute.KeyValue{Key: attribute.Key(prefix + a.Key), Value: otelValue(v)})
}

func otelValue(v slog.Value) attribute.Value {
	switch v.Kind() {
	case slog.KindString:
		return attribute.StringValue(v.String())
	case slog.KindInt64:
		return attribute.Int64Value(v.Int64())
	case slog.KindUint64:
		if u := v.Uint64(); u <= math.MaxInt64 {
			return attribute.Int64Value(int64(u))
		}
		return attribute.StringValue(v.String())
	case slog.KindFloat64:
		return attribute.Float64Value(v.Float64())
	case slog.KindBool:
		return attribute.BoolValue(v.Bool())
	case slog.KindDuration:
		return attribute.StringValue(v.Duration().String())
	case slog.KindTime:
		return attribute.StringValue(v.Time().Format(time.RFC3339Nano))
	}
	switch x := v.Any().(type) {
	case error:
		return attribute.StringValue(x.Error())
	case fmt.Stringer:
		return attribute.StringValue(x.String())
	case []string:
		return attribute.StringSliceValue(x)
	}
	return attribute.StringValue(fmt.Sprint(v.Any()))
}

// slogValue converts a business attribute to a slog value.
func slogValue(v attribute.Value) slog.Value {
	switch v.Type() {
	case attribute.STRING:
		return slog.StringValue(v.AsString())
	case attribute.INT64:
		return slog.Int64Value(v.AsInt64())
	case attribute.FLOAT64:
		return slog.Float64Value(v.AsFloat64())
	case attribute.BOOL:
		return slog.BoolValue(v.AsBool())
	}
	return slog.AnyValue(v.AsInterface())
}
