package w3c

import "time"

// SetReportEvery changes the report rate limit for a test and returns a
// function restoring it.
func SetReportEvery(d time.Duration) (restore func()) {
	old := reportEvery
	reportEvery = d
	lastReport.Store(0)
	return func() { reportEvery = old; lastReport.Store(0) }
}
