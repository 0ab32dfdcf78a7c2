// Package logcorr makes every structured log line pivot to its trace.
//
// It is a [log/slog] handler that wraps another handler and adds, to every
// record logged with a context holding a span, the trace id, span id and
// sampled flag of that span, in the field names the log backend expects.
// From a failing span the on-call engineer opens the log lines of exactly
// that request in Loki, Elasticsearch, Datadog or Cloud Logging, and from a
// log line the trace.
//
// # Wiring
//
//	slog.SetDefault(logcorr.NewLogger(os.Stdout)) // JSON lines with trace_id, span_id, trace_flags
//
//	// the same lines, and OpenTelemetry log records to the service's provider:
//	logger := logcorr.NewLogger(os.Stdout, logcorr.WithLoggerProvider(providers.LoggerProvider))
//
//	// or around any handler:
//	h := logcorr.NewHandler(slog.NewJSONHandler(os.Stdout, nil), logcorr.WithSchema(logcorr.ECS()))
//	logger := slog.New(h)
//	logger.InfoContext(ctx, "order accepted", "items", 3) // ctx carries the span
//
// Only the ...Context logging methods (and Log, LogAttrs) pass a context;
// logger.Info has none and is written without correlation fields (but
// redacted, see Redaction).
//
// # Fields
//
// The [Schema] decides the names and encodings:
//
//	OpenTelemetry (default)  trace_id, span_id (lowercase hex), trace_flags ("01" sampled)
//	ECS                      trace.id, span.id
//	Datadog                  dd.trace_id (decimal, low 64 bits), dd.span_id (decimal)
//	Datadog128               dd.trace_id (32 hex digits), dd.span_id (decimal)
//	GoogleCloud(project)     logging.googleapis.com/trace (projects/P/traces/T),
//	                         logging.googleapis.com/spanId, logging.googleapis.com/trace_sampled
//	CustomSchema(...)        your names, lowercase hex
//
// Options add a link to the trace ([WithTraceURL]), the request's business
// context from the tracing conventions such as order.id ([WithBusiness]),
// and the ids of unsampled spans ([WithUnsampled]; by default only sampled
// spans are written, so every id opens a trace that was exported).
//
// A record whose context has no span, a nil context, or an invalid span
// context reaches the wrapped handler without correlation fields (but
// redacted, see below).
//
// # Redaction
//
// Everything that leaves the process passes the same rules: by default every
// record (the line, and the log record of [WithLoggerProvider]) is redacted as the tracing conventions redact a span before export
// (the default rules of github.com/otelkit/otelkit/tracing.RedactAttr), on
// every path, with or without a span:
//
//   - the message is scanned like a span's status message: bearer and basic
//     credentials, JWTs, card numbers and provider keys in it are masked
//     ("retry with token eyJ...GVz");
//   - the record's attributes, inside groups too, and those given to
//     logger.With (redacted once, when With is called, not per line): values
//     of registered personal keys are hashed (user.id becomes "sha256:" and
//     32 hex digits) or left out, string values under secret-looking keys
//     (authorization, password, api_key, ...) are masked, and strings and
//     error messages under any key are scanned as the message is;
//   - the business attributes of [WithBusiness] are redacted the same way.
//
// The hash key is the process-wide one that tracing.Setup installs from
// OTELKIT_HASH_KEY or OTELKIT_HASH_KEY_FILE (or tracing.SetHashKey), so a
// line's user.id equals the user.id of the spans of the same request. An
// attribute is judged by its own key, as written: user.id inside a group is
// hashed, but a group "user" holding "id" is not user.id. Values of other
// kinds (numbers, times, structs, Stringers) are judged by their key only;
// their formatted text is not scanned. Custom rules given to tracing.Setup
// apply to spans only. [WithoutRedaction] writes everything as it is.
//
// With [WithSpanEvents], the span event is built from the redacted record,
// so its name (the message, which the span exporter does not redact) holds
// no secret either.
//
// # Ids at the root, even inside groups
//
// Backends look for the ids at the top level of the line. After
// logger.WithGroup("req"), a wrapper that simply added attributes to the
// record would nest them as req.trace_id. Handler therefore keeps two views
// of the wrapped handler: the one with every WithAttrs and WithGroup applied,
// used for records without a span (no extra work, and the wrapped handler
// keeps its pre-formatted attributes), and the one before the first group, used for
// correlated records. For those, the open groups and the attributes added
// inside them are rebuilt as nested group attributes around the record's own
// attributes, and the ids are added beside them at the root. The output is
// the wrapped handler's own line, plus the ids at the root.
//
// Handler implements all four [slog.Handler] methods rather than embedding
// one, so logger.With and logger.WithGroup keep the correlation. Handle never
// modifies the record it is given, so it is safe under [slog.MultiHandler]
// and next to other handlers that receive the same record.
//
// # Error bridge
//
// Off by default: logging is not a side channel into traces. With
// [WithSpanEvents], records at or above a level add an event to the recording
// span in their context, named after the message and carrying the record's
// attributes; an attribute holding an error makes it the span's exception
// event. [WithSpanStatus] also sets the span status to Error with error.type.
//
// # Sending logs to an OpenTelemetry pipeline too
//
// With [WithLoggerProvider], one logger writes the JSON lines and sends the
// same records, as OpenTelemetry log records, to a LoggerProvider (the one
// otelsetup.Setup builds for the service, with its service.name), so that
// a backend correlating logs with traces opens the lines of a span in one
// click:
//
//	logger := logcorr.NewLogger(os.Stdout,
//		logcorr.WithLoggerProvider(providers.LoggerProvider), // otelsetup.Providers
//		logcorr.WithBusiness())
//
// The records go through the go.opentelemetry.io/contrib/bridges/otelslog
// bridge (instrumentation scope [ScopeName]), which maps them as its
// documentation says: the trace id, span id and trace flags of the span in
// the context go into the log record's own fields (whether or not the span
// is sampled), the level into the severity (slog.LevelInfo is INFO, 9), the
// message into the body, the attributes into attributes (groups as maps).
// Each record is the line without its correlation fields: redacted by the
// same rules before the bridge sees it (user.id hashed with the
// process-wide key, as on the spans; secrets masked), with the business
// context of [WithBusiness] and the link of [WithTraceURL] when the line
// carries them, and inside the same groups.
//
// With or without a span in the context, the fan-out makes no more
// allocations than the same fan-out composed by hand with
// [slog.NewMultiHandler] and the bridge (logcorr/allocs_test.go holds it;
// the bridge's own conversion allocates), and costs about the same CPU (see
// BenchmarkSlogOTLP in the bench module). The records sent to the
// provider are those it enables and, for [NewLogger], those at or above
// [WithLevel]. The provider's pipeline runs off the logging goroutine: with
// otelsetup, a bounded queue that drops and counts when the collector does
// not keep up, so a logging call never waits for the network.
//
// A program that composes its handlers itself can still fan out with
// [slog.NewMultiHandler], wrapping only the stdout handler; the otelslog
// handler then receives records that are not redacted:
//
//	logger := slog.New(slog.NewMultiHandler(
//		logcorr.NewHandler(slog.NewJSONHandler(os.Stdout, nil)),
//		otelslog.NewHandler("checkout/orders", otelslog.WithLoggerProvider(lp)),
//	))
//
// # Cost
//
// Without a span (or with an unsampled one) a record costs one context
// lookup and the redaction, and no allocation. With a span, all the fields are formatted into
// one string: one allocation per record, where a hand-written wrapper adding
// the two ids with TraceID.String and SpanID.String makes two. Writing the
// same two fields through a JSON handler, logcorr takes about 960 ns per
// line where such a wrapper takes 925 ns (a bare JSONHandler: 620 ns), before
// redaction; most
// of the difference is the [slog.Record.Clone] that slog asks of a handler
// adding attributes to a record it was handed, which the wrapper skips. The
// default schema's third field, trace_flags, adds about 70 ns. Records logged inside groups cost one allocation more
// per open group, and the attributes added inside a group are encoded per
// record instead of once.
//
// Redaction of a clean line allocates nothing: the verdicts on attribute
// keys and on messages written as literals are cached by the address of
// their bytes, and string values and error messages go through the value
// scan's one-pass filter. On a line with a two-word message and two
// attributes it adds about 70 to 115 ns of CPU, 6% to 9.5% of the line
// (medians measured on a busy 2-core machine, where such a line costs 0.7
// to 1.9 µs of CPU). A line with something to redact is rebuilt, which allocates.
// The benchmarks are in the bench module (bench/slog_test.go: BenchmarkSlog,
// and BenchmarkSlogRedactionPaired for the cost of redaction).
package logcorr
