// Command tracelint checks that Go code follows the otelkit instrumentation
// conventions: constant <domain>.<operation> span names, every span ended on
// every path, errors recorded on the span that saw them, business attribute
// keys from the registry, and no direct use of the global tracer.
//
// # Usage
//
// Pin it as a tool of your module (a tool directive in go.mod):
//
//	go get -tool github.com/otelkit/otelkit/cmd/tracelint
//
// then run it standalone, from a module root:
//
//	go tool tracelint ./...
//
// or as a go vet tool:
//
//	tracelint=$(go tool -n tracelint) && go vet -vettool="$tracelint" ./...
//
// Both fail when tracelint is not a tool of the module. Do not write
// go vet -vettool=$(command -v tracelint): when tracelint is not on PATH the
// flag is empty and go vet runs without it, and passes.
//
// Each check is an analyzer with its own flag: -spanname=false turns one
// off, -spanname alone runs only that one. -fix applies the suggested fixes
// (renaming a span literal to lower snake case, defer tracing.End(span, &err)
// in place of defer span.End(), keys.OrderID.String(v) in place of
// attribute.String("order.id", v) where package keys declares OrderID with
// tracing.NewStringKey). tracelint help <check> prints what a
// check enforces and why.
//
// A //tracelint:ignore comment on the line of a finding, or alone on the
// line above, silences it; //tracelint:ignore spanname -- reason silences
// only the named checks. It is meant for what a check cannot see, such as
// a helper of your own that passes its callers' constant span names on.
//
// The checks skip _test.go files (tests start spans as fixtures) and the
// tracing packages that implement the conventions. Raw tracer.Start calls in
// instrumentation packages, those declaring a ScopeName constant, name
// protocol spans by the OpenTelemetry semantic conventions and are exempt
// from the naming check.
//
// # golangci-lint
//
// The analyzers are in package github.com/otelkit/otelkit/cmd/tracelint/checks
// ([checks.Analyzers]); the module plugin that registers them is the
// separate module github.com/otelkit/otelkit/cmd/tracelint/golangci, see its
// package documentation.
package main

import (
	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/otelkit/otelkit/cmd/tracelint/checks"
)

func main() { multichecker.Main(checks.Analyzers()...) }
