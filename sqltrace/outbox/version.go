package outbox

// ScopeName is the instrumentation scope name of the relay's tracer and
// meter: the import path of this package.
const ScopeName = "github.com/otelkit/otelkit/sqltrace/outbox"

// Version is the version of this instrumentation.
const Version = "0.1.0"
