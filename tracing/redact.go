package tracing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// RedactionRules configure a [Redactor]. The zero value is the default rules.
type RedactionRules struct {
	// SecretKeyWords are the words that make an attribute key secret: a key
	// is split into words at '.', '_' and '-' and compared without case.
	// By default [DefaultSecretKeyWords]. Whatever the words, a key whose
	// last dot-separated segment is "key" (`stripe.key`), or with the word
	// "key" after api, private, secret, access or signing (`x-api-key`,
	// `private_key`), is secret too.
	SecretKeyWords []string
	// AllowKeys are keys never masked for their name (values are still
	// scanned). By default [DefaultAllowKeys].
	AllowKeys []attribute.Key
	// HashKey keys the HMAC-SHA256 that replaces personal data registered
	// with [HashPersonal]. Every service must use the same key for the
	// hashes to match across services. By default personal data is hashed
	// with plain SHA-256, which is enough to keep values out of clear text
	// but not against someone who can guess them: set a key in production.
	HashKey []byte
	// NoValueScan turns off the search for secret-looking values (bearer
	// tokens, JWTs, card numbers, provider keys) under keys that do not look
	// secret. By default values are scanned.
	NoValueScan bool
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

// redactSpans returns spans with every attribute of the span, its events and
// its links redacted, copying only the spans that change.
func (r *Redactor) redactSpans(spans []sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	out := spans
	copied := false
	for i, s := range spans {
		rs, changed := r.span(s)
		if !changed {
			continue
		}
		if !copied {
			out = append([]sdktrace.ReadOnlySpan(nil), spans...)
			copied = true
		}
		out[i] = rs
	}
	return out
}

func (r *Redactor) span(s sdktrace.ReadOnlySpan) (sdktrace.ReadOnlySpan, bool) {
	attrs, a := r.attrs(s.Attributes())
	events := s.Events()
	e := false
	for i, ev := range events {
		if na, changed := r.attrs(ev.Attributes); changed {
			if !e {
				events = append([]sdktrace.Event(nil), events...)
				e = true
			}
			events[i].Attributes = na
		}
	}
	links := s.Links()
	l := false
	for i, ln := range links {
		if na, changed := r.attrs(ln.Attributes); changed {
			if !l {
				links = append([]sdktrace.Link(nil), links...)
				l = true
			}
			links[i].Attributes = na
		}
	}
	status := s.Status()
	st := false
	if r.scan && status.Description != "" {
		status.Description, st = scanSecrets(status.Description)
	}
	if !a && !e && !l && !st {
		return s, false
	}
	return redactedSpan{ReadOnlySpan: s, attrs: attrs, events: events, links: links, status: status}, true
}

func (r *Redactor) attrs(in []attribute.KeyValue) ([]attribute.KeyValue, bool) {
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

// redactedSpan is a span as exported after redaction. Everything it does not
// override comes from the recorded span.
type redactedSpan struct {
	sdktrace.ReadOnlySpan
	attrs  []attribute.KeyValue
	events []sdktrace.Event
	links  []sdktrace.Link
	status sdktrace.Status
}

func (s redactedSpan) Attributes() []attribute.KeyValue { return s.attrs }
func (s redactedSpan) Events() []sdktrace.Event         { return s.events }
func (s redactedSpan) Links() []sdktrace.Link           { return s.links }
func (s redactedSpan) Status() sdktrace.Status          { return s.status }

// Exporter returns an exporter that redacts spans and hands them to next.
// [Setup] wraps every exporter it creates with the default redactor (see
// [WithRedaction]). ExportSpans runs on the exporting goroutine (the batch
// processor's); a span with nothing to redact is passed through as it is.
func (r *Redactor) Exporter(next sdktrace.SpanExporter) sdktrace.SpanExporter {
	return redactingExporter{r: r, next: next}
}

type redactingExporter struct {
	r    *Redactor
	next sdktrace.SpanExporter
}

var _ sdktrace.SpanExporter = redactingExporter{}

func (e redactingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	return e.next.ExportSpans(ctx, e.r.redactSpans(spans))
}

func (e redactingExporter) Shutdown(ctx context.Context) error { return e.next.Shutdown(ctx) }
