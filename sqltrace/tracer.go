package sqltrace

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// dbSystem is the span name of an operation without a summary, as the
// semantic conventions ask ({db.system.name}).
const dbSystem = "postgresql"

// Span names of the operations that are not queries.
const (
	connectSpanName = "pgx.connect"
	acquireSpanName = "pgxpool.acquire"
)

// AcquireDurationKey is the attribute that carries the time spent waiting
// for a pool connection, in seconds, on the first span that used it (see
// [AcquireAttribute]).
const AcquireDurationKey = attribute.Key("pgxpool.acquire.duration")

// Tracer traces pgx and pgxpool operations. Set it as
// pgx.ConnConfig.Tracer (for a pool: pgxpool.Config.ConnConfig.Tracer);
// pgxpool finds the acquire and release hooks on the same value.
//
// The hooks run on the goroutine that calls pgx, inside the call, and cost
// one allocation of their own plus what the span costs; the SQL text is
// parsed once and cached. A Tracer is safe for concurrent use by any number
// of connections and pools.
type Tracer struct {
	tracer        trace.Tracer
	next          *multitracer.Tracer
	acquire       AcquireMode
	requireParent bool
	parameters    bool
	isFailure     func(error) bool
	extra         []attribute.KeyValue

	cache   *queryCache
	m       metrics
	infosMu sync.Mutex
	infos   map[infoKey]*connInfo
	pools   sync.Map // *pgxpool.Pool -> *poolInfo

	bufs      sync.Pool             // *startBuf
	bareStart trace.SpanStartOption // attributes of a span without a known endpoint
}

var (
	_ pgx.QueryTracer       = (*Tracer)(nil)
	_ pgx.BatchTracer       = (*Tracer)(nil)
	_ pgx.CopyFromTracer    = (*Tracer)(nil)
	_ pgx.PrepareTracer     = (*Tracer)(nil)
	_ pgx.ConnectTracer     = (*Tracer)(nil)
	_ pgxpool.AcquireTracer = (*Tracer)(nil)
	_ pgxpool.ReleaseTracer = (*Tracer)(nil)
)

// NewTracer returns a Tracer configured by opts.
func NewTracer(opts ...Option) *Tracer {
	c := newConfig(opts)
	t := &Tracer{
		tracer: c.tracerProvider.Tracer(ScopeName,
			trace.WithInstrumentationVersion(Version),
			trace.WithSchemaURL(semconv.SchemaURL)),
		acquire:       c.acquire,
		requireParent: c.requireParent,
		parameters:    c.parameters,
		isFailure:     c.isFailure,
		extra:         c.attrs,
		cache:         newQueryCache(c.cacheSize),
		m:             newMetrics(c.meterProvider),
		infos:         map[infoKey]*connInfo{},
	}
	if len(c.next) > 0 {
		t.next = multitracer.New(c.next...)
	}
	t.bareStart = trace.WithAttributes(append([]attribute.KeyValue{semconv.DBSystemNamePostgreSQL}, t.extra...)...)
	t.bufs.New = func() any {
		return &startBuf{
			attrs: make([]attribute.KeyValue, 0, 12),
			opts:  make([]trace.SpanStartOption, 0, 3),
		}
	}
	return t
}

// op is the state of one traced operation between its start and end hooks.
// It is the context the start hook returns, so that the end hook finds it
// with one Value lookup and the operation costs a single allocation.
type op struct {
	context.Context
	span    trace.Span // nil when no span was started
	start   time.Time
	info    *connInfo
	pool    *poolInfo
	summary string // metric db.query.summary

	returning bool  // the statement has RETURNING: count rows from the tag
	rows      int64 // batch: rows returned so far
	err       error // batch: first failing statement
	errStmt   string

	end [1]attribute.KeyValue // attributes set at the end, without a slice of their own
}

// setRows sets db.response.returned_rows on the span.
func (o *op) setRows(n int64) {
	o.end[0] = semconv.DBResponseReturnedRows(int(n))
	o.span.SetAttributes(o.end[:]...)
}

type opKey struct{}

func (o *op) Value(key any) any {
	if key == (opKey{}) {
		return o
	}
	return o.Context.Value(key)
}

func opFrom(ctx context.Context) *op {
	o, _ := ctx.Value(opKey{}).(*op)
	return o
}

// startBuf holds the slices a span start needs; pooled so that a start
// allocates only what the SDK keeps.
type startBuf struct {
	attrs []attribute.KeyValue
	opts  []trace.SpanStartOption
}

