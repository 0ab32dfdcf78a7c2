package otelsetup

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutlog"
	"go.opentelemetry.io/otel/log"
	lognoop "go.opentelemetry.io/otel/log/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelkit/otelkit/internal/report"
)

// The variables of the log pipeline.
const (
	envLogsExporter           = "OTEL_LOGS_EXPORTER"
	envBLRPScheduleDelay      = "OTEL_BLRP_SCHEDULE_DELAY"
	envBLRPExportTimeout      = "OTEL_BLRP_EXPORT_TIMEOUT"
	envBLRPMaxQueueSize       = "OTEL_BLRP_MAX_QUEUE_SIZE"
	envBLRPMaxExportBatchSize = "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"
)

// blrpConfig is the configuration of the batch log record processors, from
// the OTEL_BLRP_* variables, with the specification's defaults.
type blrpConfig struct {
	delay, timeout     time.Duration
	maxQueue, maxBatch int
	timeoutSet         bool // OTEL_BLRP_EXPORT_TIMEOUT is set
}

// blrpFromEnv reads the OTEL_BLRP_* variables. The SDK reads them too but
// falls back to the default on a malformed value with only a log line;
// Setup refuses it with a [*ConfigError] for each.
func blrpFromEnv() (blrpConfig, error) {
	c := blrpConfig{delay: time.Second, timeout: 30 * time.Second, maxQueue: 2048, maxBatch: 512}
	var errs []error
	read := func(name string, least int64, set func(int64)) {
		v := getenv(name)
		if v == "" {
			return
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < least || n > maxMillis {
			errs = append(errs, configErr(name, v, "want an integer from %d to %d", least, maxMillis))
			return
		}
		set(n)
	}
	read(envBLRPScheduleDelay, 1, func(ms int64) { c.delay = time.Duration(ms) * time.Millisecond })
	read(envBLRPExportTimeout, 0, func(ms int64) { c.timeout, c.timeoutSet = time.Duration(ms)*time.Millisecond, true })
	read(envBLRPMaxQueueSize, 1, func(n int64) { c.maxQueue = int(min(n, 1<<24)) })
	read(envBLRPMaxExportBatchSize, 1, func(n int64) { c.maxBatch = int(min(n, 1<<24)) })
	c.maxBatch = min(c.maxBatch, c.maxQueue) // the specification requires it
	return c, errors.Join(errs...)
}

func (sc *setupConfig) logsPlan() (exporterPlan, error) {
	p := plan(envLogsExporter, "LOGS", "WithDefaultLogsExporter", sc.logsExporters)
	return p, p.validate("LOGS", "otlp", "console", "none")
}

// logSetup is the log half of what Setup builds: the provider and the
// pipelines whose shutdown Setup runs and counts.
type logSetup struct {
	provider log.LoggerProvider
	sdk      *sdklog.LoggerProvider // nil when provider is the no-op one
	pipes    []*logPipeline
	timeout  time.Duration // OTEL_BLRP_EXPORT_TIMEOUT; -1 when unset
}

// newLogSetup creates the exporters of p, each behind its own counted batch
// processor, and the provider over them; without an exporter the provider is
// the no-op one, so that a logging call costs nothing on its way there.
func (sc *setupConfig) newLogSetup(ctx context.Context, p exporterPlan, cfg blrpConfig, res *resource.Resource) (*logSetup, error) {
	ls := &logSetup{provider: lognoop.NewLoggerProvider(), timeout: -1}
	if cfg.timeoutSet {
		ls.timeout = cfg.timeout
	}
	var exps []logExporter
	fail := func(err error) (*logSetup, error) {
		for _, e := range exps {
			_ = e.exp.Shutdown(ctx)
		}
		return nil, err
	}
	if p.delegated("otlp", "console", "none") {
		e, err := autoexport.NewLogExporter(ctx)
		if err != nil {
			return nil, p.err("%w", err)
		}
		exps = append(exps, logExporter{exp: e, name: p.names[0]})
	}
	for _, n := range p.names {
		var (
			e       sdklog.Exporter
			err     error
			to      string
			explain func(error) error
		)
		switch n {
		case "otlp":
			proto, _ := otlpProtocol("LOGS")
			to = otlpEndpoint("LOGS", proto)
			if proto == "grpc" {
				o, t := otlpGRPCOption()
				e, err = otlploggrpc.New(ctx, otlploggrpc.WithDialOption(o))
				explain = t.explain
			} else if c, t := otlpHTTPClient("LOGS"); c != nil {
				e, err = otlploghttp.New(ctx, otlploghttp.WithHTTPClient(c))
				explain = t.explain
			} else {
				e, err = otlploghttp.New(ctx)
			}
		case "console":
			e, err = stdoutlog.New()
		default: // "none", or delegated above
			continue
		}
		if err != nil {
			return fail(p.err("creating the %s log exporter: %w", n, err))
		}
		exps = append(exps, logExporter{exp: e, name: n, endpoint: to, explain: explain})
	}
	if len(exps) == 0 {
		return ls, nil
	}
	opts := []sdklog.LoggerProviderOption{sdklog.WithResource(res)}
	for _, e := range exps {
		lp := newLogPipeline(e, cfg, sc.reportEvery)
		ls.pipes = append(ls.pipes, lp)
		opts = append(opts, sdklog.WithProcessor(lp))
	}
	ls.sdk = sdklog.NewLoggerProvider(opts...)
	ls.provider = ls.sdk
	return ls, nil
}

// abort cancels the exports still running, past the shutdown's deadline,
// whose error cause is.
func (ls *logSetup) abort(cause error) {
	for _, p := range ls.pipes {
		p.abort(cause)
	}
}

// shutdowns returns the functions Setup's shutdown runs in parallel with
// the span and metric ones: each pipeline's, counting what it could not
// export, and the provider's, which only waits for them.
func (ls *logSetup) shutdowns() []func(context.Context) error {
	if ls.sdk == nil {
		return nil
	}
	var fns []func(context.Context) error
	for _, p := range ls.pipes {
		fns = append(fns, p.shutdown)
	}
	return append(fns, func(ctx context.Context) error {
		err := untilDone(ls.sdk.Shutdown)(ctx)
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil // the pipelines report the deadline
		}
		return err
	})
}

