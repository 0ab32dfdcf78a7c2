package shop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/otelkit/otelkit/httptrace"
	"github.com/otelkit/otelkit/kafkatrace"
)

// Topics and their partition counts.
const (
	TopicOrders   = "orders"
	TopicPayments = "payments"

	OrdersPartitions   = 6
	PaymentsPartitions = 3
)

// Service names, one per service.
const (
	Gateway         = "gateway"
	Orders          = "orders"
	OutboxRelay     = "outbox-relay"
	Payments        = "payments"
	Inventory       = "inventory"
	Notifications   = "notifications"
	Pricing         = "pricing"
	Recommendations = "recommendations"
	PaymentProvider = "payment-provider" // the external provider, played by a fake
)

// Services lists every service a process can run, in start order.
var Services = []string{PaymentProvider, Inventory, Pricing, Recommendations, Orders, Gateway, OutboxRelay, Payments, Notifications}

// Scenarios switches on the incidents of the scenario table. The zero value
// is a healthy system.
type Scenarios struct {
	// SlowStock drops the stock index: stock checks of large orders scan.
	SlowStock bool
	// PaymentConfig rolls a new provider API version out to one charge in
	// seven; the provider answers those with 401.
	PaymentConfig bool
	// FixedPartitions makes payments read partitions 0-4 of the six-partition
	// orders topic: orders keyed onto partition 5 are never charged.
	FixedPartitions bool
	// SlowInventory makes inventory's stock query slow; orders times out and
	// retries it.
	SlowInventory bool
	// SmallPool gives orders a pool of one connection.
	SmallPool bool
	// NotifyFailure deploys an email template that fails for JPY orders.
	NotifyFailure bool
	// FanOutFailure makes recommendations fail during the gateway's fan-out.
	FanOutFailure bool
	// NoDegradation makes the gateway fail the checkout when any fan-out
	// call fails, instead of going on without recommendations.
	NoDegradation bool
}

// Config configures the system.
type Config struct {
	DatabaseURL string
	Schema      string   // tables live here; created when missing
	Brokers     []string // Kafka seed brokers
	Scenarios   Scenarios
	Telemetry   *Telemetry
	// Peers are the base URLs of the other services when they run elsewhere;
	// empty fields are filled in by Start for the services it runs.
	Peers Peers
	// Listen maps a service to its listen address; by default 127.0.0.1:0.
	Listen map[string]string
	// InventoryTimeout is how long orders waits for one inventory attempt;
	// by default 2.5s.
	InventoryTimeout time.Duration
	// Group is the consumer group prefix; by default "checkout".
	Group string
}

// Peers are the base URLs of the HTTP services.
type Peers struct {
	Gateway, Orders, Inventory, Pricing, Recommendations, PaymentProvider string
}

// System is a running set of services.
type System struct {
	cfg     Config
	tel     *Telemetry
	servers []*http.Server
	pools   []*pgxpool.Pool
	clients []*kgo.Client
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	settled map[string]chan struct{}
}

