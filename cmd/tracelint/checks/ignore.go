package checks

import (
	"go/ast"
	"go/token"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// The directive
//
//	//tracelint:ignore [check ...] [-- reason]
//
// on the line of a diagnostic, or alone on the line above it, suppresses
// the diagnostic: from every check, or from the named ones. It is the escape
// hatch for what a check cannot see, such as a helper of your own that
// passes its caller's constant span name on.
const ignoreDirective = "//tracelint:ignore"

// report reports d unless an ignore directive covers it.
func report(pass *analysis.Pass, d analysis.Diagnostic) {
	if !ignored(pass, d.Pos, d.Category) {
		pass.Report(d)
	}
}

func ignored(pass *analysis.Pass, pos token.Pos, check string) bool {
	f := fileOf(pass, &ast.Ident{NamePos: pos})
	if f == nil {
		return false
	}
	line := pass.Fset.Position(pos).Line
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if !strings.HasPrefix(c.Text, ignoreDirective) {
				continue
			}
			cl := pass.Fset.Position(c.Slash).Line
			if cl != line && cl != line-1 {
				continue
			}
			args, _, _ := strings.Cut(strings.TrimPrefix(c.Text, ignoreDirective), "--")
			names := strings.Fields(args)
			if len(names) == 0 {
				return true
			}
			for _, n := range names {
				if n == check {
					return true
				}
			}
		}
	}
	return false
}
