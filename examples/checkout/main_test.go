package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/examples/checkout/shop"
	"github.com/otelkit/otelkit/internal/pgtest"
)

// TestRun is the README's first command: every service in one process, a
// handful of orders, each printed as a waterfall with its log lines.
func TestRun(t *testing.T) {
	pgtest.Require(t)
	var out strings.Builder
	if err := run(nil, &out); err != nil {
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
