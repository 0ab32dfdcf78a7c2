// Package leakcheck holds one test, which pushes seeded secrets and
// personal data through every instrumented path (HTTP server and client,
// the span helpers, pgx, Kafka, the outbox) into an exporter behind
// [otelsetup.Setup]'s redaction, and through logcorr into a log line, and
// fails if any of them leaves in clear. It has no API; it is a module of
// its own so that it may import every package.
package leakcheck

import _ "github.com/otelkit/otelkit/sdk/otelsetup" // for the doc link
