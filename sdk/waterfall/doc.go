// Package waterfall prints traces in a terminal as indented waterfalls, for
// local development: run a service, make a request, read the trace where the
// logs are, with no collector and no browser.
//
//	trace 4b000000000000000000000000000001  POST /checkout  1.25s  9 spans, 2 failed  order.id=ord-42  user.id=u-7
//	gateway       POST /checkout              |████████████████████████|   1.25s
//	gateway       └─ POST                     |██████████████████      |   900ms
//	orders           └─ POST /orders          |██████████████████      |   890ms
//	orders              ├─ orders.create      |████████████            |   600ms
//	orders              └─ payments.charge    |            █████       |   250ms  ERROR
//	                          provider rejected the charge  error.type=401
//
// Each line is one span: its service, its name under its parent, a bar on the
// trace's shared time axis, its duration, and for failed spans ERROR with the
// status description, the exception message and error.type. The business keys
// that travel (registered with tracing.Travels: tracing.UserID,
// tracing.TenantID and the program's own, here an order id) are shown once
// per trace, in the header, and on a span only where they differ;
// [WithTraceAttributes] sets the list instead. Spans whose parent is not in the trace
// (another process) are drawn as roots.
//
// # Diagnosis
//
// Under the header, each finding of [diagnose.Diagnose] on the trace gets a
// line marked ⚑, wrapped rather than cut: where the error started and
// whether the request saw it, a message no consumer processed, a retry
// storm, a callee still running when its caller gave up, a wait for a pool
// connection, a partial failure of a fan-out, a step that dominates the
// critical path. A healthy trace has no finding and so no such line;
// [WithDiagnosis](false) removes them. The exporter diagnoses a trace when
// it prints it whole, not the parts labelled "continued" or "root span not
// ended" below.
//
// # Wiring
//
// With package tracing, set OTEL_TRACES_EXPORTER=waterfall, or make it the
// program's default:
//
//	shutdown, err := otelsetup.Setup(ctx,
//		otelsetup.WithServiceName("checkout"),
//		otelsetup.WithDefaultTracesExporter("waterfall"))
//
// By hand, feed an [Exporter] synchronously; it only buffers:
//
//	exp := waterfall.NewExporter(os.Stderr)
//	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(exp)))
//
// [Render] draws spans already collected, for instance by an in-memory
// exporter in a test failure message.
//
// # When a trace prints
//
// The exporter prints a trace [WithLinger] (500ms) after its last local root
// span ended, so that the spans of the other services of the same process, and
// children ending just after their parent, print with it. A trace whose root
// never ends prints after [WithTimeout] (30s), labelled "root span not
// ended"; spans arriving after their trace printed print later, labelled
// "continued". At most [WithMaxSpans] (10000) spans wait; beyond that the
// oldest traces print early. Memory is therefore bounded whatever the
// application does.
//
// # Terminal
//
// The bar shrinks to the terminal width (else COLUMNS, else 120 columns);
// details that do not fit go on a line of their own. Colours are used only
// when writing to a terminal and never when NO_COLOR is set. Control
// characters in names and values are replaced, so span data cannot move the
// cursor or retitle the terminal.
//
// # Cost
//
// ExportSpans appends to a map under a mutex; rendering happens on a timer
// goroutine, once per trace (BenchmarkTerminalExporter in the repository's
// bench module; numbers in bench/README.md). It is a development tool: in
// production, export OTLP.
package waterfall
