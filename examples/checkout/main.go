// Command checkout runs the example checkout system: a gateway, orders with
// a Postgres outbox, an outbox relay, payments with a fake payment provider,
// inventory, notifications, pricing and recommendations, tied together by
// HTTP and Kafka, every one of them traced.
//
// With no flags it starts every service in this process, places a handful
// of orders, prints each order's trace as a waterfall with its log lines,
// and exits. See README.md.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/otelkit/otelkit/examples/checkout/shop"
	"github.com/otelkit/otelkit/sdk/otelsetup"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "checkout:", err)
		os.Exit(1)
	}
}

// scenarioNames maps the scenario names of README.md to switches.
var scenarioNames = map[string]func(*shop.Scenarios){
	"slow-stock":       func(s *shop.Scenarios) { s.SlowStock = true },
	"payment-config":   func(s *shop.Scenarios) { s.PaymentConfig = true },
	"fixed-partitions": func(s *shop.Scenarios) { s.FixedPartitions = true },
	"slow-inventory":   func(s *shop.Scenarios) { s.SlowInventory = true },
	"small-pool":       func(s *shop.Scenarios) { s.SmallPool = true },
	"notify-failure":   func(s *shop.Scenarios) { s.NotifyFailure = true },
	"fanout-failure":   func(s *shop.Scenarios) { s.FanOutFailure = true },
}

var scenarioOrder = []string{"slow-stock", "payment-config", "fixed-partitions", "slow-inventory", "small-pool", "notify-failure", "fanout-failure"}

