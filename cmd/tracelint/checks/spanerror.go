package checks

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// SpanError checks that functions returning an error record it on their span.
var SpanError = &analysis.Analyzer{
	Name: "spanerror",
	Doc: `check that a function returning an error records it on its span

A function that starts a span and returns an error must record that error on
the span, so that the trace shows where the failure happened: status Error
and error.type. defer tracing.End(span, &err) and tracing.RecordError do
both; span.SetStatus(codes.Error, ...) is accepted as a direct recording.
span.RecordError alone only adds an event: the span still looks healthy.
A span handed to other code is not checked.

When the function has a named error result and already defers span.End(),
the suggested fix replaces it with defer tracing.End(span, &err).`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runSpanError,
}

func runSpanError(pass *analysis.Pass) (any, error) {
	if conventionsPackage(pass.Pkg) {
		return nil, nil
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	ins.Preorder([]ast.Node{(*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)}, func(fn ast.Node) {
		sig := signature(pass, fn)
		if sig == nil || inTestFile(pass, fn) {
			return
		}
		errResult := errorResult(sig)
		if errResult == nil {
			return
		}
		for _, sv := range spanVars(pass, fn, nil) {
			if !returnsErrorAfter(pass, fn, sv.start.call.End()) {
				continue
			}
			rec := recordingOf(pass, sv.v, fn)
			if rec.records || rec.escapes {
				continue
			}
			d := analysis.Diagnostic{Pos: sv.start.call.Pos(), End: sv.start.call.End(), Category: "spanerror",
				Message: "function returns an error but does not record it on the span started here" +
					" (errors set status Error and error.type): defer tracing.End(" + sv.v.Name() + ", &err)"}
			if rec.onlyEvent {
				d.Message = "span." + "RecordError adds an event but leaves the span's status Unset: use tracing.RecordError(" + sv.v.Name() + ", err) or defer tracing.End(" + sv.v.Name() + ", &err)"
			}
			if fix, ok := endFix(pass, fn, sv, rec.deferEnd, errResult); ok {
				d.SuggestedFixes = []analysis.SuggestedFix{fix}
			}
			report(pass, d)
		}
	})
	return nil, nil
}

// errorResult returns the last result of sig if it is an error, else nil.
func errorResult(sig *types.Signature) *types.Var {
	res := sig.Results()
	if res.Len() == 0 {
		return nil
	}
	last := res.At(res.Len() - 1)
	if !types.Identical(last.Type(), types.Universe.Lookup("error").Type()) {
		return nil
	}
	return last
}

// returnsErrorAfter reports whether fn (not its nested function literals)
// has a return statement after pos that may return a non-nil error: its last
// result is not the nil literal, or it is a bare return of a named result.
func returnsErrorAfter(pass *analysis.Pass, fn ast.Node, pos token.Pos) bool {
	found := false
	ast.Inspect(fn, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return n == fn
		case *ast.ReturnStmt:
			if n.Pos() < pos {
				return false
			}
			if len(n.Results) == 0 || !isNil(pass, n.Results[len(n.Results)-1]) {
				found = true
			}
		}
		return !found
	})
	return found
}

type recording struct {
	records   bool           // tracing.End with an error pointer, tracing.RecordError, SetStatus
	onlyEvent bool           // span.RecordError without status
	escapes   bool           // the span is handed to other code
	deferEnd  *ast.DeferStmt // defer span.End()
}

// recordingOf looks through fn, closures included, for what records an
// error on v.
func recordingOf(pass *analysis.Pass, v *types.Var, fn ast.Node) recording {
	var r recording
	ast.PreorderStack(fn, nil, func(n ast.Node, stack []ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok || pass.TypesInfo.Uses[id] != v {
			return true
		}
		parent := stack[len(stack)-1]
		if sel, ok := parent.(*ast.SelectorExpr); ok && sel.X == id && len(stack) > 1 {
			call, ok := stack[len(stack)-2].(*ast.CallExpr)
			if !ok || call.Fun != sel {
				r.escapes = true // a method value
				return true
			}
			switch sel.Sel.Name {
			case "SetStatus":
				r.records = r.records || len(call.Args) > 0 && isErrorCode(pass, call.Args[0])
			case "RecordError":
				r.onlyEvent = true
			case "End":
				if len(stack) > 2 {
					if d, ok := stack[len(stack)-3].(*ast.DeferStmt); ok && d.Call == call {
						r.deferEnd = d
					}
				}
			}
			return true
		}
		if call, ok := parent.(*ast.CallExpr); ok && call.Fun != id {
			fn := callee(pass, call)
			switch {
			case isFunc(fn, tracingPath, "RecordError"):
				r.records = true
			case isFunc(fn, tracingPath, "End"):
				if len(call.Args) == 2 && !isNil(pass, call.Args[1]) {
					r.records = true
				}
			case isFunc(fn, tracingPath, "SetAttributesFunc"):
			default:
				r.escapes = true
			}
			return true
		}
		r.escapes = true
		return true
	})
	return r
}

func isErrorCode(pass *analysis.Pass, e ast.Expr) bool {
	if sel, ok := ast.Unparen(e).(*ast.SelectorExpr); ok {
		if c, ok := pass.TypesInfo.Uses[sel.Sel].(*types.Const); ok {
			return c.Pkg() != nil && c.Pkg().Path() == codesPath && c.Name() == "Error"
		}
	}
	return true // a variable code: assume the author knows
}

func isNil(pass *analysis.Pass, e ast.Expr) bool {
	return pass.TypesInfo.Types[e].IsNil()
}

// endFix replaces `defer span.End()` by `defer tracing.End(span, &err)` when
// the error result is named and the file imports tracing.
func endFix(pass *analysis.Pass, fn ast.Node, sv spanVar, d *ast.DeferStmt, errResult *types.Var) (analysis.SuggestedFix, bool) {
	if d == nil || errResult.Name() == "" || errResult.Name() == "_" {
		return analysis.SuggestedFix{}, false
	}
	file := fileOf(pass, fn)
	if file == nil {
		return analysis.SuggestedFix{}, false
	}
	pkg := importName(pass, file, tracingPath)
	if pkg == "" {
		return analysis.SuggestedFix{}, false
	}
	var buf bytes.Buffer
	call := &ast.CallExpr{
		Fun:  &ast.SelectorExpr{X: ast.NewIdent(pkg), Sel: ast.NewIdent("End")},
		Args: []ast.Expr{ast.NewIdent(sv.v.Name()), &ast.UnaryExpr{Op: token.AND, X: ast.NewIdent(errResult.Name())}},
	}
	if err := format.Node(&buf, pass.Fset, call); err != nil {
		return analysis.SuggestedFix{}, false
	}
	return analysis.SuggestedFix{
		Message:   "Record the error result: defer " + buf.String(),
		TextEdits: []analysis.TextEdit{{Pos: d.Call.Pos(), End: d.Call.End(), NewText: buf.Bytes()}},
	}, true
}
