package logcorr

// ScopeName is the instrumentation scope name of this package: its import
// path, as every otelkit instrumentation package exports it. The log records
// of [WithLoggerProvider] are emitted under it. logcorr creates no spans (the
// error bridge writes to the span it finds in the context).
const ScopeName = "github.com/otelkit/otelkit/logcorr"

// Version is the version of this package.
const Version = "0.1.0"