func parseScenarios(v string) (shop.Scenarios, error) {
	var sc shop.Scenarios
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if f == "all" {
			for _, n := range scenarioOrder {
				scenarioNames[n](&sc)
			}
			continue
		}
		if len(f) == 1 && f[0] >= '1' && f[0] <= '7' {
			f = scenarioOrder[f[0]-'1']
		}
		set, ok := scenarioNames[f]
		if !ok {
			return sc, fmt.Errorf("unknown scenario %q (1-7, all, or one of %s)", f, strings.Join(scenarioOrder, ", "))
		}
		set(&sc)
	}
	return sc, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("checkout", flag.ContinueOnError)
	var (
		scenarios = fs.String("scenario", os.Getenv("CHECKOUT_SCENARIO"), "incidents to switch on: comma-separated numbers 1-7 or names ("+strings.Join(scenarioOrder, ", ")+"), or all")
		noDegrade = fs.Bool("no-degradation", false, "fail the checkout when any fan-out call fails (scenario 7 without graceful degradation)")
		serve     = fs.Bool("serve", false, "keep serving after the demo orders, until interrupted")
		service   = fs.String("service", os.Getenv("CHECKOUT_SERVICE"), "run only this service (separate-process mode): one of "+strings.Join(shop.Services, ", "))
		listen    = fs.String("listen", os.Getenv("CHECKOUT_LISTEN"), "listen address of the gateway with -serve, or of the service run with -service")
		brokers   = fs.String("brokers", os.Getenv("KAFKA_BROKERS"), "comma-separated Kafka seed brokers; an in-process kfake cluster when empty")
		schema    = fs.String("schema", os.Getenv("CHECKOUT_SCHEMA"), "Postgres schema for the tables; a throwaway one, dropped at exit, when empty (\"checkout\" with -service)")
		orders    = fs.Int("orders", 0, "place this many extra normal orders after the demo ones")
		gateway   = fs.String("gateway", "", "place the demo orders (and -orders more) at this running gateway (e.g. http://localhost:8080) and print their trace ids, without starting anything")
		kafka     = fs.String("kafka", "", "run only an in-process Kafka broker (kfake) on this address (e.g. 127.0.0.1:9092) with the example's topics, until interrupted")
		traceURL  = fs.String("trace-url", "http://localhost:16686/trace/", "with -gateway, the trace viewer URL the trace ids are appended to")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	sc, err := parseScenarios(*scenarios)
	if err != nil {
		return err
	}
	sc.NoDegradation = *noDegrade

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *kafka != "" {
		return runKafka(ctx, *kafka, stderr)
	}
	if *gateway != "" {
		for _, p := range shop.Place(ctx, strings.TrimSuffix(*gateway, "/"), demoOrders(sc, *orders), 4) {
			if p.Err != nil {
				return p.Err
			}
			fmt.Fprintf(stdout, "%d %-18s %s%s %s\n", p.Status, p.Response.OrderID, *traceURL, p.TraceID, p.Response.Error)
		}
		return nil
	}

	peers := peersFromEnv()
	if *service != "" {
		if err := checkPeers(peers, *service); err != nil {
			return err
		}
	}
	pg, err := shop.FindPostgres(ctx)
	if err != nil {
		return err
	}
	defer pg.Close()

	seeds := splitList(*brokers)
	if len(seeds) == 0 {
		if *service != "" {
			return errors.New("-service needs a real Kafka: set -brokers or KAFKA_BROKERS")
		}
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			return fmt.Errorf("start in-process Kafka: %w", err)
		}
		defer c.Close()
		seeds = c.ListenAddrs()
	}

	dropSchema := false
	if *schema == "" {
		if *service != "" {
			*schema = "checkout"
		} else {
			var b [4]byte
			_, _ = rand.Read(b[:])
			*schema, dropSchema = "checkout_"+hex.EncodeToString(b[:]), true
		}
	}

	var echo io.Writer
	var telOpts []otelsetup.Option
	if *serve || *service != "" {
		echo = stdout // logs as JSON lines, the way a log shipper reads them
	}
	if *serve {
		// Every trace prints as a waterfall when it is done, manual ones too.
		telOpts = append(telOpts, otelsetup.WithDefaultTracesExporter("waterfall"), otelsetup.WithWaterfall(stdout))
	}
	var reports *otelReports
	if !*serve && *service == "" {
		reports = collectReports(stderr) // export failures summed up after the report
	}
	tel, err := shop.NewTelemetry(ctx, echo, telOpts...)
	if err != nil {
		return err
	}
	// Telemetry that could not be exported is not the checkout's failure:
	// it is said on stderr, and the exit status stays the orders'. A
	// collector that does not answer holds the exit at most 10 s.
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, l := range reports.summary(tel.Shutdown(sctx)) {
			fmt.Fprintln(stderr, l)
		}
	}()

	cfg := shop.Config{DatabaseURL: pg.URL, Schema: *schema, Brokers: seeds, Scenarios: sc, Telemetry: tel, Peers: peers}
	if *service != "" {
		return runService(ctx, cfg, *service, *listen, stderr)
	}
	if *listen != "" {
		cfg.Listen = map[string]string{shop.Gateway: *listen}
	}
	if dropSchema {
		defer shop.DropSchema(context.Background(), pg.URL, *schema)
	}
	fmt.Fprintf(stdout, "postgres: %s (schema %s)\nkafka:    %s\n", pg.Origin, *schema, strings.Join(seeds, ","))
	sys, err := shop.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer sys.Close(context.Background())

	placed := shop.Place(ctx, sys.GatewayURL(), demoOrders(sc, *orders), 4)
	sys.Wait(placed, 5*time.Second)
	if *serve {
		for _, p := range placed {
			fmt.Fprintf(stdout, "order %s: %d %s trace_id=%s\n", p.Response.OrderID, p.Status, p.Response.Error, p.TraceID)
		}
	} else if err := shop.Report(stdout, tel, placed); err != nil {
		return err
	}
	if tel.Exporting() {
		fmt.Fprintln(stdout, "\nspans were also sent to the exporters OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_* select (what did not arrive is said on stderr)")
	}
	if !*serve {
		return nil
	}
	fmt.Fprintf(stdout, "\nserving; place an order with:\n  curl -si %s/checkout -d '{\"user_id\":\"u-1\",\"currency\":\"EUR\",\"card\":\"4242424242424242\",\"items\":[{\"sku\":\"sku-0001\",\"qty\":1}]}'\nstop with Ctrl-C\n", sys.GatewayURL())
	<-ctx.Done()
	return nil
}

