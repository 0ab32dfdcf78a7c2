// Package tracing holds the conventions every package of this module
// follows, and that a company's own services and libraries can follow with
// it: span names, business keys that travel with a request, span helpers
// that never leak a span or lose an error, error classification, and the
// rules that keep secrets and personal data out of telemetry. Its aim is
// that when checkout breaks at 3 AM, one trace shows which service failed,
// why, and what led to it, and that "all failed checkouts of user X" is one
// query across every service.
//
// Package tracing depends on the OpenTelemetry API only, never on the SDK:
// a library calls tracing.Start and tracing.SetBusiness and links nothing
// more than it would with the otel API. The SDK half lives under sdk/:
// package [github.com/otelkit/otelkit/sdk/otelsetup] configures the SDK from
// the OTEL_* variables and applies these conventions to what it exports;
// [github.com/otelkit/otelkit/sdk/pipeline] holds the span processor and
// exporter that do so, for a program that builds its own TracerProvider;
// [github.com/otelkit/otelkit/sdk/tracingtest] checks the conventions in
// tests.
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
// Business keys are typed and registered. Package tracing declares the
// generic ones, [UserID] (the semantic conventions' `user.id`, hashed on
// export) and [TenantID]; a company declares its domain's own keys, see
// below. Each declares whether it is personal data ([HashPersonal],
// [DropPersonal]) and whether it [Travels]. One call at the edge sets the
// context for the rest of the request:
//
//	ctx = tracing.SetBusiness(ctx, keys.OrderID.String(id), tracing.UserID.String(user))
//
// It sets the attributes on the current span and puts the traveling keys in
// W3C baggage; the baggage propagator carries them over HTTP and Kafka (and
// the outbox stores them with the row), and pipeline.NewBaggageSpanProcessor copies
// them onto every span started afterwards, in every service. Only registered
// traveling keys are copied, and only values that parse as the key's type,
// are printable UTF-8 and are at most 256 bytes: a client's or a third
// party's members never reach a span. Baggage keeps the W3C limits (64
// members, 8192 bytes); a business key that does not fit stays on the
// current span and is reported with [ErrBaggageFull]. [Business] returns
// the business attributes a context carries (the log correlation handler
// uses it).
//
// SetBusiness refuses a value that is empty, not printable UTF-8, longer
// than 256 bytes, a NaN or infinite float, or not of its key's type: it is
// set neither on the span nor in baggage, so no later span, downstream
// service or log line carries it, and a value the key held before stays.
// The refusal is reported through otel.Handle, wrapping [ErrBusinessValue],
// at most once a minute; the report names the key, never the value, which
// may be personal data. An empty value received in baggage is left out like
// any other invalid one.
//
// # Declaring a company's keys
//
// A company declares its keys once, as package-level variables of a package
// that every service imports, with [NewStringKey], [NewInt64Key],
// [NewFloat64Key] or [NewBoolKey] (see Example (DeclaringKeys)):
//
//	package keys // example.com/acme/telemetry/keys
//
//	var (
//		OrderID        = tracing.NewStringKey("order.id", tracing.Travels())
//		OrderItemCount = tracing.NewInt64Key("order.item_count", tracing.Travels())
//		CustomerEmail  = tracing.NewStringKey("customer.email", tracing.PersonalData(tracing.DropPersonal))
//	)
//
// Declaring a key registers it when the package initialises, so the
// registry ([Keys], [LookupKey]) is complete before the first request and
// every service spells the key, its type and its data handling the same
// way. Keys known only from configuration are registered with [Register].
// Registering the same key twice with the same properties is allowed; with
// other properties it panics at initialisation. What reads the registry
// follows what the program registered: the baggage allowlist, redaction of
// personal data, the waterfall's trace header, the log handler's business
// attributes; tracelint's businesskey check reads the declarations from the
// code it analyses.
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
// not errors: context.Canceled (the caller gave up), sql.ErrNoRows and
// whatever the classifier calls expected: the one otelsetup.WithErrorClassifier
// sets for the spans of Setup's provider, else the process-wide one of
// [SetErrorClassifier]; context.DeadlineExceeded is a timeout and stays an
// error. [Run] does the same around a function. [SetAttributesFunc] builds
// attributes only for a recording span. The helpers take the TracerProvider
// of the recording span in ctx, else the global one.
//
// # One policy for errors
//
// The helpers and every instrumentation package of this module (httptrace's
// client, sqltrace, kafkatrace's producer and consumer, the outbox relay)
// decide the same way whether an outcome is a failure, with the classifier
// above, and give the same failure the same `error.type`, so that "all
// failed requests of every service" is one query:
//
//   - the caller's cancellation is never a failure: no status, no
//     `error.type`, in any package;
//   - an expired deadline (context.DeadlineExceeded, or any error whose
//     Timeout method reports true) has `error.type` "timeout", the value the
//     semantic conventions give;
//   - an error of a client library with a domain code has that code: the
//     SQLSTATE of a PostgreSQL error ("42601"), the code name of a Kafka
//     error ("UNKNOWN_TOPIC_OR_PARTITION"), on the package's spans and on a
//     span [End] ends with such an error alike (when the program links
//     sqltrace or kafkatrace); an HTTP client span whose response is an
//     error has the status code ("503");
//   - any other error has its Go type ("*net.OpError"), as
//     semconv.ErrorType computes it, past fmt.Errorf's wrappers and
//     *url.Error.
//
// # Providers
//
// Every instrumentation package resolves its TracerProvider, MeterProvider
// and propagator by one rule: the one an option gave, else the global one,
// read when the instrumentation is used (a request, a query, a record), not
// when it is built, so that an instrumentation built before otelsetup.Setup uses
// its providers. A global propagator that propagates nothing (the
// OpenTelemetry default) is replaced by W3C trace context and baggage, so
// that no request, record or outbox row silently loses its trace. Reading
// the globals costs an atomic load and a comparison per use and no
// allocation.
//
// # Background problems
//
// A problem met off the caller's path never fails the caller's operation:
// a malformed traceparent or baggage header from another process, a
// business value refused, a Kafka record whose headers cannot be read, an
// outbox relay that cannot reach Postgres or Kafka, spans dropped from a
// full queue, a failed export. Every package reports such problems the same
// way: through otel.Handle (otelsetup can route them to a logger), at most
// once a minute for each source, and the report that goes out says how many
// like it were held back since the last one, so a flood of bad input cannot
// flood the error handler and nothing is lost in silence. A problem tied to
// one item that needs a person's attention (an outbox row set aside, with
// its id) is reported every time.
//
// # Redaction
//
// Applied by the exporters of otelsetup.Setup (on by default, see
// otelsetup.WithRedaction) and pipeline.NewRedactingExporter, over span,
// event and link attributes and the status message. What is masked, hashed
// or dropped:
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
//   - registered personal data is replaced by "sha256:" and 32 hex digits
//     (HMAC-SHA256 under the hash key, see below) or dropped. [RedactAttr]
//     shows what an attribute becomes; hash a user id or an e-mail address
//     with it to search for its traces.
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
// The log correlation handler (github.com/otelkit/otelkit/logcorr) applies
// the same default rules and the same hash key to log lines, so a user.id
// in a line equals the one on the spans of the request.
//
// # The hash key
//
// A hash of a user id without a secret key is reversible: anyone holding
// the traces hashes every candidate id and compares. Give every service the
// same secret of at least 16 bytes, in the environment or, from a mounted
// Kubernetes Secret, in a file:
//
//	OTELKIT_HASH_KEY=$(openssl rand -hex 32)
//	OTELKIT_HASH_KEY_FILE=/var/run/secrets/otelkit/hash-key
//
// otelsetup.Setup reads them (white space around the key, such as a file's
// final newline, is ignored), uses the key for its redactor and installs it
// for the whole process with [SetHashKey]: every redactor without a key of
// its own, [RedactAttr] and the log handler hash with it. A program that
// builds its SDK without Setup calls SetHashKey itself. As for every
// variable, the operator's key wins over the program's
// [RedactionRules].HashKey, which is used, and installed, only when neither
// variable is set. Both set, an empty or unreadable file or a key shorter
// than 16 bytes make Setup fail with an error naming the variable; the key
// itself is never printed. The key stays installed after shutdown. A key
// change changes every hash: searches for a user then need the hash under
// each key used in the period.
//
// Without any key, personal data is hashed with plain SHA-256, and Setup
// reports otelsetup.ErrNoHashKey through otel.Handle once per process (not
// once per Setup: a process may run several services), naming the
// variables.
//
// # Cost of the conventions
//
// Measured in bench/tracing_test.go (numbers in bench/README.md) as thread CPU time per span, in
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
// 0.2 to 0.4 µs of CPU to a client span, still without allocating (bench
// README). It runs on the exporting goroutine, not the caller's.
package tracing
