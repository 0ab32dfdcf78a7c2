package sqltrace

// ScopeName is the instrumentation scope of the spans and metrics of this
// package: its import path.
const ScopeName = "github.com/otelkit/otelkit/sqltrace"

// Version is the version of this instrumentation, reported with [ScopeName].
const Version = "0.1.0"
