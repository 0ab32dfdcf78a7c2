package main

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/otelkit/otelkit/examples/checkout/shop"
	"github.com/otelkit/otelkit/internal/pgtest"
	"github.com/otelkit/otelkit/sdk/tracingtest"
)

// run stops everything it started before it returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun is the README's first command: every service in one process, a
// handful of orders, each printed as a waterfall with its log lines.
func TestRun(t *testing.T) {
	pgtest.Require(t)
	var out strings.Builder
	if err := run(nil, &out, io.Discard); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	ids := regexp.MustCompile(`trace_id=([0-9a-f]{32})\n`).FindAllStringSubmatch(got, -1)
	if len(ids) != len(shop.DemoOrders(shop.Scenarios{})) {
		t.Fatalf("%d orders reported, want %d:\n%s", len(ids), len(shop.DemoOrders(shop.Scenarios{})), got)
	}
	for _, id := range ids {
		if !strings.Contains(got, "trace "+id[1]) {
			t.Errorf("no waterfall for trace %s", id[1])
		}
		if !strings.Contains(got, `"trace_id":"`+id[1]+`"`) {
			t.Errorf("no log line for trace %s", id[1])
		}
	}
	for _, want := range []string{"→  201", "→  409", "outbox-relay", "notifications"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestParseScenarios(t *testing.T) {
	sc, err := parseScenarios("1, payment-config,7")
	if err != nil {
		t.Fatal(err)
	}
	if want := (shop.Scenarios{SlowStock: true, PaymentConfig: true, FanOutFailure: true}); sc != want {
		t.Errorf("got %+v, want %+v", sc, want)
	}
	if _, err := parseScenarios("8"); err == nil {
		t.Error("scenario 8 accepted")
	}
}

// TestRunExportsOTLP runs the demo with the standard OTLP variables pointing
// at a receiver: every service's spans arrive there under its service.name,
// and its log records too, each on a span of an exported trace.
func TestRunExportsOTLP(t *testing.T) {
	pgtest.Require(t)
	rec := newOTLPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rec.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	var out strings.Builder
	if err := run(nil, &out, io.Discard); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	services, records := map[string]int{}, map[string]int{}
	traces := map[string]bool{}
	for _, s := range rec.Spans() {
		services[s.Service]++
		traces[s.TraceID] = true
	}
	for _, l := range rec.Logs() {
		records[l.Service]++
		if l.SpanID != "" && !traces[l.TraceID] {
			t.Errorf("log record %q on trace %s, which was not exported", l.Body, l.TraceID)
		}
	}
	for _, svc := range []string{shop.Gateway, shop.Orders, shop.OutboxRelay, shop.Payments, shop.Inventory, shop.Notifications} {
		if services[svc] == 0 {
			t.Errorf("no spans of %s exported over OTLP (got %v)", svc, services)
		}
		if records[svc] == 0 && svc != shop.OutboxRelay { // the relay writes no line in the demo
			t.Errorf("no log records of %s exported over OTLP (got %v)", svc, records)
		}
	}
}

// TestRun_CollectorDownOrHung runs the demo against a collector answering
// 503 and one that never answers: every order is reported from the
// in-process recorder, the run succeeds, and the spans that could not be
// exported are one line on stderr, with the count, the endpoint and what the
// collector answered (the metrics, exported there too, one more).
func TestRun_CollectorDownOrHung(t *testing.T) {
	pgtest.Require(t)
	for _, tc := range []struct {
		name string
		col  func(t *testing.T) *tracingtest.Collector
		why  string
	}{
		{"503", func(t *testing.T) *tracingtest.Collector {
			return tracingtest.NewFailingCollector(t, http.StatusServiceUnavailable)
		}, "HTTP 503 Service Unavailable"},
		{"hung", func(t *testing.T) *tracingtest.Collector { return tracingtest.NewHungCollector(t) }, "no answer before the deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			col := tc.col(t)
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.Endpoint)
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
			t.Setenv("OTEL_BSP_EXPORT_TIMEOUT", "500") // the shutdown's bound
			var out, errOut strings.Builder
			done := make(chan error, 1)
			go func() { done <- run(nil, &out, &errOut) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("run: %v\nstderr:\n%s", err, errOut.String())
				}
			case <-time.After(60 * time.Second):
				t.Fatal("run has not returned after 60 s")
			}
			ids := regexp.MustCompile(`trace_id=([0-9a-f]{32})\n`).FindAllString(out.String(), -1)
			if want := len(shop.DemoOrders(shop.Scenarios{})); len(ids) != want {
				t.Errorf("%d orders reported, want %d:\n%s", len(ids), want, out.String())
			}
			// Other reports (the hash key's) may come before.
			lines := slices.DeleteFunc(strings.Split(strings.TrimSpace(errOut.String()), "\n"),
				func(l string) bool { return !strings.Contains(l, "export") })
			traces := regexp.MustCompile(`^otlp export: [1-9][0-9]* spans not exported to ` + regexp.QuoteMeta(col.Endpoint+"/v1/traces: "+tc.why) + `$`)
			logs := regexp.MustCompile(`^otlp log export: [1-9][0-9]* log records not exported to ` + regexp.QuoteMeta(col.Endpoint+"/v1/logs: "+tc.why) + `$`)
			metrics := "otlp metric export: metrics not exported to " + col.Endpoint + "/v1/metrics: " + tc.why
			// One line per signal, in the order the shutdowns returned.
			endpoint := func(l string) string { _, to, _ := strings.Cut(l, " to "); return to }
			slices.SortFunc(lines, func(a, b string) int { return strings.Compare(endpoint(a), endpoint(b)) })
			if len(lines) != 3 || !logs.MatchString(lines[0]) || lines[1] != metrics || !traces.MatchString(lines[2]) {
				t.Errorf("stderr:\n%s\nwant one line matching %s, one matching %s and %q", errOut.String(), traces, logs, metrics)
			}
			if col.Requests() == 0 {
				t.Error("no export reached the collector")
			}
		})
	}
}