// logPipeline is the processor Setup gives the logger provider for one
// exporter: the SDK's batch processor, behind a gate that keeps the number
// of records waiting or being exported within OTEL_BLRP_MAX_QUEUE_SIZE and
// counts those it turns away. The SDK's processor drops from a full queue
// with only a warning on its internal logger and hands every failed export
// to otel.Handle; here both are counted and reported through otel.Handle
// at most once per interval, with the counts, and the shutdown error says
// how many records were not exported.
//
// OnEmit runs on the logging goroutine: a compare-and-swap on the count,
// then the SDK processor's enqueue. It never blocks.
type logPipeline struct {
	logExporter
	next     *sdklog.BatchProcessor
	maxQueue int64
	every    time.Duration

	aborted context.Context
	abort   context.CancelCauseFunc // with the shutdown context's error

	pending atomic.Int64 // accepted and not yet through an export
	lost    atomic.Int64 // dropped from a full queue or failed to export, in all

	drops   *report.Limiter
	dropped atomic.Int64 // dropped since the last report

	fails    *report.Limiter
	mu       sync.Mutex
	failures int   // failed exports since the last report
	failed   int   // records they held
	allFails int   // failed exports in all
	lastErr  error // of the last failed export

	once   sync.Once
	result error
}

var _ sdklog.Processor = (*logPipeline)(nil)

// logExporter is a log exporter and how errors name it.
type logExporter struct {
	exp      sdklog.Exporter
	name     string // "otlp", "console", ...
	endpoint string
	explain  func(error) error // adds what the collector answered, if known
}

func newLogPipeline(e logExporter, cfg blrpConfig, every time.Duration) *logPipeline {
	p := &logPipeline{logExporter: e}
	p.maxQueue, p.every = int64(cfg.maxQueue), every
	p.aborted, p.abort = context.WithCancelCause(context.Background())
	p.drops, p.fails = report.New(every), report.New(every)
	p.next = sdklog.NewBatchProcessor(countingLogExporter{p},
		sdklog.WithExportInterval(cfg.delay),
		sdklog.WithExportTimeout(cfg.timeout),
		sdklog.WithMaxQueueSize(cfg.maxQueue),
		sdklog.WithExportMaxBatchSize(cfg.maxBatch))
	return p
}

// label is how reports name the exporter.
func (p *logPipeline) label() string {
	if p.endpoint == "" {
		return p.name + " log export"
	}
	return p.name + " log export to " + p.endpoint
}

// Enabled reports that every record is processed.
func (p *logPipeline) Enabled(ctx context.Context, param sdklog.EnabledParameters) bool {
	return p.next.Enabled(ctx, param)
}

// OnEmit queues r for export, or drops it and counts it when
// OTEL_BLRP_MAX_QUEUE_SIZE records are already waiting or being exported.
func (p *logPipeline) OnEmit(ctx context.Context, r *sdklog.Record) error {
	for {
		n := p.pending.Load()
		if n >= p.maxQueue {
			p.drop()
			return nil
		}
		if p.pending.CompareAndSwap(n, n+1) {
			break
		}
	}
	return p.next.OnEmit(ctx, r)
}

func (p *logPipeline) drop() {
	p.lost.Add(1)
	p.dropped.Add(1)
	if ok, _ := p.drops.Allow(); !ok {
		return
	}
	n := p.dropped.Swap(0)
	otel.Handle(fmt.Errorf("tracing: %s: %d log records dropped from a full queue (%s=%d; next report in %v at the earliest)",
		p.label(), n, envBLRPMaxQueueSize, p.maxQueue, p.every))
}

