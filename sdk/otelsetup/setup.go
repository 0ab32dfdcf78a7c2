package otelsetup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"sync"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/log"
	lognoop "go.opentelemetry.io/otel/log/noop"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"

	"github.com/otelkit/otelkit/sdk/internal/batch"
	"github.com/otelkit/otelkit/sdk/pipeline"
	"github.com/otelkit/otelkit/sdk/waterfall"
	"github.com/otelkit/otelkit/tracing"
)

// Setup configures the OpenTelemetry SDK from the standard OTEL_*
// environment variables and opts, installs the tracer provider, meter
// provider, logger provider and propagator as the otel globals (unless
// [WithoutGlobals]), and returns the function that flushes and stops them.
//
// A set, non-empty environment variable always wins over an option; options
// are the program's defaults. See the package documentation for the
// variables read and the precedence of each setting.
//
// Setup returns a [*ConfigError] naming the variable and its value for every
// setting it cannot use (all of them, joined), and an error when no service
// name is configured; it never panics and never contacts a collector, so an
// unreachable one does not delay start-up. With OTEL_SDK_DISABLED=true it
// installs no-op providers (the logger provider too) and the propagator, and
// shutdown does nothing.
//
// shutdown exports buffered telemetry and shuts the providers down in
// parallel, returns when they are done, when ctx is done or after
// OTEL_BSP_EXPORT_TIMEOUT (30 s by default), whichever is first, and returns
// the joined errors, with an [*ExportError] for each exporter that did not
// export every span or log record queued. Later calls return the first call's result. It
// never exits the process. See the package documentation's Shutdown section.
func Setup(ctx context.Context, opts ...Option) (shutdown func(context.Context) error, err error) {
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	sc := &c.setup
	if sc.reportEvery <= 0 {
		sc.reportEvery = defaultReportEvery
	}
	nop := func(context.Context) error { return nil }

	disabled, err := sdkDisabled()
	if err != nil {
		return nop, err
	}
	prop, propErr := parsePropagators()
	// Read even with the SDK disabled: log lines are redacted with it.
	hashKey, hashKeyErr := hashKeyFromEnv()
	if disabled {
		if err := errors.Join(propErr, hashKeyErr); err != nil {
			return nop, err
		}
		c.conv.useHashKey(hashKey)
		sc.install(tracenoop.NewTracerProvider(), metricnoop.NewMeterProvider(), lognoop.NewLoggerProvider(), prop)
		return nop, nil
	}

	sampler, remote, samplerErr := parseSampler(sc.sampler)
	traces, tracesErr := sc.tracesPlan()
	metrics, metricsErr := sc.metricsPlan()
	logs, logsErr := sc.logsPlan()
	blrp, blrpErr := blrpFromEnv()
	res, resErr := sc.resource(ctx)
	bsp, batchErr := batch.ConfigFromEnv()
	bsp.ReportEvery = sc.reportEvery
	if ve := (*batch.VarError)(nil); errors.As(batchErr, &ve) {
		batchErr = &ConfigError{Variable: ve.Name, Value: ve.Value, Err: ve.Err}
	}
	if err := errors.Join(propErr, hashKeyErr, samplerErr, tracesErr, metricsErr, logsErr, resErr, batchErr, blrpErr); err != nil {
		return nop, err
	}
	c.conv.useHashKey(hashKey)

	var ls *logSetup
	exporters, err := sc.spanExporters(ctx, traces)
	if err != nil {
		return nop, err
	}
	readers, err := metricReaders(ctx, metrics)
	if err == nil {
		var lerr error
		if ls, lerr = sc.newLogSetup(ctx, logs, blrp, res); lerr != nil {
			for _, r := range readers {
				_ = r.Shutdown(ctx)
			}
			err = lerr
		}
	}
	if err != nil {
		for _, e := range exporters {
			_ = e.Shutdown(ctx)
		}
		return nop, err
	}

	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(c.conv.sampler(sampler)),
	}
	var late []sdktrace.SpanProcessor
	for _, p := range c.conv.spanProcessors() {
		if _, ok := p.(*pipeline.KeepErrorsProcessor); ok {
			// After the exporters' batch processors: the provider shuts its
			// processors down in order and stops at the first that runs out
			// of time, and the sampled spans matter most.
			late = append(late, p)
			continue
		}
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(p))
	}
	var (
		reporters []*reportingExporter
		batchers  []*batch.Processor
	)
	for _, le := range exporters {
		e := le.SpanExporter
		buffering := isBuffering(e)
		if !buffering {
			r := newReportingExporter(e, sc.reportEvery, le.label())
			r.exporter, r.endpoint = le.name, le.endpoint
			reporters = append(reporters, r)
			e = r
		}
		e = c.conv.wrapExporter(e)
		if buffering {
			tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(e)))
		} else {
			// The batch processor's queue is bounded (OTEL_BSP_MAX_QUEUE_SIZE,
			// 2048 by default) and drops spans when full rather than block.
			// It is ours rather than the SDK's for the cost of ending a
			// span: see batcher.
			b := batch.New(e, bsp)
			b.Explain = le.explain
			b.Loss = func(n int, why error) error {
				return &ExportError{Exporter: le.name, Endpoint: le.endpoint, Spans: n, Err: why}
			}
			batchers = append(batchers, b)
			tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(setupBatcher{b}))
		}
	}
	for _, p := range late {
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(p))
	}
	unroute := routeReports(sc.errorLogger) // before the provider, which reports the sampler it does not know
	service, _ := res.Set().Value(semconv.ServiceNameKey)
	remote.start(service.AsString())
	tp := sdktrace.NewTracerProvider(tpOpts...)
	removeClassifier := func() {}
	if c.conv.classifier != nil {
		removeClassifier = tracing.SetProviderErrorClassifier(tp, c.conv.classifier)
	}

	// Without a reader nothing would read what the instruments aggregate:
	// the no-op provider spares every instrumented call that work.
	var mp metric.MeterProvider = metricnoop.NewMeterProvider()
	shutdownMetrics := func(context.Context) error { return nil }
	if len(readers) > 0 {
		mpOpts := []sdkmetric.Option{sdkmetric.WithResource(res)}
		for _, r := range readers {
			mpOpts = append(mpOpts, sdkmetric.WithReader(r.Reader))
		}
		sdkmp := sdkmetric.NewMeterProvider(mpOpts...)
		mp = sdkmp
		shutdownMetrics = func(ctx context.Context) error {
			err := untilDone(sdkmp.Shutdown)(ctx)
			if err == nil || ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
				return err
			}
			// Cut short: say what the collectors answered.
			errs := []error{}
			for _, r := range readers {
				if r.cut != nil {
					errs = append(errs, r.cut(err))
				}
			}
			if len(errs) == 0 {
				return err
			}
			return errors.Join(errs...)
		}
	}

	sc.install(tp, mp, ls.provider, prop)

	var (
		once   sync.Once
		result error
	)
	return func(ctx context.Context) error {
		once.Do(func() {
			// Bounded whatever ctx says: a collector that accepts
			// connections and never answers must not hold the process.
			if d := shutdownTimeout(bsp.Timeout(), ls); d > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
			}
			// Past the deadline, stop the exports the batch processors
			// would go on retrying in the background.
			context.AfterFunc(ctx, func() {
				for _, r := range reporters {
					r.abort(ctx.Err())
				}
				ls.abort(ctx.Err())
			})
			// The batch processors in parallel, each counting what it could
			// not export, rather than one after the other in the provider's
			// Shutdown, which skips those after one that ran out of time.
			// A batcher returns once ctx is done, with the count of what it
			// could not export.
			fns := append([]func(context.Context) error{shutdownMetrics, remote.shutdown}, ls.shutdowns()...)
			for _, b := range batchers {
				fns = append(fns, b.Shutdown)
			}
			// The provider shuts the other processors down (waterfall,
			// error keeping); the batchers' errors come from their own call.
			fns = append(fns, func(ctx context.Context) error {
				err := untilDone(tp.Shutdown)(ctx)
				if len(batchers) > 0 && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
					return nil // the batchers report the deadline
				}
				return err
			})
			result = shutdownAll(ctx, fns...)
			removeClassifier()
			unroute()
		})
		return result
	}, nil
}

