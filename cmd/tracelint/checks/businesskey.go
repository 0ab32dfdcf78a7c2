package checks

import (
	"go/ast"
	"go/constant"
	"go/types"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// BusinessKey checks that business attribute keys come from the registry.
var BusinessKey = &analysis.Analyzer{
	Name: "businesskey",
	Doc: `check that business attribute keys come from the conventions registry

A business key is registered where it is declared, by tracing.NewStringKey
("order.id", ...) and friends or tracing.Register(tracing.KeyInfo{Key: ...}):
its type, whether it is personal data to hash or drop on export, whether it
travels in baggage. An attribute key written as a string
(attribute.String("order.id", v), attribute.Key("order.id")) bypasses that.

The check learns the registered keys from the code: the declarations with
constant names in the analysed package and in every package it depends on
(tracing's own user.id and tenant.id, a company's keys package). It reports a
string-written key that is registered, naming the variable that holds it
(keys.OrderID.String(v)), and one in the namespace of a registered key
(order.coupon next to order.id), which should be declared too. Where the
file can name the variable (same package, or the declaring package is
imported) and the types match, the suggested fix rewrites the call.`,
	Requires:  []*analysis.Analyzer{inspect.Analyzer},
	FactTypes: []analysis.Fact{new(keysFact)},
	Run:       runBusinessKey,
}

// keysFact is the package fact of a package that declares business keys
// or depends on one that does: the keys it and its dependencies register
// with constant names. Each package re-exports what it inherits because a
// driver such as go vet hands an analysis the facts of its direct imports
// only; so a package sees the keys of every package it depends on,
// directly or not.
type keysFact struct {
	Pkg  string        // the package the fact is about
	Keys []declaredKey // its own first, then inherited ones
}

// declaredKey is one registration found in the code.
type declaredKey struct {
	Key     string // the attribute key, "order.id"
	Type    string // String, Int64, Float64, Bool; "" when not constant
	Var     string // the package-level variable holding the typed key, or ""
	PkgPath string // the declaring package
	PkgName string
}

func (*keysFact) AFact() {}

// String lists the package's own keys and counts the inherited ones.
func (f *keysFact) String() string {
	var b strings.Builder
	b.WriteString("keys")
	inherited := 0
	for _, k := range f.Keys {
		if k.PkgPath != f.Pkg {
			inherited++
			continue
		}
		b.WriteString(" " + k.Key + ":" + k.Type)
		if k.Var != "" {
			b.WriteString(":" + k.Var)
		}
	}
	if inherited > 0 {
		b.WriteString(" +" + strconv.Itoa(inherited) + " from dependencies")
	}
	return b.String()
}

// keyTypes maps the key constructors of package tracing, and the
// attribute.Type constants of KeyInfo.Type, to the key's type.
var keyTypes = map[string]string{
	"NewStringKey": "String", "NewInt64Key": "Int64", "NewFloat64Key": "Float64", "NewBoolKey": "Bool",
	"STRING": "String", "INT64": "Int64", "FLOAT64": "Float64", "BOOL": "Bool",
}

// keyMethods maps attribute constructors to the method of the registered key
// type that builds the same attribute, and that type.
var keyMethods = map[string]struct{ typ, method string }{
	"String":  {"String", "String"},
	"Int":     {"Int64", "Int"},
	"Int64":   {"Int64", "Int64"},
	"Float64": {"Float64", "Float64"},
	"Bool":    {"Bool", "Bool"},
}

var attrConstructors = []string{"String", "Int", "Int64", "Float64", "Bool", "Stringer",
	"StringSlice", "IntSlice", "Int64Slice", "Float64Slice", "BoolSlice"}

func runBusinessKey(pass *analysis.Pass) (any, error) {
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	own, declarations := declaredKeys(pass, ins)
	known, registry, namespaces := knownKeys(pass, own)
	if len(known) == 0 {
		return nil, nil
	}
	pass.ExportPackageFact(&keysFact{Pkg: pass.Pkg.Path(), Keys: known})
	if conventionsPackage(pass.Pkg) {
		return nil, nil
	}
	ins.Preorder([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node) {
		call := n.(*ast.CallExpr)
		if len(call.Args) == 0 || inTestFile(pass, n) {
			return
		}
		for _, d := range declarations {
			if d.Pos() <= call.Pos() && call.End() <= d.End() {
				return // the registration itself
			}
		}
		var ctor string
		if tv := pass.TypesInfo.Types[call.Fun]; tv.IsType() && isNamed(tv.Type, attributePath, "Key") {
			ctor = "Key"
		} else if fn := callee(pass, call); isFunc(fn, attributePath, attrConstructors...) {
			ctor = fn.Name()
		} else {
			return
		}
		key, ok := constString(pass, call.Args[0])
		if !ok {
			return
		}
		ns, _, ok := strings.Cut(key, ".")
		if !ok || !namespaces[ns] {
			return
		}
		d := analysis.Diagnostic{Pos: call.Pos(), End: call.End(), Category: "businesskey"}
		k, registered := registry[key]
		if !registered {
			d.Message = "attribute key " + strconv.Quote(key) + " is in the registered namespace " + ns +
				".: declare it with tracing.New" + typeName(ctor) + "Key so that its type and data handling are registered"
			report(pass, d)
			return
		}
		ref, fixable := keyRef(pass, call, k)
		if ref == "" {
			d.Message = "attribute key " + strconv.Quote(key) + " is registered by " + k.PkgPath + ": use the key it registers"
		} else {
			d.Message = "attribute key " + strconv.Quote(key) + " is registered: use " + ref
			if !fixable {
				d.Message += " from " + k.PkgPath
			} else if fix, ok := keyFix(pass, call, ctor, ref, k); ok {
				d.SuggestedFixes = []analysis.SuggestedFix{fix}
			}
		}
		report(pass, d)
	})
	return nil, nil
}

// declaredKeys returns the business keys the package registers with a
// constant name, outside its tests, and the registering calls.
func declaredKeys(pass *analysis.Pass, ins *inspector.Inspector) ([]declaredKey, []*ast.CallExpr) {
	// The package-level variables initialised by a registering call.
	vars := map[*ast.CallExpr]string{}
	for _, f := range pass.Files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				if vs, ok := spec.(*ast.ValueSpec); ok && len(vs.Names) == len(vs.Values) {
					for i, v := range vs.Values {
						if call, ok := ast.Unparen(v).(*ast.CallExpr); ok && vs.Names[i].Name != "_" {
							vars[call] = vs.Names[i].Name
						}
					}
				}
			}
		}
	}
	var keys []declaredKey
	var calls []*ast.CallExpr
	ins.Preorder([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node) {
		call := n.(*ast.CallExpr)
		if len(call.Args) == 0 || inTestFile(pass, n) {
			return
		}
		fn := callee(pass, call)
		if !isFunc(fn, tracingPath, "NewStringKey", "NewInt64Key", "NewFloat64Key", "NewBoolKey", "Register") {
			return
		}
		k := declaredKey{PkgPath: pass.Pkg.Path(), PkgName: pass.Pkg.Name()}
		if fn.Name() == "Register" {
			lit, ok := ast.Unparen(call.Args[0]).(*ast.CompositeLit)
			if !ok {
				return
			}
			for _, elt := range lit.Elts {
				kv, ok := elt.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				switch field, _ := kv.Key.(*ast.Ident); {
				case field == nil:
				case field.Name == "Key":
					k.Key, _ = constString(pass, kv.Value)
				case field.Name == "Type":
					if c, ok := objectOf(pass, kv.Value).(*types.Const); ok && c.Pkg() != nil && c.Pkg().Path() == attributePath {
						k.Type = keyTypes[c.Name()]
					}
				}
			}
		} else {
			k.Key, _ = constString(pass, call.Args[0])
			k.Type = keyTypes[fn.Name()]
			k.Var = vars[call]
		}
		if k.Key == "" {
			return
		}
		keys = append(keys, k)
		calls = append(calls, call)
	})
	return keys, calls
}

