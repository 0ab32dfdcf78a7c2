package logcorr

// ScopeName is the instrumentation scope name of this package: its import
// path, as every otelkit instrumentation package exports it. logcorr creates
// no spans or log records of its own (the error bridge writes to the span it
// finds in the context), so no tracer or logger is created under this name.
const ScopeName = "github.com/otelkit/otelkit/logcorr"

// Version is the version of this package.
const Version = "0.1.0"
