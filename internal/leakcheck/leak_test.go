package leakcheck_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/httptrace"
	"github.com/otelkit/otelkit/internal/kafkatest"
	"github.com/otelkit/otelkit/internal/pgtest"
	"github.com/otelkit/otelkit/kafkatrace"
	"github.com/otelkit/otelkit/logcorr"
	"github.com/otelkit/otelkit/sdk/otelsetup"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/sqltrace"
	"github.com/otelkit/otelkit/sqltrace/outbox"
	"github.com/otelkit/otelkit/tracing"
)

// personalParam is the query parameter the test declares personal.
const personalParam = "customer"

func init() {
	if err := tracing.RegisterPersonalQueryParam(personalParam, tracing.HashPersonal); err != nil {
		panic(err)
	}
}

const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTcifQ.c2lnbmF0dXJlLWJ5dGVz"

// seed is one secret or piece of personal data, in the forms a path can
// carry it.
type seed struct {
	name string
	// text is free text holding the seed: it goes into error messages,
	// attribute values, SQL parameters and literals, Kafka keys, values and
	// headers.
	text string
	// query is a URL query holding the seed, for the HTTP paths.
	query string
	// userinfo is put into the HTTP client's URL.
	userinfo *url.Userinfo
	// business is set with tracing.SetBusiness on the context of every
	// operation, so it travels and is copied onto spans.
	business []attribute.KeyValue
	// clear are the strings that must not be exported.
	clear []string
}

var seeds = []seed{
	{name: "bearer token", text: "Authorization: Bearer tok9f8e7d6c5b4a3f2e1d0c", query: "access_token=tok9f8e7d6c5b4a3f2e1d0c", clear: []string{"tok9f8e7d6c5b4a3f2e1d0c"}},
	{name: "JWT", text: "session " + jwt + " expired", query: "state=" + jwt, clear: []string{jwt}},
	{name: "card number", text: "card 4111 1111 1111 1111 declined", query: "card=4111111111111111", clear: []string{"4111 1111 1111 1111", "4111111111111111"}},
	{name: "provider key", text: "charge with sk_live_51HxYzAbCdEfGhIjKlMn failed", query: "k=sk_live_51HxYzAbCdEfGhIjKlMn", clear: []string{"sk_live_51HxYzAbCdEfGhIjKlMn"}},
	{name: "URL password", text: "dial postgres://app:hunter2pw@db.test/shop: refused", query: "next=postgres://app:hunter2pw@db.test/shop", userinfo: url.UserPassword("app", "hunter2pw"), clear: []string{"hunter2pw"}},
	{name: "password pair", text: "connect host=db password=s3cr3tpw user=app", query: "password=s3cr3tpw", clear: []string{"s3cr3tpw"}},
	{name: "api_key query value", text: `Get "https://api.test/v1?api_key=k9f8e7d6c&x=1": EOF`, query: "api_key=k9f8e7d6c&x=1", clear: []string{"k9f8e7d6c"}},
	{name: "email", text: "no account for jane.doe@example.com", query: "email=jane.doe@example.com", clear: []string{"jane.doe@example.com"}},
	{name: "personal query parameter", text: `Get "https://recs.test/r?customer=c-5512&n=3": EOF`, query: personalParam + "=c-5512&n=3", clear: []string{"c-5512"}},
	{name: "raw user id", business: []attribute.KeyValue{tracing.UserID.String("u-1001")}, clear: []string{"u-1001"}},
}

// path drives one instrumented surface. start prepares what the path needs
// for the whole test (a cluster, a database) and returns the function that
// runs one seed through it; that function runs after otelsetup.Setup, with
// its providers. It returns what the path exported besides spans (the lines
// a log handler wrote), which must not hold the seed either; a path that
// exports only spans returns nil and must export at least one span.
type path struct {
	name  string
	start func(t *testing.T) runner
}

type runner func(t *testing.T, p otelsetup.Providers, ctx context.Context, s seed) (exported []string)

var paths = []path{
	{"http server", httpServer},
	{"http client", httpClient},
	{"span helpers", spanHelpers},
	{"pgx", pgx},
	{"kafka", kafka},
	{"outbox", outboxRelay},
	{"logs", logLines},
}

