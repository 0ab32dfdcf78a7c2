package tracing

import (
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/attribute"
)

// Redacted replaces a masked query or pair value and URL credentials, as the
// semantic conventions of url.full prescribe.
const Redacted = "REDACTED"

// SensitiveQueryParams are the query parameters whose values the semantic
// conventions (url.full) require to be redacted by default. Parameters
// whose names are secret keys (see [RedactionRules]) are masked too.
var SensitiveQueryParams = []string{"AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"}

// secretsRedactor serves [MaskQuery].
var secretsRedactor = &Redactor{words: DefaultSecretKeyWords, scan: true, secretsOnly: true}

// MaskQuery returns the raw URL query q with the secrets the value scan
// finds masked, the values of sensitive parameters ([SensitiveQueryParams],
// secret-looking names by [DefaultSecretKeyWords]) replaced by [Redacted],
// and whether it changed. Personal data is left as it is, for the exporter's
// redactor to hash with its key. Instrumentation calls it where it records
// a URL, so that a span exported without a [Redactor] holds no query
// credentials either; package httptrace does for url.full. A clean query
// costs no allocation.
func MaskQuery(q string) (string, bool) { return secretsRedactor.scanSecrets(q) }

// maxPairKeyLen bounds how far back from a '=' or ':' the scan looks for a
// key, so that a long run of word bytes costs no more than this.
const maxPairKeyLen = 64

// pairKind is what happens to the value of a `key=value` pair.
type pairKind uint8

const (
	pairNone   pairKind = iota
	pairSecret          // masked with Redacted
	pairHash            // a personal query parameter or registered key, hashed
)

// pairKey classifies the key ending right before s[i], a '=' or ':' (spaces
// and one quote may sit between them: `password = x`, `"api_key": "x"`).
func (r *Redactor) pairKey(s string, i int) pairKind {
	k := i
	for k > 0 && s[k-1] == ' ' {
		k--
	}
	if k > 0 && (s[k-1] == '"' || s[k-1] == '\'') {
		k--
	}
	e, letter := k, false
	for k > 0 && e-k < maxPairKeyLen && isKeyByte(s[k-1]) {
		k--
		letter = letter || s[k] >= 'A'
	}
	// No key, or one of digits and dots: a time (12:30), an address and
	// port (10.0.0.7:5432).
	if !letter || (k > 0 && isKeyByte(s[k-1])) {
		return pairNone
	}
	key := s[k:e]
	p := personalParam(key)
	if p == NotPersonal && strings.IndexByte(key, '.') > 0 {
		// A registered personal key in text: a baggage header
		// (`user.id=u-7,order.id=o-1`) stored or quoted somewhere.
		if ks := registry.keys.Load(); ks != nil {
			p = ks.byName[attribute.Key(key)].Personal
		}
	}
	switch p {
	case HashPersonal:
		return pairHash
	case DropPersonal:
		return pairSecret
	}
	for _, p := range SensitiveQueryParams {
		if len(key) == len(p) && strings.EqualFold(key, p) {
			return pairSecret
		}
	}
	if r.isSecretName(key) {
		return pairSecret
	}
	return pairNone
}

// pairAt masks the value of the pair whose '=' or ':' is s[i] when its key
// is secret (`password=hunter2`, `"api_key": "..."`, `?token=...&`), or
// hashes it when the key is a personal query parameter or a registered
// [HashPersonal] business key (`user.id=u-7` in a baggage header); the
// value of a [DropPersonal] one is masked. A quoted value is
// replaced inside its quotes; an unquoted one runs to the first space,
// quote, '&', ',', ';', '#' or closing bracket.
func (r *Redactor) pairAt(s string, i int) (start, end int, repl string, ok bool) {
	kind := r.pairKey(s, i)
	if kind == pairNone {
		return 0, 0, "", false
	}
	j := i + 1
	for j < len(s) && s[j] == ' ' {
		j++
	}
	k := j
	if j < len(s) && (s[j] == '"' || s[j] == '\'') {
		q := s[j]
		j++
		for k = j; k < len(s) && s[k] != q; k++ {
			if s[k] == '\\' {
				k++
			}
		}
		k = min(k, len(s))
	} else {
		for k < len(s) && !isValueEnd(s[k]) {
			k++
		}
		// "Authorization: Bearer xyz" is left to the bearer rule, which
		// keeps the scheme and the token's ends.
		if k < len(s) && s[k] == ' ' && isAuthScheme(s[j:k]) {
			return 0, 0, "", false
		}
	}
	v := s[j:k]
	if v == "" || v == Redacted || isHashed(v) || isPlaceholder(v) {
		return 0, k, "", false
	}
	if kind == pairHash {
		if r.secretsOnly {
			return 0, k, "", false
		}
		if strings.IndexByte(v, '%') >= 0 {
			if u, err := url.PathUnescape(v); err == nil {
				v = u
			}
		}
		return j, k, r.hash(v), true
	}
	return j, k, Redacted, true
}

