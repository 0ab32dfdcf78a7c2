package tracing

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Personal says what the export pipeline does with the value of a business
// key that holds personal data.
type Personal int

const (
	// NotPersonal values are exported as they are.
	NotPersonal Personal = iota
	// HashPersonal values are replaced by a keyed hash before export, so a
	// backend can still group and search by them (hash the value you look
	// for with [RedactAttr]) without holding them in clear.
	HashPersonal
	// DropPersonal values never leave the process.
	DropPersonal
)

func (p Personal) String() string {
	switch p {
	case NotPersonal:
		return "not personal"
	case HashPersonal:
		return "hash"
	case DropPersonal:
		return "drop"
	}
	return fmt.Sprintf("Personal(%d)", int(p))
}

// KeyInfo describes a registered business key.
type KeyInfo struct {
	// Key is the attribute key, `<domain>.<field>` in lower snake case.
	Key attribute.Key
	// Type is the only value type the key accepts.
	Type attribute.Type
	// Personal says whether the value is hashed or dropped on export.
	Personal Personal
	// Travels says whether [SetBusiness] puts the key into baggage, so that
	// it reaches the spans of downstream services.
	Travels bool
}

// KeyOption configures a business key at registration.
type KeyOption func(*KeyInfo)

// Travels marks a key that travels to downstream services in W3C baggage.
// By default a key stays on the span it is set on.
func Travels() KeyOption { return func(k *KeyInfo) { k.Travels = true } }

// PersonalData marks a key whose values are personal data: p is
// [HashPersonal] or [DropPersonal]. By default a key is [NotPersonal].
func PersonalData(p Personal) KeyOption { return func(k *KeyInfo) { k.Personal = p } }

// StringKey is a registered business key with string values.
type StringKey struct{ key attribute.Key }

// String returns the attribute for v.
func (k StringKey) String(v string) attribute.KeyValue { return k.key.String(v) }

// Key returns the attribute key.
func (k StringKey) Key() attribute.Key { return k.key }

// Int64Key is a registered business key with integer values.
type Int64Key struct{ key attribute.Key }

// Int64 returns the attribute for v.
func (k Int64Key) Int64(v int64) attribute.KeyValue { return k.key.Int64(v) }

// Int returns the attribute for v.
func (k Int64Key) Int(v int) attribute.KeyValue { return k.key.Int(v) }

// Key returns the attribute key.
func (k Int64Key) Key() attribute.Key { return k.key }

// Float64Key is a registered business key with floating point values.
type Float64Key struct{ key attribute.Key }

// Float64 returns the attribute for v.
func (k Float64Key) Float64(v float64) attribute.KeyValue { return k.key.Float64(v) }

// Key returns the attribute key.
func (k Float64Key) Key() attribute.Key { return k.key }

// BoolKey is a registered business key with boolean values.
type BoolKey struct{ key attribute.Key }

// Bool returns the attribute for v.
func (k BoolKey) Bool(v bool) attribute.KeyValue { return k.key.Bool(v) }

// Key returns the attribute key.
func (k BoolKey) Key() attribute.Key { return k.key }

// The generic business keys: every service of a company has a user and,
// when it serves several, a tenant. A domain's own keys (order.id,
// payment.provider, ...) are declared by the company in its own package,
// with [NewStringKey] and friends; see "Declaring a company's keys" in the
// package documentation.
var (
	// UserID identifies the end user (semantic conventions `user.id`). It
	// is personal data: hashed on export. It travels.
	UserID = NewStringKey(string(semconv.UserIDKey), Travels(), PersonalData(HashPersonal))
	// TenantID identifies the tenant (customer organisation, shop) a
	// request is served for. It travels.
	TenantID = NewStringKey("tenant.id", Travels())
)

// NewStringKey registers a business key with string values. It panics if
// name is not `<domain>.<field>` in lower snake case, or if name is already
// registered with different properties: both are programming errors caught
// when the package initialises.
func NewStringKey(name string, opts ...KeyOption) StringKey {
	return StringKey{mustRegister(name, attribute.STRING, opts)}
}

// NewInt64Key registers a business key with integer values; see [NewStringKey].
func NewInt64Key(name string, opts ...KeyOption) Int64Key {
	return Int64Key{mustRegister(name, attribute.INT64, opts)}
}

// NewFloat64Key registers a business key with float values; see [NewStringKey].
func NewFloat64Key(name string, opts ...KeyOption) Float64Key {
	return Float64Key{mustRegister(name, attribute.FLOAT64, opts)}
}

// NewBoolKey registers a business key with boolean values; see [NewStringKey].
func NewBoolKey(name string, opts ...KeyOption) BoolKey {
	return BoolKey{mustRegister(name, attribute.BOOL, opts)}
}

// registry is the process-wide set of business keys. Reads (every span start
// with baggage, every exported attribute) load an immutable snapshot; writes
// (registration, at init) copy it.
var registry struct {
	mu   sync.Mutex
	keys atomic.Pointer[keySet]
}

type keySet struct {
	byName    map[attribute.Key]KeyInfo
	traveling []KeyInfo // sorted by key, the baggage allowlist
}

