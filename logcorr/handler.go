package logcorr

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/trace"
)

// Handler is the [slog.Handler] returned by [NewHandler].
//
// It keeps two views of the wrapped handler: one with only the attributes
// added before the first WithGroup, and one with every WithAttrs and
// WithGroup applied. A record without a usable span context goes straight to
// the second, so it costs only the redaction and keeps the wrapped handler's
// pre-formatted attributes. A record with one goes to the first, with the
// open groups (and the attributes added inside them) rebuilt as nested group
// attributes around the record's own attributes, and the correlation fields
// added beside them at the root, where log backends look for them.
type Handler struct {
	// root is next with only the attributes added before the first
	// WithGroup; full is next with every WithAttrs and WithGroup applied.
	cfg    *config
	root   slog.Handler
	full   slog.Handler
	groups []openGroup // groups opened after root; nil when none is open

	// bridgeAttrs are the WithAttrs attributes in OpenTelemetry form, kept
	// only when the error bridge is on.
	bridgeAttrs []bridgeAttr

	// oroot and ofull are the two views of the otelslog handler of
	// WithLoggerProvider, as root and full are of next; nil without one.
	oroot, ofull slog.Handler
	olevel       slog.Leveler // NewLogger's level, for the records to the provider
}

type openGroup struct {
	name  string
	attrs []slog.Attr
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler returns a handler that adds the trace id, span id and sampled
// flag of the span in the record's context to every record and passes it to
// next. A record whose context has no valid span context (no span, a nil
// context, the zero span context, or an unsampled span without
// [WithUnsampled]) reaches next without them. Every record, and the
// attributes given to WithAttrs, are redacted first unless
// [WithoutRedaction] is given (see the package documentation). A nil next
// discards every record.
func NewHandler(next slog.Handler, opts ...Option) slog.Handler {
	if next == nil {
		next = slog.DiscardHandler
	}
	return newHandler(newConfig(opts), next)
}

func newHandler(c *config, next slog.Handler) *Handler {
	h := &Handler{cfg: c, root: next, full: next}
	if c.lp != nil {
		h.oroot = otelslog.NewHandler(ScopeName, otelslog.WithLoggerProvider(c.lp), otelslog.WithVersion(Version))
		h.ofull = h.oroot
	}
	return h
}

// NewLogger returns a logger that writes JSON lines with correlation fields
// to w, or to os.Stdout when w is nil: the common case in one line. With
// [WithLoggerProvider] it also sends the same records, redacted alike, to
// an OpenTelemetry log pipeline:
//
//	slog.SetDefault(logcorr.NewLogger(os.Stdout))
//	logger := logcorr.NewLogger(os.Stdout, logcorr.WithLoggerProvider(providers.LoggerProvider))
func NewLogger(w io.Writer, opts ...Option) *slog.Logger {
	if w == nil {
		w = os.Stdout
	}
	c := newConfig(opts)
	next := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: c.level})
	h := newHandler(c, next)
	h.olevel = c.level
	return slog.New(h)
}

// Enabled reports whether the wrapped handler handles records at level l,
// or the LoggerProvider of [WithLoggerProvider] does.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.full.Enabled(ctx, l) || h.ofull != nil && h.otelEnabled(ctx, l)
}

func (h *Handler) otelEnabled(ctx context.Context, l slog.Level) bool {
	return (h.olevel == nil || l >= h.olevel.Level()) && h.ofull.Enabled(ctx, l)
}

// WithAttrs returns a handler whose records carry attrs. Before any
// WithGroup they are handed to the wrapped handler, which can pre-format
// them; inside a group they are also remembered, to be rebuilt under the
// group for correlated records.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if h.cfg.redactor != nil {
		// Once here rather than on every record: the wrapped handler
		// pre-formats them.
		attrs, _ = redactAttrs(h.cfg.redactor, attrs)
	}
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.full = h.full.WithAttrs(attrs)
	if h.ofull != nil {
		h2.ofull = h.ofull.WithAttrs(attrs)
	}
	if len(h.groups) == 0 {
		h2.root, h2.oroot = h2.full, h2.ofull
	} else {
		h2.groups = slices.Clone(h.groups)
		last := &h2.groups[len(h2.groups)-1]
		last.attrs = append(slices.Clip(last.attrs), attrs...)
	}
	if h.cfg.bridge {
		h2.bridgeAttrs = appendBridgeAttrs(slices.Clip(h.bridgeAttrs), h.groupPrefix(), attrs)
	}
	return &h2
}

// WithGroup returns a handler that qualifies later attributes with name.
// The correlation fields stay at the root.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.full = h.full.WithGroup(name)
	if h.ofull != nil {
		h2.ofull = h.ofull.WithGroup(name)
	}
	h2.groups = append(slices.Clip(h.groups), openGroup{name: name})
	return &h2
}

