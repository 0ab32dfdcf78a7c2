package tracing

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
)

// hashKey is a key of the HMAC that replaces personal values. Its address
// identifies it in the hash caches of the redactors.
type hashKey struct{ b []byte }

// processHashKey is the key of every Redactor whose rules set none: spans,
// log lines and RedactAttr then hash a user id alike.
var processHashKey atomic.Pointer[hashKey]

// SetHashKey installs key as the process-wide key of the HMAC-SHA256 that
// replaces personal data: every [Redactor] whose [RedactionRules] set no
// HashKey uses it, among them [RedactAttr]'s and the redaction of
// github.com/otelkit/otelkit/logcorr, so that a user id hashes alike on
// spans and in log lines. An empty key removes it. otelsetup.Setup calls it with the
// key of OTELKIT_HASH_KEY or OTELKIT_HASH_KEY_FILE, else with its
// RedactionRules.HashKey; a program that builds its SDK without Setup
// calls it itself. It is safe for concurrent use, and the key stays
// installed after Setup's shutdown.
func SetHashKey(key []byte) {
	if len(key) == 0 {
		processHashKey.Store(nil)
		return
	}
	if cur := processHashKey.Load(); cur != nil && bytes.Equal(cur.b, key) {
		return
	}
	processHashKey.Store(&hashKey{b: bytes.Clone(key)})
}

// HasHashKey reports whether a process-wide hash key is installed.
func HasHashKey() bool { return processHashKey.Load() != nil }

// currentHashKey returns the key r hashes with now, and its identity for
// the hash cache: nil for r's own key or for plain SHA-256 (a Redactor
// with a key of its own never uses another one).
func (r *Redactor) currentHashKey() ([]byte, *hashKey) {
	if len(r.hashKey) > 0 {
		return r.hashKey, nil
	}
	if k := processHashKey.Load(); k != nil {
		return k.b, k
	}
	return nil, nil
}

// computeHash returns the hash of v under r's current key, bypassing the
// cache.
func (r *Redactor) computeHash(v string) string {
	key, _ := r.currentHashKey()
	return keyedHash(v, key)
}

// keyedHash returns "sha256:" and the first 32 hex digits of the
// HMAC-SHA256 of v under key, or of its plain SHA-256 without a key.
func keyedHash(v string, key []byte) string {
	var sum []byte
	if len(key) > 0 {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(v))
		sum = h.Sum(nil)
	} else {
		s := sha256.Sum256([]byte(v))
		sum = s[:]
	}
	return hashPrefix + hex.EncodeToString(sum[:16])
}

// DefaultRedactor returns the Redactor of the default rules, the one
// [RedactAttr] uses, for the log handler.
func DefaultRedactor() *Redactor { return defaultRedactor }

// Redact is [Redactor.Attr] that also reports whether kv changed.
func (r *Redactor) Redact(kv attribute.KeyValue) (out attribute.KeyValue, keep, changed bool) {
	return r.redact(kv)
}
