package otelsetup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/contrib/samplers/jaegerremote"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/internal/report"
)

// The defaults of the jaeger_remote arguments. The specification's default
// endpoint is a gRPC one (localhost:14250); the Go sampler fetches the
// strategy over HTTP, so the default is the HTTP sampling endpoint of a
// Jaeger agent or collector on the same host, the contrib sampler's own.
const (
	defaultJaegerEndpoint    = "http://localhost:5778/sampling"
	defaultJaegerPolling     = time.Minute
	defaultJaegerInitialRate = 0.001

	// jaegerFetchTimeout bounds one poll of the endpoint.
	jaegerFetchTimeout = 10 * time.Second
)

// jaegerRemoteArgs are the OTEL_TRACES_SAMPLER_ARG arguments of the
// jaeger_remote samplers.
type jaegerRemoteArgs struct {
	endpoint    string
	polling     time.Duration
	initialRate float64
}

// parseJaegerRemoteArgs parses OTEL_TRACES_SAMPLER_ARG for jaeger_remote:
// comma-separated key=value pairs, the keys endpoint, pollingIntervalMs and
// initialSamplingRate, each at most once. It refuses what it cannot use
// rather than fall back to a default the operator did not ask for.
func parseJaegerRemoteArgs(s string) (jaegerRemoteArgs, error) {
	a := jaegerRemoteArgs{endpoint: defaultJaegerEndpoint, polling: defaultJaegerPolling, initialRate: defaultJaegerInitialRate}
	seen := map[string]bool{}
	for item := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok {
			return a, fmt.Errorf("%q is not key=value", item)
		}
		if seen[k] {
			return a, fmt.Errorf("%s given twice", k)
		}
		seen[k] = true
		switch k {
		case "endpoint":
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				return a, fmt.Errorf("endpoint: want an http:// or https:// URL without a query, such as %s", defaultJaegerEndpoint)
			}
			a.endpoint = v
		case "pollingIntervalMs":
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ms <= 0 || ms > maxMillis {
				return a, fmt.Errorf("pollingIntervalMs: want milliseconds from 1 to %d", maxMillis)
			}
			a.polling = time.Duration(ms) * time.Millisecond
		case "initialSamplingRate":
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || !(r >= 0 && r <= 1) { // NaN is neither
				return a, errors.New("initialSamplingRate: want a probability from 0 to 1")
			}
			a.initialRate = r
		default:
			return a, fmt.Errorf("unknown argument %q (supported: endpoint, pollingIntervalMs, initialSamplingRate)", k)
		}
	}
	return a, nil
}

// jaegerRemote is the jaeger_remote sampler of Setup. Parsing the variables
// only records the arguments; [jaegerRemote.start] starts the poller once
// Setup knows the service name and nothing can fail any more, so that a
// Setup that fails leaves no goroutine behind.
type jaegerRemote struct {
	args   jaegerRemoteArgs
	s      *jaegerremote.Sampler // set by start, before the provider exists
	ctx    context.Context       // cancelled at stop: ends a poll in flight
	cancel context.CancelFunc
	stop   func(context.Context) error
}

var _ sdktrace.Sampler = (*jaegerRemote)(nil)

// start starts polling the endpoint for the strategy of service. It never
// waits for the endpoint: until a poll succeeds, initialSamplingRate applies
// (a TraceIDRatioBased sampler), and a failed poll keeps what applied
// before. Failures are reported through otel.Handle, at most once a minute.
func (j *jaegerRemote) start(service string) {
	if j == nil {
		return
	}
	j.ctx, j.cancel = context.WithCancel(context.Background())
	reports := report.New(report.Every)
	j.s = jaegerremote.New(service,
		jaegerremote.WithInitialSampler(sdktrace.TraceIDRatioBased(j.args.initialRate)),
		jaegerremote.WithSamplingRefreshInterval(j.args.polling),
		jaegerremote.WithSamplingStrategyFetcher(&jaegerFetcher{ctx: j.ctx, endpoint: j.args.endpoint}),
		jaegerremote.WithLogger(logr.New(jaegerLog{ctx: j.ctx, endpoint: j.args.endpoint, reports: reports})),
	)
	var once sync.Once
	j.stop = func(ctx context.Context) error {
		var err error
		once.Do(func() {
			j.cancel()
			err = untilDone(func(context.Context) error { j.s.Close(); return nil })(ctx)
		})
		return err
	}
}

// shutdown stops the poller; it returns once the poller is gone or ctx is
// done.
func (j *jaegerRemote) shutdown(ctx context.Context) error {
	if j == nil || j.stop == nil {
		return nil
	}
	return j.stop(ctx)
}

func (j *jaegerRemote) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	return j.s.ShouldSample(p)
}

func (j *jaegerRemote) Description() string {
	return fmt.Sprintf("JaegerRemoteSampler{endpoint=%s,pollingInterval=%v,initialSamplingRate=%g}",
		j.args.endpoint, j.args.polling, j.args.initialRate)
}

// jaegerFetcher fetches the strategy like the contrib sampler's own fetcher,
// with a context cancelled at shutdown, so that a poll of an endpoint that
// does not answer cannot hold shutdown for the fetch timeout.
type jaegerFetcher struct {
	ctx      context.Context
	endpoint string
}

var client = &http.Client{Timeout: jaegerFetchTimeout}

func (f *jaegerFetcher) Fetch(service string) ([]byte, error) {
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, f.endpoint+"?"+url.Values{"service": {service}}.Encode(), http.NoBody)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	return body, nil
}

// jaegerLog is the contrib sampler's logger: it only logs failures (a poll
// that failed, a strategy it cannot read), which go to otel.Handle through
// the limiter; its informational lines are dropped.
type jaegerLog struct {
	ctx      context.Context
	endpoint string
	reports  *report.Limiter
}

var _ logr.LogSink = jaegerLog{}

func (jaegerLog) Init(logr.RuntimeInfo)            {}
func (jaegerLog) Enabled(int) bool                 { return false }
func (jaegerLog) Info(int, string, ...any)         {}
func (l jaegerLog) WithValues(...any) logr.LogSink { return l }
func (l jaegerLog) WithName(string) logr.LogSink   { return l }
func (l jaegerLog) Error(err error, msg string, _ ...any) {
	if l.ctx.Err() != nil {
		return // shutting down: the poll in flight was cancelled
	}
	l.reports.Report(fmt.Errorf("otelsetup: jaeger_remote sampler: %s from %s: %w", msg, l.endpoint, err))
}
