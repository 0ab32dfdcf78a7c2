package sqltrace

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// TraceCopyFromStart starts the span of a CopyFrom, named "COPY <table>".
func (t *Tracer) TraceCopyFromStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceCopyFromStartData) context.Context {
	st := t.state(conn)
	table := strings.Join(data.TableName, ".")
	o := newOp(ctx, st, "COPY "+table)
	if t.traced(ctx) {
		t.startSpan(o, o.summary, clientKind, func(attrs []attribute.KeyValue) []attribute.KeyValue {
			return append(attrs,
				semconv.DBQuerySummary(o.summary),
				semconv.DBOperationName("COPY"),
				semconv.DBCollectionName(table),
			)
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