// demoOrders are the demo orders of the scenarios and n more normal ones.
func demoOrders(sc shop.Scenarios, n int) []shop.CheckoutRequest {
	demo := shop.DemoOrders(sc)
	for i := range n {
		demo = append(demo, shop.CheckoutRequest{UserID: fmt.Sprintf("u-3%03d", i), Currency: "EUR", Card: "4242424242424242",
			Items: []shop.Item{{SKU: "sku-0001", Qty: 1}}})
	}
	return demo
}

// runKafka runs a one-broker kfake cluster on addr, with the example's
// topics, until interrupted: the Kafka of the separate processes for those
// without a real one. kfake advertises the address it listens on, so a host
// left out is 127.0.0.1, not every interface.
func runKafka(ctx context.Context, addr string, stderr io.Writer) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-kafka %s: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, port))
		}),
		kfake.SeedTopics(shop.OrdersPartitions, shop.TopicOrders),
		kfake.SeedTopics(shop.PaymentsPartitions, shop.TopicPayments))
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	defer c.Close()
	fmt.Fprintf(stderr, "kafka: listening on %s (topics %s: %d partitions, %s: %d)\n", strings.Join(c.ListenAddrs(), ","),
		shop.TopicOrders, shop.OrdersPartitions, shop.TopicPayments, shop.PaymentsPartitions)
	<-ctx.Done()
	return nil
}

// runService runs one service until interrupted: the separate-process mode,
// against a real Kafka and Postgres. It says on stderr where it listens
// (stdout carries its JSON log lines).
func runService(ctx context.Context, cfg shop.Config, name, listen string, stderr io.Writer) error {
	if !slices.Contains(shop.Services, name) {
		return fmt.Errorf("unknown service %q (known: %s)", name, strings.Join(shop.Services, ", "))
	}
	if listen != "" {
		cfg.Listen = map[string]string{name: listen}
	}
	sys, err := shop.Start(ctx, cfg, name)
	if err != nil {
		return err
	}
	if u := sys.Peers().URL(name); u != "" {
		fmt.Fprintf(stderr, "%s: listening on %s\n", name, u)
	} else {
		fmt.Fprintf(stderr, "%s: running, Kafka at %s\n", name, strings.Join(cfg.Brokers, ","))
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return sys.Close(sctx)
}

// peerEnv is the variable that holds the base URL of the named service:
// ORDERS_URL, PAYMENT_PROVIDER_URL...
func peerEnv(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_URL"
}

// peersFromEnv reads the base URLs of services that run elsewhere.
func peersFromEnv() shop.Peers {
	get := func(name string) string { return strings.TrimSuffix(strings.TrimSpace(os.Getenv(peerEnv(name))), "/") }
	return shop.Peers{
		Orders:          get(shop.Orders),
		Inventory:       get(shop.Inventory),
		Pricing:         get(shop.Pricing),
		Recommendations: get(shop.Recommendations),
		PaymentProvider: get(shop.PaymentProvider),
	}
}

// checkPeers says which variable a service run alone is missing, before it
// looks for Postgres and Kafka.
func checkPeers(p shop.Peers, service string) error {
	err := shop.CheckPeers(p, service)
	var pe *shop.PeerError
	if !errors.As(err, &pe) {
		return err
	}
	if pe.URL == "" {
		return fmt.Errorf("%s calls %s: set %s to its base URL (e.g. http://127.0.0.1:8081)", pe.Service, pe.Peer, peerEnv(pe.Peer))
	}
	return fmt.Errorf("%s calls %s: %s=%q is not an http:// or https:// base URL", pe.Service, pe.Peer, peerEnv(pe.Peer), pe.URL)
}

func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
