package sqltrace

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/dbconv"
	"go.opentelemetry.io/otel/trace"
)

// poolInfo is what a Tracer knows about one pool.
type poolInfo struct {
	info     *connInfo
	startOpt trace.SpanStartOption // span attributes of an acquire
}

func (t *Tracer) pool(p *pgxpool.Pool) *poolInfo {
	if pi, ok := t.pools.Load(p); ok {
		return pi.(*poolInfo)
	}
	ci := t.info(p.Config().ConnConfig, nil)
	attrs := append(ci.attrs[:len(ci.attrs):len(ci.attrs)], t.extra...)
	attrs = append(attrs, semconv.DBClientConnectionPoolName(ci.poolName))
	pi, _ := t.pools.LoadOrStore(p, &poolInfo{info: ci, startOpt: trace.WithAttributes(attrs...)})
	return pi.(*poolInfo)
}

var internalKind = trace.WithSpanKind(trace.SpanKindInternal)

// TraceAcquireStart starts waiting for a pool connection: with
// [AcquireSpan], the "pgxpool.acquire" span.
func (t *Tracer) TraceAcquireStart(ctx context.Context, pool *pgxpool.Pool, data pgxpool.TraceAcquireStartData) context.Context {
	pi := t.pool(pool)
	o := &op{Context: ctx, start: time.Now(), info: pi.info, pool: pi}
	t.m().pending.Inst().Add(ctx, 1, pi.info.pool.add...)
	if t.acquire == AcquireSpan && t.traced(ctx) {
		if t.acquireMin > 0 {
			o.acq = &deferredAcquire{}
		} else {
			t.startSpan(o, acquireSpanName, internalKind, nil)
		}
	}
	if t.next != nil {
		return t.next.TraceAcquireStart(o, pool, data)
	}
	return o
}

// TraceAcquireEnd ends the wait for a pool connection and records
// db.client.connection.wait_time (or .timeouts when the wait timed out).
func (t *Tracer) TraceAcquireEnd(ctx context.Context, pool *pgxpool.Pool, data pgxpool.TraceAcquireEndData) {
	o := opFrom(ctx)
	now := time.Now()
	if o != nil && o.acq != nil {
		// Before the next tracer, so that it finds the span in its context.
		t.endDeferred(o, now.Sub(o.start), data.Err)
	}
	if t.next != nil {
		t.next.TraceAcquireEnd(ctx, pool, data)
	}
	if o == nil || o.pool == nil {
		return
	}
	wait := now.Sub(o.start)
	t.m().pending.Inst().Add(o, -1, o.pool.info.pool.add...)
	if data.Err == nil {
		t.m().wait.Inst().Record(o, wait.Seconds(), o.pool.info.pool.record...)
		if data.Conn != nil {
			st := t.state(data.Conn)
			st.acquiredAt = now
			if t.acquire == AcquireAttribute {
				st.wait, st.waited = wait, true
			}
		}
	} else if errors.Is(data.Err, context.DeadlineExceeded) || (pgconn.Timeout(data.Err) && o.Err() != context.Canceled) {
		t.m().timeouts.Inst().Add(o, 1, o.pool.info.pool.add...)
	}
	if o.span == nil && data.Err != nil && t.acquire == AcquireAttribute && t.failed(o, data.Err) && t.traced(o) {
		// No query will carry this wait: the failure gets its own span.
		_, o.span = t.tracer().Start(o.Context, acquireSpanName, internalKind, o.pool.startOpt, trace.WithTimestamp(o.start))
	}
	if o.span != nil {
		t.endSpan(o, data.Err)
	}
}

// endDeferred decides, at its end, whether an acquire under
// WithAcquireThreshold gets its span: if it took long enough or failed, or
// if it connected, in which case the span exists already.
func (t *Tracer) endDeferred(o *op, wait time.Duration, err error) {
	d := o.acq
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ended = true
	if d.span == nil && (wait >= t.acquireMin || err != nil && t.failed(o, err)) {
		d.span = t.startAcquireLate(o)
	}
	o.span = d.span
}