var clientKind = trace.WithSpanKind(trace.SpanKindClient)

// traced reports whether an operation under ctx gets a span.
func (t *Tracer) traced(ctx context.Context) bool {
	return !t.requireParent || trace.SpanFromContext(ctx).IsRecording()
}

// startSpan starts a span named name under o.Context. The endpoint's
// attributes, which samplers may use, go in at the start with an option
// built once per endpoint; those of the statement are added by add only
// when the span records.
func (t *Tracer) startSpan(o *op, name string, kind trace.SpanStartOption, add func([]attribute.KeyValue) []attribute.KeyValue) {
	start := t.bareStart
	switch {
	case o.pool != nil:
		start = o.pool.startOpt
	case o.info != nil:
		start = o.info.startOpt
	}
	b := t.bufs.Get().(*startBuf)
	opts := append(b.opts[:0], kind, start)
	o.Context, o.span = t.tracer.Start(o.Context, name, opts...)
	b.opts = opts[:0]
	if add != nil && o.span.IsRecording() {
		attrs := add(b.attrs[:0])
		o.span.SetAttributes(attrs...)
		clear(attrs) // keep no strings of the caller alive in the pool
		b.attrs = attrs[:0]
	}
	t.bufs.Put(b)
}

// TraceQueryStart starts the span of a Query, QueryRow or Exec.
func (t *Tracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	st := t.state(conn)
	a := st.named[data.SQL] // conn.Query(ctx, "stock_by_sku", ...) after Prepare
	if a == nil {
		a = t.cache.get(data.SQL)
	}
	o := &op{Context: ctx, start: time.Now(), info: st.info, summary: a.summary, returning: a.returning}
	if t.traced(ctx) {
		wait, waited := st.takeWait()
		t.startSpan(o, a.name, clientKind, func(attrs []attribute.KeyValue) []attribute.KeyValue {
			if a.summary != "" {
				attrs = append(attrs, semconv.DBQuerySummary(a.summary))
			}
			attrs = append(attrs, semconv.DBQueryText(a.text))
			if waited {
				attrs = append(attrs, AcquireDurationKey.Float64(wait.Seconds()))
			}
			if t.parameters {
				attrs = appendParameters(attrs, data.Args)
			}
			return attrs
		})
	}
	if t.next != nil {
		return t.next.TraceQueryStart(o, conn, data)
	}
	return o
}

// TraceQueryEnd ends the span of a Query, QueryRow or Exec; for Query, pgx
// calls it when the rows are closed.
func (t *Tracer) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryEndData) {
	if t.next != nil {
		t.next.TraceQueryEnd(ctx, conn, data)
	}
	o := opFrom(ctx)
	if o == nil {
		return
	}
	if o.span != nil && data.Err == nil && (data.CommandTag.Select() || o.returning) {
		o.setRows(data.CommandTag.RowsAffected())
	}
	t.end(o, data.Err)
}

// TraceBatchStart starts the span of a SendBatch. Its name is
// "BATCH <summary>" when every statement has the same summary, "BATCH"
// otherwise; a batch of one statement is traced as that statement.
func (t *Tracer) TraceBatchStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	var queued []*pgx.QueuedQuery
	if data.Batch != nil {
		queued = data.Batch.QueuedQueries
	}
	st := t.state(conn)
	o := &op{Context: ctx, start: time.Now(), info: st.info, summary: "BATCH"}
	var first *analysis
	same, sameText := true, true
	for i, q := range queued {
		a := t.cache.get(q.SQL)
		if i == 0 {
			first = a
			continue
		}
		same = same && a.summary == first.summary
		sameText = sameText && q.SQL == queued[0].SQL
	}
	name := "BATCH"
	switch {
	case len(queued) == 1:
		name, o.summary, o.returning = first.name, first.summary, first.returning
	case first != nil && same:
		name, o.summary = first.batch, first.batch
	}
	if t.traced(ctx) {
		wait, waited := st.takeWait()
		t.startSpan(o, name, clientKind, func(attrs []attribute.KeyValue) []attribute.KeyValue {
			if o.summary != "" {
				attrs = append(attrs, semconv.DBQuerySummary(o.summary))
			}
			switch {
			case first == nil:
			case sameText:
				attrs = append(attrs, semconv.DBQueryText(first.text))
			default:
				attrs = append(attrs, semconv.DBQueryText(t.batchText(queued)))
			}
			if len(queued) > 1 {
				attrs = append(attrs, semconv.DBOperationBatchSize(len(queued)))
			}
			if waited {
				attrs = append(attrs, AcquireDurationKey.Float64(wait.Seconds()))
			}
			return attrs
		})
	}
	if t.next != nil {
		return t.next.TraceBatchStart(o, conn, data)
	}
	return o
}

