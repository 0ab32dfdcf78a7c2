package shop_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/examples/checkout/shop"
	"github.com/otelkit/otelkit/internal/kafkatest"
	"github.com/otelkit/otelkit/internal/pgtest"
)

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func newTelemetry(t *testing.T) *shop.Telemetry {
	t.Helper()
	tel, err := shop.NewTelemetry(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tel.Shutdown(context.Background()) })
	return tel
}

// TestStart_UnreachableKafkaNamesTheBroker: with no Kafka at the seed
// address Start returns an error naming it (it used to panic in its own
// cleanup).
func TestStart_UnreachableKafkaNamesTheBroker(t *testing.T) {
	t.Parallel()
	_, schema := pgtest.Schema(t)
	broker := deadAddr(t)
	cfg := shop.Config{DatabaseURL: pgtest.URL(), Schema: schema, Brokers: []string{broker}, Telemetry: newTelemetry(t)}
	sys, err := shop.Start(context.Background(), cfg)
	if err == nil {
		sys.Close(context.Background())
		t.Fatal("Start succeeded without Kafka")
	}
	if sys != nil {
		t.Errorf("Start returned a system with its error")
	}
	if !strings.Contains(err.Error(), broker) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %q does not name the broker %s and the cause", err, broker)
	}
}

// TestStart_TakenPortNamesTheAddress: when a service's listen address is
// taken Start names the service and the address, and releases the addresses
// it had already taken for the other services.
func TestStart_TakenPortNamesTheAddress(t *testing.T) {
	t.Parallel()
	_, schema := pgtest.Schema(t)
	brokers := kafkatest.Cluster(t, 1)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free := deadAddr(t) // inventory listens before the gateway
	cfg := shop.Config{DatabaseURL: pgtest.URL(), Schema: schema, Brokers: brokers, Telemetry: newTelemetry(t),
		Listen: map[string]string{shop.Inventory: free, shop.Gateway: taken.Addr().String()}}
	sys, err := shop.Start(context.Background(), cfg)
	if err == nil {
		sys.Close(context.Background())
		t.Fatal("Start succeeded on a taken address")
	}
	if msg := err.Error(); !strings.HasPrefix(msg, shop.Gateway+": ") || !strings.Contains(msg, taken.Addr().String()) ||
		!strings.Contains(msg, "address already in use") {
		t.Errorf("error %q does not name the gateway, its address %s and the cause", msg, taken.Addr())
	}
	l, err := net.Listen("tcp", free)
	if err != nil {
		t.Fatalf("inventory's address is still held after Start failed: %v", err)
	}
	l.Close()
}

// TestStart_FailingServiceStopsTheStartedOnes: a service that fails after
// others started leaves nothing running: their addresses are free again and
// their goroutines gone (TestMain checks with goleak).
func TestStart_FailingServiceStopsTheStartedOnes(t *testing.T) {
	t.Parallel()
	_, schema := pgtest.Schema(t)
	brokers := kafkatest.Cluster(t, 1)
	addr := deadAddr(t)
	cfg := shop.Config{DatabaseURL: pgtest.URL(), Schema: schema, Brokers: brokers, Telemetry: newTelemetry(t),
		Listen: map[string]string{shop.Inventory: addr}, Peers: shop.Peers{PaymentProvider: "http://" + deadAddr(t)}}
	sys, err := shop.Start(context.Background(), cfg, shop.Inventory, shop.Payments, "no-such-service")
	if err == nil {
		sys.Close(context.Background())
		t.Fatal("Start succeeded with an unknown service")
	}
	if !strings.Contains(err.Error(), `"no-such-service"`) {
		t.Errorf("error %q does not name the service", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("inventory's address is still held after Start failed: %v", err)
	}
	l.Close()
}

// TestStart_MissingPeerIsAPeerError: a service started without the URL of a
// peer run elsewhere is refused before Postgres or Kafka are touched (the
// config names neither), with the service, the peer and the URL given; a
// peer started in the same call needs no URL.
func TestStart_MissingPeerIsAPeerError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		services []string
		peers    shop.Peers
		want     *shop.PeerError
	}{
		{"gateway alone", []string{shop.Gateway}, shop.Peers{}, &shop.PeerError{Service: shop.Gateway, Peer: shop.Orders}},
		{"orders with a bare host", []string{shop.Orders}, shop.Peers{Inventory: "127.0.0.1:8083"},
			&shop.PeerError{Service: shop.Orders, Peer: shop.Inventory, URL: "127.0.0.1:8083"}},
		{"orders without a host", []string{shop.Orders}, shop.Peers{Inventory: "http://"},
			&shop.PeerError{Service: shop.Orders, Peer: shop.Inventory, URL: "http://"}},
		{"payments alone", []string{shop.Payments}, shop.Peers{}, &shop.PeerError{Service: shop.Payments, Peer: shop.PaymentProvider}},
		{"orders beside its inventory, gateway without pricing", []string{shop.Inventory, shop.Orders, shop.Gateway},
			shop.Peers{Recommendations: "http://127.0.0.1:8084"}, &shop.PeerError{Service: shop.Gateway, Peer: shop.Pricing}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sys, err := shop.Start(context.Background(), shop.Config{Telemetry: newTelemetry(t), Peers: tc.peers}, tc.services...)
			if sys != nil {
				sys.Close(context.Background())
			}
			var got *shop.PeerError
			if !errors.As(err, &got) || *got != *tc.want {
				t.Errorf("Start: %v, want %#v", err, tc.want)
			}
		})
	}
	for _, services := range [][]string{nil, {shop.Orders, shop.Inventory}, {shop.Pricing}} {
		if err := shop.CheckPeers(shop.Peers{}, services...); err != nil {
			t.Errorf("CheckPeers(%v) = %v, want nil: every peer is started with them", services, err)
		}
	}
}