// setupBatcher is how Setup's provider sees a batcher: the shutdown function
// Setup returns shuts the batchers down itself and returns their errors, so
// the provider's own Shutdown only waits for them. Called directly, it still
// shuts the batcher down, whose losses the reportingExporter reports through
// otel.Handle.
type setupBatcher struct{ *batch.Processor }

func (b setupBatcher) Shutdown(ctx context.Context) error {
	_ = b.Processor.Shutdown(ctx)
	return nil
}

func (sc *setupConfig) install(tp trace.TracerProvider, mp metric.MeterProvider, lp log.LoggerProvider, prop propagation.TextMapPropagator) {
	if p := sc.providers; p != nil {
		*p = Providers{TracerProvider: tp, MeterProvider: mp, LoggerProvider: lp, Propagator: prop}
		return
	}
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	otel.SetLoggerProvider(lp)
	otel.SetTextMapPropagator(prop)
}

// shutdownAll runs fns in parallel and returns their joined errors once all
// have returned: each must return once ctx is done (see untilDone).
func shutdownAll(ctx context.Context, fns ...func(context.Context) error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, f := range fns {
		wg.Go(func() { errs[i] = f(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// untilDone makes f return ctx's error once ctx is done, leaving it to finish
// in the background, for the shutdown functions of the SDK's providers and
// readers, which may wait for an exporter that ignores its context.
func untilDone(f func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		c := make(chan error, 1)
		go func() { c <- f(ctx) }()
		select {
		case err := <-c:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// resource builds the resource. Precedence, lowest first: the host, OS,
// process, runtime, container and SDK detectors; [WithResourceDetectors];
// the other options;
// OTEL_RESOURCE_ATTRIBUTES; OTEL_SERVICE_NAME.
func (sc *setupConfig) resource(ctx context.Context) (*resource.Resource, error) {
	rawAttrs := os.Getenv(envResourceAttributes)
	envAttrs, err := parseResourceAttributes(rawAttrs)
	if err != nil {
		return nil, &ConfigError{Variable: envResourceAttributes, Value: rawAttrs, Err: err}
	}
	named := getenv(envServiceName) != "" || sc.serviceName != "" ||
		slices.ContainsFunc(envAttrs, func(kv attribute.KeyValue) bool {
			return kv.Key == semconv.ServiceNameKey && kv.Value.AsString() != ""
		})
	if !named {
		return nil, errors.New("tracing: no service name: set OTEL_SERVICE_NAME or use otelsetup.WithServiceName")
	}

	var attrs []attribute.KeyValue
	add := func(kv attribute.KeyValue) {
		if kv.Value.AsString() != "" {
			attrs = append(attrs, kv)
		}
	}
	add(semconv.ServiceName(sc.serviceName))
	version := sc.serviceVersion
	if bi, ok := debug.ReadBuildInfo(); ok && version == "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
	add(semconv.ServiceVersion(version))
	add(semconv.ServiceNamespace(sc.serviceNamespace))
	add(semconv.DeploymentEnvironmentNameKey.String(sc.environment))
	attrs = append(attrs, sc.attrs...)

	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithOS(),
		resource.WithContainer(),
		resource.WithProcessPID(),
		resource.WithProcessExecutableName(),
		resource.WithProcessRuntimeName(),
		resource.WithProcessRuntimeVersion(),
		resource.WithProcessRuntimeDescription(),
		resource.WithDetectors(sc.detectors...),
		resource.WithAttributes(attrs...),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
		// A detector that finds less than it hoped for (no container, no
		// host id) must not stop the service: keep what was found.
		otel.Handle(fmt.Errorf("tracing: resource: %w", err))
	}
	if res == nil {
		res = resource.NewSchemaless(attrs...)
	}
	return res, nil
}

// exporterPlan is the resolved list of exporter names for one signal.
type exporterPlan struct {
	names    []string
	variable string // where the names came from, for errors
	raw      string // the value as written there
	fromEnv  bool
}

func (p exporterPlan) err(format string, args ...any) error {
	return configErr(p.variable, p.raw, format, args...)
}

// plan resolves the exporter names of signal: the variable, else "otlp" when
// an OTLP endpoint is set, else the option's default, else "otlp".
func plan(variable, signal, option string, def []string) exporterPlan {
	if raw := getenv(variable); raw != "" {
		return exporterPlan{names: splitList(raw), variable: variable, raw: raw, fromEnv: true}
	}
	if otlpEndpointSet(signal) {
		return exporterPlan{names: []string{"otlp"}, variable: envOTLPPrefix + "ENDPOINT", raw: "otlp"}
	}
	if len(def) > 0 {
		return exporterPlan{names: def, variable: option, raw: fmt.Sprint(def)}
	}
	return exporterPlan{names: []string{"otlp"}, variable: variable, raw: "otlp"}
}

// delegated reports whether the one name of p is left to autoexport, which
// knows the exporters registered with autoexport.RegisterSpanExporter or
// RegisterMetricReader (and, for metrics, "prometheus").
func (p exporterPlan) delegated(known ...string) bool {
	return p.fromEnv && len(p.names) == 1 && !slices.Contains(known, p.names[0])
}

func (sc *setupConfig) tracesPlan() (exporterPlan, error) {
	p := plan(envTracesExporter, "TRACES", "WithDefaultTracesExporter", sc.tracesExporters)
	return p, p.validate("TRACES", "otlp", "console", "waterfall", "none")
}

func (sc *setupConfig) metricsPlan() (exporterPlan, error) {
	p := plan(envMetricsExporter, "METRICS", "WithDefaultMetricsExporter", sc.metricsExporters)
	return p, p.validate("METRICS", "otlp", "console", "none")
}

func (p exporterPlan) validate(signal string, known ...string) error {
	if p.delegated(known...) {
		return nil
	}
	var errs []error
	for _, n := range p.names {
		if !slices.Contains(known, n) {
			errs = append(errs, p.err("unknown exporter %q (supported: %v)", n, known))
		}
	}
	if slices.Contains(p.names, "otlp") {
		if _, err := otlpProtocol(signal); err != nil {
			errs = append(errs, err)
		}
		errs = append(errs, validateOTLPEnv(signal))
	}
	return errors.Join(errs...)
}

// labeledExporter is an exporter and how errors name it.
type labeledExporter struct {
	sdktrace.SpanExporter
	name, endpoint string
	explain        func(error) error // adds what the collector answered, if known
}

// label is how reports name the exporter.
func (e labeledExporter) label() string {
	if e.endpoint == "" {
		return e.name + " export"
	}
	return e.name + " export to " + e.endpoint
}

// spanExporters creates the exporters of p plus those given in options.
func (sc *setupConfig) spanExporters(ctx context.Context, p exporterPlan) ([]labeledExporter, error) {
	var out []labeledExporter
	fail := func(err error) ([]labeledExporter, error) {
		for _, e := range out {
			_ = e.Shutdown(ctx)
		}
		return nil, err
	}
	if p.delegated("otlp", "console", "waterfall", "none") {
		e, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			return nil, p.err("%w", err)
		}
		out = append(out, labeledExporter{SpanExporter: e, name: p.names[0]})
	}
	for _, n := range p.names {
		var (
			e       sdktrace.SpanExporter
			err     error
			to      string
			explain func(error) error
		)
		switch n {
		case "otlp":
			proto, _ := otlpProtocol("TRACES")
			to = otlpEndpoint("TRACES", proto)
			if proto == "grpc" {
				o, t := otlpGRPCOption()
				e, err = otlptracegrpc.New(ctx, otlptracegrpc.WithDialOption(o))
				e, explain = explainedSpanExporter{e, t}, t.explain
			} else if c, t := otlpHTTPClient("TRACES"); c != nil {
				e, err = otlptracehttp.New(ctx, otlptracehttp.WithHTTPClient(c))
				e, explain = explainedSpanExporter{e, t}, t.explain
			} else {
				e, err = otlptracehttp.New(ctx)
			}
		case "console":
			e, err = stdouttrace.New()
		case "waterfall":
			e = sharedWaterfall(sc.waterfallOut, sc.waterfallOpts)
		default: // "none", or delegated above
			continue
		}
		if err != nil {
			return fail(p.err("creating the %s exporter: %w", n, err))
		}
		out = append(out, labeledExporter{SpanExporter: e, name: n, endpoint: to, explain: explain})
	}
	for _, e := range sc.extraExporters {
		name := fmt.Sprintf("%T", e)
		if s, ok := e.(syncExporter); ok {
			name = fmt.Sprintf("%T", s.SpanExporter)
		}
		out = append(out, labeledExporter{SpanExporter: e, name: name})
	}
	return out, nil
}

// metricReader is a reader and, for an OTLP one, how to say why a shutdown
// cut short did not export its metrics.
type metricReader struct {
	sdkmetric.Reader
	cut func(error) error
}

func metricReaders(ctx context.Context, p exporterPlan) ([]metricReader, error) {
	var out []metricReader
	if p.delegated("otlp", "console", "none") {
		r, err := autoexport.NewMetricReader(ctx)
		if err != nil {
			return nil, p.err("%w", err)
		}
		return []metricReader{{Reader: r}}, nil
	}
	for _, n := range p.names {
		var (
			e   sdkmetric.Exporter
			err error
			cut func(error) error
		)
		switch n {
		case "otlp":
			proto, _ := otlpProtocol("METRICS")
			var t *outcomeTransport
			if proto == "grpc" {
				var o grpc.DialOption
				o, t = otlpGRPCOption()
				e, err = otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithDialOption(o))
			} else if c, ct := otlpHTTPClient("METRICS"); c != nil {
				t = ct
				e, err = otlpmetrichttp.New(ctx, otlpmetrichttp.WithHTTPClient(c))
			} else {
				e, err = otlpmetrichttp.New(ctx)
			}
			if t != nil {
				x := explainedMetricExporter{Exporter: e, t: t, endpoint: otlpEndpoint("METRICS", proto)}
				e, cut = x, x.explain
			}
		case "console":
			e, err = stdoutmetric.New()
		default: // "none"
			continue
		}
		if err != nil {
			for _, r := range out {
				_ = r.Shutdown(ctx)
			}
			return nil, p.err("creating the %s exporter: %w", n, err)
		}
		out = append(out, metricReader{Reader: sdkmetric.NewPeriodicReader(e), cut: cut})
	}
	return out, nil
}

// isBuffering reports whether e only buffers in ExportSpans and so can be fed
// synchronously, without a batch processor's delay.
func isBuffering(e sdktrace.SpanExporter) bool {
	switch e.(type) {
	case *waterfall.Exporter, *waterfallRef, syncExporter:
		return true
	}
	return false
}

// syncExporter is an exporter given to [WithSyncSpanExporter].
type syncExporter struct{ sdktrace.SpanExporter }
