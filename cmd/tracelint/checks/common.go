package checks

import (
	"go/ast"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

const (
	tracingPath   = "github.com/otelkit/otelkit/tracing"
	sdkPath       = "github.com/otelkit/otelkit/sdk"
	otelPath      = "go.opentelemetry.io/otel"
	otelTracePath = "go.opentelemetry.io/otel/trace"
	attributePath = "go.opentelemetry.io/otel/attribute"
	codesPath     = "go.opentelemetry.io/otel/codes"
)

// conventionsPackage reports whether pkg is the tracing package, one of its
// sub-packages, or a package of the SDK half (sdk/...): they implement the
// conventions (the helpers call tracer.Start with the caller's name; the
// waterfall names keys it cannot import), so the checks do not apply to
// them.
func conventionsPackage(pkg *types.Package) bool {
	p := pkg.Path()
	return p == tracingPath || strings.HasPrefix(p, tracingPath+"/") || strings.HasPrefix(p, sdkPath+"/")
}

// instrumentationPackage reports whether pkg is an instrumentation library:
// one that declares an exported ScopeName constant, as every instrumentation
// package of this module does. Its spans are protocol spans (GET /orders,
// send orders) named by the OpenTelemetry semantic conventions, not business
// spans.
func instrumentationPackage(pkg *types.Package) bool {
	_, ok := pkg.Scope().Lookup("ScopeName").(*types.Const)
	return ok
}

// inTestFile reports whether n is in a _test.go file: the conventions are
// for production code; tests start spans as fixtures.
func inTestFile(pass *analysis.Pass, n ast.Node) bool {
	return strings.HasSuffix(pass.Fset.File(n.Pos()).Name(), "_test.go")
}

// callee returns the function or method called by call, or nil.
func callee(pass *analysis.Pass, call *ast.CallExpr) *types.Func {
	fn, _ := typeutil.Callee(pass.TypesInfo, call).(*types.Func)
	return fn
}

// isFunc reports whether fn is the package-level function path.name.
func isFunc(fn *types.Func, path string, names ...string) bool {
	if fn == nil || fn.Pkg() == nil {
		return false
	}
	if fn.Pkg().Path() != path {
		return false
	}
	if sig, ok := fn.Type().(*types.Signature); !ok || sig.Recv() != nil {
		return false
	}
	for _, n := range names {
		if fn.Name() == n {
			return true
		}
	}
	return false
}

// isNamed reports whether t is the named type path.name.
func isNamed(t types.Type, path, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	o := n.Obj()
	return o.Pkg() != nil && o.Pkg().Path() == path && o.Name() == name
}

// spanStart describes a call that starts a span.
type spanStart struct {
	call   *ast.CallExpr
	name   ast.Expr // the span name argument
	helper bool     // tracing.Start or tracing.Run, not a raw tracer
	run    bool     // tracing.Run: the helper ends the span itself
}

// asSpanStart recognises the calls that start a span: tracing.Start,
// tracing.Run, and any function or method shaped like trace.Tracer.Start,
// (context.Context, string, ...) (context.Context, trace.Span), which covers
// tracer.Start on the interface and on wrappers.
func asSpanStart(pass *analysis.Pass, call *ast.CallExpr) (spanStart, bool) {
	fn := callee(pass, call)
	if fn == nil || len(call.Args) < 2 {
		return spanStart{}, false
	}
	if isFunc(fn, tracingPath, "Run") {
		return spanStart{call: call, name: call.Args[1], helper: true, run: true}, true
	}
	sig := fn.Type().(*types.Signature)
	res, params := sig.Results(), sig.Params()
	if res.Len() != 2 || params.Len() < 2 ||
		!isNamed(res.At(0).Type(), "context", "Context") ||
		!isNamed(res.At(1).Type(), otelTracePath, "Span") ||
		!isNamed(params.At(0).Type(), "context", "Context") {
		return spanStart{}, false
	}
	if b, ok := params.At(1).Type().Underlying().(*types.Basic); !ok || b.Kind() != types.String {
		return spanStart{}, false
	}
	return spanStart{call: call, name: call.Args[1], helper: isFunc(fn, tracingPath, "Start")}, true
}

// importName returns the name under which file imports path, or "".
func importName(pass *analysis.Pass, file *ast.File, path string) string {
	for _, imp := range file.Imports {
		if strings.Trim(imp.Path.Value, `"`) != path {
			continue
		}
		if imp.Name != nil {
			if imp.Name.Name == "_" || imp.Name.Name == "." {
				return ""
			}
			return imp.Name.Name
		}
		if pn, ok := pass.TypesInfo.Implicits[imp].(*types.PkgName); ok {
			return pn.Name()
		}
	}
	return ""
}

// fileOf returns the file of pass that contains n.
func fileOf(pass *analysis.Pass, n ast.Node) *ast.File {
	for _, f := range pass.Files {
		if f.FileStart <= n.Pos() && n.Pos() < f.FileEnd {
			return f
		}
	}
	return nil
}
