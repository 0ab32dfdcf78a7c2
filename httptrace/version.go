package httptrace

// ScopeName is the instrumentation scope name of the spans of this package.
const ScopeName = "github.com/otelkit/otelkit/httptrace"

// Version is the version of this instrumentation package.
const Version = "0.1.0"
