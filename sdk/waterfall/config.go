package waterfall

import (
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"golang.org/x/term"

	"github.com/otelkit/otelkit/tracing"
)

// defaultSpanKeys are the attributes shown on a span's line by default.
var defaultSpanKeys = []attribute.Key{
	semconv.ErrorTypeKey,
	semconv.HTTPResponseStatusCodeKey,
	semconv.MessagingDestinationPartitionIDKey,
}

const (
	defaultWidth    = 120
	defaultLinger   = 500 * time.Millisecond
	defaultTimeout  = 30 * time.Second
	defaultMaxSpans = 10000
)

// Option configures [Render] and [NewExporter].
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	width    int
	color    *bool
	linger   time.Duration
	timeout  time.Duration
	maxSpans int
	spanKeys []attribute.Key
	// traceKeys are shown once per trace, in the header line; a span line
	// repeats one only where its value differs from the header's. nil
	// means the traveling keys of tracing's registry.
	traceKeys []attribute.Key
	diagnose  bool
}

func newConfig(opts []Option) config {
	c := config{
		linger:   defaultLinger,
		timeout:  defaultTimeout,
		maxSpans: defaultMaxSpans,
		spanKeys: defaultSpanKeys,
		diagnose: true,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithWidth sets the line width in columns.
//
// By default the width of the terminal w writes to is used, else the COLUMNS
// environment variable, else 120. Values below 40 are raised to 40.
func WithWidth(columns int) Option {
	return optionFunc(func(c *config) {
		if columns > 0 {
			c.width = max(columns, 40)
		}
	})
}

// WithColor turns ANSI colours on or off.
//
// By default colours are used only when w is a terminal and the NO_COLOR
// environment variable is unset or empty.
func WithColor(on bool) Option {
	return optionFunc(func(c *config) { c.color = &on })
}

// WithLinger sets how long the exporter waits after a trace's local root span
// ends before printing it, so that children ending just after their parent
// (asynchronous work, other services in the same process) print with it.
// Every further local root of the same trace restarts the wait.
//
// By default the exporter waits 500ms. Non-positive values are ignored.
func WithLinger(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.linger = d
		}
	})
}

// WithTimeout sets how long the exporter keeps the spans of a trace whose
// local root has not ended before printing them anyway.
//
// By default the timeout is 30s. Non-positive values are ignored.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	})
}

// WithMaxSpans bounds the number of spans the exporter holds while waiting for
// traces to end. When the bound is exceeded, the oldest traces are printed
// early.
//
// By default the exporter holds at most 10000 spans. Non-positive values are
// ignored.
func WithMaxSpans(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxSpans = n
		}
	})
}

// WithAttributes sets the span attributes shown on each span's line, in
// order, replacing the default list. The business keys of the trace header
// ([WithTraceAttributes]) are shown on a span's line only where their value
// differs from the header's.
//
// By default error.type, http.response.status_code (400 and above) and
// messaging.destination.partition.id are shown. A service adds its own keys
// by listing them after [DefaultAttributes].
func WithAttributes(keys ...attribute.Key) Option {
	keys = slices.Clone(keys)
	return optionFunc(func(c *config) { c.spanKeys = keys })
}

// WithTraceAttributes sets the business keys shown once per trace, in the
// header line, in order: the first value of each found on the trace's spans,
// earliest span first. A span's line repeats one only where its value
// differs from the header's. Calling it with no keys shows none.
//
// By default the header shows the keys registered with [tracing.Travels]
// (tracing.UserID, tracing.TenantID and the program's own, such as an
// order id), sorted by key, as registered when the trace is rendered.
func WithTraceAttributes(keys ...attribute.Key) Option {
	keys = append([]attribute.Key{}, keys...) // not nil: an explicit empty list
	return optionFunc(func(c *config) { c.traceKeys = keys })
}

// WithDiagnosis turns on or off the diagnosis printed under each trace's
// header: one line per finding of [diagnose.Diagnose] (where an error
// started, a lost message, a retry storm, a step dominating the critical
// path...), marked ⚑.
//
// By default the diagnosis is printed; a healthy trace has no finding and
// so no such line.
func WithDiagnosis(on bool) Option {
	return optionFunc(func(c *config) { c.diagnose = on })
}

// DefaultAttributes returns the keys shown on a span's line when
// [WithAttributes] is not given.
func DefaultAttributes() []attribute.Key { return slices.Clone(defaultSpanKeys) }

// headerKeys returns the keys of the trace header: the configured ones,
// else the traveling keys registered now, so that keys a program registers
// after creating the exporter are shown too.
func (c *config) headerKeys() []attribute.Key {
	if c.traceKeys != nil {
		return c.traceKeys
	}
	var keys []attribute.Key
	for _, k := range tracing.Keys() {
		if k.Travels {
			keys = append(keys, k.Key)
		}
	}
	return keys
}

// widthFor returns the configured width, or the width detected for w.
func (c *config) widthFor(w io.Writer) int {
	if c.width > 0 {
		return c.width
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return max(cols, 40)
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return max(n, 40)
	}
	return defaultWidth
}

// colorFor reports whether to write ANSI colours to w.
func (c *config) colorFor(w io.Writer) bool {
	if c.color != nil {
		return *c.color
	}
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