// Handle redacts r, adds the correlation fields and passes it on, and to
// the OpenTelemetry log pipeline of [WithLoggerProvider]. It does not modify
// r or its attributes, so the caller may hand r to other handlers afterwards
// (as [slog.MultiHandler] does).
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if h.cfg.redactor != nil {
		redactRecord(h.cfg.redactor, &r)
	}
	var sc trace.SpanContext
	if ctx != nil {
		span := trace.SpanFromContext(ctx)
		sc = span.SpanContext()
		if sc.IsValid() && h.cfg.bridge && r.Level >= h.cfg.bridgeLevel && span.IsRecording() {
			h.bridge(span, r)
		}
	}
	correlated := sc.IsValid() && (sc.IsSampled() || h.cfg.unsampled)
	var oerr error
	if h.ofull != nil {
		oerr = h.emit(ctx, r, sc, correlated)
		if !h.full.Enabled(ctx, r.Level) {
			return oerr // enabled for the provider only
		}
	}
	if !correlated {
		if err := h.full.Handle(ctx, r); err != nil {
			return err
		}
		return oerr
	}

	var fields [5]slog.Attr
	n := h.cfg.appendFields(fields[:0], sc)
	var err error
	if len(h.groups) == 0 {
		// Clone clips r's attribute slice, so AddAttrs never writes into
		// memory shared with the caller's copy of r.
		r = r.Clone()
		r.AddAttrs(n...)
		h.addBusiness(ctx, &r)
		err = h.root.Handle(ctx, r)
	} else {
		out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		out.AddAttrs(h.nest(r))
		out.AddAttrs(n...)
		h.addBusiness(ctx, &out)
		err = h.root.Handle(ctx, out)
	}
	if err != nil {
		return err
	}
	return oerr
}

// emit sends the redacted record r to the otelslog bridge, which takes the
// span context from ctx into the log record's own fields. A correlated
// record carries the business context and the trace URL at the root, as the
// line does.
func (h *Handler) emit(ctx context.Context, r slog.Record, sc trace.SpanContext, correlated bool) error {
	if ctx == nil {
		ctx = context.Background() // the SDK reads the span context from it
	}
	if !h.otelEnabled(ctx, r.Level) {
		return nil
	}
	if !correlated || !h.cfg.business && h.cfg.urlKey == "" {
		return h.ofull.Handle(ctx, r)
	}
	out := r
	if len(h.groups) == 0 {
		out = r.Clone()
	} else {
		out = slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		out.AddAttrs(h.nest(r))
	}
	h.addBusiness(ctx, &out)
	if h.cfg.urlKey != "" {
		out.AddAttrs(slog.String(h.cfg.urlKey, h.cfg.schema.format(sc, h.cfg.url).url))
	}
	return h.oroot.Handle(ctx, out)
}

// nest rebuilds the open groups as one group attribute holding, innermost,
// the record's attributes.
func (h *Handler) nest(r slog.Record) slog.Attr {
	last := len(h.groups) - 1
	inner := make([]slog.Attr, 0, len(h.groups[last].attrs)+r.NumAttrs())
	inner = append(inner, h.groups[last].attrs...)
	r.Attrs(func(a slog.Attr) bool {
		inner = append(inner, a)
		return true
	})
	a := slog.Attr{Key: h.groups[last].name, Value: slog.GroupValue(inner...)}
	for i := last - 1; i >= 0; i-- {
		g := h.groups[i]
		as := make([]slog.Attr, 0, len(g.attrs)+1)
		as = append(append(as, g.attrs...), a)
		a = slog.Attr{Key: g.name, Value: slog.GroupValue(as...)}
	}
	return a
}

// appendFields appends the correlation fields of sc to dst.
func (c *config) appendFields(dst []slog.Attr, sc trace.SpanContext) []slog.Attr {
	s := &c.schema
	id := s.format(sc, c.url)
	if s.traceKey != "" {
		dst = append(dst, slog.String(s.traceKey, id.trace))
	}
	if s.spanKey != "" {
		dst = append(dst, slog.String(s.spanKey, id.span))
	}
	if s.flagsKey != "" {
		if s.enc == encGoogle {
			dst = append(dst, slog.Bool(s.flagsKey, sc.IsSampled()))
		} else if id.flags != "" {
			dst = append(dst, slog.String(s.flagsKey, id.flags))
		}
	}
	if c.urlKey != "" {
		dst = append(dst, slog.String(c.urlKey, id.url))
	}
	return dst
}

func (h *Handler) addBusiness(ctx context.Context, r *slog.Record) {
	if !h.cfg.business {
		return
	}
	for _, kv := range business(ctx) {
		if h.cfg.businessSet != nil {
			if _, ok := h.cfg.businessSet[kv.Key]; !ok {
				continue
			}
		}
		a := slog.Attr{Key: string(kv.Key), Value: slogValue(kv.Value)}
		if h.cfg.redactor != nil {
			if _, drop := redactAttr(h.cfg.redactor, &a); drop {
				continue
			}
		}
		r.AddAttrs(a)
	}
}
