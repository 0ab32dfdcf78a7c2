package tracingtest

import (
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
)

// Reports routes what instrumentation reports through [otel.Handle] (bad
// span names, dropped spans, export failures, bad rows) to memory for the
// rest of the test, and returns a function that lists the reports so far.
// The previous error handler is restored when the test ends. The handler is
// process-wide: tests that call Reports must not run in parallel. To wait
// for a report made on another goroutine, use [CaptureReports].
func Reports(tb TB) func() []error {
	tb.Helper()
	return CaptureReports(tb).All
}

// ReportLog holds what was reported through [otel.Handle] since
// [CaptureReports]. Its methods are safe for concurrent use.
type ReportLog struct {
	wait time.Duration

	mu      sync.Mutex
	errs    []error
	changed chan struct{} // closed, and replaced, when errs grows
}

// CaptureReports routes what instrumentation reports through [otel.Handle]
// to the returned log for the rest of the test, as [Reports] does. Of opts,
// only [WithWaitTimeout] applies, to [ReportLog.WaitFor].
func CaptureReports(tb TB, opts ...Option) *ReportLog {
	tb.Helper()
	cfg := config{wait: DefaultWaitTimeout}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	l := &ReportLog{wait: cfg.wait, changed: make(chan struct{})}
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(l.handle))
	tb.Cleanup(func() { otel.SetErrorHandler(prev) })
	return l
}

// handle runs on the goroutine that reports: a batch processor's, a
// relay's, the caller's.
func (l *ReportLog) handle(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
	close(l.changed) // wakes every waiter
	l.changed = make(chan struct{})
}

// All returns the reports so far, in the order they were made.
func (l *ReportLog) All() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

// WaitFor returns the first report that match accepts (any report if match
// is nil), waiting for it if it has not been made yet: background work
// reports on its own goroutine, after the call under test returns. Like
// [Recorder.WaitFor] it wakes when a report arrives and does not poll; if
// none is accepted within the wait timeout it fails the test with Fatalf,
// listing the reports made, and returns nil.
func (l *ReportLog) WaitFor(tb TB, match func(error) bool) error {
	tb.Helper()
	timeout := time.NewTimer(l.wait)
	defer timeout.Stop()
	seen := 0
	for {
		l.mu.Lock()
		errs, changed := l.errs, l.changed
		l.mu.Unlock()
		for _, err := range errs[seen:] {
			if match == nil || match(err) {
				return err
			}
		}
		seen = len(errs)
		select {
		case <-changed:
		case <-timeout.C:
			got := make([]string, len(errs))
			for i, err := range errs {
				got[i] = fmt.Sprintf("%q", err.Error())
			}
			if len(got) == 0 {
				got = []string{"none"}
			}
			tb.Fatalf("tracingtest: waited %v for a report through otel.Handle that the test accepts, found %s", l.wait, list(got))
			return nil
		}
	}
}
