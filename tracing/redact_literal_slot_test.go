package tracing

import (
	"strings"
	"testing"
)

// TestLiteralSlot_NeighbouringLiteralsSpread checks that strings whose
// bytes sit next to each other, as the linker packs literals ("items" then
// "order"), land in different slots: with neighbours sharing a slot, the
// second of them misses its own slot on every look-up.
func TestLiteralSlot_NeighbouringLiteralsSpread(t *testing.T) {
	buf := strings.Repeat("x", literalSlots+8)
	for _, n := range []int{1, 5, 8} {
		slots := map[uintptr]bool{}
		for i := range literalSlots {
			slots[literalSlot(buf[i:i+n])] = true
		}
		// Thrown at random, literalSlots strings fill about 63% of the
		// slots.
		if len(slots) < literalSlots/2 {
			t.Errorf("%d strings of length %d at consecutive addresses take %d slots, want at least %d", literalSlots, n, len(slots), literalSlots/2)
		}
	}
}