// batchText joins the distinct sanitised texts of a batch with "; ", in the
// order they first appear.
func (t *Tracer) batchText(queued []*pgx.QueuedQuery) string {
	var b strings.Builder
	seen := make(map[string]bool, len(queued))
	for _, q := range queued {
		text := t.cache.get(q.SQL).text
		if seen[text] {
			continue
		}
		seen[text] = true
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(text)
	}
	return b.String()
}

// TraceBatchQuery notes the outcome of one statement of a batch: the first
// failing statement is reported on the batch span, and returned rows add up.
func (t *Tracer) TraceBatchQuery(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchQueryData) {
	if t.next != nil {
		t.next.TraceBatchQuery(ctx, conn, data)
	}
	o := opFrom(ctx)
	if o == nil {
		return
	}
	if data.Err != nil {
		if o.err == nil {
			o.err, o.errStmt = data.Err, t.cache.get(data.SQL).summary
		}
		return
	}
	if data.CommandTag.Select() || t.cache.get(data.SQL).returning {
		o.rows += data.CommandTag.RowsAffected()
	}
}

// TraceBatchEnd ends the span of a SendBatch when its results are closed.
func (t *Tracer) TraceBatchEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchEndData) {
	if t.next != nil {
		t.next.TraceBatchEnd(ctx, conn, data)
	}
	o := opFrom(ctx)
	if o == nil {
		return
	}
	err := data.Err
	if err == nil {
		err = o.err
	}
	if o.span != nil && err == nil {
		o.setRows(o.rows)
	}
	t.end(o, err)
}

// TraceCopyFromStart starts the span of a CopyFrom, named "COPY <table>".
func (t *Tracer) TraceCopyFromStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceCopyFromStartData) context.Context {
	st := t.state(conn)
	table := strings.Join(data.TableName, ".")
	o := &op{Context: ctx, start: time.Now(), info: st.info, summary: "COPY " + table}
	if t.traced(ctx) {
		wait, waited := st.takeWait()
		t.startSpan(o, o.summary, clientKind, func(attrs []attribute.KeyValue) []attribute.KeyValue {
			attrs = append(attrs,
				semconv.DBQuerySummary(o.summary),
				semconv.DBOperationName("COPY"),
				semconv.DBCollectionName(table),
			)
			if waited {
				attrs = append(attrs, AcquireDurationKey.Float64(wait.Seconds()))
			}
			return attrs
		})
	}
	if t.next != nil {
		return t.next.TraceCopyFromStart(o, conn, data)
	}
	return o
}

// TraceCopyFromEnd ends the span of a CopyFrom.
func (t *Tracer) TraceCopyFromEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceCopyFromEndData) {
	if t.next != nil {
		t.next.TraceCopyFromEnd(ctx, conn, data)
	}
	if o := opFrom(ctx); o != nil {
		t.end(o, data.Err)
	}
}

// TracePrepareStart starts the span of a Prepare, named
// "PREPARE <summary>". pgx prepares on a statement-cache miss inside the
// query, so that span is a child of the query span.
func (t *Tracer) TracePrepareStart(ctx context.Context, conn *pgx.Conn, data pgx.TracePrepareStartData) context.Context {
	a := t.cache.get(data.SQL)
	st := t.state(conn)
	st.rememberName(data.Name, data.SQL, a)
	o := &op{Context: ctx, start: time.Now(), info: st.info, summary: a.prepare}
	if t.traced(ctx) {
		t.startSpan(o, a.prepare, clientKind, func(attrs []attribute.KeyValue) []attribute.KeyValue {
			return append(attrs, semconv.DBQuerySummary(a.prepare), semconv.DBQueryText(a.text))
		})
	}
	if t.next != nil {
		return t.next.TracePrepareStart(o, conn, data)
	}
	return o
}

// TracePrepareEnd ends the span of a Prepare.
func (t *Tracer) TracePrepareEnd(ctx context.Context, conn *pgx.Conn, data pgx.TracePrepareEndData) {
	if t.next != nil {
		t.next.TracePrepareEnd(ctx, conn, data)
	}
	o := opFrom(ctx)
	if o == nil {
		return
	}
	if data.AlreadyPrepared {
		// No round trip happened: keep the span (it was started) but not the
		// metric, which counts database operations.
		if o.span != nil {
			o.span.End()
		}
		return
	}
	t.end(o, data.Err)
}

