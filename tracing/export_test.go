package tracing

// ResetBaggageReports lets the next report about inbound baggage and the
// next about a refused business value through the once-a-minute limits.
func ResetBaggageReports() {
	inboundReports.last.Store(0)
	businessReports.last.Store(0)
}
