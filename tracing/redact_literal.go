package tracing

import (
	"sync/atomic"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
)

// LiteralCache sits in front of a Redactor for the strings a program
// passes again and again, attribute keys and log messages written as
// literals, and remembers the verdicts on them by the address of their
// bytes: a hit is a load and a comparison that stops at the pointer, where
// the Redactor's own cache hashes the key and the value scan reads every
// byte. A verdict is only ever taken for the same string, compared in full
// when the address differs, so a miss costs time, never correctness.
//
// A slot is filled once (or again when the key registry changes) and never
// replaced, so strings built at run time cost an allocation only the first
// time they land on a free slot, and the cache holds at most literalSlots
// keys and texts. It is safe for concurrent use.
type LiteralCache struct {
	r     *Redactor
	keys  [literalSlots]atomic.Pointer[literalKey]
	texts [literalSlots]atomic.Pointer[string]
}

const literalSlots = 128

type literalKey struct {
	ks    *keySet
	key   string
	class keyClass
}

// NewLiteralCache returns a cache in front of r.
func NewLiteralCache(r *Redactor) *LiteralCache { return &LiteralCache{r: r} }

// Redactor returns the Redactor behind c.
func (c *LiteralCache) Redactor() *Redactor { return c.r }

func literalSlot(s string) uintptr {
	return (uintptr(unsafe.Pointer(unsafe.StringData(s)))>>3 ^ uintptr(len(s))) % literalSlots
}

// KeyClass returns what c's Redactor does with values under key, whatever
// their type: hash or drop them (personal data), mask them (a
// secret-looking key, for string values), or neither.
func (c *LiteralCache) KeyClass(key string) (Personal, bool) {
	ks := registry.keys.Load()
	slot := &c.keys[literalSlot(key)]
	if e := slot.Load(); e != nil && e.key == key && e.ks == ks {
		return e.class.personal, e.class.secret
	}
	cl := c.r.class(attribute.Key(key))
	if e := slot.Load(); e == nil || e.ks != ks {
		slot.Store(&literalKey{ks: ks, key: key, class: cl})
	}
	return cl.personal, cl.secret
}

// Text is [Redactor.Text], remembering the texts found clean.
func (c *LiteralCache) Text(s string) (string, bool) {
	slot := &c.texts[literalSlot(s)]
	if e := slot.Load(); e != nil && *e == s {
		return s, false
	}
	m, changed := c.r.Text(s)
	if !changed && len(s) > 0 && slot.Load() == nil {
		clean := s
		slot.Store(&clean)
	}
	return m, changed
}
