package logcorr

// ScopeName is the instrumentation scope name of this package: its import
// path. The error bridge does not create spans, so it is used only to name
// the package in [otel.Handle] reports and in recipes that pair logcorr with
// an OpenTelemetry logs bridge.
const ScopeName = "github.com/otelkit/otelkit/logcorr"

// Version is the version of this package.
func Version() string { return "0.1.0" }