func mustRegister(name string, typ attribute.Type, opts []KeyOption) attribute.Key {
	info := KeyInfo{Key: attribute.Key(name), Type: typ}
	for _, o := range opts {
		if o != nil {
			o(&info)
		}
	}
	if err := Register(info); err != nil {
		panic(err)
	}
	return info.Key
}

// Register adds a business key to the registry. It is the untyped form of
// [NewStringKey] for keys defined by configuration. Registering the same key
// twice with the same properties is allowed.
func Register(info KeyInfo) error {
	if err := validKeyName(string(info.Key)); err != nil {
		return err
	}
	switch info.Type {
	case attribute.STRING, attribute.INT64, attribute.FLOAT64, attribute.BOOL:
	default:
		return fmt.Errorf("tracing: business key %q: unsupported type %s", info.Key, info.Type)
	}
	if info.Personal < NotPersonal || info.Personal > DropPersonal {
		return fmt.Errorf("tracing: business key %q: invalid personal data policy %d", info.Key, info.Personal)
	}
	if info.Travels && info.Personal == DropPersonal {
		// A dropped value may not leave the process, and baggage is how it
		// would leave.
		return fmt.Errorf("tracing: business key %q: personal data that is dropped on export cannot travel", info.Key)
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	old := registry.keys.Load()
	if old != nil {
		if prev, ok := old.byName[info.Key]; ok {
			if prev == info {
				return nil
			}
			return fmt.Errorf("tracing: business key %q already registered as %+v", info.Key, prev)
		}
	}
	next := &keySet{byName: make(map[attribute.Key]KeyInfo)}
	if old != nil {
		for k, v := range old.byName {
			next.byName[k] = v
		}
	}
	next.byName[info.Key] = info
	for _, v := range next.byName {
		if v.Travels {
			next.traveling = append(next.traveling, v)
		}
	}
	sort.Slice(next.traveling, func(i, j int) bool { return next.traveling[i].Key < next.traveling[j].Key })
	registry.keys.Store(next)
	return nil
}

// LookupKey returns the registration of key.
func LookupKey(key attribute.Key) (KeyInfo, bool) {
	ks := registry.keys.Load()
	if ks == nil {
		return KeyInfo{}, false
	}
	info, ok := ks.byName[key]
	return info, ok
}

// Keys returns every registered business key, sorted by key.
func Keys() []KeyInfo {
	ks := registry.keys.Load()
	if ks == nil {
		return nil
	}
	out := make([]KeyInfo, 0, len(ks.byName))
	for _, v := range ks.byName {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// personalParams maps the names of personal query parameters to what
// happens to their values; see [RegisterPersonalQueryParam]. Every scanned value
// reads it, so it is an immutable map replaced on registration.
var personalParams struct {
	mu     sync.Mutex
	byName atomic.Pointer[map[string]Personal]
}

// RegisterPersonalQueryParam declares the query parameter name personal
// data, for the whole process: wherever redaction meets `name=value`, in
// url.full, url.query and the other URL attributes, in an error message
// that quotes a URL or in any other string the value scan reads, the value
// is replaced by its hash, the same as a [HashPersonal] key's (p is
// HashPersonal: `?user=sha256:...`, so a backend can still search for it),
// or by REDACTED (p is DropPersonal). The name is matched exactly, case
// included, and may hold letters, digits, '_', '-' and '.'. Call it when the
// program starts, like [NewStringKey]; registering a name twice with the
// same policy is allowed. By default no parameter is personal.
//
//	if err := tracing.RegisterPersonalQueryParam("user", tracing.HashPersonal); err != nil {
//		return err
//	}
func RegisterPersonalQueryParam(name string, p Personal) error {
	if name == "" || len(name) > maxPairKeyLen {
		return fmt.Errorf("tracing: personal query parameter %q: want 1 to %d bytes", name, maxPairKeyLen)
	}
	for i := 0; i < len(name); i++ {
		if !isKeyByte(name[i]) {
			return fmt.Errorf("tracing: personal query parameter %q: only letters, digits, '_', '-' and '.' are recognised", name)
		}
	}
	if p != HashPersonal && p != DropPersonal {
		return fmt.Errorf("tracing: personal query parameter %q: policy %v, want hash or drop", name, p)
	}
	personalParams.mu.Lock()
	defer personalParams.mu.Unlock()
	next := map[string]Personal{name: p}
	if old := personalParams.byName.Load(); old != nil {
		if prev, ok := (*old)[name]; ok {
			if prev == p {
				return nil
			}
			return fmt.Errorf("tracing: personal query parameter %q already registered as %v", name, prev)
		}
		for k, v := range *old {
			next[k] = v
		}
	}
	personalParams.byName.Store(&next)
	return nil
}

// personalParam returns the policy registered for the query parameter name.
func personalParam(name string) Personal {
	if m := personalParams.byName.Load(); m != nil {
		return (*m)[name]
	}
	return NotPersonal
}

func travelingKeys() []KeyInfo {
	if ks := registry.keys.Load(); ks != nil {
		return ks.traveling
	}
	return nil
}
