package checks

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
)

// spanVar is a span variable assigned from a span start in a function.
type spanVar struct {
	v     *types.Var
	ctx   *types.Var // the context returned with the span, if kept in a variable
	stmt  ast.Node   // the AssignStmt or ValueSpec
	start spanStart
}

// spanVars returns the spans started directly in fn (a FuncDecl or FuncLit,
// not its nested function literals) and assigned to a variable. A start whose
// span is assigned to the blank identifier is reported by report, if not nil.
func spanVars(pass *analysis.Pass, fn ast.Node, discarded func(id *ast.Ident, s spanStart)) []spanVar {
	var body *ast.BlockStmt
	switch fn := fn.(type) {
	case *ast.FuncDecl:
		body = fn.Body
	case *ast.FuncLit:
		body = fn.Body
	}
	if body == nil {
		return nil
	}
	var out []spanVar
	ast.Inspect(body, func(n ast.Node) bool {
		var lhs []ast.Expr
		var rhs []ast.Expr
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.AssignStmt:
			lhs, rhs = n.Lhs, n.Rhs
		case *ast.ValueSpec:
			for _, id := range n.Names {
				lhs = append(lhs, id)
			}
			rhs = n.Values
		default:
			return true
		}
		if len(lhs) != 2 || len(rhs) != 1 {
			return true
		}
		call, ok := ast.Unparen(rhs[0]).(*ast.CallExpr)
		if !ok {
			return true
		}
		s, ok := asSpanStart(pass, call)
		if !ok || s.run {
			return true
		}
		id, ok := lhs[1].(*ast.Ident)
		if !ok {
			return true // a field or index: the span escapes
		}
		if id.Name == "_" {
			if _, ok := lhs[0].(*ast.Ident); !ok {
				return true // the context is stored: the span is ended through it
			}
			if discarded != nil {
				discarded(id, s)
			}
			return true
		}
		v := varOf(pass, id)
		if v != nil {
			sv := spanVar{v: v, stmt: n, start: s}
			if cid, ok := lhs[0].(*ast.Ident); ok {
				sv.ctx = varOf(pass, cid)
			}
			out = append(out, sv)
		}
		return true
	})
	return out
}

func varOf(pass *analysis.Pass, id *ast.Ident) *types.Var {
	if v, ok := pass.TypesInfo.Defs[id].(*types.Var); ok {
		return v
	}
	v, _ := pass.TypesInfo.Uses[id].(*types.Var)
	return v
}

// spanUse classifies what a statement does with a span variable.
type spanUse uint8

const (
	useNone    spanUse = iota
	useOther           // method calls that neither end nor record (SetAttributes, AddEvent...)
	useHandled         // ends the span, or hands it to code that may (escape)
)

// nonEnding are the helpers that take a span without ending it.
var nonEnding = map[string]bool{"RecordError": true, "SetAttributesFunc": true}

// useOf reports the strongest use of sv's span in n. Deferred closures count
// as their body; other function literals that mention the span count as an
// escape, since they may end it later (a goroutine, a callback). Storing or
// returning the span's context is an escape too: hook-style instrumentation
// ends the span later through trace.SpanFromContext.
func useOf(pass *analysis.Pass, sv spanVar, n ast.Node, namedResult bool) spanUse {
	v := sv.v
	use := useNone
	ast.PreorderStack(n, nil, func(n ast.Node, stack []ast.Node) bool {
		if use == useHandled {
			return false
		}
		switch n := n.(type) {
		case *ast.ReturnStmt:
			if n.Results == nil && namedResult {
				use = useHandled
			}
		case *ast.FuncLit:
			if len(stack) > 1 {
				if call, ok := stack[len(stack)-1].(*ast.CallExpr); ok && call.Fun == n {
					if _, ok := stack[len(stack)-2].(*ast.DeferStmt); ok {
						return true // defer func() { ... }(): look inside
					}
				}
			}
			if mentions(pass, v, n) {
				use = useHandled
			}
			return false
		case *ast.Ident:
			switch obj := pass.TypesInfo.Uses[n]; {
			case obj == v:
				use = max(use, classify(pass, n, stack))
			case obj == sv.ctx && sv.ctx != nil && storesOrReturns(n, stack):
				use = useHandled
			}
		}
		return true
	})
	return use
}

// classify tells what the expression around one use of v does with it.
func classify(pass *analysis.Pass, id *ast.Ident, stack []ast.Node) spanUse {
	parent := stack[len(stack)-1]
	if sel, ok := parent.(*ast.SelectorExpr); ok && sel.X == id && len(stack) > 1 {
		if call, ok := stack[len(stack)-2].(*ast.CallExpr); ok && call.Fun == sel {
			if sel.Sel.Name == "End" {
				return useHandled
			}
			return useOther
		}
	}
	if call, ok := parent.(*ast.CallExpr); ok && call.Fun != id {
		if fn := callee(pass, call); fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == tracingPath && nonEnding[fn.Name()] {
			return useOther
		}
	}
	return useHandled
}

// storesOrReturns reports whether the expression around id returns it or
// stores it outside a local variable.
func storesOrReturns(id *ast.Ident, stack []ast.Node) bool {
	switch p := stack[len(stack)-1].(type) {
	case *ast.ReturnStmt, *ast.KeyValueExpr, *ast.CompositeLit:
		return true
	case *ast.AssignStmt:
		for i, r := range p.Rhs {
			if r == id && i < len(p.Lhs) {
				_, local := p.Lhs[i].(*ast.Ident)
				return !local
			}
		}
	}
	return false
}

func mentions(pass *analysis.Pass, v *types.Var, n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && pass.TypesInfo.Uses[id] == v {
			found = true
		}
		return !found
	})
	return found
}

// signature returns the type of fn (a FuncDecl or FuncLit).
func signature(pass *analysis.Pass, fn ast.Node) *types.Signature {
	var t types.Type
	switch fn := fn.(type) {
	case *ast.FuncDecl:
		if obj := pass.TypesInfo.Defs[fn.Name]; obj != nil {
			t = obj.Type()
		}
	case *ast.FuncLit:
		t = pass.TypesInfo.TypeOf(fn)
	}
	sig, _ := t.(*types.Signature)
	return sig
}

func isNamedResult(sig *types.Signature, v *types.Var) bool {
	if sig == nil {
		return false
	}
	for i := range sig.Results().Len() {
		if sig.Results().At(i) == v {
			return true
		}
	}
	return false
}
