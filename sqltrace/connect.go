package sqltrace

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// TraceConnectStart starts the span of a new connection ("pgx.connect").
// Under a pool it is a child of the acquire that needed the connection.
func (t *Tracer) TraceConnectStart(ctx context.Context, data pgx.TraceConnectStartData) context.Context {
	t.connecting(ctx)
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
		t.m().create.Inst().Record(o, time.Since(o.start).Seconds(), o.info.pool.record...)
		if data.Conn != nil {
			t.state(data.Conn)
		}
	}
	if o.span != nil {
		t.endSpan(o, data.Err)
	}
}
