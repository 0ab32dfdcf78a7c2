package checks

import (
	"go/ast"
	"go/constant"
	"go/token"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/otelkit/otelkit/tracing"
)

// SpanName checks that span names are constants following the convention.
var SpanName = &analysis.Analyzer{
	Name: "spanname",
	Doc: `check that span names are constant <domain>.<operation> names

Span names given to tracing.Start, tracing.Run and a raw tracer.Start must be
constants in lower snake case with at least two dot-separated segments
(checkout.charge_payment), as tracing.ValidName defines. A name built from a
variable or fmt.Sprintf has unbounded cardinality and may leak ids or secrets
into an indexed field: put the variable part in an attribute instead.

Raw tracer.Start calls in instrumentation packages (those declaring a
ScopeName constant) name protocol spans after the OpenTelemetry semantic
conventions and are not checked.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runSpanName,
}

func runSpanName(pass *analysis.Pass) (any, error) {
	if conventionsPackage(pass.Pkg) {
		return nil, nil
	}
	instr := instrumentationPackage(pass.Pkg)
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	ins.Preorder([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node) {
		s, ok := asSpanStart(pass, n.(*ast.CallExpr))
		if !ok || (instr && !s.helper) || inTestFile(pass, n) {
			return
		}
		tv := pass.TypesInfo.Types[s.name]
		if tv.Value == nil || tv.Value.Kind() != constant.String {
			report(pass, analysis.Diagnostic{
				Pos: s.name.Pos(), End: s.name.End(), Category: "spanname",
				Message: "span name is not a constant: span names are constant <domain>.<operation> names; put the variable part in an attribute",
			})
			return
		}
		name := constant.StringVal(tv.Value)
		err := tracing.ValidName(name)
		if err == nil {
			return
		}
		d := analysis.Diagnostic{
			Pos: s.name.Pos(), End: s.name.End(), Category: "spanname",
			Message: strings.TrimPrefix(err.Error(), "tracing: "),
		}
		if lit, ok := s.name.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if fixed := snakeName(name); fixed != name && tracing.ValidName(fixed) == nil {
				d.Message += "; want " + strconv.Quote(fixed)
				d.SuggestedFixes = []analysis.SuggestedFix{{
					Message:   "Rename the span to " + strconv.Quote(fixed),
					TextEdits: []analysis.TextEdit{{Pos: lit.Pos(), End: lit.End(), NewText: []byte(strconv.Quote(fixed))}},
				}}
			}
		}
		report(pass, d)
	})
	return nil, nil
}

// snakeName rewrites a name in lower snake case: CamelCase words are split,
// spaces and dashes become underscores, dots are kept.
func snakeName(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r == ' ' || r == '-':
			b.WriteByte('_')
		case unicode.IsUpper(r):
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(unicode.IsUpper(rs[i-1]) && i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