// TestNoSeedLeaves runs every seed through every path into an exporter
// behind otelsetup.Setup, and checks that no exported span name, attribute,
// event attribute, link attribute, status description or resource value
// holds a seed in clear.
func TestNoSeedLeaves(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	t.Setenv("OTEL_LOGS_EXPORTER", "none")
	prevTP, prevMP, prevProp := otel.GetTracerProvider(), otel.GetMeterProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetMeterProvider(prevMP)
		otel.SetTextMapPropagator(prevProp)
	})
	for _, pt := range paths {
		t.Run(pt.name, func(t *testing.T) {
			run := pt.start(t)
			for _, s := range seeds {
				t.Run(s.name, func(t *testing.T) {
					exp := &tracingtest.Exporter{}
					var p otelsetup.Providers
					shutdown, err := otelsetup.Setup(context.Background(), otelsetup.WithServiceName("leakcheck"),
						otelsetup.WithSpanExporter(exp), otelsetup.WithoutGlobals(&p))
					if err != nil {
						t.Fatal(err)
					}
					ctx := context.Background()
					if len(s.business) > 0 {
						ctx = tracing.SetBusiness(ctx, s.business...)
					}
					other := run(t, p, ctx, s)
					if err := shutdown(context.Background()); err != nil {
						t.Fatal(err)
					}
					spans := exp.Spans()
					if len(spans) == 0 && other == nil {
						t.Fatal("nothing exported")
					}
					leaks := tracingtest.Leaks(spans, s.clear...)
					for _, out := range other {
						for _, c := range s.clear {
							if strings.Contains(out, c) {
								leaks = append(leaks, fmt.Sprintf("%q contains %q", out, c))
							}
						}
					}
					if len(leaks) > 0 {
						t.Errorf("%d leaks:\n  %s", len(leaks), strings.Join(leaks, "\n  "))
					}
				})
			}
		})
	}
}

func httpServer(t *testing.T) runner {
	return func(t *testing.T, p otelsetup.Providers, ctx context.Context, s seed) []string {
		h := httptrace.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err := fmt.Errorf("no route for %s?%s", r.URL.Path, r.URL.RawQuery)
			tracing.RecordError(trace.SpanFromContext(r.Context()), err)
			http.Error(w, "not found", http.StatusNotFound)
		}), httptrace.WithTracerProvider(p.TracerProvider), httptrace.WithMeterProvider(p.MeterProvider),
			httptrace.WithPropagators(p.Propagator))
		srv := httptest.NewServer(h)
		defer srv.Close()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/echo/"+url.PathEscape(s.text)+"?"+s.query, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The caller's baggage arrives as a header.
		p.Propagator.Inject(ctx, propagation.HeaderCarrier(req.Header))
		do(t, http.DefaultClient, req)
		return nil
	}
}

func httpClient(t *testing.T) runner {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	// A port nothing listens on, for a request that fails with an error
	// quoting its URL.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	_ = l.Close()
	return func(t *testing.T, p otelsetup.Providers, ctx context.Context, s seed) []string {
		client := &http.Client{Transport: httptrace.NewTransport(nil, httptrace.WithTracerProvider(p.TracerProvider),
			httptrace.WithMeterProvider(p.MeterProvider), httptrace.WithPropagators(p.Propagator))}
		for _, host := range []string{strings.TrimPrefix(srv.URL, "http://"), closed} {
			u := &url.URL{Scheme: "http", Host: host, Path: "/p", RawQuery: s.query, User: s.userinfo}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if host == closed {
				if resp, err := client.Do(req); err == nil {
					_ = resp.Body.Close()
					t.Fatalf("request to %s succeeded", closed)
				}
				continue
			}
			do(t, client, req)
		}
		return nil
	}
}

func do(t *testing.T, c *http.Client, req *http.Request) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
}

func spanHelpers(t *testing.T) runner {
	return func(t *testing.T, p otelsetup.Providers, ctx context.Context, s seed) []string {
		// The helpers use the global provider, as applications do.
		otel.SetTracerProvider(p.TracerProvider)
		_, span := tracing.Start(ctx, "leakcheck.run")
		span.SetAttributes(attribute.String("app.note", s.text), attribute.String("app.callback", "https://hooks.test/cb?"+s.query),
			attribute.StringSlice("app.notes", []string{"first", s.text}))
		err := errors.New("failed: " + s.text)
		tracing.End(span, &err)
		return nil
	}
}

func pgx(t *testing.T) runner {
	pgtest.Require(t)
	return func(t *testing.T, p otelsetup.Providers, ctx context.Context, s seed) []string {
		pool, _ := pgtest.Pool(t, func(c *pgxpool.Config) {
			c.ConnConfig.Tracer = sqltrace.NewTracer(sqltrace.WithTracerProvider(p.TracerProvider),
				sqltrace.WithMeterProvider(p.MeterProvider), sqltrace.WithQueryParameters())
		})
		var n int
		// The server's error echoes the value: invalid input syntax for
		// type integer: "...".
		if err := pool.QueryRow(ctx, "SELECT $1::int", s.text).Scan(&n); err == nil {
			t.Fatalf("SELECT %q::int succeeded", s.text)
		}
		literal := "'" + strings.ReplaceAll(s.text, "'", "''") + "'"
		if err := pool.QueryRow(ctx, "SELECT "+literal+"::int").Scan(&n); err == nil {
			t.Fatalf("SELECT %s::int succeeded", literal)
		}
		return nil
	}
}

