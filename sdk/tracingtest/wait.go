package tracingtest

import (
	"fmt"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// WaitFor waits until a span named name that all of match select has
// ended, and returns the first that did. It is for spans that end on
// another goroutine after the call under test returns: a Kafka consumer's
// span, an outbox relay's, a server span ending after the client read the
// response, spans exported by a batch processor through
// [Recorder.Exporter]. If none ends within the wait timeout
// ([WithWaitTimeout]) it fails the test with Fatalf, naming the closest
// spans recorded, and returns nil.
//
// Spans of the providers of [New] and [Recorder.Service] are recorded on the
// goroutine that ends them, before their End returns; the recorder then
// wakes the waiters, which do not poll. A span WaitFor returns has ended:
// its attributes, events and status are final.
func (r *Recorder) WaitFor(tb TB, name string, match ...Match) sdktrace.ReadOnlySpan {
	tb.Helper()
	if got := r.WaitForN(tb, 1, name, match...); len(got) == 1 {
		return got[0]
	}
	return nil
}

// WaitForN waits as [Recorder.WaitFor] does until n spans named name that
// all of match select have ended, and returns the first n, in the order
// they ended. It does not wait to see whether more end: check that with
// [Recorder.Find] or [Recorder.AssertNoSpan] once the work is known to be
// done. On timeout it fails the test with Fatalf and returns nil.
func (r *Recorder) WaitForN(tb TB, n int, name string, match ...Match) []sdktrace.ReadOnlySpan {
	tb.Helper()
	timeout := time.NewTimer(r.cfg.wait)
	defer timeout.Stop()
	for {
		r.mu.Lock()
		found := find(r.spans, name, match)
		changed, onWait := r.changed, r.onWait
		r.mu.Unlock()
		if len(found) >= n {
			return found[:max(n, 0)]
		}
		if onWait != nil {
			onWait()
		}
		select {
		case <-changed:
		case <-timeout.C:
			msg := fmt.Sprintf("waited %v for %d ended span(s) %q, %d ended", r.cfg.wait, n, name, len(found))
			if more := r.whatIsThere(name, match, len(found)); more != "" {
				msg += ": " + more
			}
			r.fail(tb, true, "%s", msg)
			return nil
		}
	}
}
