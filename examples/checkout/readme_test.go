package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The Go snippets of the repository's README are fragments; each is compiled
// in a package of this module (which imports every package of the
// repository), inside a function that declares the few names the README
// leaves to the reader's program (ctx, brokers, pool, ...). A snippet that
// no longer compiles fails this test, so the README cannot drift from the
// API.

// readmeImports are the packages a README snippet may use, by the name it
// uses them with.
var readmeImports = map[string]string{
	"context":     "context",
	"http":        "net/http",
	"log":         "log",
	"time":        "time",
	"os":          "os",
	"slog":        "log/slog",
	"testing":     "testing",
	"kgo":         "github.com/twmb/franz-go/pkg/kgo",
	"pgx":         "github.com/jackc/pgx/v5",
	"pgxpool":     "github.com/jackc/pgx/v5/pgxpool",
	"tracing":     "github.com/otelkit/otelkit/tracing",
	"otelsetup":   "github.com/otelkit/otelkit/sdk/otelsetup",
	"tracingtest": "github.com/otelkit/otelkit/sdk/tracingtest",
	"diagnose":    "github.com/otelkit/otelkit/tracing/diagnose",
	"httptrace":   "github.com/otelkit/otelkit/httptrace",
	"kafkatrace":  "github.com/otelkit/otelkit/kafkatrace",
	"sqltrace":    "github.com/otelkit/otelkit/sqltrace",
	"outbox":      "github.com/otelkit/otelkit/sqltrace/outbox",
	"logcorr":     "github.com/otelkit/otelkit/logcorr",
	"shop":        "github.com/otelkit/otelkit/examples/checkout/shop",
}

// readmePrelude declares, once for the package, what the snippets use
// without declaring: the reader's own types and values.
const readmePrelude = `
type Order struct{ ID, User string }

var (
	provider interface {
		Charge(context.Context, Order) error
	}
	order Order
)

func getOrder(http.ResponseWriter, *http.Request) {}
`

// readmeLocals are declared in the function around a statement snippet.
const readmeLocals = `
	var (
		ctx     context.Context
		brokers []string
		handle  func(context.Context) error
		id      string
		event   []byte
		tx      pgx.Tx
		pool    *pgxpool.Pool
	)
	_, _, _, _, _, _, _ = ctx, brokers, handle, id, event, tx, pool
`

func goSnippets(t *testing.T, readme string) []string {
	t.Helper()
	f, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out []string
		cur []string
		in  bool
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```go"):
			in, cur = true, nil
		case in && strings.HasPrefix(line, "```"):
			in = false
			out = append(out, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	// At the snippet's top level: a name declared in a nested block is not
	// in scope there.
	declared   = regexp.MustCompile(`(?m)^([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*:=`)
	qualifiers = regexp.MustCompile(`\b([a-z]\w*)\.[A-Z]`)
)

// goFile returns body as a Go file of package readme, importing the
// packages it names.
func goFile(body string) string {
	var imports []string
	for _, m := range qualifiers.FindAllStringSubmatch(body, -1) {
		if p, ok := readmeImports[m[1]]; ok && !slices.Contains(imports, p) {
			imports = append(imports, p)
		}
	}
	slices.Sort(imports)
	var b strings.Builder
	b.WriteString("package readme\n\nimport (\n")
	for _, p := range imports {
		fmt.Fprintf(&b, "\t%q\n", p)
	}
	b.WriteString(")\n" + body)
	return b.String()
}

// snippetFile returns snippet i as a Go file of package readme: a function
// declaration as it is, statements in a function of their own.
func snippetFile(i int, snippet string) string {
	if strings.HasPrefix(strings.TrimSpace(snippet), "func ") {
		return goFile("\n" + snippet + "\n")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nfunc snippet%d() error {%s\t{\n%s\n", i, readmeLocals, snippet)
	// Names a snippet declares for the reader's next line are used here.
	for _, m := range declared.FindAllStringSubmatch(snippet, -1) {
		for name := range strings.SplitSeq(m[1], ",") {
			if name = strings.TrimSpace(name); name != "_" {
				fmt.Fprintf(&b, "\t_ = %s\n", name)
			}
		}
	}
	b.WriteString("\t}\n\treturn nil\n}\n")
	return goFile(b.String())
}

func TestREADMEGoSnippetsCompile(t *testing.T) {
	snippets := goSnippets(t, filepath.Join("..", "..", "README.md"))
	if len(snippets) == 0 {
		t.Fatal("README.md has no Go snippets")
	}
	dir, err := filepath.Abs(filepath.Join("internal", "readme"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	overlay := map[string]string{}
	add := func(name, src string) {
		real := filepath.Join(tmp, name)
		if err := os.WriteFile(real, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		overlay[filepath.Join(dir, name)] = real
	}
	add("prelude.go", goFile(readmePrelude))
	for i, s := range snippets {
		add(fmt.Sprintf("snippet%d.go", i+1), snippetFile(i+1, s))
	}
	js, err := json.Marshal(map[string]any{"Replace": overlay})
	if err != nil {
		t.Fatal(err)
	}
	overlayFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlayFile, js, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-overlay", overlayFile, "./internal/readme")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("README.md's Go snippets do not compile (snippetN is the Nth go block):\n%s", out)
		for i, s := range snippets {
			t.Logf("snippet%d.go:\n%s", i+1, snippetFile(i+1, s))
		}
	}
}