// userinfoAt replaces the credentials of the URL whose "://" starts at
// s[i]: `postgres://app:hunter2@db` becomes
// `postgres://REDACTED:REDACTED@db`, a user alone `REDACTED`. Without
// credentials, the scan resumes after the host.
func userinfoAt(s string, i int) (start, end int, repl string, ok bool) {
	a := i + len("://")
	k, at := a, -1
	for ; k < len(s) && !isAuthorityEnd(s[k]); k++ {
		if s[k] == '@' {
			at = k
		}
	}
	if at < 0 {
		return 0, k, "", false
	}
	ui := s[a:at]
	if ui == "" || ui == Redacted || ui == Redacted+":"+Redacted {
		return 0, k, "", false
	}
	if strings.IndexByte(ui, ':') >= 0 {
		return a, at, Redacted + ":" + Redacted, true
	}
	return a, at, Redacted, true
}

// emailAt hashes the e-mail address whose '@' is s[i], as a value of a
// [HashPersonal] key is hashed, so that one can still be searched for.
func (r *Redactor) emailAt(s string, i, last int) (start, end int, repl string, ok bool) {
	if r.secretsOnly {
		return 0, 0, "", false
	}
	l := i
	for l > last && isLocalByte(s[l-1]) {
		l--
	}
	if l == i {
		return 0, 0, "", false
	}
	d := i + 1
	for d < len(s) && (isAlnum(s[d]) || s[d] == '-' || s[d] == '.') {
		d++
	}
	for d > i+1 && s[d-1] == '.' {
		d--
	}
	dot := i + 1 + strings.LastIndexByte(s[i+1:d], '.')
	// A domain followed by another '@' is the local part of the next
	// address ("a@b.cc@d.ee"): hashing the first would leave a hash glued
	// to the second, which a second pass would hash again.
	if dot <= i+1 || d-dot-1 < 2 || (d < len(s) && s[d] == '@') {
		return 0, 0, "", false
	}
	for k := dot + 1; k < d; k++ {
		if c := s[k] | 0x20; c < 'a' || c > 'z' {
			return 0, 0, "", false
		}
	}
	return l, d, r.hash(s[l:d]), true
}

// isPlaceholder reports whether v is an SQL bind placeholder (`$1`, `?`):
// `WHERE token = $1` in a query text holds no secret.
func isPlaceholder(v string) bool {
	if v == "?" {
		return true
	}
	if len(v) < 2 || v[0] != '$' {
		return false
	}
	for i := 1; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// isKeyByte reports whether c may be part of a pair's key.
func isKeyByte(c byte) bool { return isWordByte(c) || c == '-' || c == '.' }

// isValueEnd reports whether c ends an unquoted pair value.
func isValueEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '&', '"', '\'', '`', ',', ';', '#', ')', ']', '}', '<', '>':
		return true
	}
	return false
}

// isAuthorityEnd reports whether c ends the authority (credentials, host,
// port) of a URL.
func isAuthorityEnd(c byte) bool {
	switch c {
	case '/', '?', '#', ' ', '\t', '\n', '\r', '"', '\'', '`', '<', '>', ')', ']', '}', ',', ';':
		return true
	}
	return false
}

// isLocalByte reports whether c may be part of the local part of an e-mail
// address.
func isLocalByte(c byte) bool {
	return isWordByte(c) || c == '.' || c == '-' || c == '+' || c == '%'
}
