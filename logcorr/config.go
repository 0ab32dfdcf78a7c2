package logcorr

import (
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/otelkit/otelkit/tracing"
)

// config is immutable once built; every handler derived through WithAttrs
// and WithGroup shares the pointer.
type config struct {
	schema    Schema
	unsampled bool

	business    bool
	businessSet map[attribute.Key]struct{} // nil: every key tracing.Business returns

	urlKey string
	url    []urlPart

	bridge       bool
	bridgeLevel  slog.Level
	bridgeStatus bool

	level slog.Leveler // NewLogger only

	lp log.LoggerProvider // nil: no OpenTelemetry log records

	redactor redactor // nil: WithoutRedaction
}

// Option configures [NewHandler] and [NewLogger].
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

func newConfig(opts []Option) *config {
	c := &config{schema: OpenTelemetry(), level: slog.LevelInfo, redactor: tracing.NewLiteralCache(tracing.DefaultRedactor())}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// WithSchema sets the field names and encodings of the correlation fields.
//
// By default the schema is [OpenTelemetry] (trace_id, span_id, trace_flags).
func WithSchema(s Schema) Option {
	return optionFunc(func(c *config) { c.schema = s.orDefault() })
}

// WithUnsampled writes the ids of unsampled spans too; the flags field
// (trace_flags "00", trace_sampled false) tells the reader that the trace
// was not exported. The ids still tie together every line of one request.
//
// By default only sampled span contexts are written, so that every id in the
// logs opens a trace that exists in the backend.
func WithUnsampled() Option {
	return optionFunc(func(c *config) { c.unsampled = true })
}

// WithBusiness adds the business context of the request to every correlated
// line, at the root, under the registered key names (tenant.id, a
// company's order.id, ...). The attributes come from
// [github.com/otelkit/otelkit/tracing.Business], which returns only keys of
// the conventions registry; keys narrows that further to the listed keys.
// With no keys, every attribute tracing.Business returns is written.
//
// By default no business context is written.
func WithBusiness(keys ...attribute.Key) Option {
	return optionFunc(func(c *config) {
		c.business = true
		if len(keys) == 0 {
			c.businessSet = nil
			return
		}
		c.businessSet = make(map[attribute.Key]struct{}, len(keys))
		for _, k := range keys {
			c.businessSet[k] = struct{}{}
		}
	})
}

// WithTraceURL adds a field holding a link to the trace, so that a log line
// opens its trace in one click. In template, {trace_id} and {span_id} are
// replaced by the lowercase hex ids, e.g.
//
//	http://localhost:16686/trace/{trace_id}                      (Jaeger)
//	https://grafana.example.com/explore?left=...{trace_id}...    (Tempo)
//
// key names the field; an empty key means "trace_url".
//
// By default no link is written.
func WithTraceURL(key, template string) Option {
	return optionFunc(func(c *config) {
		if template == "" {
			c.url, c.urlKey = nil, ""
			return
		}
		if key == "" {
			key = "trace_url"
		}
		c.urlKey, c.url = key, parseURLTemplate(template)
	})
}

// WithSpanEvents turns the error bridge on: each record at or above level
// adds an event to the span in the record's context, named after the
// message and carrying the record's attributes (groups flattened with dots).
// When an attribute holds an error value, the event is the span's exception
// event for that error instead (exception.type, exception.message), with the
// message under log.message.
//
// The bridge only touches recording spans and never changes their status
// unless [WithSpanStatus] is also given.
//
// By default the bridge is off: logging is not a side channel into traces.
func WithSpanEvents(level slog.Level) Option {
	return optionFunc(func(c *config) {
		c.bridge, c.bridgeLevel = true, level
	})
}

// WithSpanStatus makes the error bridge ([WithSpanEvents]) also set the
// span's status to Error with the record's message as description, and
// error.type from the error attribute (or "_OTHER" without one).
//
// By default the bridge records events only and leaves the status to the
// code that owns the span.
func WithSpanStatus() Option {
	return optionFunc(func(c *config) { c.bridgeStatus = true })
}

// WithoutRedaction writes records, the attributes added with logger.With
// and the business attributes of [WithBusiness] as they are.
//
// By default they pass the redaction the tracing conventions apply to spans
// before export, with the default rules (see
// [github.com/otelkit/otelkit/tracing.RedactAttr]) and the process-wide
// hash key (see [github.com/otelkit/otelkit/tracing.SetHashKey]): user.id
// is hashed as on the spans, values under secret-looking keys are masked,
// dropped personal keys are left out, and bearer tokens, JWTs, card numbers
// and provider keys are masked inside the message, string values and error
// messages under any key.
func WithoutRedaction() Option {
	return optionFunc(func(c *config) { c.redactor = nil })
}

// WithLevel sets the minimum level of the handler [NewLogger] builds. It has
// no effect on [NewHandler], whose level is the wrapped handler's.
//
// By default the level is [slog.LevelInfo].
func WithLevel(l slog.Leveler) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.level = l
		}
	})
}

// WithLoggerProvider also sends every record the handler writes to lp as an
// OpenTelemetry log record, through the
// go.opentelemetry.io/contrib/bridges/otelslog bridge (instrumentation scope
// [ScopeName]): the trace id, span id and flags of the span in the record's
// context go into the log record's own fields, the level becomes its
// severity, the message its body, and the attributes are those of the line
// (with the business context of [WithBusiness] and the link of
// [WithTraceURL] when the line has them), the correlation fields excepted. The record passes the same
// redaction as the line before the bridge sees it. Pass the LoggerProvider
// that otelsetup.Setup built for the service, with its service.name.
//
// The records are those lp enables (through its processors) and, for
// [NewLogger], those at or above [WithLevel]; the wrapped handler's level
// decides which lines are written, and a record enabled on one side only is
// sent to that side only. A provider
// whose pipeline cannot export never blocks the logging call: otelsetup's
// queue is bounded and its drops are counted and reported.
//
// By default records are only written to the wrapped handler. A nil lp is
// ignored.
func WithLoggerProvider(lp log.LoggerProvider) Option {
	return optionFunc(func(c *config) {
		if lp != nil {
			c.lp = lp
		}
	})
}

type partKind uint8

const (
	partText partKind = iota
	partTraceID
	partSpanID
)

type urlPart struct {
	kind partKind
	text string
}

func parseURLTemplate(t string) []urlPart {
	var parts []urlPart
	for t != "" {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			break
		}
		var kind partKind
		var n int
		switch {
		case strings.HasPrefix(t[i:], "{trace_id}"):
			kind, n = partTraceID, len("{trace_id}")
		case strings.HasPrefix(t[i:], "{span_id}"):
			kind, n = partSpanID, len("{span_id}")
		default:
			parts = appendText(parts, t[:i+1])
			t = t[i+1:]
			continue
		}
		parts = appendText(parts, t[:i])
		parts = append(parts, urlPart{kind: kind})
		t = t[i+n:]
	}
	return appendText(parts, t)
}

func appendText(parts []urlPart, s string) []urlPart {
	if s == "" {
		return parts
	}
	if n := len(parts); n > 0 && parts[n-1].kind == partText {
		parts[n-1].text += s
		return parts
	}
	return append(parts, urlPart{kind: partText, text: s})
}
