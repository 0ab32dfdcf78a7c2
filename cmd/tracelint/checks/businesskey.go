package checks

import (
	"go/ast"
	"go/constant"
	"go/types"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/otelkit/otelkit/tracing"
)

// BusinessKey checks that business attribute keys come from the registry.
var BusinessKey = &analysis.Analyzer{
	Name: "businesskey",
	Doc: `check that business attribute keys come from the conventions registry

An attribute key written as a string (attribute.String("order.id", v),
attribute.Key("order.id")) in a namespace of the conventions registry
(order., user., tenant., payment.) bypasses what the registry declares for
it: its type, whether it is personal data to hash or drop on export, whether
it travels in baggage. Use the registered key (tracing.OrderID.String(v)), or
register a new one with tracing.NewStringKey and friends. Where the key is
registered and the file imports tracing, the suggested fix rewrites the call.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runBusinessKey,
}

// registry maps each registered key to its Go name in package tracing, and
// namespaces holds their first segments. The registry is the tracing
// package's, as compiled into this analyzer.
var (
	registry   = map[string]tracing.KeyInfo{}
	namespaces = map[string]bool{}
)

func init() {
	for _, k := range tracing.Keys() {
		registry[string(k.Key)] = k
		ns, _, _ := strings.Cut(string(k.Key), ".")
		namespaces[ns] = true
	}
}

// keyMethods maps attribute constructors to the method of the registered key
// type that builds the same attribute.
var keyMethods = map[string]struct {
	typ    attribute.Type
	method string
}{
	"String":  {attribute.STRING, "String"},
	"Int":     {attribute.INT64, "Int"},
	"Int64":   {attribute.INT64, "Int64"},
	"Float64": {attribute.FLOAT64, "Float64"},
	"Bool":    {attribute.BOOL, "Bool"},
}

var attrConstructors = []string{"String", "Int", "Int64", "Float64", "Bool", "Stringer",
	"StringSlice", "IntSlice", "Int64Slice", "Float64Slice", "BoolSlice"}

func runBusinessKey(pass *analysis.Pass) (any, error) {
	if conventionsPackage(pass.Pkg) {
		return nil, nil
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	ins.Preorder([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node) {
		call := n.(*ast.CallExpr)
		if len(call.Args) == 0 || inTestFile(pass, n) {
			return
		}
		var ctor string
		if tv := pass.TypesInfo.Types[call.Fun]; tv.IsType() && isNamed(tv.Type, attributePath, "Key") {
			ctor = "Key"
		} else if fn := callee(pass, call); isFunc(fn, attributePath, attrConstructors...) {
			ctor = fn.Name()
		} else {
			return
		}
		tv := pass.TypesInfo.Types[call.Args[0]]
		if tv.Value == nil || tv.Value.Kind() != constant.String {
			return
		}
		key := constant.StringVal(tv.Value)
		ns, _, ok := strings.Cut(key, ".")
		if !ok || !namespaces[ns] {
			return
		}
		d := analysis.Diagnostic{Pos: call.Pos(), End: call.End(), Category: "businesskey"}
		info, registered := registry[key]
		if !registered {
			d.Message = "attribute key " + strconv.Quote(key) + " is in the registered namespace " + ns +
				".: declare it with tracing.New" + typeName(ctor) + "Key so that its type and data handling are registered"
			report(pass, d)
			return
		}
		goName := keyGoName(key)
		d.Message = "attribute key " + strconv.Quote(key) + " is registered: use tracing." + goName
		if fix, ok := keyFix(pass, call, ctor, goName, info); ok {
			d.SuggestedFixes = []analysis.SuggestedFix{fix}
		}
		report(pass, d)
	})
	return nil, nil
}

func typeName(ctor string) string {
	switch ctor {
	case "Int", "Int64":
		return "Int64"
	case "Float64", "Bool":
		return ctor
	}
	return "String"
}

// keyGoName is the exported name of a registered key in package tracing:
// order.item_count is OrderItemCount, user.id is UserID.
func keyGoName(key string) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(key, func(r rune) bool { return r == '.' || r == '_' }) {
		switch word {
		case "id", "url", "api", "http", "ip":
			b.WriteString(strings.ToUpper(word))
		default:
			b.WriteString(strings.ToUpper(word[:1]) + word[1:])
		}
	}
	return b.String()
}

// keyFix rewrites the call to the registered key when the file imports
// tracing, the key is declared there under goName, and its type matches.
func keyFix(pass *analysis.Pass, call *ast.CallExpr, ctor, goName string, info tracing.KeyInfo) (analysis.SuggestedFix, bool) {
	file := fileOf(pass, call)
	if file == nil {
		return analysis.SuggestedFix{}, false
	}
	pkg := importName(pass, file, tracingPath)
	if pkg == "" || !declaredInTracing(pass, goName) {
		return analysis.SuggestedFix{}, false
	}
	var text string
	switch {
	case ctor == "Key" && len(call.Args) == 1:
		text = pkg + "." + goName + ".Key()"
	case len(call.Args) == 2:
		m, ok := keyMethods[ctor]
		if !ok || m.typ != info.Type {
			return analysis.SuggestedFix{}, false
		}
		arg := call.Args[1]
		text = pkg + "." + goName + "." + m.method + "(" + string(sourceOf(pass, arg)) + ")"
	default:
		return analysis.SuggestedFix{}, false
	}
	return analysis.SuggestedFix{
		Message:   "Use tracing." + goName,
		TextEdits: []analysis.TextEdit{{Pos: call.Pos(), End: call.End(), NewText: []byte(text)}},
	}, true
}

func declaredInTracing(pass *analysis.Pass, name string) bool {
	for _, imp := range pass.Pkg.Imports() {
		if imp.Path() == tracingPath {
			_, ok := imp.Scope().Lookup(name).(*types.Var)
			return ok
		}
	}
	return false
}

// sourceOf returns the source text of e.
func sourceOf(pass *analysis.Pass, e ast.Expr) []byte {
	tf := pass.Fset.File(e.Pos())
	src, err := pass.ReadFile(tf.Name())
	if err != nil {
		return nil
	}
	return src[tf.Offset(e.Pos()):tf.Offset(e.End())]
}
