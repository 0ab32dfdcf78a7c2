package otelsetup

import (
	"io"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/waterfall"
)

// setupConfig holds the SDK options of [Setup].
type setupConfig struct {
	serviceName      string
	serviceVersion   string
	serviceNamespace string
	environment      string
	attrs            []attribute.KeyValue
	detectors        []resource.Detector
	sampler          sdktrace.Sampler
	tracesExporters  []string
	metricsExporters []string
	logsExporters    []string
	extraExporters   []sdktrace.SpanExporter
	providers        *Providers
	waterfallOut     io.Writer
	waterfallOpts    []waterfall.Option
	reportEvery      time.Duration
	errorLogger      *slog.Logger
}

// defaultReportEvery is how often export failures are reported at most, per
// exporter.
const defaultReportEvery = time.Minute

// WithServiceName sets the service.name resource attribute.
//
// By default the service name comes from OTEL_SERVICE_NAME or service.name in
// OTEL_RESOURCE_ATTRIBUTES, which both override this option; Setup fails when
// none of the three is set.
func WithServiceName(name string) Option {
	return optionFunc(func(c *config) { c.setup.serviceName = name })
}

// WithServiceVersion sets the service.version resource attribute.
//
// By default it is the main module's version from the build information when
// the binary was built from a tagged module, and unset otherwise.
// service.version in OTEL_RESOURCE_ATTRIBUTES overrides this option.
func WithServiceVersion(version string) Option {
	return optionFunc(func(c *config) { c.setup.serviceVersion = version })
}

// WithServiceNamespace sets the service.namespace resource attribute.
//
// By default it is unset. service.namespace in OTEL_RESOURCE_ATTRIBUTES
// overrides this option.
func WithServiceNamespace(namespace string) Option {
	return optionFunc(func(c *config) { c.setup.serviceNamespace = namespace })
}

// WithEnvironment sets the deployment.environment.name resource attribute
// ("production", "staging", ...).
//
// By default it is unset. deployment.environment.name in
// OTEL_RESOURCE_ATTRIBUTES overrides this option.
func WithEnvironment(name string) Option {
	return optionFunc(func(c *config) { c.setup.environment = name })
}

// WithResourceAttributes adds attributes to the resource.
//
// By default the resource holds the service attributes,
// OTEL_RESOURCE_ATTRIBUTES and what the host, OS, container, process, runtime
// and SDK detectors find. Keys in OTEL_RESOURCE_ATTRIBUTES override these
// attributes; these override the detectors.
func WithResourceAttributes(attrs ...attribute.KeyValue) Option {
	return optionFunc(func(c *config) { c.setup.attrs = append(c.setup.attrs, attrs...) })
}

// WithResourceDetectors adds resource detectors (a cloud provider's, a
// Kubernetes one) run after the built-in ones. Their attributes override the
// built-in detectors' and are overridden by the options and the environment.
// A schema URL conflict between detectors does not fail Setup: the resource
// keeps the attributes and drops the schema URL.
//
// By default only the host, OS, container, process, runtime and SDK
// detectors run.
func WithResourceDetectors(detectors ...resource.Detector) Option {
	return optionFunc(func(c *config) { c.setup.detectors = append(c.setup.detectors, detectors...) })
}

// WithSampler sets the sampler used when OTEL_TRACES_SAMPLER is unset. The
// variable always wins, so an operator can change sampling without a build.
// The conventions configured with other options wrap the chosen sampler.
//
// By default the sampler is parentbased_always_on. A nil sampler is ignored.
func WithSampler(s sdktrace.Sampler) Option {
	return optionFunc(func(c *config) {
		if s != nil {
			c.setup.sampler = s
		}
	})
}

