// Package report is the one way the packages of this repository report a
// problem they meet in the background, off the caller's path: a malformed
// header from another process, a business value refused, a row that cannot
// be published as written, spans dropped from a full queue, an export that
// failed. Such a problem never fails the caller's operation; it goes to
// [otel.Handle] (where a program's error handler, or otelsetup's routing of
// it to a logger, picks it up), at most once per interval for each source,
// and the report that goes out says how many like it were held back since
// the last one, so that a flood of bad input or a collector that is down
// cannot flood the error handler, and nothing is lost in silence either.
package report

import (
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
)

// Every is the interval of the limiters of this repository: a problem that
// repeats is reported once a minute.
const Every = time.Minute

// Limiter lets one report through per interval. It is safe for concurrent
// use, and its zero value is not usable: make one with [New].
type Limiter struct {
	every atomic.Int64 // nanoseconds
	next  atomic.Int64 // unix nanoseconds before which reports are held back
	held  atomic.Int64 // held back since the last report that went out
}

// New returns a Limiter letting one report through every d.
func New(every time.Duration) *Limiter {
	l := &Limiter{}
	l.every.Store(int64(every))
	return l
}

// Allow reports whether a report may go out now, and if so how many were
// held back since the last one. When it may not, the report is counted as
// held back. Allow is for a caller that builds its own report, such as one
// that sums what the reports it held back were about.
func (l *Limiter) Allow() (ok bool, held int64) {
	now := time.Now().UnixNano()
	next := l.next.Load()
	if now < next || !l.next.CompareAndSwap(next, now+l.every.Load()) {
		l.held.Add(1)
		return false, 0
	}
	return true, l.held.Swap(0)
}

// Report hands err to otel.Handle unless a report went out less than the
// interval ago; then err is only counted, and the next report that goes out
// says how many were held back. The report wraps err, so errors.Is and
// errors.As see it.
func (l *Limiter) Report(err error) {
	ok, held := l.Allow()
	if !ok {
		return
	}
	if held > 0 {
		err = fmt.Errorf("%w (and %d more like it since the last report, at most one report per %v)", err, held, time.Duration(l.every.Load()))
	}
	otel.Handle(err)
}

// Reset forgets the last report and sets the interval to every (0 lets
// every report through), for tests.
func (l *Limiter) Reset(every time.Duration) {
	l.every.Store(int64(every))
	l.next.Store(0)
	l.held.Store(0)
}