// ForceFlush exports what is queued. It returns when ctx is done, leaving
// the flush to finish in the background: the SDK's processor would stop
// between two batches and lose the records of the next ones uncounted.
func (p *logPipeline) ForceFlush(ctx context.Context) error {
	return untilDone(func(ctx context.Context) error {
		return p.next.ForceFlush(context.WithoutCancel(ctx))
	})(ctx)
}

// Shutdown is the provider's call; Setup's shutdown calls shutdown, which
// returns the error.
func (p *logPipeline) Shutdown(ctx context.Context) error {
	_ = p.shutdown(ctx)
	return nil
}

// shutdown exports what is queued and shuts the exporter down, by ctx's
// deadline, and returns an [*ExportError] counting the records queued or
// being exported that were not exported, or lost while it ran.
func (p *logPipeline) shutdown(ctx context.Context) error {
	p.once.Do(func() {
		lostBefore := p.lost.Load()
		p.mu.Lock()
		failsBefore := p.allFails
		p.mu.Unlock()

		err := untilDone(p.next.Shutdown)(ctx)

		p.mu.Lock()
		failures, failed, lastErr, failedNow := p.failures, p.failed, p.lastErr, p.allFails > failsBefore
		p.failures, p.failed = 0, 0
		n := p.pending.Load() + p.lost.Load() - lostBefore
		p.mu.Unlock()
		if failures > 0 {
			otel.Handle(fmt.Errorf("tracing: %s: %d log export(s) failed, %d log records dropped since the last report: %w", p.label(), failures, failed, lastErr))
		}
		if d := p.dropped.Swap(0); d > 0 {
			otel.Handle(fmt.Errorf("tracing: %s: %d log records dropped from a full queue (%s=%d) since the last report", p.label(), d, envBLRPMaxQueueSize, p.maxQueue))
		}
		if n > 0 {
			why := err
			if failedNow {
				why = lastErr
			} else if why != nil && p.explain != nil {
				why = p.explain(why)
			}
			if why == nil {
				why = errors.New("dropped from a full queue")
			}
			p.result = &ExportError{Exporter: p.name, Endpoint: p.endpoint, LogRecords: int(n), Err: why}
			return
		}
		if err != nil && !(ctx.Err() != nil && errors.Is(err, ctx.Err())) {
			p.result = fmt.Errorf("%s: %w", p.label(), err)
		}
	})
	return p.result
}

// countingLogExporter is the exporter behind the SDK's batch processor: it
// counts what leaves the queue, cancels exports once the shutdown's deadline
// passed, and turns failures into reports at most once per interval.
type countingLogExporter struct{ p *logPipeline }

func (e countingLogExporter) Export(ctx context.Context, records []sdklog.Record) error {
	p := e.p
	if len(records) == 0 {
		return nil // the batch processor's flush of an empty queue
	}
	err := unlessAborted(ctx, p.aborted, func(ctx context.Context) error { return p.exp.Export(ctx, records) })
	if err == nil {
		p.pending.Add(-int64(len(records)))
		return nil
	}
	if p.explain != nil {
		err = p.explain(err)
	}
	p.mu.Lock() // shutdown reads pending and lost together
	p.lost.Add(int64(len(records)))
	p.pending.Add(-int64(len(records)))
	p.failures++
	p.allFails++
	p.failed += len(records)
	p.lastErr = err
	if ok, _ := p.fails.Allow(); !ok {
		p.mu.Unlock()
		return nil
	}
	failures, failed := p.failures, p.failed
	p.failures, p.failed = 0, 0
	p.mu.Unlock()
	otel.Handle(fmt.Errorf("tracing: %s: %d log export(s) failed, %d log records dropped (next report in %v at the earliest): %w", p.label(), failures, failed, p.every, err))
	// Reported: the SDK's processor would hand every failed batch to
	// otel.Handle.
	return nil
}

func (e countingLogExporter) ForceFlush(ctx context.Context) error { return e.p.exp.ForceFlush(ctx) }
func (e countingLogExporter) Shutdown(ctx context.Context) error   { return e.p.exp.Shutdown(ctx) }

// shutdownTimeout is the bound of Setup's shutdown: OTEL_BSP_EXPORT_TIMEOUT,
// or with a log pipeline and OTEL_BLRP_EXPORT_TIMEOUT set, the longer of the
// two; 0 (no limit) when either is 0.
func shutdownTimeout(spans time.Duration, ls *logSetup) time.Duration {
	if len(ls.pipes) == 0 || ls.timeout < 0 {
		return spans
	}
	if spans <= 0 || ls.timeout == 0 {
		return 0
	}
	return max(spans, ls.timeout)
}
