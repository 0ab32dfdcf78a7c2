package report

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
)

func capture(t *testing.T) func() []error {
	t.Helper()
	prev := otel.GetErrorHandler()
	var (
		mu   sync.Mutex
		errs []error
	)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	return func() []error {
		mu.Lock()
		defer mu.Unlock()
		return append([]error(nil), errs...)
	}
}

var errBad = errors.New("bad header")

func TestLimiter_OneReportPerIntervalCountingTheRest(t *testing.T) {
	got := capture(t)
	l := New(time.Hour)
	for range 5 {
		l.Report(errBad)
	}
	if n := len(got()); n != 1 {
		t.Fatalf("%d reports within the interval, want 1", n)
	}
	l.next.Store(0) // the interval has passed
	l.Report(errBad)
	errs := got()
	if len(errs) != 2 {
		t.Fatalf("%d reports after the interval, want 2", len(errs))
	}
	if !errors.Is(errs[1], errBad) || !strings.Contains(errs[1].Error(), "and 4 more like it") {
		t.Errorf("second report = %v, want it to wrap the error and count the 4 held back", errs[1])
	}
	l.next.Store(0)
	l.Report(errBad)
	if e := got()[2]; strings.Contains(e.Error(), "more like it") {
		t.Errorf("third report = %v, want no count: nothing was held back", e)
	}
}

func TestLimiter_ConcurrentReportsLetOneThrough(t *testing.T) {
	got := capture(t)
	l := New(time.Hour)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { l.Report(errBad) })
	}
	wg.Wait()
	if n := len(got()); n != 1 {
		t.Fatalf("%d reports from 50 goroutines, want 1", n)
	}
	if h := l.held.Load(); h != 49 {
		t.Errorf("held back %d, want 49", h)
	}
}
