package shop

// This file is the one place where the services meet the instrumentation:
// everything else is business code that passes contexts along.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/httptrace"
	"github.com/otelkit/otelkit/kafkatrace"
	"github.com/otelkit/otelkit/logcorr"
	"github.com/otelkit/otelkit/sdk/waterfall"
	"github.com/otelkit/otelkit/sqltrace"
	"github.com/otelkit/otelkit/sqltrace/outbox"
	"github.com/otelkit/otelkit/tracing"
)

// Example-specific attributes, next to the business keys of keys.go.
var (
	keyAPIVersion  = tracing.NewStringKey("payment.provider.api_version").Key()
	keyProviderKey = tracing.NewStringKey("payment.provider.api_key").Key()
)

// newLogger returns the service's logger: JSON lines into w, each carrying
// service, trace_id, span_id and the order id, and the same records, redacted
// alike, as OpenTelemetry log records to lp, the service's LoggerProvider
// (the no-op one unless the environment selects a log exporter).
func newLogger(w io.Writer, service string, lp log.LoggerProvider) *slog.Logger {
	return logcorr.NewLogger(w, logcorr.WithBusiness(OrderID.Key()), logcorr.WithLoggerProvider(lp)).With("service", service)
}

// handler instruments a service's HTTP server: a span per request named
// after the route mux matched, and the trace id in a traceresponse header.
func (s svc) handler(h http.Handler, opts ...httptrace.Option) http.Handler {
	return httptrace.NewHandler(h, append([]httptrace.Option{
		httptrace.WithTracerProvider(s.tp), httptrace.WithPropagators(s.prop)}, opts...)...)
}

// client returns an HTTP client with a span per attempt, whose requests
// carry the trace context to the services of the system. base, when not
// nil, configures the underlying transport.
func (s svc) client(base func(*http.Transport), opts ...httptrace.Option) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if base != nil {
		base(tr)
	}
	s.transports.add(tr)
	return &http.Client{Transport: httptrace.NewTransport(tr, append([]httptrace.Option{
		httptrace.WithTracerProvider(s.tp), httptrace.WithPropagators(s.prop)}, opts...)...)}
}

// poolConfig instruments a pgx pool: a span per query with its sanitised
// text and summary, and a span for each acquire that waited for a pool
// connection (at least a millisecond, or that had to connect): an acquire
// that finds an idle connection takes microseconds and would only add noise
// to every query. Queries outside a request (the relay's polling) are not
// traced.
func (s svc) poolConfig(cfg *pgxpool.Config) {
	cfg.ConnConfig.Tracer = sqltrace.NewTracer(sqltrace.WithTracerProvider(s.tp),
		sqltrace.WithAcquire(sqltrace.AcquireSpan), sqltrace.WithAcquireThreshold(time.Millisecond),
		sqltrace.WithRequireParent())
}

// kafkaTracer instruments one franz-go client; add it with kgo.WithHooks.
func (s svc) kafkaTracer() *kafkatrace.Tracer {
	return kafkatrace.NewTracer(kafkatrace.WithTracerProvider(s.tp), kafkatrace.WithPropagators(s.prop))
}

func (s svc) outboxWriter() *outbox.Writer {
	return outbox.NewWriter(outbox.WithTracerProvider(s.tp), outbox.WithPropagators(s.prop))
}

func (s svc) outboxRelay(pool *pgxpool.Pool, cl *kgo.Client) *outbox.Relay {
	return outbox.NewRelay(pool, cl, outbox.WithTracerProvider(s.tp), outbox.WithPropagators(s.prop),
		outbox.WithPollInterval(50*time.Millisecond))
}

// waterfallKeys are the attributes shown on a span's line: the defaults,
// plus what the incidents are read from (the retry count of a resent
// request, the payment provider's API version and its masked key).
var waterfallKeys = append(waterfall.DefaultAttributes(),
	semconv.HTTPRequestResendCountKey, PaymentProviderName.Key(), keyAPIVersion, keyProviderKey)

// waterfallHeader are the business keys of a trace's header line: the
// order and its user. By default the header shows every traveling key
// (amount, currency and item count too), which does not fit in 140 columns.
var waterfallHeader = []attribute.Key{OrderID.Key(), tracing.UserID.Key()}

// render writes the spans of one trace as a waterfall.
func render(w io.Writer, spans []sdktrace.ReadOnlySpan) error {
	return waterfall.Render(w, spans, waterfall.WithWidth(140), waterfall.WithAttributes(waterfallKeys...),
		waterfall.WithTraceAttributes(waterfallHeader...))
}

// consumeLoop handles each record of cl in its consumer span until ctx ends.
func consumeLoop(ctx context.Context, s svc, cl *kgo.Client, kt *kafkatrace.Tracer, handle func(context.Context, *kgo.Record) error) {
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return
		}
		fetches.EachError(func(topic string, p int32, err error) {
			s.log.Error("fetch", "topic", topic, "partition", p, "err", err)
		})
		fetches.EachRecord(func(r *kgo.Record) {
			_ = kt.Process(ctx, r, func(ctx context.Context) error { return handle(ctx, r) })
		})
	}
}
