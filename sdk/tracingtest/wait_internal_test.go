package tracingtest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// WaitFor blocks until the exporter signals an ended span, checks, and
// blocks again: it wakes once per ended span, never polls, and returns the
// span that ended on another goroutine after the wait began.
func TestWaitFor_WakesWhenASpanEndsOnAnotherGoroutine(t *testing.T) {
	rec := New(t, WithoutGlobals())
	tr := rec.TracerProvider().Tracer("t")
	var waits atomic.Int32
	blocked := make(chan struct{}, 2)
	rec.mu.Lock()
	rec.onWait = func() {
		if waits.Add(1) <= 2 {
			blocked <- struct{}{}
		}
	}
	rec.mu.Unlock()

	ctx, poll := tr.Start(context.Background(), "poll orders", trace.WithSpanKind(trace.SpanKindConsumer))
	poll.End()
	done := make(chan struct{})
	go func() { // the consumer's goroutine
		defer close(done)
		<-blocked // WaitFor found nothing and waits
		// A pause in which a polling wait would look again; a wait woken by
		// the recorder blocks twice whatever its length.
		time.Sleep(20 * time.Millisecond)
		_, other := tr.Start(ctx, "orders.other")
		other.End() // wakes it, but is not what it waits for
		<-blocked
		_, process := tr.Start(ctx, "process orders", trace.WithSpanKind(trace.SpanKindConsumer))
		process.SetAttributes(attributeDone)
		process.End()
	}()
	got := rec.WaitFor(t, "process orders", OfKind(trace.SpanKindConsumer))
	<-done
	if got == nil || got.Name() != "process orders" || got.EndTime().IsZero() {
		t.Fatalf("WaitFor returned %v", got)
	}
	if v, ok := attr(got, attributeDone.Key); !ok || v != attributeDone.Value {
		t.Errorf("returned span lacks what was set before End")
	}
	rec.AssertParent(t, rec.Span(t, "poll orders"), got)
	if n := waits.Load(); n != 2 {
		t.Errorf("WaitFor blocked %d times for two ended spans, want 2", n)
	}
}

var attributeDone = attribute.Int("messaging.batch.message_count", 1)
