package tracing

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/internal/conv"
)

// Personal says what the export pipeline does with the value of a business
// key that holds personal data: [NotPersonal], [HashPersonal] or
// [DropPersonal]. Its String method names the policy ("not personal",
// "hash", "drop").
type Personal = conv.Personal

const (
	// NotPersonal values are exported as they are.
	NotPersonal Personal = conv.NotPersonal
	// HashPersonal values are replaced by a keyed hash before export, so a
	// backend can still group and search by them (hash the value you look
	// for with [RedactAttr]) without holding them in clear.
	HashPersonal Personal = conv.HashPersonal
	// DropPersonal values never leave the process.
	DropPersonal Personal = conv.DropPersonal
)

// KeyInfo describes a registered business key. It is a struct with the
// fields:
//
//	// Key is the attribute key, `<domain>.<field>` in lower snake case.
//	Key attribute.Key
//	// Type is the only value type the key accepts.
//	Type attribute.Type
//	// Personal says whether the value is hashed or dropped on export.
//	Personal Personal
//	// Travels says whether SetBusiness puts the key into baggage, so that
//	// it reaches the spans of downstream services.
//	Travels bool
type KeyInfo = conv.KeyInfo

// KeyOption configures a business key at registration: [Travels],
// [PersonalData]. It is a func(*KeyInfo).
type KeyOption = conv.KeyOption

// Travels marks a key that travels to downstream services in W3C baggage.
// By default a key stays on the span it is set on.
func Travels() KeyOption { return conv.Travels() }

// PersonalData marks a key whose values are personal data: p is
// [HashPersonal] or [DropPersonal]. By default a key is [NotPersonal].
func PersonalData(p Personal) KeyOption { return conv.PersonalData(p) }

// StringKey is a registered business key with string values, made by
// [NewStringKey]. Its methods:
//
//	// String returns the attribute for v.
//	func (k StringKey) String(v string) attribute.KeyValue
//	// Key returns the attribute key.
//	func (k StringKey) Key() attribute.Key
type StringKey = conv.StringKey

// Int64Key is a registered business key with integer values, made by
// [NewInt64Key]. Its methods:
//
//	// Int64 returns the attribute for v.
//	func (k Int64Key) Int64(v int64) attribute.KeyValue
//	// Int returns the attribute for v.
//	func (k Int64Key) Int(v int) attribute.KeyValue
//	// Key returns the attribute key.
//	func (k Int64Key) Key() attribute.Key
type Int64Key = conv.Int64Key

// Float64Key is a registered business key with floating point values, made
// by [NewFloat64Key]. Its methods:
//
//	// Float64 returns the attribute for v.
//	func (k Float64Key) Float64(v float64) attribute.KeyValue
//	// Key returns the attribute key.
//	func (k Float64Key) Key() attribute.Key
type Float64Key = conv.Float64Key

// BoolKey is a registered business key with boolean values, made by
// [NewBoolKey]. Its methods:
//
//	// Bool returns the attribute for v.
//	func (k BoolKey) Bool(v bool) attribute.KeyValue
//	// Key returns the attribute key.
//	func (k BoolKey) Key() attribute.Key
type BoolKey = conv.BoolKey

// The checkout domain's business keys, registered when the program starts
// (the attribute name and policy of each are in brackets). Teams add their
// own with [NewStringKey] and friends, usually as package-level variables.
var (
	// OrderID (`order.id`, string, travels) identifies an order in every
	// service that handles it.
	OrderID = conv.OrderID
	// UserID (`user.id`, string, travels) identifies the customer. It is
	// personal data: hashed on export ([HashPersonal]).
	UserID = conv.UserID
	// TenantID (`tenant.id`, string, travels) identifies the tenant (shop)
	// an order belongs to.
	TenantID = conv.TenantID
	// OrderAmount (`order.amount`, float64, travels) is the order total in
	// OrderCurrency units.
	OrderAmount = conv.OrderAmount
	// OrderCurrency (`order.currency`, string, travels) is the ISO 4217 code
	// of OrderAmount.
	OrderCurrency = conv.OrderCurrency
	// OrderItemCount (`order.item_count`, int64, travels) is the number of
	// items in the order.
	OrderItemCount = conv.OrderItemCount
	// PaymentProvider (`payment.provider`, string) names the payment
	// provider that charges the order. It is set where the provider is
	// chosen and does not travel.
	PaymentProvider = conv.PaymentProvider
)

// NewStringKey registers a business key with string values. It panics if
// name is not `<domain>.<field>` in lower snake case, or if name is already
// registered with different properties: both are programming errors caught
// when the package initialises.
func NewStringKey(name string, opts ...KeyOption) StringKey {
	return conv.NewStringKey(name, opts...)
}

// NewInt64Key registers a business key with integer values; see [NewStringKey].
func NewInt64Key(name string, opts ...KeyOption) Int64Key {
	return conv.NewInt64Key(name, opts...)
}

// NewFloat64Key registers a business key with float values; see [NewStringKey].
func NewFloat64Key(name string, opts ...KeyOption) Float64Key {
	return conv.NewFloat64Key(name, opts...)
}

// NewBoolKey registers a business key with boolean values; see [NewStringKey].
func NewBoolKey(name string, opts ...KeyOption) BoolKey {
	return conv.NewBoolKey(name, opts...)
}

// Register adds a business key to the registry. It is the untyped form of
// [NewStringKey] for keys defined by configuration. Registering the same key
// twice with the same properties is allowed.
func Register(info KeyInfo) error { return conv.Register(info) }

// LookupKey returns the registration of key.
func LookupKey(key attribute.Key) (KeyInfo, bool) { return conv.LookupKey(key) }

// Keys returns every registered business key, sorted by key.
func Keys() []KeyInfo { return conv.Keys() }

// RegisterPersonalQueryParam declares the query parameter name personal
// data, for the whole process: wherever redaction meets `name=value`, in
// url.full, url.query and the other URL attributes, in an error message
// that quotes a URL or in any other string the value scan reads, the value
// is replaced by its hash, the same
// as a [HashPersonal] key's (p is HashPersonal: `?user=sha256:...`, so a
// backend can still search for it), or by REDACTED (p is DropPersonal).
// The name is matched exactly, case included, and may hold letters,
// digits, '_', '-' and '.'. Call it when the program starts, like
// [NewStringKey]; registering a name twice with the same policy is
// allowed. By default no parameter is personal.
//
//	if err := tracing.RegisterPersonalQueryParam("user", tracing.HashPersonal); err != nil {
//		return err
//	}
func RegisterPersonalQueryParam(name string, p Personal) error {
	return conv.RegisterPersonalParam(name, p)
}
