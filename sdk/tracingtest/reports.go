package tracingtest

import (
	"sync"

	"go.opentelemetry.io/otel"
)

// Reports routes what instrumentation reports through [otel.Handle] (bad
// span names, dropped spans, export failures, bad rows) to memory for the
// rest of the test, and returns a function that lists the reports so far.
// The previous error handler is restored when the test ends. The handler is
// process-wide: tests that call Reports must not run in parallel.
func Reports(tb TB) func() []error {
	tb.Helper()
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
	tb.Cleanup(func() { otel.SetErrorHandler(prev) })
	return func() []error {
		mu.Lock()
		defer mu.Unlock()
		return append([]error(nil), errs...)
	}
}
