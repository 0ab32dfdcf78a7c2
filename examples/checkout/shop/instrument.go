package shop

// This file is the one place where the services meet the instrumentation.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Business keys of the conventions.
var (
	keyOrderID     = attribute.Key("order.id")
	keyUserID      = attribute.Key("user.id")
	keyAmount      = attribute.Key("order.amount")
	keyCurrency    = attribute.Key("order.currency")
	keyItemCount   = attribute.Key("order.item_count")
	keyProvider    = attribute.Key("payment.provider")
	travelingKeys  = []attribute.Key{keyOrderID, keyUserID, keyAmount, keyCurrency, keyItemCount}
	keyAPIVersion  = attribute.Key("payment.provider.api_version")
	keyProviderKey = attribute.Key("payment.provider.api_key")
)

// setBusiness puts business attributes on the current span and the traveling
// ones into baggage, so every span of every service downstream carries them.
func setBusiness(ctx context.Context, kvs ...attribute.KeyValue) context.Context {
	trace.SpanFromContext(ctx).SetAttributes(kvs...)
	bag := baggage.FromContext(ctx)
	for _, kv := range kvs {
		m, err := baggage.NewMemberRaw(string(kv.Key), kv.Value.Emit())
		if err != nil {
			continue
		}
		if b, err := bag.SetMember(m); err == nil {
			bag = b
		}
	}
	return baggage.ContextWithBaggage(ctx, bag)
}

// businessProcessor copies the traveling business keys from baggage onto
// every span as it starts.
type businessProcessor struct{}

func (businessProcessor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	bag := baggage.FromContext(ctx)
	for _, k := range travelingKeys {
		if m := bag.Member(string(k)); m.Key() != "" {
			s.SetAttributes(k.String(m.Value()))
		}
	}
}
func (businessProcessor) OnEnd(sdktrace.ReadOnlySpan)      {}
func (businessProcessor) Shutdown(context.Context) error   { return nil }
func (businessProcessor) ForceFlush(context.Context) error { return nil }

// redact masks a secret, keeping its last four characters.
func redact(kv attribute.KeyValue) attribute.KeyValue {
	v := kv.Value.Emit()
	if len(v) > 4 {
		v = strings.Repeat("*", 8) + v[len(v)-4:]
	} else {
		v = "****"
	}
	return kv.Key.String(v)
}

// run runs fn in a span named name, recording its error.
func run(ctx context.Context, s svc, name string, fn func(context.Context) error, opts ...trace.SpanStartOption) (err error) {
	ctx, span := s.tracer().Start(ctx, name, opts...)
	defer func() {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
			span.SetAttributes(semconv.ErrorTypeOther)
		}
		span.End()
	}()
	return fn(ctx)
}

// newLogger returns the service's logger: JSON lines into the recorder, each
// carrying service, trace_id and span_id.
func newLogger(w *LogRecorder, service string) *slog.Logger {
	return slog.New(correlate{slog.NewJSONHandler(w, nil)}).With("service", service)
}

type correlate struct{ slog.Handler }

func (h correlate) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}
func (h correlate) WithAttrs(as []slog.Attr) slog.Handler { return correlate{h.Handler.WithAttrs(as)} }
func (h correlate) WithGroup(g string) slog.Handler       { return correlate{h.Handler.WithGroup(g)} }

// handler instruments a service's HTTP server.
func (s svc) handler(h http.Handler) http.Handler {
	return otelhttp.NewHandler(h, s.name,
		otelhttp.WithTracerProvider(s.tp), otelhttp.WithPropagators(s.prop),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }))
}

// client returns an HTTP client whose requests carry the trace context.
func (s svc) client() *http.Client {
	return &http.Client{Transport: otelhttp.NewTransport(resendCount{http.DefaultTransport},
		otelhttp.WithTracerProvider(s.tp), otelhttp.WithPropagators(s.prop))}
}

// poolConfig instruments a pgx pool.
func (s svc) poolConfig(cfg *pgxpool.Config) {
	t := &pgxTracer{tr: s.tracer()}
	cfg.ConnConfig.Tracer = t // pgxpool also calls its TraceAcquire methods
}

type pgxTracer struct{ tr trace.Tracer }

type spanKey struct{}

func (t *pgxTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	summary := summarize(d.SQL)
	ctx, _ = t.tr.Start(ctx, summary, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		semconv.DBSystemNamePostgreSQL, semconv.DBQueryText(d.SQL), semconv.DBQuerySummary(summary)))
	return ctx
}