func kafka(t *testing.T) runner {
	brokers := kafkatest.Cluster(t, 1)
	topic := 0
	return func(t *testing.T, p otelsetup.Providers, ctx context.Context, s seed) []string {
		topic++
		name := fmt.Sprintf("leak-%d", topic)
		kt := kafkatrace.NewTracer(kafkatrace.WithTracerProvider(p.TracerProvider), kafkatrace.WithPropagators(p.Propagator))
		prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.WithHooks(kt), kgo.AllowAutoTopicCreation())
		if err != nil {
			t.Fatal(err)
		}
		defer prod.Close()
		rec := &kgo.Record{Topic: name, Key: []byte(s.text), Value: []byte(s.text + " " + s.query),
			Headers: []kgo.RecordHeader{{Key: "authorization", Value: []byte(s.text)}, {Key: "x-query", Value: []byte(s.query)}}}
		if err := prod.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
		ct := kafkatrace.NewTracer(kafkatrace.WithTracerProvider(p.TracerProvider), kafkatrace.WithPropagators(p.Propagator))
		cons, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.WithHooks(ct), kgo.ConsumeTopics(name),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		defer cons.Close()
		pctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		got := 0
		for got == 0 && pctx.Err() == nil {
			cons.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
				got++
				_ = ct.Process(context.Background(), r, func(context.Context) error {
					return fmt.Errorf("process %s: %s", r.Key, r.Value)
				})
			})
		}
		if got == 0 {
			t.Fatal("record not consumed")
		}
		return nil
	}
}

func outboxRelay(t *testing.T) runner {
	pgtest.Require(t)
	brokers := kafkatest.Cluster(t, 1)
	topic := 0
	return func(t *testing.T, p otelsetup.Providers, ctx context.Context, s seed) []string {
		topic++
		name := fmt.Sprintf("outbox-leak-%d", topic)
		pool, _ := pgtest.Pool(t, func(c *pgxpool.Config) {
			c.ConnConfig.Tracer = sqltrace.NewTracer(sqltrace.WithTracerProvider(p.TracerProvider),
				sqltrace.WithMeterProvider(p.MeterProvider), sqltrace.WithQueryParameters())
		})
		if err := outbox.Apply(ctx, pool); err != nil {
			t.Fatal(err)
		}
		ctx, span := p.TracerProvider.Tracer("leakcheck").Start(ctx, "orders.create")
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = outbox.NewWriter(outbox.WithPropagators(p.Propagator)).Enqueue(ctx, tx, outbox.Message{Topic: name,
			Key: []byte(s.text), Value: []byte(s.text + " " + s.query),
			Headers: []kgo.RecordHeader{{Key: "authorization", Value: []byte(s.text)}}})
		if err == nil {
			err = tx.Commit(ctx)
		}
		span.End()
		if err != nil {
			t.Fatal(err)
		}
		kt := kafkatrace.NewTracer(kafkatrace.WithTracerProvider(p.TracerProvider), kafkatrace.WithPropagators(p.Propagator))
		client, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.WithHooks(kt), kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(0))
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		relay := outbox.NewRelay(pool, client, outbox.WithTracerProvider(p.TracerProvider), outbox.WithMeterProvider(p.MeterProvider),
			outbox.WithPropagators(p.Propagator), outbox.WithPollInterval(10*time.Millisecond))
		done := make(chan error, 1)
		go func() { done <- relay.Run(context.Background()) }()
		deadline := time.Now().Add(20 * time.Second)
		for {
			var left int
			if err := pool.QueryRow(ctx, "SELECT count(*) FROM outbox").Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the relay did not publish the row")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := relay.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		return nil
	}
}

// logLines writes a log line through logcorr, with its default redaction,
// inside a span: the message, an error, a URL and a note hold the seed,
// and the business attributes the user id.
func logLines(t *testing.T) runner {
	return func(t *testing.T, p otelsetup.Providers, ctx context.Context, s seed) []string {
		var buf bytes.Buffer
		log := slog.New(logcorr.NewHandler(slog.NewJSONHandler(&buf, nil), logcorr.WithBusiness(tracing.UserID.Key())))
		ctx, span := p.TracerProvider.Tracer("leakcheck").Start(ctx, "leakcheck.log")
		log.ErrorContext(ctx, "request failed: "+s.text, "err", errors.New("failed: "+s.text),
			"callback", "https://hooks.test/cb?"+s.query, "note", s.text)
		span.End()
		return strings.Split(strings.TrimSpace(buf.String()), "\n")
	}
}
