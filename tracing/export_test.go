package tracing

import "github.com/otelkit/otelkit/internal/report"

// ResetBaggageReports lets the next report about inbound baggage and the
// next about a refused business value through the once-a-minute limits.
func ResetBaggageReports() {
	inboundReports.Reset(report.Every)
	businessReports.Reset(report.Every)
}