// TraceConnectStart starts the span of a new connection ("pgx.connect").
// Under a pool it is a child of the acquire that needed the connection.
func (t *Tracer) TraceConnectStart(ctx context.Context, data pgx.TraceConnectStartData) context.Context {
	o := &op{Context: ctx, start: time.Now()}
	if data.ConnConfig != nil {
		o.info = t.info(data.ConnConfig, nil)
	}
	if t.traced(ctx) {
		t.startSpan(o, connectSpanName, clientKind, nil)
	}
	if t.next != nil {
		return t.next.TraceConnectStart(o, data)
	}
	return o
}

// TraceConnectEnd ends the span of a new connection and records
// db.client.connection.create_time.
func (t *Tracer) TraceConnectEnd(ctx context.Context, data pgx.TraceConnectEndData) {
	if t.next != nil {
		t.next.TraceConnectEnd(ctx, data)
	}
	o := opFrom(ctx)
	if o == nil {
		return
	}
	if data.Err == nil && o.info != nil {
		t.m.create.Inst().Record(o, time.Since(o.start).Seconds(), o.info.pool.record...)
		if data.Conn != nil {
			t.state(data.Conn)
		}
	}
	if o.span != nil {
		t.endSpan(o, data.Err)
	}
}

// end closes an operation: span and db.client.operation.duration.
func (t *Tracer) end(o *op, err error) {
	failed := t.failed(o, err)
	if o.span != nil {
		t.endSpanAs(o, err, failed)
	}
	if o.info == nil {
		return
	}
	d := time.Since(o.start).Seconds()
	code := sqlState(err)
	if !failed && code == "" {
		t.m.duration.Inst().Record(o, d, o.info.metricOpts(o.summary)...)
		return
	}
	attrs := append(o.info.metricAttrs(o.summary), semconv.DBResponseStatusCode(code))
	if code == "" {
		attrs = attrs[:len(attrs)-1]
	}
	if failed {
		attrs = append(attrs, errorType(err, code))
	}
	t.m.duration.RecordSet(o, d, attribute.NewSet(attrs...))
}

func (t *Tracer) endSpan(o *op, err error) { t.endSpanAs(o, err, t.failed(o, err)) }

// endSpanAs records err on the span, as a failure when failed, and ends it.
func (t *Tracer) endSpanAs(o *op, err error, failed bool) {
	span := o.span
	if err != nil {
		code := sqlState(err)
		if code != "" {
			span.SetAttributes(semconv.DBResponseStatusCode(code))
		}
		if failed {
			span.SetAttributes(errorType(err, code))
			// Server messages can quote the value that was refused
			// ("invalid input syntax for type uuid: ..."): they go through
			// the same redaction as parameters.
			msg := redactAttr(semconv.ExceptionMessage(err.Error()))
			if !msg.Valid() {
				msg = semconv.ExceptionMessage(sqlState(err))
			}
			event := []attribute.KeyValue{semconv.ErrorType(err), msg}
			event[0].Key = semconv.ExceptionTypeKey
			if o.errStmt != "" && err == o.err {
				event = append(event, semconv.DBQuerySummary(o.errStmt))
			}
			span.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(event...))
			span.SetStatus(codes.Error, msg.Value.AsString())
		}
	}
	span.End()
}

// failed reports whether err fails the operation: sql.ErrNoRows and the
// caller's cancellation do not; the classifier decides the rest.
func (t *Tracer) failed(ctx context.Context, err error) bool {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return false
	}
	if ctx.Err() == context.Canceled && (errors.Is(err, context.Canceled) || sqlState(err) == "57014") {
		return false
	}
	if t.isFailure != nil {
		return t.isFailure(err)
	}
	return true
}

// sqlState returns the SQLSTATE of a PostgreSQL error, or "".
func sqlState(err error) string {
	if err == nil {
		return ""
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// errorType is the error.type of err: its SQLSTATE when the server
// answered, "timeout" for deadlines, the Go type otherwise.
func errorType(err error, code string) attribute.KeyValue {
	switch {
	case code != "":
		return semconv.ErrorTypeKey.String(code)
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return semconv.ErrorTypeKey.String("timeout")
	}
	return semconv.ErrorType(err)
}
