package checks

import (
	"go/ast"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// GlobalTracer reports direct use of the global tracer.
var GlobalTracer = &analysis.Analyzer{
	Name: "globaltracer",
	Doc: `report direct use of the global OpenTelemetry tracer

otel.Tracer(name) fixes the tracer at the global provider and bypasses the
conventions: business spans go through tracing.Start or tracing.Run (name
checks, the provider of the request), and instrumentation takes a
TracerProvider option that defaults to otel.GetTracerProvider().`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runGlobalTracer,
}

func runGlobalTracer(pass *analysis.Pass) (any, error) {
	if conventionsPackage(pass.Pkg) {
		return nil, nil
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	ins.Preorder([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node) {
		call := n.(*ast.CallExpr)
		if !isFunc(callee(pass, call), otelPath, "Tracer") || inTestFile(pass, n) {
			return
		}
		report(pass, analysis.Diagnostic{Pos: call.Pos(), End: call.End(), Category: "globaltracer",
			Message: "otel.Tracer bypasses the conventions: start business spans with tracing.Start or tracing.Run, or take a TracerProvider"})
	})
	return nil, nil
}
