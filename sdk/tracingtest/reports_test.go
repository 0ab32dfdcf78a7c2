package tracingtest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/otelkit/otelkit/sdk/tracingtest"
)

// A report made on a background goroutine, after the call under test
// returned, is waited for.
func TestCaptureReports_WaitForAReportFromAnotherGoroutine(t *testing.T) {
	reports := tracingtest.CaptureReports(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		otel.Handle(errors.New("export failed"))
		otel.Handle(errors.New("3 spans dropped"))
	}()
	got := reports.WaitFor(t, func(err error) bool { return strings.Contains(err.Error(), "dropped") })
	<-done
	if got == nil || got.Error() != "3 spans dropped" {
		t.Errorf("WaitFor returned %v", got)
	}
	if first := reports.WaitFor(t, nil); first == nil || first.Error() != "export failed" {
		t.Errorf("WaitFor(nil) returned %v, want the first report", first)
	}
	if all := reports.All(); len(all) != 2 {
		t.Errorf("All() = %v", all)
	}
}

func TestCaptureReports_TimeoutListsTheReports(t *testing.T) {
	outer := tracingtest.Reports(t)
	ft := &fakeTB{}
	reports := tracingtest.CaptureReports(ft, tracingtest.WithWaitTimeout(time.Millisecond))
	otel.Handle(errors.New("export failed"))
	if got := reports.WaitFor(ft, func(err error) bool { return strings.Contains(err.Error(), "dropped") }); got != nil || !ft.fatal {
		t.Errorf("WaitFor returned %v, fatal %v", got, ft.fatal)
	}
	want := `tracingtest: waited 1ms for a report through otel.Handle that the test accepts, found "export failed"`
	if msg := ft.failures(); msg != want {
		t.Errorf("message\n%s\nwant\n%s", msg, want)
	}
	ft.finish()
	otel.Handle(errors.New("after the test"))
	if n, o := len(reports.All()), outer(); n != 1 || len(o) != 1 || o[0].Error() != "after the test" {
		t.Errorf("handler not restored when the test ended: %d reports, previous handler got %v", n, o)
	}
}