// Start runs the named services (all of [Services] when none is named) in
// this process. A service that calls another one run elsewhere needs its
// URL in cfg.Peers: without it Start returns a [*PeerError] before it
// touches Postgres or Kafka. When a service cannot start (Postgres or Kafka
// unreachable, a listen address taken), Start stops those it started and
// returns an error naming the service and the cause.
func Start(ctx context.Context, cfg Config, services ...string) (_ *System, err error) {
	if len(services) == 0 {
		services = Services
	}
	if cfg.Telemetry == nil {
		return nil, errors.New("shop: Config.Telemetry is required")
	}
	if err := CheckPeers(cfg.Peers, services...); err != nil {
		return nil, err
	}
	if cfg.InventoryTimeout == 0 {
		cfg.InventoryTimeout = 2500 * time.Millisecond
	}
	if cfg.Group == "" {
		cfg.Group = "checkout"
	}
	if cfg.Schema == "" {
		cfg.Schema = "checkout"
	}
	runCtx, cancel := context.WithCancel(context.Background())
	sys := &System{cfg: cfg, tel: cfg.Telemetry, cancel: cancel, settled: map[string]chan struct{}{}}
	// Listen first so that every peer URL is known before any service starts.
	listeners := map[string]net.Listener{}
	defer func() {
		if err != nil {
			for _, l := range listeners {
				l.Close() // the ones not yet served
			}
			sys.Close(context.Background())
		}
	}()
	if err := Migrate(ctx, cfg.DatabaseURL, cfg.Schema, !cfg.Scenarios.SlowStock); err != nil {
		return nil, err
	}
	if err := createTopics(ctx, cfg.Brokers); err != nil {
		return nil, err
	}
	for _, name := range services {
		if !isHTTP(name) {
			continue
		}
		addr := cfg.Listen[name]
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		listeners[name] = l
		sys.cfg.Peers.set(name, "http://"+l.Addr().String())
	}
	for _, name := range services {
		h, err := sys.start(ctx, runCtx, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if l := listeners[name]; l != nil {
			delete(listeners, name) // closed by the server from now on
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
			sys.servers = append(sys.servers, srv)
			go srv.Serve(l)
		}
	}
	return sys, nil
}

// PeersOf lists the HTTP services the named service calls.
func PeersOf(name string) []string {
	switch name {
	case Gateway:
		return []string{Orders, Pricing, Inventory, Recommendations}
	case Orders:
		return []string{Inventory}
	case Payments:
		return []string{PaymentProvider}
	}
	return nil
}

// PeerError reports a service that calls a peer run elsewhere without a
// usable base URL of it: empty, or not an absolute http(s) URL.
type PeerError struct {
	Service string // the service that calls the peer, e.g. "gateway"
	Peer    string // the service it calls, e.g. "orders"
	URL     string // the URL it was given, "" when none
}

func (e *PeerError) Error() string {
	if e.URL == "" {
		return fmt.Sprintf("%s calls %s but has no URL for it", e.Service, e.Peer)
	}
	return fmt.Sprintf("%s calls %s at %q, which is not an http:// or https:// base URL", e.Service, e.Peer, e.URL)
}

// CheckPeers returns a [*PeerError] for the first of services that calls a
// peer which is neither among services nor has a usable URL in p. It is
// what [Start] checks first; a command checks it before it looks for
// Postgres and Kafka.
func CheckPeers(p Peers, services ...string) error {
	for _, name := range services {
		for _, peer := range PeersOf(name) {
			if slices.Contains(services, peer) {
				continue // started here, its URL filled in by Start
			}
			if raw := p.URL(peer); !usableURL(raw) {
				return &PeerError{Service: name, Peer: peer, URL: raw}
			}
		}
	}
	return nil
}

func usableURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func isHTTP(name string) bool {
	switch name {
	case OutboxRelay, Payments, Notifications:
		return false
	}
	return true
}

func (p *Peers) set(name, url string) {
	switch name {
	case Gateway:
		p.Gateway = url
	case Orders:
		p.Orders = url
	case Inventory:
		p.Inventory = url
	case Pricing:
		p.Pricing = url
	case Recommendations:
		p.Recommendations = url
	case PaymentProvider:
		p.PaymentProvider = url
	}
}

// URL returns the base URL of the named service, "" when it is not known
// or not an HTTP service.
func (p Peers) URL(name string) string {
	switch name {
	case Gateway:
		return p.Gateway
	case Orders:
		return p.Orders
	case Inventory:
		return p.Inventory
	case Pricing:
		return p.Pricing
	case Recommendations:
		return p.Recommendations
	case PaymentProvider:
		return p.PaymentProvider
	}
	return ""
}

// Peers returns the base URLs of the HTTP services, the ones this system
// runs included.
func (sys *System) Peers() Peers { return sys.cfg.Peers }

// GatewayURL is the base URL of the gateway.
func (sys *System) GatewayURL() string { return sys.cfg.Peers.Gateway }

func (sys *System) start(ctx, runCtx context.Context, name string) (http.Handler, error) {
	sc := sys.cfg.Scenarios
	if name == PaymentProvider {
		return newProvider(), nil
	}
	s, err := sys.tel.service(name)
	if err != nil {
		return nil, err
	}
	switch name {
	case Pricing:
		return s.handler(pricing{}.routes()), nil
	case Recommendations:
		return s.handler(recommendations{fail: sc.FanOutFailure}.routes()), nil
	case Inventory:
		pool, err := sys.pool(ctx, &s, 8)
		if err != nil {
			return nil, err
		}
		return s.handler((&inventory{s: s, pool: pool, slow: sc.SlowInventory}).routes()), nil
	case Orders:
		size := int32(8)
		if sc.SmallPool {
			size = 1
		}
		pool, err := sys.pool(ctx, &s, size)
		if err != nil {
			return nil, err
		}
		o := &orders{s: s, pool: pool, outbox: s.outboxWriter(), client: inventoryClient(s, sys.cfg.InventoryTimeout),
			inventory: sys.cfg.Peers.Inventory}
		return s.handler(o.routes()), nil
	case Gateway:
		g := &gateway{s: s, client: s.client(nil), peers: sys.cfg.Peers, degrade: !sc.NoDegradation}
		// The gateway is the edge: a client's trace context and baggage are
		// not trusted, and the business context is set from the request.
		return s.handler(g.routes(), httptrace.WithPublicEndpoint()), nil
	case OutboxRelay:
		pool, err := sys.pool(ctx, &s, 2)
		if err != nil {
			return nil, err
		}
		cl, _, err := sys.kafka(s)
		if err != nil {
			return nil, err
		}
		r := s.outboxRelay(pool, cl)
		sys.goRun(func() {
			if err := r.Run(runCtx); err != nil && runCtx.Err() == nil {
				s.log.Error("outbox relay stopped", "err", err)
			}
		})
		return nil, nil
	case Payments:
		consume := []kgo.Opt{kgo.ConsumerGroup(sys.cfg.Group + "-payments"), kgo.ConsumeTopics(TopicOrders)}
		if sc.FixedPartitions {
			parts := map[int32]kgo.Offset{}
			for p := int32(0); p < 5; p++ {
				parts[p] = kgo.NewOffset().AtStart()
			}
			consume = []kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{TopicOrders: parts})}
		}
		cl, kt, err := sys.kafka(s, consume...)
		if err != nil {
			return nil, err
		}
		p := &payments{s: s, kafka: cl, client: providerClient(s, sys.cfg.Peers.PaymentProvider), provider: sys.cfg.Peers.PaymentProvider, canary: sc.PaymentConfig}
		sys.goRun(func() { consumeLoop(runCtx, s, cl, kt, p.handle) })
		return nil, nil
	case Notifications:
		cl, kt, err := sys.kafka(s, kgo.ConsumerGroup(sys.cfg.Group+"-notifications"), kgo.ConsumeTopics(TopicPayments))
		if err != nil {
			return nil, err
		}
		n := &notifications{s: s, failJPY: sc.NotifyFailure, done: sys.settle}
		sys.goRun(func() { consumeLoop(runCtx, s, cl, kt, n.handle) })
		return nil, nil
	}
	return nil, fmt.Errorf("unknown service %q (known: %v)", name, Services)
}