func (t *pgxTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	span := trace.SpanFromContext(ctx)
	if d.Err != nil {
		span.RecordError(d.Err)
		span.SetStatus(codes.Error, d.Err.Error())
	}
	span.End()
}

func (t *pgxTracer) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	ctx, _ = t.tr.Start(ctx, "pool.acquire")
	return ctx
}

func (t *pgxTracer) TraceAcquireEnd(ctx context.Context, _ *pgxpool.Pool, d pgxpool.TraceAcquireEndData) {
	span := trace.SpanFromContext(ctx)
	if d.Err != nil {
		span.SetStatus(codes.Error, d.Err.Error())
	}
	span.End()
}

func summarize(sql string) string {
	f := strings.Fields(strings.ToUpper(sql))
	if len(f) == 0 {
		return "query"
	}
	for i, w := range f {
		if (w == "FROM" || w == "INTO" || w == "UPDATE") && i+1 < len(f) {
			return f[0] + " " + strings.ToLower(strings.Trim(f[i+1], "(),;"))
		}
	}
	return f[0]
}

// kafkaOpts returns the client options that instrument a franz-go client.
func (s svc) kafkaOpts() []kgo.Opt { return nil }

type headers struct{ r *kgo.Record }

func (h headers) Get(k string) string {
	for _, x := range h.r.Headers {
		if x.Key == k {
			return string(x.Value)
		}
	}
	return ""
}
func (h headers) Set(k, v string) {
	for i, x := range h.r.Headers {
		if x.Key == k {
			h.r.Headers[i].Value = []byte(v)
			return
		}
	}
	h.r.Headers = append(h.r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
}
func (h headers) Keys() []string {
	out := make([]string, len(h.r.Headers))
	for i, x := range h.r.Headers {
		out[i] = x.Key
	}
	return out
}

// produce publishes r in a producer span that is a child of ctx and waits for
// the broker's answer.
func (s svc) produce(ctx context.Context, cl *kgo.Client, r *kgo.Record) error {
	ctx, span := s.tracer().Start(ctx, "send "+r.Topic, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(semconv.MessagingSystemKafka, semconv.MessagingDestinationName(r.Topic), semconv.MessagingOperationTypeSend))
	defer span.End()
	s.prop.Inject(ctx, headers{r})
	err := cl.ProduceSync(ctx, r).FirstErr()
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return err
	}
	span.SetAttributes(semconv.MessagingDestinationPartitionID(fmt.Sprint(r.Partition)))
	return nil
}

// process runs fn for a consumed record in a consumer span that continues the
// producer's trace.
func (s svc) process(cl *kgo.Client, r *kgo.Record, fn func(context.Context) error) error {
	ctx := s.prop.Extract(context.Background(), headers{r})
	return run(ctx, s, "process "+r.Topic, fn, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(semconv.MessagingSystemKafka, semconv.MessagingDestinationName(r.Topic),
			semconv.MessagingOperationTypeProcess, semconv.MessagingDestinationPartitionID(fmt.Sprint(r.Partition))))
}

// render writes the spans of one trace as a waterfall.
func render(w io.Writer, spans []sdktrace.ReadOnlySpan) error {
	sort.Slice(spans, func(i, j int) bool { return spans[i].StartTime().Before(spans[j].StartTime()) })
	depth := map[trace.SpanID]int{}
	var t0 time.Time
	if len(spans) > 0 {
		t0 = spans[0].StartTime()
	}
	for _, s := range spans {
		d := 0
		if p, ok := depth[s.Parent().SpanID()]; ok {
			d = p + 1
		}
		depth[s.SpanContext().SpanID()] = d
		st := ""
		if s.Status().Code == codes.Error {
			st = " ERROR " + s.Status().Description
		}
		fmt.Fprintf(w, "%-16s %s%s  +%v %v%s\n", serviceOf(s), strings.Repeat("  ", d), s.Name(),
			s.StartTime().Sub(t0).Round(time.Millisecond), s.EndTime().Sub(s.StartTime()).Round(time.Microsecond*100), st)
	}
	return nil
}

func serviceOf(s sdktrace.ReadOnlySpan) string {
	v, _ := s.Resource().Set().Value(semconv.ServiceNameKey)
	return v.Emit()
}
