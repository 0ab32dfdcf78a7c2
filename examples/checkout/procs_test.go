package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelkit/otelkit/examples/checkout/shop"
	"github.com/otelkit/otelkit/internal/pgtest"
)

// proc is one OS process of the test, stopped at the test's end.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // of Wait, once done is closed

	mu             sync.Mutex
	stdout, stderr bytes.Buffer
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (p *proc) output() (stdout, stderr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String(), p.stderr.String()
}

// startProc starts bin with args and env (added to this process's
// environment without its OTEL_*, CHECKOUT_*, Kafka and peer variables). At
// the test's end the process is interrupted, and killed if it has not
// exited within 10 s.
func startProc(t *testing.T, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return strings.HasPrefix(k, "OTEL_") || strings.HasPrefix(k, "CHECKOUT_") || strings.HasSuffix(k, "_URL") || k == "KAFKA_BROKERS"
	}), env...)
	p.cmd.Stdout = lockedWriter{&p.mu, &p.stdout}
	p.cmd.Stderr = lockedWriter{&p.mu, &p.stderr}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			t.Errorf("%s did not exit within 10 s of an interrupt", name)
		}
		if t.Failed() {
			stdout, stderr := p.output()
			t.Logf("%s (%v) stderr:\n%s\nstdout (last 2000 bytes):\n%s", name, p.err, stderr, stdout[max(0, len(stdout)-2000):])
		}
	})
	return p
}

