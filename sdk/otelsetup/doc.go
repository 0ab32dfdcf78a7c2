// Package otelsetup sets up the OpenTelemetry SDK for a service in one call,
// from the standard OTEL_* environment variables, with the conventions of
// package [github.com/otelkit/otelkit/tracing] applied to everything it
// exports (business baggage on every span, redaction before any exporter).
// It is the one package of this module that links the SDK's exporters,
// gRPC and Prometheus: only a program's main imports it; libraries import
// package tracing, which depends on the OpenTelemetry API alone.
//
// # Setup
//
// [Setup] configures the SDK from the standard OTEL_* environment variables,
// installs the tracer provider, meter provider, logger provider and
// propagator as the otel globals, and returns the function that flushes and
// stops them:
//
//	shutdown, err := otelsetup.Setup(ctx, otelsetup.WithServiceName("checkout"))
//	if err != nil {
//		return err
//	}
//	defer func() {
//		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//		defer cancel()
//		if err := shutdown(ctx); err != nil {
//			log.Print(err) // e.g. how many spans did not reach the collector, and why
//		}
//	}()
//
// Nothing else is needed to export to a collector: set
// OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_EXPORTER_OTLP_* variables)
// in the deployment. A program meant to be run on a laptop adds
// otelsetup.WithDefaultTracesExporter("waterfall") and
// otelsetup.WithDefaultMetricsExporter("none"): traces print in the terminal
// (see package [github.com/otelkit/otelkit/sdk/waterfall]) until an OTLP
// endpoint is set.
//
// # Logs
//
// Setup also builds a LoggerProvider, the third signal: log records in the
// OpenTelemetry log data model, each carrying the trace id and span id of
// the span it was written in, so that a backend correlating logs and traces
// opens the lines of a span in one click. Give it to the logger with
// logcorr.WithLoggerProvider (package github.com/otelkit/otelkit/logcorr),
// which writes the JSON lines as before and sends the same records, redacted
// alike, through the otelslog bridge:
//
//	var p otelsetup.Providers
//	shutdown, err := otelsetup.Setup(ctx, otelsetup.WithServiceName("orders"), otelsetup.WithoutGlobals(&p))
//	...
//	logger := logcorr.NewLogger(os.Stdout, logcorr.WithLoggerProvider(p.LoggerProvider))
//
// The exporter is chosen as for the other signals (OTEL_LOGS_EXPORTER,
// else "otlp" when an OTLP endpoint is set, else [WithDefaultLogsExporter],
// else "otlp"); without one the provider is the no-op one. A program whose
// lines already go to standard output passes WithDefaultLogsExporter("none"):
// its records leave the process once the deployment sets an endpoint.
//
// Each exporter sits behind the SDK's batch log record processor, configured
// from OTEL_BLRP_*, and behind a gate that keeps the records waiting or being
// exported within OTEL_BLRP_MAX_QUEUE_SIZE: a logging call never waits for
// the collector; the records beyond are dropped and counted, and the drops
// and failed exports are reported through [otel.Handle] at most once a
// minute per exporter, with the counts ("otlp log export to
// http://collector:4318/v1/logs: 6 log records dropped from a full queue
// (OTEL_BLRP_MAX_QUEUE_SIZE=2048; next report in 1m0s at the earliest)").
// The SDK's processor would drop from a full queue with only a warning on
// its internal logger, and hand every failed batch to otel.Handle.
//
// Setup never contacts the collector, so a collector that is down does not
// delay start-up; spans then wait in a bounded queue
// (OTEL_BSP_MAX_QUEUE_SIZE, 2048), are dropped when it is full rather than
// block the application, and the failures are reported through [otel.Handle]
// at most once a minute per exporter, with the number of spans lost, the
// endpoint and what the collector answered ("HTTP 503 Service Unavailable",
// a gRPC status, "no answer before the deadline"). Spans dropped from a full
// queue are reported the same way.
//
// One export of a batch lasts at most OTEL_BSP_EXPORT_TIMEOUT (30 s by
// default), the OTLP exporter's retries included: it retries a 429, 502,
// 503, 504 or an unreachable collector with backoff for up to a minute, each
// request bounded by OTEL_EXPORTER_OTLP_TIMEOUT (10 s by default), and the
// export's deadline cuts that short. To see the collector's answer, Setup
// gives the OTLP/HTTP exporters an HTTP client of its own (and the gRPC ones
// an interceptor); when OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE
// or _CLIENT_KEY (or a _TRACES_, _METRICS_ form) is set, the HTTP exporter
// keeps the client it builds from them, and its errors say only what it
// says.
//
// The batch span processor in front of each exporter is this package's, not
// the SDK's: it reads the same OTEL_BSP_* variables and exports the same
// batches, but ending a span only appends it to the queue, where the SDK's
// processor wakes its exporting goroutine for every span. On a request that
// ends a few dozen spans that difference is measurable: see the checkout
// benchmark in the repository's bench directory.
//
// # Precedence
//
// A set, non-empty environment variable always wins over an option: options
// are the program's defaults, and the operator changes behaviour without a
// build. (Launchers that pass a sampler or exporter in code silently ignore
// the variable; here, the variable wins.) In detail, highest first:
//
//   - service.name: OTEL_SERVICE_NAME, service.name in
//     OTEL_RESOURCE_ATTRIBUTES, [WithServiceName]; without any of them Setup
//     fails.
//   - other resource attributes: OTEL_RESOURCE_ATTRIBUTES; [WithServiceVersion]
//     (else the module version from the build information),
//     [WithServiceNamespace], [WithEnvironment], [WithResourceAttributes];
//     [WithResourceDetectors]; the host, OS, container, process, runtime and
//     SDK detectors. A schema URL conflict between detectors does not fail
//     Setup.
//   - trace exporters: OTEL_TRACES_EXPORTER; "otlp" when
//     OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set;
//     [WithDefaultTracesExporter]; "otlp". [WithSpanExporter] adds an exporter
//     in every case.
//   - metric exporters: the same with OTEL_METRICS_EXPORTER,
//     OTEL_EXPORTER_OTLP_METRICS_ENDPOINT and [WithDefaultMetricsExporter].
//   - log exporters: the same with OTEL_LOGS_EXPORTER,
//     OTEL_EXPORTER_OTLP_LOGS_ENDPOINT and [WithDefaultLogsExporter].
//   - sampler: OTEL_TRACES_SAMPLER with OTEL_TRACES_SAMPLER_ARG; [WithSampler];
//     parentbased_always_on.
//   - propagators: OTEL_PROPAGATORS; tracecontext,baggage.
//   - OTLP protocol: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL (or _METRICS_, _LOGS_);
//     OTEL_EXPORTER_OTLP_PROTOCOL; http/protobuf.
//   - hash key of personal data: OTELKIT_HASH_KEY or OTELKIT_HASH_KEY_FILE;
//     [tracing.RedactionRules].HashKey of [WithRedaction]; the key installed
//     before (by [tracing.SetHashKey] or another Setup); none (see "The hash
//     key" in package tracing).
//
// # Environment variables
//
//	OTEL_SDK_DISABLED                  true: no-op providers, propagators still installed
//	OTEL_SERVICE_NAME                  service.name
//	OTEL_RESOURCE_ATTRIBUTES           key=value,... (values percent-encoded)
//	OTEL_TRACES_EXPORTER               otlp, console, waterfall, none (a list), or one name registered with autoexport.RegisterSpanExporter
//	OTEL_METRICS_EXPORTER              otlp, console, none (a list), or one of prometheus or a name registered with autoexport.RegisterMetricReader
//	OTEL_LOGS_EXPORTER                 otlp, console, none (a list), or one name registered with autoexport.RegisterLogExporter
//	OTEL_TRACES_SAMPLER                always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio, jaeger_remote, parentbased_jaeger_remote
//	OTEL_TRACES_SAMPLER_ARG            traceidratio: the ratio, 0 to 1 (default 1); jaeger_remote: key=value,... (see "Jaeger remote sampling")
//	OTEL_PROPAGATORS                   tracecontext, baggage, b3, b3multi, jaeger, xray, ottrace, none (a list; none wins, an unknown name is refused)
//	OTEL_EXPORTER_OTLP_PROTOCOL        grpc, http/protobuf      (and _TRACES_, _METRICS_, _LOGS_ variants)
//	OTEL_EXPORTER_OTLP_ENDPOINT        http:// or https:// URL (and _TRACES_, _METRICS_, _LOGS_)
//	OTEL_EXPORTER_OTLP_HEADERS         key=value,... (and _TRACES_, _METRICS_, _LOGS_)
//	OTEL_EXPORTER_OTLP_TIMEOUT         milliseconds (and _TRACES_, _METRICS_, _LOGS_)
//	OTEL_EXPORTER_OTLP_COMPRESSION     gzip, none (and _TRACES_, _METRICS_, _LOGS_)
//	OTEL_EXPORTER_OTLP_INSECURE        true, false (and _TRACES_, _METRICS_, _LOGS_)
//	OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE, _CLIENT_KEY (and variants): read by the exporters
//	OTEL_BSP_SCHEDULE_DELAY            milliseconds between exports of a partial batch (default 5000, at least 1)
//	OTEL_BSP_EXPORT_TIMEOUT            milliseconds per export (default 30000; 0 is no limit)
//	OTEL_BSP_MAX_QUEUE_SIZE            spans waiting for export (default 2048); more are dropped and reported
//	OTEL_BSP_MAX_EXPORT_BATCH_SIZE     spans per export (default 512, at most the queue size)
//	OTEL_BLRP_SCHEDULE_DELAY           milliseconds between exports of log records (default 1000, at least 1)
//	OTEL_BLRP_EXPORT_TIMEOUT           milliseconds per export of log records (default 30000; 0 is no limit)
//	OTEL_BLRP_MAX_QUEUE_SIZE           log records waiting for or in export (default 2048); more are dropped and reported
//	OTEL_BLRP_MAX_EXPORT_BATCH_SIZE    log records per export (default 512, at most the queue size)
//	OTEL_METRIC_EXPORT_INTERVAL, OTEL_METRIC_EXPORT_TIMEOUT: read by the SDK
//	OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_PORT: read by autoexport
//	OTEL_GO_X_OBSERVABILITY: true makes the SDK measure its spans and exporters, and Setup's batch span processors (experimental; otel.sdk.processor.span.*, through the global MeterProvider)
//	OTELKIT_HASH_KEY                   the key of the hash of personal data (user.id), at least 16 bytes; the same in every service
//	OTELKIT_HASH_KEY_FILE              a file holding that key (a mounted secret); set one of the two
//
// "tracecontext" is always [w3c.TraceContext]. Setup rejects a value it
// cannot use, rather than half-apply it as the SDK's parsers do, with a
// [*ConfigError] naming the variable and the value (a headers value, which
// holds credentials, and the hash key are shown as <redacted>); all such
// errors are returned at once. It never panics.
//
// # Jaeger remote sampling
//
// OTEL_TRACES_SAMPLER=jaeger_remote (or parentbased_jaeger_remote, which
// follows a parent's decision and uses it for root spans) takes the
// sampling strategy of the service, named by the resource's service.name,
// from a Jaeger agent or collector, with
// [go.opentelemetry.io/contrib/samplers/jaegerremote]. OTEL_TRACES_SAMPLER_ARG
// holds the specification's arguments, comma-separated key=value pairs, each
// at most once:
//
//	endpoint             the HTTP sampling endpoint (default http://localhost:5778/sampling)
//	pollingIntervalMs    how often it is polled, in milliseconds (default 60000)
//	initialSamplingRate  the probability, 0 to 1, used until a poll succeeds (default 0.001)
//
// For example
//
//	OTEL_TRACES_SAMPLER=parentbased_jaeger_remote
//	OTEL_TRACES_SAMPLER_ARG=endpoint=http://jaeger-collector:5778/sampling,pollingIntervalMs=5000,initialSamplingRate=0.25
//
// The Go sampler fetches the strategy over HTTP, the protocol of a Jaeger
// agent's or collector's port 5778 (and of the collector's
// jaeger_remote_sampling extension), not gRPC: the endpoint is that URL,
// and the specification's gRPC default (localhost:14250) does not apply. An
// unknown key, a malformed endpoint, an interval that is not a positive
// number of milliseconds or a rate outside 0 to 1 is a [*ConfigError]
// naming OTEL_TRACES_SAMPLER_ARG.
//
// Setup does not wait for the endpoint: polling starts in the background,
// and until a poll succeeds initialSamplingRate applies; a failed poll keeps
// the strategy in effect and is reported through [otel.Handle] at most once
// a minute. The strategies are those the contrib sampler reads
// (probabilistic, rate-limiting, per-operation); the sampled spans carry
// jaeger.sampler.type and jaeger.sampler.param, as with the Jaeger clients. Shutdown stops the
// poller, cancelling a poll in flight. The SDK's tracer provider reads
// OTEL_TRACES_SAMPLER itself, does not know these names and reports
// "unsupported sampler: jaeger_remote" through [otel.Handle] once per Setup;
// the sampler Setup built applies all the same, and [WithErrorLogger] drops
// that report.
//
// # Shutdown
//
// The returned function exports what is queued and shuts the tracer,
// meter and logger providers down, every batch span processor, batch log
// record processor and metric reader in parallel. It returns when they are
// done, when its context is done or when OTEL_BSP_EXPORT_TIMEOUT (30 s by
// default; with a log exporter and OTEL_BLRP_EXPORT_TIMEOUT set, the longer
// of the two) has passed, whichever comes first, so a collector that accepts connections and never answers holds it
// no longer, even with context.Background() (with OTEL_BSP_EXPORT_TIMEOUT=0,
// no limit, only the context bounds it). Exports still running then are
// cancelled, so nothing keeps retrying in the background. Pass a deadline
// shorter than the time the platform allows a stopping process (Kubernetes
// kills 30 s after SIGTERM by default), as in the example above.
//
// It returns the joined errors. An exporter that has not exported every span
// queued or being exported when shutdown was called contributes an
// [*ExportError]: how many spans, the exporter, its endpoint (without
// credentials) and why, the collector's answer or the deadline, for example
//
//	otlp export: 143 spans not exported to http://collector:4318/v1/traces: HTTP 503 Service Unavailable
//
// A log exporter that has not exported every record queued or being
// exported, or lost records while shutdown ran, contributes an
// [*ExportError] counting LogRecords:
//
//	otlp log export: 19 log records not exported to http://collector:4318/v1/logs: HTTP 503 Service Unavailable
//
// An OTLP metric reader cut short says "metrics not exported to" its
// endpoint, and why. The failed exports are also reported through
// [otel.Handle]. It may be called more than once (later calls return the
// first call's result) and never exits the process.
//
// # Background reports
//
// Problems met off the caller's path (an invalid span name, failed exports
// and the spans they lost, a relay's retried failures, a failed
// jaeger_remote poll) are reported through [otel.Handle], rate-limited at
// the source. By default they go to the handler the program installed, else
// to the standard log package: after [slog.SetDefault], INFO records of the
// default logger without fields. [WithErrorLogger] routes them to a logger
// at WARN instead, with their fields:
//
//	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
//	shutdown, err := otelsetup.Setup(ctx, otelsetup.WithErrorLogger(logger))
//
//	{"level":"WARN","msg":"tracing: otlp export to http://collector:4318/v1/traces: 3 span export(s) failed, 48 spans dropped (...): HTTP 503 Service Unavailable","exporter":"otlp","spans":48,"endpoint":"http://collector:4318/v1/traces"}
//
// Shutdown puts the previous handler back once it has returned. The handler
// is process-wide: with several Setups in a process, the reports go to the
// logger of the latest one still running (see [WithErrorLogger]).
//
// # Several services in one process
//
// With [WithoutGlobals], Setup fills a [Providers] instead of setting the
// globals, so that each service of a process (as in the example checkout
// system) has its own service.name, on its spans and its log records; pass
// its providers to the instrumentation and its LoggerProvider to
// logcorr.WithLoggerProvider. Their "waterfall" exporters are shared, so each trace
// prints once with all its services.
//
// # Cost
//
// Setup runs once, at start-up: the resource detectors read a few files and
// the exporters are created without connecting. Per span, the batch span
// processor costs an append under a mutex, and its goroutine wakes once per
// batch rather than once per span; the conventions below add what they
// document.
//
// The instrumentation packages of this module (httptrace, kafkatrace,
// sqltrace, logcorr) apply the same conventions without depending on this
// package: a library or program that imports only them links neither the
// OTLP exporters, gRPC and Prometheus that Setup brings in, nor the SDK.
//
// # Keeping errors when sampling
//
// With [WithKeepErrors], head sampling still decides which traces are
// exported in full, but every span is recorded, and a span of an unsampled
// trace that ends with status Error or lasts longer than the threshold is
// exported anyway ([pipeline.KeepErrorsSampler], [pipeline.KeepErrorsProcessor]), with the spans
// of its trace that end after it in the same process (its local parents).
// The sampled flag sent downstream stays the head sampler's, and downstream
// services using the option keep their own failing spans. Such traces are
// partial: siblings that ended earlier and other services' successful spans
// are missing. Recording every span costs the CPU and memory of a sampled
// span; only the export is saved.
//
// For complete traces, sample at the collector instead: services export
// every span (OTEL_TRACES_SAMPLER=parentbased_always_on), and the
// collector's tail_sampling processor, behind a load-balancing exporter
// routing by trace id when there are several collectors, keeps whole traces:
//
//	processors:
//	  tail_sampling:
//	    decision_wait: 10s
//	    num_traces: 100000
//	    policies:
//	      - name: errors
//	        type: status_code
//	        status_code: {status_codes: [ERROR]}
//	      - name: slow
//	        type: latency
//	        latency: {threshold_ms: 1000}
//	      - name: one-percent
//	        type: probabilistic
//	        probabilistic: {sampling_percentage: 1}
//
// A trace is kept when any policy keeps it: all errors, all requests over
// 1 s, 1% of the rest.
package otelsetup
