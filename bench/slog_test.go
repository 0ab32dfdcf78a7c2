package bench

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/examples/checkout/shop"
	"github.com/otelkit/otelkit/logcorr"
	"github.com/otelkit/otelkit/tracing"
)

// handWritten is the wrapper a team writes itself: embed the handler and add
// the two ids as hex strings in Handle.
type handWritten struct{ slog.Handler }

func (h handWritten) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

// BenchmarkSlog logs one record with two attributes through a JSON handler
// writing to io.Discard: bare, behind the hand-written wrapper, behind
// logcorr (trace_id, span_id, trace_flags) and behind logcorr writing the
// wrapper's two fields only; with and without a sampled span in the context.
func BenchmarkSlog(b *testing.B) {
	spanCtx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	}))
	ctxs := []struct {
		name string
		ctx  context.Context
	}{{"ctx=nospan", context.Background()}, {"ctx=span", spanCtx}}
	handlers := []struct {
		name string
		h    func(slog.Handler) slog.Handler
	}{
		{"impl=slogjson", func(h slog.Handler) slog.Handler { return h }},
		{"impl=handwritten", func(h slog.Handler) slog.Handler { return handWritten{h} }},
		{"impl=logcorr", func(h slog.Handler) slog.Handler { return logcorr.NewHandler(h) }},
		// The same two fields as the hand-written wrapper, without trace_flags.
		{"impl=logcorr-ids", func(h slog.Handler) slog.Handler {
			return logcorr.NewHandler(h, logcorr.WithSchema(logcorr.CustomSchema("trace_id", "span_id", "")))
		}},
	}
	for _, c := range ctxs {
		for _, h := range handlers {
			b.Run(c.name+"/"+h.name, func(b *testing.B) {
				l := slog.New(h.h(slog.NewJSONHandler(io.Discard, nil)))
				b.ReportAllocs()
				for b.Loop() {
					l.InfoContext(c.ctx, "order accepted", "order", "ord-1042", "items", 3)
				}
			})
		}
	}
	// Inside a group the hand-written wrapper would nest the ids under the
	// group, so only logcorr is measured, against the bare handler.
	for _, h := range []struct {
		name string
		h    func(slog.Handler) slog.Handler
	}{handlers[0], handlers[2]} {
		b.Run("ctx=span-group/"+h.name, func(b *testing.B) {
			l := slog.New(h.h(slog.NewJSONHandler(io.Discard, nil))).WithGroup("req").With("method", "POST")
			b.ReportAllocs()
			for b.Loop() {
				l.InfoContext(spanCtx, "order accepted", "order", "ord-1042", "items", 3)
			}
		})
	}
}

// BenchmarkSlogRedactionPaired measures, as BenchmarkHelpersPaired does, the
// CPU cost of the redaction logcorr applies to a clean line (the message, the
// two attributes and, with WithBusiness, order.id): logcorr with
// WithoutRedaction, which is the handler as it was before redaction, against
// logcorr by default.
func BenchmarkSlogRedactionPaired(b *testing.B) {
	spanCtx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	}))
	business := tracing.SetBusiness(spanCtx, shop.OrderID.String("ord-1042"))
	for _, tc := range []struct {
		name string
		ctx  context.Context
		opts []logcorr.Option
	}{
		{"ctx=nospan", context.Background(), nil},
		{"ctx=span", spanCtx, nil},
		{"ctx=span-business", business, []logcorr.Option{logcorr.WithBusiness()}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			plain := slog.New(logcorr.NewHandler(slog.NewJSONHandler(io.Discard, nil), append(tc.opts, logcorr.WithoutRedaction())...))
			redacting := slog.New(logcorr.NewHandler(slog.NewJSONHandler(io.Discard, nil), tc.opts...))
			paired(b, "unredacted", func() {
				plain.InfoContext(tc.ctx, "order accepted", "order", "ord-1042", "items", 3)
			}, "redacted", func() {
				redacting.InfoContext(tc.ctx, "order accepted", "order", "ord-1042", "items", 3)
			})
		})
	}
}
