package w3c

import (
	"time"

	"github.com/otelkit/otelkit/internal/report"
)

// SetReportEvery changes the report rate limit for a test and returns a
// function restoring it.
func SetReportEvery(d time.Duration) (restore func()) {
	reports.Reset(d)
	return func() { reports.Reset(report.Every) }
}
