package tracing

import (
	"strings"
	"testing"
)

// TestLiteralCache_FollowsRegistry checks that a verdict cached for a key
// is dropped when the key is registered as personal data afterwards, and
// that verdicts hold for equal strings at other addresses.
func TestLiteralCache_FollowsRegistry(t *testing.T) {
	c := NewLiteralCache(NewRedactor(RedactionRules{}))
	const key = "literal_cache_test.national_id"
	if p, secret := c.KeyClass(key); p != NotPersonal || secret {
		t.Fatalf("before registration: %v, %v", p, secret)
	}
	NewStringKey(key, PersonalData(DropPersonal))
	if p, _ := c.KeyClass(key); p != DropPersonal {
		t.Errorf("after registration: %v, want %v", p, DropPersonal)
	}
	built := strings.Repeat("db.", 1) + "password" // not the literal's address
	if _, secret := c.KeyClass(built); !secret {
		t.Errorf("%q is not secret", built)
	}
	if _, secret := c.KeyClass(strings.Clone(built)); !secret {
		t.Errorf("%q at another address is not secret", built)
	}
}

func TestLiteralCache_Text(t *testing.T) {
	c := NewLiteralCache(NewRedactor(RedactionRules{}))
	clean := "order accepted for shipping"
	for range 2 {
		if got, changed := c.Text(clean); changed || got != clean {
			t.Errorf("Text(%q) = %q, %v", clean, got, changed)
		}
	}
	// Same length as the clean text, another address: scanned, not taken
	// from the slot.
	dirty := "card 4111 1111 1111 1111 ok"
	if len(dirty) != len(clean) {
		t.Fatalf("test texts differ in length: %d, %d", len(dirty), len(clean))
	}
	for range 2 {
		if got, changed := c.Text(dirty); !changed || got != "card ****1111 ok" {
			t.Errorf("Text(%q) = %q, %v", dirty, got, changed)
		}
	}
}
