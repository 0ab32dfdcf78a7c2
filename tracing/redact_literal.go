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

// literalProbes is how many slots from its own a string may take: strings
// whose addresses share a slot would otherwise miss every time.
const literalProbes = 4

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
	first := literalSlot(key)
	var free *atomic.Pointer[literalKey]
	for i := range uintptr(literalProbes) {
		slot := &c.keys[(first+i)%literalSlots]
		e := slot.Load()
		if e != nil && e.key == key && e.ks == ks {
			return e.class.personal, e.class.secret
		}
		if free == nil && (e == nil || e.ks != ks) {
			free = slot
		}
	}
	cl := c.r.class(attribute.Key(key))
	if free != nil {
		free.Store(&literalKey{ks: ks, key: key, class: cl})
	}
	return cl.personal, cl.secret
}

// Text is [Redactor.Text], remembering the texts found clean.
func (c *LiteralCache) Text(s string) (string, bool) {
	first := literalSlot(s)
	var free *atomic.Pointer[string]
	for i := range uintptr(literalProbes) {
		slot := &c.texts[(first+i)%literalSlots]
		e := slot.Load()
		if e != nil && *e == s {
			return s, false
		}
		if free == nil && e == nil {
			free = slot
		}
	}
	m, changed := c.r.Text(s)
	if !changed && len(s) > 0 && free != nil {
		clean := s
		free.CompareAndSwap(nil, &clean)
	}
	return m, changed
}
