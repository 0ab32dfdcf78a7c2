package tracing

import (
	"hash/maphash"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// RedactionRules configure a [Redactor]. The zero value is the default rules.
type RedactionRules struct {
	// SecretKeyWords are the words that make an attribute key secret: a key
	// is split into words at '.', '_' and '-' and compared without case.
	// By default [DefaultSecretKeyWords]. Whatever the words, a key whose
	// last dot-separated segment is "key" (`stripe.key`), or with the word
	// "key" after api, private, secret, access or signing (`x-api-key`,
	// `private_key`), and so is `connection_string`. The same test picks
	// the pairs (`password=...`) whose values the value scan masks.
	SecretKeyWords []string
	// AllowKeys are keys never masked for their name (values are still
	// scanned). By default [DefaultAllowKeys].
	AllowKeys []attribute.Key
	// HashKey keys the HMAC-SHA256 that replaces personal data registered
	// with [HashPersonal]. Every service must use the same key for the
	// hashes to match across services. Under otelsetup.Setup, OTELKIT_HASH_KEY or
	// OTELKIT_HASH_KEY_FILE wins over it (see the package documentation).
	// By default the process-wide key ([SetHashKey], installed by Setup) is
	// used, else plain SHA-256, which keeps values out of clear text but
	// not from someone who can enumerate them: set a key in production.
	HashKey []byte
	// NoValueScan turns off the search for secret-looking values (bearer
	// tokens, JWTs, card numbers, provider keys, URL credentials, secret
	// pairs, e-mail addresses) under keys that do not look secret, and in
	// span status descriptions. The URL keys are scanned regardless. By
	// default values are scanned.
	NoValueScan bool
}

// DefaultSecretKeyWords are the words of attribute keys whose values are
// masked by default.
var DefaultSecretKeyWords = []string{
	"authorization", "password", "passwd", "secret", "token", "apikey",
	"cookie", "credential", "credentials", "jwt", "passphrase",
	"dsn", "conninfo", "connectionstring",
}

// DefaultAllowKeys are keys that look secret but are not: a Kafka message
// key is the record's partitioning key (usually an order id).
var DefaultAllowKeys = []attribute.Key{semconv.MessagingKafkaMessageKeyKey}

// Redactor masks secrets and personal data in attributes before they leave
// the process. It is safe for concurrent use.
type Redactor struct {
	words   []string
	allow   map[attribute.Key]struct{}
	hashKey []byte
	scan    bool
	// secretsOnly leaves personal data (e-mails, personal parameters) as
	// it is, for redaction at the source, which does not know the hash key
	// of the exporter's redactor that hashes them later.
	secretsOnly bool

	// classes caches the verdict on each attribute key (personal data,
	// secret, neither): keys are few, and checking one compares its words
	// without case against every rule. Every span reads it for every
	// attribute, so it is an immutable map replaced, under classMu, when a
	// key is added: a read is one plain map lookup.
	classes atomic.Pointer[classCache]
	classMu sync.Mutex

	// hashes remembers recent hashes of personal values: a user id is on
	// every span of a request, so hashing it once per span is wasted.
	// Direct-mapped by the value's hash, an entry is replaced when another
	// value maps to its slot.
	hashes [hashCacheSize]atomic.Pointer[hashedValue]
}

// hashCacheSize is the number of slots of [Redactor.hashes].
const hashCacheSize = 256

// hashSlotSeed places values in the slots of [Redactor.hashes].
var hashSlotSeed = maphash.MakeSeed()

// hashedValue is a personal value and its hash under key (see
// currentHashKey).
type hashedValue struct {
	value, hash string
	key         *hashKey
}

// classCache holds the verdicts made while the registry was ks.
type classCache struct {
	ks      *keySet
	classes map[attribute.Key]keyClass
}

// keyClass is the verdict on one key.
type keyClass struct {
	personal Personal
	secret   bool
	url      bool // a URL or a part of one: its query is always scanned
}

// urlKeys hold URLs or parts of them. The value scan runs on them even when
// it is turned off for other keys, as the conventions require query
// credentials to be redacted.
var urlKeys = map[attribute.Key]struct{}{
	semconv.URLFullKey: {}, semconv.URLQueryKey: {}, semconv.URLOriginalKey: {}, semconv.URLPathKey: {},
	// Older conventions' keys, still sent by some instrumentation.
	"http.url": {}, "http.target": {},
}

// maxCachedKeys bounds the key cache; keys built from data (a mistake of
// their own) are then checked every time. Adding a key copies the cache, so
// the bound also bounds that work.
const maxCachedKeys = 1024

// NewRedactor returns a Redactor applying rules.
func NewRedactor(rules RedactionRules) *Redactor {
	r := &Redactor{words: rules.SecretKeyWords, hashKey: rules.HashKey, scan: !rules.NoValueScan}
	if r.words == nil {
		r.words = DefaultSecretKeyWords
	}
	allow := rules.AllowKeys
	if allow == nil {
		allow = DefaultAllowKeys
	}
	r.allow = make(map[attribute.Key]struct{}, len(allow))
	for _, k := range allow {
		r.allow[k] = struct{}{}
	}
	return r
}

var defaultRedactor = NewRedactor(RedactionRules{})

// RedactAttr returns kv as the default rules export it:
//   - a registered personal-data key ([UserID]) has its value replaced by
//     "sha256:" and 32 hex digits (HashPersonal), or is dropped
//     (DropPersonal): the zero KeyValue is returned, whose Valid is false;
//   - a key that looks secret (see [RedactionRules]) has its string value
//     masked, keeping a short prefix and suffix so two values can be told
//     apart ("Bearer abc...xyz"), or "***" when the value is short;
//   - under any key, bearer tokens, JWTs, card numbers passing the Luhn
//     check and provider keys (sk_live_, pk_live_, rk_live_, their _test_
//     forms, whsec_) inside string values are masked in place:
//     "pk_live_abc...xyz", "eyJ...xyz", "****1111";
//   - under any key, the credentials of a URL become REDACTED
//     ("postgres://REDACTED:REDACTED@db/shop"), and the value of a pair
//     whose key looks secret or is one of the conventions' sensitive query
//     parameters (AWSAccessKeyId, Signature, sig, X-Goog-Signature) becomes
//     REDACTED, the key kept: "?token=REDACTED&page=2",
//     "password='REDACTED'", `"api_key": "REDACTED"` (SQL placeholders
//     such as "token = $1" are left alone); e-mail addresses and the values
//     of personal query parameters ([RegisterPersonalQueryParam]) are hashed
//     as a [HashPersonal] value is. The URL keys (url.full, url.query,
//     url.original, url.path, http.url, http.target) get this even when
//     the value scan is turned off.
//
// The on-call engineer hashes a user id with RedactAttr to search for it.
func RedactAttr(kv attribute.KeyValue) attribute.KeyValue {
	out, keep := defaultRedactor.Attr(kv)
	if !keep {
		return attribute.KeyValue{}
	}
	return out
}

// Attr returns kv redacted, and false if it must be dropped.
func (r *Redactor) Attr(kv attribute.KeyValue) (attribute.KeyValue, bool) {
	out, keep, _ := r.redact(kv)
	return out, keep
}

// redact is Attr that also reports whether kv changed (dropped or
// rewritten), which telling from a comparison of values would cost more.
func (r *Redactor) redact(kv attribute.KeyValue) (out attribute.KeyValue, keep, changed bool) {
	class := r.class(kv.Key)
	if class.personal != NotPersonal {
		if class.personal == DropPersonal {
			return attribute.KeyValue{}, false, true
		}
		if v := kv.Value.String(); !isHashed(v) {
			return kv.Key.String(r.hash(v)), true, true
		}
		return kv, true, false
	}
	switch kv.Value.Type() {
	case attribute.STRING:
		s := kv.Value.AsString()
		if class.secret {
			m := maskSecret(s)
			return kv.Key.String(m), true, m != s
		}
		if r.scan || class.url {
			if m, changed := r.scanSecrets(s); changed {
				return kv.Key.String(m), true, true
			}
		}
	case attribute.STRINGSLICE:
		secret := class.secret
		if !secret && !r.scan && !class.url {
			break
		}
		ss := kv.Value.AsStringSlice()
		changed := false
		for i, s := range ss {
			if secret {
				m := maskSecret(s)
				ss[i], changed = m, changed || m != s
			} else if m, ok := r.scanSecrets(s); ok {
				ss[i], changed = m, true
			}
		}
		if changed {
			return kv.Key.StringSlice(ss), true, true
		}
	}
	return kv, true, false
}

func (r *Redactor) hash(v string) string {
	key, id := r.currentHashKey()
	slot := &r.hashes[maphash.String(hashSlotSeed, v)%hashCacheSize]
	if h := slot.Load(); h != nil && h.value == v && h.key == id {
		return h.hash
	}
	h := keyedHash(v, key)
	slot.Store(&hashedValue{value: v, hash: h, key: id})
	return h
}

const hashPrefix = "sha256:"

// isHashed reports whether v is the output of hash, so that redacting twice
// changes nothing.
func isHashed(v string) bool {
	if len(v) != len(hashPrefix)+32 || !strings.HasPrefix(v, hashPrefix) {
		return false
	}
	for i := len(hashPrefix); i < len(v); i++ {
		if c := v[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// class returns the verdict on key, from the cache unless a key was
// registered since it was cached.
func (r *Redactor) class(key attribute.Key) keyClass {
	ks := registry.keys.Load()
	if cc := r.classes.Load(); cc != nil && cc.ks == ks {
		if c, ok := cc.classes[key]; ok {
			return c
		}
	}
	_, url := urlKeys[key]
	c := keyClass{secret: r.isSecretKey(key), url: url}
	if ks != nil {
		c.personal = ks.byName[key].Personal
	}
	r.cacheClass(ks, key, c)
	return c
}

// cacheClass adds the verdict c on key, made while the registry was ks, to
// the cache, unless the cache is full or the registry changed since.
func (r *Redactor) cacheClass(ks *keySet, key attribute.Key, c keyClass) {
	r.classMu.Lock()
	defer r.classMu.Unlock()
	if ks != registry.keys.Load() {
		return
	}
	old := r.classes.Load()
	if old == nil || old.ks != ks {
		old = &classCache{ks: ks}
	}
	if len(old.classes) >= maxCachedKeys {
		return
	}
	next := &classCache{ks: ks, classes: make(map[attribute.Key]keyClass, len(old.classes)+1)}
	maps.Copy(next.classes, old.classes)
	next.classes[key] = c
	r.classes.Store(next)
}

func (r *Redactor) isSecretKey(key attribute.Key) bool {
	if _, ok := r.allow[key]; ok {
		return false
	}
	return r.isSecretName(string(key))
}

// isSecretName reports whether k looks secret by the words of r, whether it
// is an attribute key or the key of a pair in text.
func (r *Redactor) isSecretName(k string) bool {
	if n := len(k); n >= 4 && strings.EqualFold(k[n-4:], ".key") {
		return true
	}
	prev := ""
	for len(k) > 0 {
		i := 0
		for i < len(k) && k[i] != '.' && k[i] != '_' && k[i] != '-' {
			i++
		}
		w := k[:i]
		k = k[min(i+1, len(k)):]
		// Lengths first: the value scan asks about the key of every pair
		// it meets, and most words match no rule.
		for _, s := range r.words {
			if len(w) == len(s) && strings.EqualFold(w, s) {
				return true
			}
		}
		switch len(w) {
		case len("key"):
			if strings.EqualFold(w, "key") {
				for _, p := range keyQualifiers {
					if len(prev) == len(p) && strings.EqualFold(prev, p) {
						return true
					}
				}
			}
		case len("string"):
			if strings.EqualFold(w, "string") && strings.EqualFold(prev, "connection") {
				return true
			}
		}
		prev = w
	}
	return false
}

var keyQualifiers = []string{"api", "private", "secret", "access", "signing", "encryption"}

// Attrs returns in redacted and true, or in itself and false when nothing
// changes: a clean attribute set costs no allocation.
func (r *Redactor) Attrs(in []attribute.KeyValue) ([]attribute.KeyValue, bool) {
	var out []attribute.KeyValue
	for i, kv := range in {
		nkv, keep, changed := r.redact(kv)
		if !changed {
			if out != nil {
				out = append(out, kv)
			}
			continue
		}
		if out == nil {
			out = make([]attribute.KeyValue, i, len(in))
			copy(out, in[:i])
		}
		if keep {
			out = append(out, nkv)
		}
	}
	if out == nil {
		return in, false
	}
	return out, true
}

// Text returns free text (a span status description) with the secrets the
// value scan finds masked and the personal data it finds hashed, and
// whether it changed. It returns s unchanged
// when the value scan is turned off.
func (r *Redactor) Text(s string) (string, bool) {
	if !r.scan || s == "" {
		return s, false
	}
	return r.scanSecrets(s)
}
