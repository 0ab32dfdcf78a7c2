package checks

import (
	"go/ast"
	"strconv"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/cfg"
)

// SpanEnd checks that every span started is ended on every path.
var SpanEnd = &analysis.Analyzer{
	Name: "spanend",
	Doc: `check that every span started is ended on every path

A span returned by tracing.Start or tracer.Start must be ended on every path
out of the function that started it: by span.End(), by
defer tracing.End(span, &err), or by handing the span to code that takes
over (returning it, passing it to a function, a goroutine). A span never
ended is never exported, and its children appear orphaned. tracing.Run
ends its span itself. Paths that panic or call a function that never
returns (log.Fatal) are not counted.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer, ctrlflow.Analyzer},
	Run:      runSpanEnd,
}

func runSpanEnd(pass *analysis.Pass) (any, error) {
	if conventionsPackage(pass.Pkg) {
		return nil, nil
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	cfgs := pass.ResultOf[ctrlflow.Analyzer].(*ctrlflow.CFGs)
	ins.Preorder([]ast.Node{(*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)}, func(fn ast.Node) {
		if inTestFile(pass, fn) {
			return
		}
		vars := spanVars(pass, fn, func(id *ast.Ident, s spanStart) {
			report(pass, analysis.Diagnostic{Pos: id.Pos(), End: id.End(), Category: "spanend",
				Message: "span discarded: every span started must be ended; use tracing.Run or keep the span and defer its End"})
		})
		if len(vars) == 0 {
			return
		}
		var g *cfg.CFG
		switch fn := fn.(type) {
		case *ast.FuncDecl:
			g = cfgs.FuncDecl(fn)
		case *ast.FuncLit:
			g = cfgs.FuncLit(fn)
		}
		if g == nil {
			return
		}
		sig := signature(pass, fn)
		for _, sv := range vars {
			if ignored(pass, sv.start.call.Pos(), "spanend") {
				continue // and the return it would point at
			}
			exit := unendedPath(pass, g, sv, isNamedResult(sig, sv.v))
			if exit == nil {
				continue
			}
			line := pass.Fset.Position(sv.stmt.Pos()).Line
			report(pass, analysis.Diagnostic{Pos: sv.start.call.Pos(), End: sv.start.call.End(), Category: "spanend",
				Message: "the span started here is not ended on every path: defer its End right after the start (defer tracing.End(" + sv.v.Name() + ", &err))"})
			msg := "this return may be reached without ending the span started on line " + strconv.Itoa(line)
			if exit == sv.stmt {
				msg = "the loop may start the span of line " + strconv.Itoa(line) + " again without ending the previous one"
			}
			pos, end := exit.Pos(), exit.End()
			if pass.Fset.File(pos) != pass.Fset.File(end) {
				end = pos
			}
			report(pass, analysis.Diagnostic{Pos: pos, End: end, Category: "spanend", Message: msg})
		}
	})
	return nil, nil
}

// unendedPath returns a return statement (or, in a loop, the start itself)
// reachable from the start of sv without passing a statement that handles
// the span, or nil if every path handles it.
func unendedPath(pass *analysis.Pass, g *cfg.CFG, sv spanVar, namedResult bool) ast.Node {
	handles := func(nodes []ast.Node) bool {
		for _, n := range nodes {
			if useOf(pass, sv, n, namedResult) == useHandled {
				return true
			}
		}
		return false
	}
	var defblock *cfg.Block
	var rest []ast.Node
	for _, b := range g.Blocks {
		for i, n := range b.Nodes {
			if n == sv.stmt {
				defblock, rest = b, b.Nodes[i+1:]
			}
		}
	}
	if defblock == nil || handles(rest) {
		return nil
	}
	if ret := defblock.Return(); ret != nil {
		return ret
	}
	seen := map[*cfg.Block]bool{}
	var search func([]*cfg.Block) ast.Node
	search = func(blocks []*cfg.Block) ast.Node {
		for _, b := range blocks {
			if seen[b] {
				continue
			}
			seen[b] = true
			if b == defblock {
				// Back at the start through a loop: the nodes before the
				// start run first.
				for i, n := range b.Nodes {
					if n == sv.stmt {
						if handles(b.Nodes[:i]) {
							break
						}
						return sv.stmt
					}
				}
				continue
			}
			if handles(b.Nodes) {
				continue
			}
			if ret := b.Return(); ret != nil {
				return ret
			}
			if r := search(b.Succs); r != nil {
				return r
			}
		}
		return nil
	}
	return search(defblock.Succs)
}
