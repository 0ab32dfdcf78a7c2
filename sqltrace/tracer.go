package sqltrace

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing"
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
	tracers       *tracing.Resolver[trace.TracerProvider, trace.Tracer]
	meters        *tracing.Resolver[metric.MeterProvider, *metrics]
	next          *multitracer.Tracer
	acquire       AcquireMode
	acquireMin    time.Duration
	requireParent bool
	parameters    bool
	expected      func(error) bool
	extra         []attribute.KeyValue

	cache   *queryCache
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
		tracers: tracing.NewTracerResolver(c.tracerProvider, ScopeName,
			trace.WithInstrumentationVersion(Version),
			trace.WithSchemaURL(semconv.SchemaURL)),
		meters:        tracing.NewMeterResolver(c.meterProvider, newMetrics),
		acquire:       c.acquire,
		acquireMin:    c.acquireMin,
		requireParent: c.requireParent,
		parameters:    c.parameters,
		expected:      c.expected,
		extra:         c.attrs,
		cache:         newQueryCache(c.cacheSize),
		infos:         map[infoKey]*connInfo{},
	}
	t.cache.spanName = c.spanName
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

// tracer returns the tracer of the TracerProvider in force (conv's rule:
// the option's, or the global one at the time of the call).
func (t *Tracer) tracer() trace.Tracer { return t.tracers.Get() }

// provider returns the TracerProvider in force, whose error classifier
// applies.
func (t *Tracer) provider() trace.TracerProvider {
	_, tp := t.tracers.Resolve()
	return tp
}

// m returns the instruments of the MeterProvider in force.
func (t *Tracer) m() *metrics { return t.meters.Get() }

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

	wait      time.Duration // pool wait to report (AcquireAttribute)
	waited    bool
	returning bool  // the statement has RETURNING: count rows from the tag
	rows      int64 // batch: rows returned so far
	err       error // batch: first failing statement
	errStmt   string

	end [1]attribute.KeyValue // attributes set at the end, without a slice of their own

	acq *deferredAcquire // an acquire whose span waits for the threshold
}

// deferredAcquire is the state of an acquire under WithAcquireThreshold. Its
// span is started when the acquire turns out to be slow: at its end, or
// when it has to create a connection, which the pool does on another
// goroutine.
type deferredAcquire struct {
	mu    sync.Mutex
	span  trace.Span // started late, backdated to the acquire's start
	ended bool
	ctx   atomic.Pointer[context.Context] // the span's context, once started
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
	if o.acq != nil {
		// The late span of a deferred acquire, for the pool's hooks and
		// the next tracer.
		if c := o.acq.ctx.Load(); c != nil {
			return (*c).Value(key)
		}
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
	o.Context, o.span = t.tracer().Start(o.Context, name, opts...)
	b.opts = opts[:0]
	if (add != nil || o.waited) && o.span.IsRecording() {
		attrs := b.attrs[:0]
		if add != nil {
			attrs = add(attrs)
		}
		if o.waited {
			attrs = append(attrs, AcquireDurationKey.Float64(o.wait.Seconds()))
		}
		o.span.SetAttributes(attrs...)
		clear(attrs) // keep no strings of the caller alive in the pool
		b.attrs = attrs[:0]
	}
	t.bufs.Put(b)
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
		t.m().duration.Inst().Record(o, d, o.info.metricOpts(o.summary)...)
		return
	}
	attrs := append(o.info.metricAttrs(o.summary), semconv.DBResponseStatusCode(code))
	if code == "" {
		attrs = attrs[:len(attrs)-1]
	}
	if failed {
		attrs = append(attrs, errorType(o, err))
	}
	t.m().duration.RecordSet(o, d, attribute.NewSet(attrs...))
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
			span.SetAttributes(errorType(o, err))
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
