// Package checks holds the tracelint analyzers: the otelkit instrumentation
// conventions as [golang.org/x/tools/go/analysis] checks, so that they run in
// go vet, in golangci-lint and in the tracelint command alike.
//
// # Checks
//
//	spanname      span names are constant <domain>.<operation> names (tracing.ValidName)
//	spanend       every span started is ended on every path
//	spanerror     a function returning an error records it on its span
//	businesskey   business attribute keys come from the conventions registry
//	globaltracer  no otel.Tracer: business spans go through tracing.Start/Run
//
// Each analyzer's Doc says what it enforces and why; the command prints it
// with tracelint help <check>.
//
// # What is recognised
//
// Span starts are tracing.Start, tracing.Run (whose span the helper ends)
// and every call shaped like trace.Tracer.Start, taking (context.Context,
// string, ...) and returning (context.Context, trace.Span): the interface
// method and wrappers around it. A span counts as ended by span.End(), by
// tracing.End(span, ...), directly or deferred, in a deferred closure, or
// when the span or its context leaves the function (returned, stored in a
// field, passed to a function, captured by a goroutine or callback): the
// code that receives it is trusted to end it. An error counts as recorded
// by tracing.End with an error pointer, tracing.RecordError, or
// span.SetStatus(codes.Error, ...).
//
// The end-on-every-path check walks the control-flow graph of the function
// (golang.org/x/tools/go/analysis/passes/ctrlflow), as the lostcancel vet
// check does for context cancel functions: paths that panic or call a
// function that never returns do not count.
//
// # What is exempt
//
// Findings under a //tracelint:ignore [check ...] [-- reason] directive, on
// their line or alone on the line above.
//
// _test.go files (tests start spans as fixtures), the tracing package, its
// sub-packages and the SDK half under sdk/ (they implement the conventions), and, for
// the naming check only, raw tracer.Start calls in instrumentation packages:
// packages that declare a ScopeName constant name protocol spans
// (GET /orders/{id}, send orders) by the OpenTelemetry semantic conventions.
//
// The business keys the businesskey check knows are learnt from the code, not
// compiled into it: the calls tracing.NewStringKey, NewInt64Key,
// NewFloat64Key, NewBoolKey and tracing.Register(tracing.KeyInfo{Key: ...})
// with constant names, in the package analysed and in every package it
// depends on (an analysis fact per package carries them to its importers).
// A key registered with a name computed at run time (from configuration) is
// unknown to it, and so is a key declared in a package that the analysed
// package does not depend on: such a key is not enforced there.
package checks