// startAcquireLate starts the span of a deferred acquire, backdated to its
// start; from then on the acquire's context holds it (see op.Value). The
// caller holds o.acq.mu.
func (t *Tracer) startAcquireLate(o *op) trace.Span {
	ctx, span := t.tracer().Start(o.Context, acquireSpanName, internalKind, o.pool.startOpt, trace.WithTimestamp(o.start))
	o.acq.ctx.Store(&ctx)
	return span
}

// connecting starts the span of the deferred acquire of ctx, if any, when
// the pool creates a connection for it: an acquire that connects is a slow
// one, and the connection's span and the queries of the pool's
// AfterConnect hook are its children. The pool connects on a
// goroutine of its own, which may outlive the acquire.
func (t *Tracer) connecting(ctx context.Context) {
	o := opFrom(ctx)
	if o == nil || o.acq == nil {
		return
	}
	d := o.acq
	d.mu.Lock()
	if d.span == nil && !d.ended {
		d.span = t.startAcquireLate(o)
	}
	d.mu.Unlock()
}

// TraceRelease records db.client.connection.use_time: how long the
// connection was held since it was acquired.
func (t *Tracer) TraceRelease(pool *pgxpool.Pool, data pgxpool.TraceReleaseData) {
	if t.next != nil {
		t.next.TraceRelease(pool, data)
	}
	if data.Conn == nil {
		return
	}
	st := t.state(data.Conn)
	if st.acquiredAt.IsZero() {
		return
	}
	t.m().use.Inst().Record(context.Background(), time.Since(st.acquiredAt).Seconds(), t.pool(pool).info.pool.record...)
	st.acquiredAt = time.Time{}
}

// ObservePool registers the observable db.client.connection.* metrics of
// pool with the Tracer's MeterProvider: db.client.connection.count (by
// state idle/used), db.client.connection.max and
// db.client.connection.idle.min, read from pool.Stat at each collection.
// The hooks already record wait_time, use_time, create_time,
// pending_requests and timeouts; this adds the gauges a pool alone knows.
// Call it once per pool, and unregister the returned registration when the
// pool is closed. The pool is named server.address:server.port/db.namespace,
// as the semantic conventions suggest; two pools to the same database and
// schema share that name.
func (t *Tracer) ObservePool(pool *pgxpool.Pool) (metric.Registration, error) {
	pi := t.pool(pool)
	count, err := dbconv.NewClientConnectionCountObservable(t.m().meter)
	if err != nil {
		return nil, err
	}
	maxConns, err := dbconv.NewClientConnectionMaxObservable(t.m().meter)
	if err != nil {
		return nil, err
	}
	idleMin, err := dbconv.NewClientConnectionIdleMinObservable(t.m().meter)
	if err != nil {
		return nil, err
	}
	name := pi.info.poolName
	idle := metric.WithAttributeSet(attribute.NewSet(
		count.AttrClientConnectionPoolName(name), count.AttrClientConnectionState(dbconv.ClientConnectionStateIdle)))
	used := metric.WithAttributeSet(attribute.NewSet(
		count.AttrClientConnectionPoolName(name), count.AttrClientConnectionState(dbconv.ClientConnectionStateUsed)))
	pooled := metric.WithAttributeSet(pi.info.pool.set)
	minIdle := int64(pool.Config().MinIdleConns)
	return t.m().meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := pool.Stat()
		o.ObserveInt64(count.Inst(), int64(s.IdleConns()), idle)
		o.ObserveInt64(count.Inst(), int64(s.AcquiredConns()+s.ConstructingConns()), used)
		o.ObserveInt64(maxConns.Inst(), int64(s.MaxConns()), pooled)
		o.ObserveInt64(idleMin.Inst(), minIdle, pooled)
		return nil
	}, count.Inst(), maxConns.Inst(), idleMin.Inst())
}
