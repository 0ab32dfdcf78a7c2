// Package tracing sets up OpenTelemetry for a service in one call and holds
// the conventions every package of this module follows: span names, business
// keys that travel with a request, span helpers and redaction. Its aim is that
// when checkout breaks at 3 AM, one trace shows which service failed, why,
// and what led to it.
//
// # Setup
//
// [Setup] configures the SDK from the standard OTEL_* environment variables,
// installs the tracer provider, meter provider and propagator as the otel
// globals, and returns the function that flushes and stops them:
//
//	shutdown, err := tracing.Setup(ctx, tracing.WithServiceName("checkout"))
//	if err != nil {
//		return err
//	}
//	defer shutdown(context.Background())
//
// Nothing else is needed to export to a collector: set
// OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_EXPORTER_OTLP_* variables)
// in the deployment. A program meant to be run on a laptop adds
// tracing.WithDefaultTracesExporter("waterfall") and
// tracing.WithDefaultMetricsExporter("none"): traces print in the terminal
// (see package [github.com/otelkit/otelkit/tracing/waterfall]) until an OTLP
// endpoint is set.
//
// Setup never contacts the collector, so a collector that is down does not
// delay start-up; spans then wait in a bounded queue
// (OTEL_BSP_MAX_QUEUE_SIZE, 2048), are dropped when it is full rather than
// block the application, and the failures are reported through [otel.Handle]
// at most once a minute per exporter, with the number of spans lost. Spans
// dropped from a full queue are reported the same way.
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
//   - sampler: OTEL_TRACES_SAMPLER with OTEL_TRACES_SAMPLER_ARG; [WithSampler];
//     parentbased_always_on.
//   - propagators: OTEL_PROPAGATORS; tracecontext,baggage.
//   - OTLP protocol: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL (or _METRICS_);
//     OTEL_EXPORTER_OTLP_PROTOCOL; http/protobuf.
//
// # Environment variables
//
//	OTEL_SDK_DISABLED                  true: no-op providers, propagators still installed
//	OTEL_SERVICE_NAME                  service.name
//	OTEL_RESOURCE_ATTRIBUTES           key=value,... (values percent-encoded)
//	OTEL_TRACES_EXPORTER               otlp, console, waterfall, none (a list), or one name registered with autoexport.RegisterSpanExporter
//	OTEL_METRICS_EXPORTER              otlp, console, none (a list), or one of prometheus or a name registered with autoexport.RegisterMetricReader
//	OTEL_TRACES_SAMPLER                always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio
//	OTEL_TRACES_SAMPLER_ARG            the ratio, 0 to 1 (default 1)
//	OTEL_PROPAGATORS                   tracecontext, baggage, b3, b3multi, jaeger, xray, ottrace, none
//	OTEL_EXPORTER_OTLP_PROTOCOL        grpc, http/protobuf      (and _TRACES_, _METRICS_ variants)
//	OTEL_EXPORTER_OTLP_ENDPOINT        http:// or https:// URL (and _TRACES_, _METRICS_)
//	OTEL_EXPORTER_OTLP_HEADERS         key=value,... (and _TRACES_, _METRICS_)
//	OTEL_EXPORTER_OTLP_TIMEOUT         milliseconds (and _TRACES_, _METRICS_)
//	OTEL_EXPORTER_OTLP_COMPRESSION     gzip, none (and _TRACES_, _METRICS_)
//	OTEL_EXPORTER_OTLP_INSECURE        true, false (and _TRACES_, _METRICS_)
//	OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE, _CLIENT_KEY (and variants): read by the exporters
//	OTEL_BSP_SCHEDULE_DELAY            milliseconds between exports of a partial batch (default 5000, at least 1)
//	OTEL_BSP_EXPORT_TIMEOUT            milliseconds per export (default 30000; 0 is no limit)
//	OTEL_BSP_MAX_QUEUE_SIZE            spans waiting for export (default 2048); more are dropped and reported
//	OTEL_BSP_MAX_EXPORT_BATCH_SIZE     spans per export (default 512, at most the queue size)
//	OTEL_METRIC_EXPORT_INTERVAL, OTEL_METRIC_EXPORT_TIMEOUT: read by the SDK
//	OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_PORT: read by autoexport
//	OTEL_GO_X_OBSERVABILITY: true makes the SDK measure its spans and exporters (experimental)
//
// "tracecontext" is always [w3c.TraceContext]. Setup rejects a value it
// cannot use, rather than half-apply it as the SDK's parsers do, with a
// [*ConfigError] naming the variable and the value (a headers value, which
// holds credentials, is shown as <redacted>); all such errors are returned at
// once. It never panics.
//
// # Shutdown
//
// The returned function flushes, shuts the tracer and meter providers down in
// parallel, and returns their joined errors when they are done or when its
// context is done, whichever comes first; exports still running then are
// cancelled so that nothing keeps retrying in the background. It may be called
// more than once and never exits the process.
//
// # Several services in one process
//
// With [WithoutGlobals], Setup fills a [Providers] instead of setting the
// globals, so that each service of a process (as in the example checkout
// system) has its own service.name; pass its providers to the
// instrumentation. Their "waterfall" exporters are shared, so each trace
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
// sqltrace, logcorr) apply the same conventions without depending on Setup:
// a library or program that imports only them links neither the OTLP
// exporters, gRPC and Prometheus that Setup brings in, nor the SDK.
//
// # Conventions
//
// The conventions make every service's traces look the same, so that "all
// failed checkouts of user X" is one query across every service. [Setup]
// applies them; a program building its own TracerProvider adds
// [NewBaggageSpanProcessor] and wraps its exporters with
// [Redactor.Exporter]. Package tracing/tracingtest checks them in tests.
//
// # Span names
//
// Business spans are named `<domain>.<operation>` in lower snake case:
// `checkout.charge_payment`, `inventory.validate_stock_levels` (see
// [ValidName]). Protocol spans (`GET /orders/{id}`, `send orders`,
// `SELECT inventory`) follow the OTel semantic conventions and come from the
// instrumentation packages. Names are never built from ids or URLs: the
// helpers refuse a run of four digits. A bad name given to the helpers is
// reported once per name through otel.Handle (at most 256 names, then once
// that more were seen) and the span is still created; in tests
// ([StrictNames], turned on by tracingtest) it fails the test.
//
// # Business context
//
// Business keys are typed and registered: [OrderID], [UserID], [TenantID],
// [OrderAmount], [OrderCurrency], [OrderItemCount], [PaymentProvider], and a
// team's own from [NewStringKey], [NewInt64Key], [NewFloat64Key],
// [NewBoolKey] or [Register]. Each declares whether it is personal data
// ([HashPersonal], [DropPersonal]) and whether it [Travels]. One call at the
// edge sets the context for the rest of the request:
//
//	ctx = tracing.SetBusiness(ctx, tracing.OrderID.String(id), tracing.UserID.String(user))
//
// It sets the attributes on the current span and puts the traveling keys in
// W3C baggage; the baggage propagator carries them over HTTP and Kafka (and
// the outbox stores them with the row), and [NewBaggageSpanProcessor] copies
// them onto every span started afterwards, in every service. Only registered
// traveling keys are copied, and only values that parse as the key's type,
// are printable UTF-8 and are at most 256 bytes: a client's or a third
// party's members never reach a span. Baggage keeps the W3C limits (64
// members, 8192 bytes); a business key that does not fit stays on the
// current span and is reported with [ErrBaggageFull]. [Business] returns
// the business attributes a context carries (the log correlation handler
// uses it).
//
// # Span helpers
//
//	func (s *Service) Charge(ctx context.Context, o Order) (err error) {
//		ctx, span := tracing.Start(ctx, "checkout.charge_payment")
//		defer tracing.End(span, &err)
//		...
//	}
//
// [End] ends the span on every path. An error sets status Error with its
// message, `error.type` and an exception event; a panic is recorded with its
// stack, sets status Error and is re-raised unchanged. Expected outcomes are
// not errors: context.Canceled (the caller gave up) and whatever the
// classifier calls expected: the one [WithErrorClassifier] sets for the
// spans of Setup's provider, else the process-wide one of
// [SetErrorClassifier]; context.DeadlineExceeded is a timeout and stays an error. [Run]
// does the same around a function. [SetAttributesFunc] builds attributes
// only for a recording span. The helpers take the TracerProvider of the
// recording span in ctx, else the global one.
//
// # Redaction
//
// On by default, before any exporter sees a span ([WithRedaction],
// [WithoutRedaction]), over span, event and link attributes and the status
// message. What is masked, hashed or dropped:
//   - keys whose words include authorization, password, passwd, secret,
//     token, apikey, cookie, credential(s), jwt, passphrase, dsn, conninfo or
//     connectionstring, keys ending in `.key` and keys such as `x-api-key`,
//     `private_key` or `db.connection_string` have their string values
//     masked, keeping three characters at each end of values of 16 bytes or
//     more ("Bearer abc...xyz"), "***" otherwise;
//     `messaging.kafka.message.key` is allowed;
//   - under any key, bearer and basic credentials, JWTs, card numbers that
//     pass the Luhn check ("****1111") and provider keys (sk_live_, pk_live_,
//     rk_live_, their _test_ forms, whsec_: "pk_live_abc...xyz") are masked
//     where they appear in a value;
//   - under any key, the credentials of a URL are replaced, as the
//     conventions of url.full say: "postgres://REDACTED:REDACTED@db/shop";
//   - under any key, the value of a `key=value` or `key: value` pair whose
//     key looks secret by the rule above, or is one of the conventions'
//     sensitive query parameters (AWSAccessKeyId, Signature, sig,
//     X-Goog-Signature), becomes REDACTED and the key stays: a query
//     ("?token=REDACTED&page=2"), libpq conninfo ("host=db
//     password=REDACTED"), quoted values ("password='REDACTED'"), JSON
//     (`"api_key": "REDACTED"`), a literal echoed in a PostgreSQL error. An
//     unquoted value ends at a space, quote, '&', ',', ';', '#' or closing
//     bracket. SQL placeholders ("token = $1") are left alone;
//   - e-mail addresses, anywhere in a value, and the values of query
//     parameters declared personal ([RegisterPersonalQueryParam]) or of
//     registered personal keys written as pairs (`user.id=u-7` in a stored
//     baggage header) are hashed as registered personal data is (below), so
//     that one can still be searched for;
//   - registered personal data is replaced by "sha256:" and 32 hex digits (an
//     HMAC when [RedactionRules].HashKey is set; use one key in every
//     service) or dropped. [RedactAttr] shows what an attribute becomes; hash
//     a user id or an e-mail address with it to search for its traces.
//
// The pair, URL and e-mail rules belong to the value scan, which
// [RedactionRules].NoValueScan turns off, except under the URL keys
// (url.full, url.query, url.original, url.path and the older http.url and
// http.target), which are always scanned. Package httptrace also masks the
// sensitive query values of url.full at the source, so that they are masked
// even in spans exported without this redaction, and otelhttp leaves the
// credentials out of it; personal data in a query is hashed at export only,
// where the hash key is known. Resource attributes are not redacted: they
// are the deployment's own configuration.
//
// # Keeping errors when sampling
//
// With [WithKeepErrors], head sampling still decides which traces are
// exported in full, but every span is recorded, and a span of an unsampled
// trace that ends with status Error or lasts longer than the threshold is
// exported anyway ([KeepErrorsSampler], [KeepErrorsProcessor]), with the spans
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
//
// # Cost of the conventions
//
// Measured in bench/tracing_test.go as thread CPU time per span, in
// interleaved blocks, on a 2-core machine (BenchmarkHelpersPaired,
// BenchmarkConventionsPaired; six runs): [Start] and [End] add 23 to 30 ns
// to a span that is not recording (185 ns raw) and 15 to 30 ns, 2 to 4.5%,
// to one that is (about 665 ns raw, with a batch span processor), and no
// allocation. Copying five business members from baggage onto a span costs
// about 0.45 µs more than setting the same five attributes by hand (1.93 µs
// against 1.47 µs for the whole span), with the same allocations. Redaction
// costs about 0.41 µs per exported span of eight attributes with nothing to
// mask, without allocating, and about 1.3 µs for a span with five secrets to
// mask; reading a URL query and an error text with nothing to mask adds
// about 0.2 µs of CPU to a client span, still without allocating (bench
// README). It runs on the exporting goroutine, not the caller's.
package tracing
