package sqltrace

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// TraceBatchStart starts the span of a SendBatch. Its name is
// "BATCH <name>" when every statement has the same query name and summary,
// "BATCH <summary>" when they have the same summary, "BATCH" otherwise; a
// batch of one statement is traced as that statement.
func (t *Tracer) TraceBatchStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	var queued []*pgx.QueuedQuery
	if data.Batch != nil {
		queued = data.Batch.QueuedQueries
	}
	st := t.state(conn)
	o := newOp(ctx, st, "BATCH")
	var first *analysis
	same, sameName, sameText := true, true, true
	for i, q := range queued {
		a := t.cache.get(q.SQL)
		if i == 0 {
			first = a
			continue
		}
		same = same && a.summary == first.summary
		sameName = sameName && a.name == first.name
		sameText = sameText && q.SQL == queued[0].SQL
	}
	name := "BATCH"
	switch {
	case len(queued) == 1:
		name, o.summary, o.returning = first.name, first.summary, first.returning
	case first != nil && same && sameName:
		name, o.summary = first.batchName, first.batch
	case first != nil && same:
		name, o.summary = first.batch, first.batch
	}
	if t.traced(ctx) {
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
