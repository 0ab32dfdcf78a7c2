// Package sqltrace traces PostgreSQL calls made with pgx v5 and pgxpool,
// following the OpenTelemetry database semantic conventions, so that a slow
// or failing request's trace shows which statement ran, on which database,
// how long it took, how many rows it returned, why it failed, and whether
// the time went to the query or to waiting for a pool connection.
//
// # Wiring
//
//	cfg, _ := pgxpool.ParseConfig(url)
//	tracer := sqltrace.NewTracer()               // global providers by default
//	cfg.ConnConfig.Tracer = tracer               // pgxpool finds the acquire hooks too
//	pool, _ := pgxpool.NewWithConfig(ctx, cfg)
//	reg, _ := tracer.ObservePool(pool)           // optional: connection count gauges
//
// A single connection takes the same value in pgx.ConnConfig.Tracer. To keep
// a tracer the application already has (a query logger), pass it with
// [WithNext]: it runs inside the DB span and its log lines carry the span.
//
// # Spans
//
// Every span of a statement is a client span named by its db.query.summary:
// the operations and tables of the statement, in order, such as
// "SELECT inventory", "INSERT orders", "UPDATE orders payments",
// "INSERT outbox_archive SELECT". The summary comes from a small lexer that
// skips comments (sqlc's "-- name:" lines included), reads quoted and
// qualified identifiers, looks into CTEs and subqueries, skips functions in
// FROM, follows several statements in one text, and never copies a literal;
// it is cut at 255 bytes on a word boundary. A text it cannot summarise
// gives the span name "postgresql". Raw SQL never becomes a span name.
//
//   - Query, QueryRow, Exec: "<summary>".
//   - SendBatch: "BATCH <summary>" when all statements share a summary,
//     "BATCH" otherwise, with db.operation.batch.size. A failing statement
//     marks the batch span and names itself in the exception event.
//   - CopyFrom: "COPY <table>", with db.collection.name.
//   - Prepare: "PREPARE <summary>". pgx prepares on a statement-cache miss
//     inside the query, so the prepare span is the query span's child.
//   - Connect: "pgx.connect"; under a pool, the child of the acquire that
//     needed a new connection.
//   - pgxpool Acquire: "pgxpool.acquire" (internal), a sibling before the
//     query, lasting as long as the wait for a connection. With
//     [WithAcquire]([AcquireAttribute]) the wait is instead the attribute
//     pgxpool.acquire.duration (seconds) of the next span on that connection.
//     With [WithAcquireThreshold] only acquires that waited (or connected)
//     get the span; most production services want that, since an acquire
//     that finds an idle connection takes microseconds.
//
// # Named queries
//
// A query the application names, as sqlc does in the comment it writes
// before each query ("-- name: GetOrder :one"), can have that name as its
// span name, the name developers search for:
//
//	tracer := sqltrace.NewTracer(sqltrace.WithSpanNameFunc(sqltrace.SQLCName))
//
// The span of "-- name: GetOrder :one" then is "GetOrder", a batch of it
// "BATCH GetOrder" (a batch of differently named statements keeps "BATCH
// <summary>"), and a query without the comment keeps its summary. Only a
// comment before the statement names it; one inside or after it does not.
// [WithSpanNameFunc] takes any function of the SQL text (a table of the
// service's statements, another generator's comments); it runs once per
// text, its result cached with the summary.
//
// db.query.summary stays the summary the conventions define ("SELECT
// orders"), and so do the metrics grouped by it: the conventions make the
// summary the span name when nothing better is known, and a name the
// application gives is the better name for the span, while the summary
// stays the grouping key every database client reports alike. Naming by
// the query's name is an option, not the default, so that span names that
// existing dashboards and alerts use do not change.
//
// By default a call without a parent span starts a trace of its own;
// [WithRequireParent] keeps background jobs from producing root spans.
//
// # Attributes
//
// Spans carry db.system.name=postgresql, db.namespace ("database|schema",
// the schema being the first of the connection's search_path, or the
// database alone), server.address, server.port, db.query.summary and
// db.query.text. The query text is recorded as written when the statement
// uses parameters ($1); inline literals (strings, dollar-quoted strings,
// numbers) are replaced by "?" first, so a value written into the SQL never
// reaches the trace. db.response.returned_rows is set for SELECT and
// RETURNING statements. Query parameters are recorded only with
// [WithQueryParameters], as db.query.parameter.<n>, each passed through the
// tracing package's redaction.
//
// # Errors
//
// A failed operation has status Error, error.type, db.response.status_code
// (the SQLSTATE, for example 23505 for a unique violation) and an exception
// event. error.type follows the one rule of the tracing package, so that the
// same failure has the same value in every package: "timeout" when a
// deadline expired (even if the server answered 57014 query_canceled to the
// cancel request), the SQLSTATE when the server answered, the Go error type
// otherwise. sql.ErrNoRows (pgx.ErrNoRows) and the caller's own cancellation
// are outcomes, not failures; [WithErrorClassifier], then the tracing
// package's classifier (tracing.SetErrorClassifier) decide about the rest.
//
// # Metrics
//
// Through the MeterProvider, with the semantic-convention names and units:
// db.client.operation.duration by db.query.summary, namespace and server
// (plus db.response.status_code and error.type when failing); the pool's
// db.client.connection.wait_time, use_time, create_time, pending_requests
// and timeouts from the hooks; db.client.connection.count (idle/used), max
// and idle.min from [Tracer.ObservePool]. Query text and parameters are
// never metric attributes, so cardinality is that of the application's set
// of statements.
//
// # Cost
//
// A statement's summary and sanitised text are computed once and kept in a
// bounded cache (2048 texts by default, [WithSummaryCacheSize]); a cache
// hit allocates nothing. Per operation the tracer allocates one object of
// its own beyond what the span itself costs, and the metric attribute set of
// a summary is built once per endpoint. Under a no-op TracerProvider the
// hooks of a query cost two allocations and well under a microsecond. The
// bench module measures the hooks and a round trip side by side with
// github.com/exaring/otelpgx: with a sampled span and the duration metric,
// sqltrace allocates 8 times per query (otelpgx 20) and uses about half the
// CPU.
package sqltrace
