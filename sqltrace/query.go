package sqltrace

import (
	"context"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// TraceQueryStart starts the span of a Query, QueryRow or Exec.
func (t *Tracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	st := t.state(conn)
	a := st.named[data.SQL] // conn.Query(ctx, "stock_by_sku", ...) after Prepare
	if a == nil {
		a = t.cache.get(data.SQL)
	}
	o := newOp(ctx, st, a.summary)
	o.returning = a.returning
	if t.traced(ctx) {
		t.startSpan(o, a.name, clientKind, func(attrs []attribute.KeyValue) []attribute.KeyValue {
			if a.summary != "" {
				attrs = append(attrs, semconv.DBQuerySummary(a.summary))
			}
			attrs = append(attrs, semconv.DBQueryText(a.text))
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

// TracePrepareStart starts the span of a Prepare, named
// "PREPARE <summary>". pgx prepares on a statement-cache miss inside the
// query, so that span is a child of the query span.
func (t *Tracer) TracePrepareStart(ctx context.Context, conn *pgx.Conn, data pgx.TracePrepareStartData) context.Context {
	a := t.cache.get(data.SQL)
	st := t.state(conn)
	st.rememberName(data.Name, data.SQL, a)
	o := newOp(ctx, st, a.prepare)
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