// knownKeys merges the package's own keys with those of the packages it
// depends on: the first registration of a key wins, the package's own
// first, then by package path. registry indexes them by key, and
// namespaces holds their first segments.
func knownKeys(pass *analysis.Pass, own []declaredKey) ([]declaredKey, map[string]declaredKey, map[string]bool) {
	facts := pass.AllPackageFacts()
	sort.Slice(facts, func(i, j int) bool { return facts[i].Package.Path() < facts[j].Package.Path() })
	all := slices.Clone(own)
	for _, pf := range facts {
		if f, ok := pf.Fact.(*keysFact); ok && pf.Package != pass.Pkg {
			all = append(all, f.Keys...)
		}
	}
	var known []declaredKey
	registry := map[string]declaredKey{}
	namespaces := map[string]bool{}
	for _, k := range all {
		if _, dup := registry[k.Key]; dup {
			continue
		}
		registry[k.Key] = k
		known = append(known, k)
		ns, _, _ := strings.Cut(k.Key, ".")
		namespaces[ns] = true
	}
	return known, registry, namespaces
}

// keyRef returns how the file of call names the variable holding k: Var in
// the declaring package, pkg.Var where the file imports it (fixable), the
// declaring package's name otherwise; "" when no variable holds k or it is
// unexported in another package.
func keyRef(pass *analysis.Pass, call *ast.CallExpr, k declaredKey) (ref string, fixable bool) {
	switch {
	case k.Var == "":
		return "", false
	case k.PkgPath == pass.Pkg.Path():
		return k.Var, true
	case !ast.IsExported(k.Var):
		return "", false
	}
	if file := fileOf(pass, call); file != nil {
		if name := importName(pass, file, k.PkgPath); name != "" {
			return name + "." + k.Var, true
		}
	}
	return k.PkgName + "." + k.Var, false
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

// keyFix rewrites the call to the registered key ref when its type matches.
func keyFix(pass *analysis.Pass, call *ast.CallExpr, ctor, ref string, k declaredKey) (analysis.SuggestedFix, bool) {
	var text string
	switch {
	case ctor == "Key" && len(call.Args) == 1:
		text = ref + ".Key()"
	case len(call.Args) == 2:
		m, ok := keyMethods[ctor]
		if !ok || m.typ != k.Type {
			return analysis.SuggestedFix{}, false
		}
		text = ref + "." + m.method + "(" + string(sourceOf(pass, call.Args[1])) + ")"
	default:
		return analysis.SuggestedFix{}, false
	}
	return analysis.SuggestedFix{
		Message:   "Use " + ref,
		TextEdits: []analysis.TextEdit{{Pos: call.Pos(), End: call.End(), NewText: []byte(text)}},
	}, true
}

// constString returns the value of e when it is a constant string.
func constString(pass *analysis.Pass, e ast.Expr) (string, bool) {
	tv := pass.TypesInfo.Types[e]
	if tv.Value == nil || tv.Value.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(tv.Value), true
}

// objectOf returns the object e names (x or pkg.x), or nil.
func objectOf(pass *analysis.Pass, e ast.Expr) types.Object {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		return pass.TypesInfo.Uses[e]
	case *ast.SelectorExpr:
		return pass.TypesInfo.Uses[e.Sel]
	}
	return nil
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
