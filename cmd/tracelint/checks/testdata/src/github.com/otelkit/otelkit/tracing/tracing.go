// Package tracing is a stub of the conventions API for the tests.
package tracing

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

func Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return ctx, nil
}

func Run(ctx context.Context, name string, fn func(context.Context) error, opts ...trace.SpanStartOption) error {
	return fn(ctx)
}

func End(span trace.Span, errp *error) {}

func RecordError(span trace.Span, err error) {}

func SetAttributesFunc(span trace.Span, fn func() []attribute.KeyValue) {}

type KeyInfo struct {
	Key     attribute.Key
	Type    attribute.Type
	Travels bool
}

type KeyOption func(*KeyInfo)

func Travels() KeyOption { return func(k *KeyInfo) { k.Travels = true } }

func Register(info KeyInfo) error { return nil }

type StringKey struct{ name string }

func (k StringKey) Key() attribute.Key                 { return attribute.Key(k.name) }
func (k StringKey) String(v string) attribute.KeyValue { return attribute.String(k.name, v) }

type Int64Key struct{ name string }

func (k Int64Key) Key() attribute.Key               { return attribute.Key(k.name) }
func (k Int64Key) Int(v int) attribute.KeyValue     { return attribute.Int(k.name, v) }
func (k Int64Key) Int64(v int64) attribute.KeyValue { return attribute.Int64(k.name, v) }

type BoolKey struct{ name string }

func (k BoolKey) Key() attribute.Key             { return attribute.Key(k.name) }
func (k BoolKey) Bool(v bool) attribute.KeyValue { return attribute.Bool(k.name, v) }

func NewStringKey(name string, opts ...KeyOption) StringKey { return StringKey{name} }
func NewInt64Key(name string, opts ...KeyOption) Int64Key   { return Int64Key{name} }
func NewBoolKey(name string, opts ...KeyOption) BoolKey     { return BoolKey{name} }

// The generic keys, registered as the real package registers them.
var (
	UserID   = NewStringKey("user.id", Travels())
	TenantID = NewStringKey("tenant.id", Travels())
)

// stubInternal starts spans with the caller's name: the conventions package
// itself is not checked.
func stubInternal(ctx context.Context, name string) trace.Span {
	_, span := otel.Tracer("github.com/otelkit/otelkit/tracing").Start(ctx, name)
	_ = attribute.String("user.id", "x")
	return span
}