// WithDefaultTracesExporter sets the trace exporters ("otlp", "console",
// "waterfall", "none") used when OTEL_TRACES_EXPORTER is unset and no OTLP
// endpoint variable (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set. A program meant to be run on a
// laptop passes "waterfall": traces print in the terminal until the
// environment points it at a collector.
//
// By default the exporter is "otlp", as the specification says.
func WithDefaultTracesExporter(names ...string) Option {
	return optionFunc(func(c *config) { c.setup.tracesExporters = names })
}

// WithDefaultMetricsExporter sets the metric exporters ("otlp", "console",
// "none") used when OTEL_METRICS_EXPORTER is unset and no OTLP endpoint
// variable (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)
// is set.
//
// By default the exporter is "otlp", as the specification says. With "none"
// alone the MeterProvider is the no-op one: nothing would read what the
// instruments record.
func WithDefaultMetricsExporter(names ...string) Option {
	return optionFunc(func(c *config) { c.setup.metricsExporters = names })
}

// WithDefaultLogsExporter sets the log exporters ("otlp", "console",
// "none") used when OTEL_LOGS_EXPORTER is unset and no OTLP endpoint
// variable (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT) is
// set. A program whose log lines already go to standard output passes
// "none": its records leave the process only once the environment points it
// at a collector.
//
// By default the exporter is "otlp", as the specification says. With "none"
// alone the LoggerProvider is the no-op one.
func WithDefaultLogsExporter(names ...string) Option {
	return optionFunc(func(c *config) { c.setup.logsExporters = names })
}

// WithSpanExporter adds an exporter to the ones the environment selects,
// behind its own batch span processor ([waterfall.Exporter]s are fed
// synchronously instead: they only buffer). Tests use it with an in-memory
// exporter; the conventions wrap it like any other exporter.
//
// By default only the exporters OTEL_TRACES_EXPORTER selects are used. A nil
// exporter is ignored.
func WithSpanExporter(e sdktrace.SpanExporter) Option {
	return optionFunc(func(c *config) {
		if e != nil {
			c.setup.extraExporters = append(c.setup.extraExporters, e)
		}
	})
}

// WithSyncSpanExporter adds an exporter fed as each span ends, without a
// batch processor, as the waterfall is: for an in-memory exporter (a test's
// recorder, a terminal view) whose ExportSpans only appends to a buffer. What
// it holds then never waits for a flush, nor, behind the provider's
// ForceFlush, for a collector that does not answer. ExportSpans runs on the
// goroutine ending the span, one call at a time: it must not block.
//
// By default only the waterfall is fed synchronously. A nil exporter is
// ignored.
func WithSyncSpanExporter(e sdktrace.SpanExporter) Option {
	return optionFunc(func(c *config) {
		if e != nil {
			c.setup.extraExporters = append(c.setup.extraExporters, syncExporter{e})
		}
	})
}

// WithWaterfall sets where the "waterfall" trace exporter prints and how.
// Every Setup in a process that selects the waterfall with the same writer
// shares one [waterfall.Exporter], created with the first one's options, so a
// process running several services prints each trace once, all services
// together.
//
// By default the waterfall prints to standard error with the default
// [waterfall.Option]s. A nil writer is ignored.
func WithWaterfall(w io.Writer, opts ...waterfall.Option) Option {
	return optionFunc(func(c *config) {
		if w != nil {
			c.setup.waterfallOut = w
			c.setup.waterfallOpts = opts
		}
	})
}

// Providers receives what [Setup] builds when the globals are left alone.
type Providers struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// LoggerProvider is where the service's log records go, with its
	// service.name: pass it to logcorr.WithLoggerProvider.
	LoggerProvider log.LoggerProvider
	Propagator     propagation.TextMapPropagator
}

// WithoutGlobals makes Setup fill p instead of installing its providers and
// propagator as the otel globals, for a process hosting several services,
// each passing its own providers to the instrumentation.
//
// By default Setup sets otel.SetTracerProvider, otel.SetMeterProvider,
// otel.SetLoggerProvider and otel.SetTextMapPropagator. A nil p is ignored.
func WithoutGlobals(p *Providers) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.setup.providers = p
		}
	})
}