func (sys *System) goRun(fn func()) {
	sys.wg.Add(1)
	go func() { defer sys.wg.Done(); fn() }()
}

// pool opens a pool on the system's schema, instrumented for s when s is not
// nil.
func (sys *System) pool(ctx context.Context, s *svc, size int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(sys.cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = size
	cfg.ConnConfig.RuntimeParams["search_path"] = sys.cfg.Schema
	if s != nil {
		s.poolConfig(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sys.pools = append(sys.pools, pool)
	return pool, nil
}

func (sys *System) kafka(s svc, opts ...kgo.Opt) (*kgo.Client, *kafkatrace.Tracer, error) {
	kt := s.kafkaTracer()
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(sys.cfg.Brokers...),
		kgo.ClientID(s.name),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.ProducerLinger(0),
		kgo.FetchMaxWait(100 * time.Millisecond),
	}, opts...)
	opts = append(opts, kgo.WithHooks(kt))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, nil, err
	}
	sys.clients = append(sys.clients, cl)
	return cl, kt, nil
}

// createTopics makes sure both topics exist with their partition counts.
func createTopics(ctx context.Context, brokers []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 10000
	for name, parts := range map[string]int32{TopicOrders: OrdersPartitions, TopicPayments: PaymentsPartitions} {
		t := kmsg.NewCreateTopicsRequestTopic()
		t.Topic, t.NumPartitions, t.ReplicationFactor = name, parts, 1
		req.Topics = append(req.Topics, t)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("kafka at %v: %w", brokers, err)
	}
	for _, t := range resp.Topics {
		if err := kerrOf(t.ErrorCode); err != nil {
			return fmt.Errorf("create topic %s: %w", t.Topic, err)
		}
	}
	return nil
}

// settle marks an order as done with (its notification was handled).
func (sys *System) settle(orderID string) {
	ch := sys.doneChan(orderID)
	sys.mu.Lock()
	defer sys.mu.Unlock()
	select {
	case <-ch: // redelivered
	default:
		close(ch)
	}
}

func (sys *System) doneChan(orderID string) chan struct{} {
	sys.mu.Lock()
	defer sys.mu.Unlock()
	ch, ok := sys.settled[orderID]
	if !ok {
		ch = make(chan struct{})
		sys.settled[orderID] = ch
	}
	return ch
}

// Settled is closed once the order's notification has been handled, with or
// without success.
func (sys *System) Settled(orderID string) <-chan struct{} { return sys.doneChan(orderID) }

// Close stops every service of the system.
func (sys *System) Close(ctx context.Context) error {
	var errs []error
	sys.tel.closeIdle()
	// A connection a client dialled but never used counts as busy for five
	// seconds; do not wait that long for it.
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	for _, srv := range sys.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, srv.Close())
		}
	}
	sys.cancel()
	sys.wg.Wait()
	for _, cl := range sys.clients {
		cl.Close()
	}
	for _, p := range sys.pools {
		p.Close()
	}
	return errors.Join(errs...)
}
