package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/internal/conv"
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
	// hashes to match across services. By default personal data is hashed
	// with plain SHA-256, which is enough to keep values out of clear text
	// but not against someone who can guess them: set a key in production.
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
var DefaultSecretKeyWords = conv.DefaultSecretKeyWords

// DefaultAllowKeys are keys that look secret but are not: a Kafka message
// key is the record's partitioning key (usually an order id).
var DefaultAllowKeys = conv.DefaultAllowKeys

// Redactor masks secrets and personal data in attributes before they leave
// the process. It is safe for concurrent use.
type Redactor struct{ r *conv.Redactor }

// NewRedactor returns a Redactor applying rules.
func NewRedactor(rules RedactionRules) *Redactor {
	if rules.SecretKeyWords == nil {
		rules.SecretKeyWords = DefaultSecretKeyWords
	}
	if rules.AllowKeys == nil {
		rules.AllowKeys = DefaultAllowKeys
	}
	return &Redactor{conv.NewRedactor(conv.RedactionRules(rules))}
}

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
func RedactAttr(kv attribute.KeyValue) attribute.KeyValue { return conv.RedactAttr(kv) }

// Attr returns kv redacted, and false if it must be dropped.
func (r *Redactor) Attr(kv attribute.KeyValue) (attribute.KeyValue, bool) { return r.conv().Attr(kv) }

// zeroRedactor serves the zero Redactor: no secret words, no allowed keys,
// no value scan, personal data hashed with plain SHA-256.
var zeroRedactor conv.Redactor

func (r *Redactor) conv() *conv.Redactor {
	if r.r == nil {
		return &zeroRedactor
	}
	return r.r
}

// redactSpans returns spans with every attribute of the span, its events and
// its links redacted, copying only the spans that change. The copies of a
// batch share one allocation: a user id makes most spans change.
func (r *Redactor) redactSpans(spans []sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	out := spans
	var copies []redactedSpan
	for i, s := range spans {
		rs, changed := r.span(s)
		if !changed {
			continue
		}
		if copies == nil {
			out = append([]sdktrace.ReadOnlySpan(nil), spans...)
			copies = make([]redactedSpan, 0, len(spans)-i)
		}
		copies = append(copies, rs)
		out[i] = &copies[len(copies)-1]
	}
	return out
}

func (r *Redactor) span(s sdktrace.ReadOnlySpan) (redactedSpan, bool) {
	c := r.conv()
	attrs, a := c.Attrs(s.Attributes())
	events := s.Events()
	e := false
	for i, ev := range events {
		if na, changed := c.Attrs(ev.Attributes); changed {
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
		if na, changed := c.Attrs(ln.Attributes); changed {
			if !l {
				links = append([]sdktrace.Link(nil), links...)
				l = true
			}
			links[i].Attributes = na
		}
	}
	status := s.Status()
	var st bool
	status.Description, st = c.Text(status.Description)
	if !a && !e && !l && !st {
		return redactedSpan{}, false
	}
	return redactedSpan{ReadOnlySpan: s, attrs: attrs, events: events, links: links, status: status}, true
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
