package conv

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// RedactionRules configure a [Redactor]; the zero value is the default
// rules. They are documented, for users, as tracing.RedactionRules, which
// converts to this type.
type RedactionRules struct {
	SecretKeyWords []string        // nil: DefaultSecretKeyWords
	AllowKeys      []attribute.Key // nil: DefaultAllowKeys
	HashKey        []byte          // nil: plain SHA-256
	NoValueScan    bool
}

// DefaultSecretKeyWords are the words of attribute keys whose values are
// masked by default.
var DefaultSecretKeyWords = []string{
	"authorization", "password", "passwd", "secret", "token", "apikey",
	"cookie", "credential", "credentials", "jwt", "passphrase",
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

	// classes caches the verdict on each attribute key (personal data,
	// secret, neither): keys are few, and checking one compares its words
	// without case against every rule.
	classes   sync.Map // attribute.Key -> *keyClass
	classSize atomic.Int32
}

// keyClass is the verdict on one key, valid while the registry is ks.
type keyClass struct {
	ks       *keySet
	personal Personal
	secret   bool
}

// maxCachedKeys bounds the key cache; keys built from data (a mistake of
// their own) are then checked every time.
const maxCachedKeys = 4096

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
//     "pk_live_abc...xyz", "eyJ...xyz", "****1111".
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
	class := r.class(kv.Key)
	if class.personal != NotPersonal {
		if class.personal == DropPersonal {
			return attribute.KeyValue{}, false
		}
		if v := kv.Value.String(); !isHashed(v) {
			return kv.Key.String(r.hash(v)), true
		}
		return kv, true
	}
	switch kv.Value.Type() {
	case attribute.STRING:
		s := kv.Value.AsString()
		if class.secret {
			return kv.Key.String(maskSecret(s)), true
		}
		if r.scan {
			if m, changed := scanSecrets(s); changed {
				return kv.Key.String(m), true
			}
		}
	case attribute.STRINGSLICE:
		secret := class.secret
		if !secret && !r.scan {
			break
		}
		ss := kv.Value.AsStringSlice()
		changed := false
		for i, s := range ss {
			if secret {
				ss[i], changed = maskSecret(s), true
			} else if m, ok := scanSecrets(s); ok {
				ss[i], changed = m, true
			}
		}
		if changed {
			return kv.Key.StringSlice(ss), true
		}
	}
	return kv, true
}

func (r *Redactor) hash(v string) string {
	var sum []byte
	if len(r.hashKey) > 0 {
		h := hmac.New(sha256.New, r.hashKey)
		h.Write([]byte(v))
		sum = h.Sum(nil)
	} else {
		s := sha256.Sum256([]byte(v))
		sum = s[:]
	}
	return hashPrefix + hex.EncodeToString(sum[:16])
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
func (r *Redactor) class(key attribute.Key) *keyClass {
	ks := registry.keys.Load()
	if v, ok := r.classes.Load(key); ok {
		if c := v.(*keyClass); c.ks == ks {
			return c
		}
	}
	c := &keyClass{ks: ks, secret: r.isSecretKey(key)}
	if ks != nil {
		c.personal = ks.byName[key].Personal
	}
	if r.classSize.Load() < maxCachedKeys {
		if _, loaded := r.classes.Swap(key, c); !loaded {
			r.classSize.Add(1)
		}
	}
	return c
}

func (r *Redactor) isSecretKey(key attribute.Key) bool {
	if _, ok := r.allow[key]; ok {
		return false
	}
	k := string(key)
	if n := len(k); n >= 4 && strings.EqualFold(k[n-4:], ".key") {
		return true
	}
	prev := ""
	for len(k) > 0 {
		i := strings.IndexAny(k, "._-")
		w := k
		if i >= 0 {
			w, k = k[:i], k[i+1:]
		} else {
			k = ""
		}
		for _, s := range r.words {
			if strings.EqualFold(w, s) {
				return true
			}
		}
		if strings.EqualFold(w, "key") {
			for _, p := range keyQualifiers {
				if strings.EqualFold(prev, p) {
					return true
				}
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
		nkv, keep := r.Attr(kv)
		if keep && nkv == kv {
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
// value scan finds masked, and whether it changed. It returns s unchanged
// when the value scan is turned off.
func (r *Redactor) Text(s string) (string, bool) {
	if !r.scan || s == "" {
		return s, false
	}
	return scanSecrets(s)
}
