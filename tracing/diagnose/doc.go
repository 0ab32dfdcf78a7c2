// Package diagnose reads a trace the way an on-call engineer does and says
// what it shows: the critical path, the span where an error started, and
// the signatures of the usual incidents, from the spans alone. Comparing
// many traces, it finds the attribute values that separate the operations
// that went wrong from those that went well.
//
// It works on any OpenTelemetry trace, not only on spans of this module's
// instrumentation: it reads span kinds, parents, links, status and the
// semantic-convention attributes (http.*, db.*, messaging.*, error.type).
// It has its own small span model, [Span], so that it depends on no SDK
// and no protobuf: package sdk/spanconv converts the SDK's spans,
// cmd/tracediag reads OTLP JSON files and Jaeger's query API, the terminal
// waterfall prints the findings under each trace and the test kit asserts
// on them.
//
//	for _, d := range diagnose.Diagnose(spans) {
//		fmt.Println(d.TraceID, d.Root)
//		for _, f := range d.Findings {
//			fmt.Println(f) // "retry-storm: orders POST /orders: 4 attempts of POST ..."
//		}
//	}
//	for _, diff := range diagnose.Compare(diagnoses) {
//		fmt.Println(diff) // "... payment.provider.api_version=2025-01-15 in 100% of failed (2/2), 0% of the others (0/12)"
//	}
//
// # Critical path
//
// [Diagnosis.CriticalPath] is the chain of spans that determined the
// request's duration, from the root (the earliest span whose parent is not
// in the trace) to the last span that descends from it, asynchronous hops
// included: a consumer outlives the request that produced its message, so
// the trace's duration runs to the consumer's end. Walking back from the
// end of each span, the child that ended last is on the path, then the
// child that ended last before that one started, and so on. Each step has
// its own time (Self, not spent in a child on the path) and its Wait: time
// before it started during which nothing on the path ran because its
// parent had ended, the time a message sat in an outbox table or a topic.
//
// A span whose parent is not in the trace but that links to a span in it
// (a batch consumer linking to its producers) hangs under the span it
// links to. Parent cycles and duplicate spans, which only a corrupt trace
// has, are broken and dropped.
//
// # Findings
//
// Each [Finding] names its [Kind], the span (name, service, span id), and
// the evidence as a sentence (Summary) and as values (Fields). A healthy
// trace has none. A diagnosis lists them in this order:
//
//   - [ErrorOrigin]: the request failed, and this is the span where the
//     failure started. From the highest failed span, the walk goes down
//     through the first failed child at each level (the first span with an
//     error status is the origin), and through a server span that
//     answered a 4xx without being an error itself (the callee decided the
//     failure), except below a caller that timed out, whose callee's late
//     answer did not matter. Fields: error, error.type,
//     http.response.status_code, reached (the root), depth.
//   - [LostMessage]: a producer span no consumer span in the trace
//     processed, neither as its child nor through a link: the message was
//     sent and never handled. Fields: messaging.system,
//     messaging.destination.name, messaging.destination.partition.id, the
//     offset or message id.
//   - [TimeoutChain]: a span still running when its failed parent gave up:
//     it ended after the parent (within 2% of the parent's duration when
//     the parent timed out, for clock skew between services). Repeats of
//     the same caller and callee are one finding with a count. Fields:
//     caller, caller_duration and callee_duration (seconds), timeout,
//     count.
//   - [RetryStorm]: several client spans under one parent to the same
//     downstream (name, server.address, server.port, URL path): any of them
//     with http.request.resend_count above 0, or three or more of which all
//     but the last failed (not database statements). The finding is on the
//     parent, which retried. Fields: attempts, failed, timeouts,
//     http.request.resend_count (the highest), duration, downstream.
//   - [PoolExhaustion]: time waiting for a pooled connection, at least
//     10ms (shorter is a pool handing over a connection being opened) and
//     as long as the statements that followed it under the same parent: an
//     acquire span ("pgxpool.acquire", otelpgx's "pool.acquire") that did
//     not open a connection, or the pgxpool.acquire.duration attribute on
//     a statement. One finding per trace, on the longest wait. Fields:
//     wait, statements, waits, total_wait.
//   - [FanOutFailure]: children of one parent that ran in parallel, some
//     but not all failed. The finding is on the first failed one. Fields:
//     parent, parallel, failed, degraded (the parent did not fail).
//   - [ErrorAbsorbed]: a failure that stopped at a parent that did not
//     fail: graceful degradation, or, when the failure is below a consumer
//     span (async true), a silent asynchronous failure that the request
//     never saw. The finding is on the origin, found as for ErrorOrigin.
//     Fields: absorbed_by, async, and the error fields.
//   - [DominantStep]: in a trace whose critical path lasts at least 100ms
//     ([WithSlowRequest]), a span of the path, not the root, that takes at
//     least half of it ([WithDominance]) by itself, counting as its own the
//     time of three or more children of the same name on the path (the
//     same query repeated). Fields: share, time, critical_path, repeated
//     and repeats (the query and how often), db.query.summary.
//
// Apart from that floor, the thresholds are ratios of the trace's own
// times, so the same trace is diagnosed alike on any machine. A step that
// dominates is a fact, not always a fault: the first request of a fresh
// process spends most of its time opening connections.
//
// # Comparison
//
// [Compare] takes the diagnoses of many traces and, for every operation
// (service, span name, kind) that failed (status Error) or was lost (a
// [LostMessage]) in some traces and went well in others, returns the span
// and resource attribute values carried by at least half of the bad spans
// and by a share of the good ones at least 50 points lower, most
// separating first: "payment.provider.api_version=2025-01-15 in 100% of
// failed, 0% of the others". Keys whose every value is unique (ids,
// offsets) are skipped, as are those that describe the failure itself
// (error.type, status codes, exception.*).
//
// # Cost
//
// Diagnose is linear in the spans, plus sorting each span's children: on
// 2 cores, a 10,000-span trace takes 22 to 33 ms of CPU and 6.7 MB; 1,000
// traces of 108 spans are diagnosed and compared in 190 to 280 ms
// (bench/README.md). It keeps pointers into the spans it was given and
// does not modify them; it is safe to call concurrently.
package diagnose
