package kafkatrace

// ScopeName is the instrumentation scope name of the spans this package
// creates: its import path.
const ScopeName = "github.com/otelkit/otelkit/kafkatrace"

// Version is the version of this instrumentation, reported as the
// instrumentation scope version.
const Version = "0.1.0"