// await waits until a line of the process's stderr matches ready and
// returns the line's submatches.
func (p *proc) await(t *testing.T, ready *regexp.Regexp) []string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		_, stderr := p.output()
		if m := ready.FindStringSubmatch(stderr); m != nil {
			return m
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before it was ready (%v):\n%s", p.name, p.err, stderr)
		case <-deadline:
			t.Fatalf("%s not ready after 30 s:\n%s", p.name, stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// freeAddrs returns n loopback addresses that were free a moment ago, as
// the README's fixed ports are on a reader's machine.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs
}

// TestSeparateOSProcesses runs README.md's "Separate processes without
// Docker" commands: the binary built once, the standalone Kafka and every
// service of shop.Services as an OS process of its own on free loopback
// ports, each with its OTEL_SERVICE_NAME and the peer variables, exporting
// OTLP/HTTP to a receiver; then `-gateway URL -orders N`. Each order that
// went through is one trace across the eight instrumented processes, with
// no orphan span and each process's spans parented to the process that
// called it (HTTP headers, the outbox row, Kafka headers).
func TestSeparateOSProcesses(t *testing.T) {
	pgtest.Require(t)
	_, schema := pgtest.Schema(t)
	bin := filepath.Join(t.TempDir(), "checkout")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rec := newOTLPReceiver(t)
	env := []string{
		"DATABASE_URL=" + pgtest.URL(),
		"CHECKOUT_SCHEMA=" + schema,
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + rec.URL,
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
		"OTEL_METRICS_EXPORTER=none",
		"OTEL_BSP_SCHEDULE_DELAY=100",
	}
	kafka := startProc(t, "kafka", bin, env, "-kafka", "127.0.0.1:0").await(t, regexp.MustCompile(`(?m)^kafka: listening on (\S+) `))
	env = append(env, "KAFKA_BROKERS="+kafka[1])
	// Every listen address and peer URL is known before any service starts,
	// and the services start all at once, as the README's commands do.
	listen := map[string]string{}
	for i, addr := range freeAddrs(t, 6) {
		name := []string{shop.PaymentProvider, shop.Inventory, shop.Pricing, shop.Recommendations, shop.Orders, shop.Gateway}[i]
		listen[name] = addr
		env = append(env, peerEnv(name)+"=http://"+addr)
	}
	procs := map[string]*proc{}
	for _, name := range shop.Services {
		own := slices.Clone(env)
		if name != shop.PaymentProvider { // the external provider: not ours, not traced
			own = append(own, "OTEL_SERVICE_NAME="+name)
		}
		if addr := listen[name]; addr != "" {
			own = append(own, "CHECKOUT_LISTEN="+addr)
		}
		procs[name] = startProc(t, name, bin, own, "-service", name)
	}
	for _, name := range shop.Services {
		m := procs[name].await(t, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(name)+`: (?:listening on (\S+)|running, Kafka at (\S+))$`))
		if want := "http://" + listen[name]; listen[name] != "" && m[1] != want {
			t.Errorf("%s: listening on %q, want %q", name, m[1], want)
		}
		if listen[name] == "" && m[2] != kafka[1] {
			t.Errorf("%s: running against Kafka %q, want %q", name, m[2], kafka[1])
		}
	}

	const extra = 3
	gateway := exec.Command(bin, "-gateway", envValue(env, "GATEWAY_URL"), "-orders", fmt.Sprint(extra), "-trace-url", "")
	gateway.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := gateway.CombinedOutput()
	if err != nil {
		t.Fatalf("-gateway: %v\n%s", err, out)
	}
	lines := regexp.MustCompile(`(?m)^(\d{3}) +\S* +([0-9a-f]{32})`).FindAllStringSubmatch(string(out), -1)
	if want := len(shop.DemoOrders(shop.Scenarios{})) + extra; len(lines) != want {
		t.Fatalf("-gateway -orders %d placed %d orders, want %d:\n%s", extra, len(lines), want, out)
	}
	var ids []string
	for _, l := range lines {
		if l[1] == "201" {
			ids = append(ids, l[2])
		}
	}
	if len(ids) < extra {
		t.Fatalf("%d orders went through, want at least %d:\n%s", len(ids), extra, out)
	}

	services := slices.DeleteFunc(slices.Clone(shop.Services), func(s string) bool { return s == shop.PaymentProvider })
	// Each arrow is a process boundary a parent crosses.
	wantEdges := []string{
		"gateway → pricing", "gateway → inventory", "gateway → recommendations", "gateway → orders",
		"orders → inventory", "orders → outbox-relay", "outbox-relay → payments", "payments → notifications",
	}
	// Processes export on their own schedule: wait until every trace is
	// whole, then say what is missing.
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range ids {
		for {
			spans := rec.Trace(id)
			seen := map[string]bool{}
			var roots []otlpSpan
			for _, s := range spans {
				seen[s.Service] = true
				if s.Parent == "" {
					roots = append(roots, s)
				}
			}
			edges, orphans := crossings(spans)
			missing := slices.DeleteFunc(slices.Clone(services), func(s string) bool { return seen[s] })
			missingEdges := slices.DeleteFunc(slices.Clone(wantEdges), func(e string) bool { return edges[e] })
			if len(missing) == 0 && len(orphans) == 0 && len(missingEdges) == 0 {
				if len(roots) != 1 || roots[0].Service != shop.Gateway {
					t.Errorf("trace %s: roots %v, want one, of the gateway", id, roots)
				}
				t.Logf("trace %s: %d spans, %d processes, parents across %d boundaries", id, len(spans), len(seen), len(edges))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("trace %s (%d spans): no spans of %v; %d orphan spans %v; no parent across %v (got %v)",
					id, len(spans), missing, len(orphans), orphans, missingEdges, edges)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// envValue returns the value of key in env, a list of KEY=value.
func envValue(env []string, key string) string {
	for _, kv := range slices.Backward(env) {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// TestService_MissingPeerNamesTheVariable: a service run alone without the
// URL of a service it calls fails at start, naming the variable, before it
// looks for Postgres or Kafka (it used to start, and fail each order with a
// 502 and `unsupported protocol scheme ""`).
func TestService_MissingPeerNamesTheVariable(t *testing.T) {
	for _, tc := range []struct {
		name, service string
		env           map[string]string
		want          string
	}{
		{"gateway/none", shop.Gateway, nil, `gateway calls orders: set ORDERS_URL to its base URL`},
		{"gateway/three", shop.Gateway, map[string]string{"ORDERS_URL": "http://127.0.0.1:8081", "PRICING_URL": "http://127.0.0.1:8082", "INVENTORY_URL": "http://127.0.0.1:8083"},
			`gateway calls recommendations: set RECOMMENDATIONS_URL to its base URL`},
		{"orders/none", shop.Orders, nil, `orders calls inventory: set INVENTORY_URL to its base URL`},
		{"orders/no-scheme", shop.Orders, map[string]string{"INVENTORY_URL": "localhost:8083"}, `orders calls inventory: INVENTORY_URL="localhost:8083" is not an http:// or https:// base URL`},
		{"payments/none", shop.Payments, nil, `payments calls payment-provider: set PAYMENT_PROVIDER_URL to its base URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, name := range shop.Services {
				t.Setenv(peerEnv(name), tc.env[peerEnv(name)])
			}
			t.Setenv("DATABASE_URL", "postgres://127.0.0.1:1/none") // never reached
			err := run([]string{"-service", tc.service, "-brokers", "127.0.0.1:1"}, io.Discard, io.Discard)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("run -service %s: %v, want an error starting %q", tc.service, err, tc.want)
			}
		})
	}
}

// TestREADMEListsEveryVariable: every variable the example reads itself,
// and the URL variable of every peer a service calls, has a row in
// README.md's variables table.
func TestREADMEListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "\n| variable | read by | default |\n")
	if !ok {
		t.Fatal("README.md has no variables table")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	var rows []string
	for l := range strings.Lines(table) {
		if strings.HasPrefix(l, "| `") {
			rows = append(rows, strings.SplitN(l, "|", 3)[1])
		}
	}
	want := []string{"OTEL_SERVICE_NAME", "OTELKIT_HASH_KEY"}
	for _, s := range shop.Services {
		for _, p := range shop.PeersOf(s) {
			want = append(want, peerEnv(p))
		}
	}
	files, _ := filepath.Glob("*.go")
	more, _ := filepath.Glob("shop/*.go")
	getenv := regexp.MustCompile(`Getenv\("([A-Z0-9_]+)"\)`)
	for _, f := range append(files, more...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range getenv.FindAllStringSubmatch(string(src), -1) {
			want = append(want, m[1])
		}
	}
	if len(want) < 15 || len(rows) < 15 {
		t.Fatalf("found only %v, rows %q", want, rows)
	}
	for _, v := range want {
		if !slices.ContainsFunc(rows, func(r string) bool { return strings.Contains(r, "`"+v+"`") }) {
			t.Errorf("README.md's variables table has no row for %s", v)
		}
	}
}
