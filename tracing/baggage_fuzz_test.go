package tracing

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
)

// The keys the fuzzed headers name, one per value type parsed from baggage,
// as a company would declare them.
var (
	fuzzOrderID = NewStringKey("order.id", Travels())
	_           = NewFloat64Key("order.amount", Travels())
	_           = NewInt64Key("order.item_count", Travels())
)

// FuzzBaggage feeds hostile inbound baggage headers through extraction and
// Business (what tracing's baggage span processor copies onto spans):
// nothing panics, and only registered traveling keys with short printable
// values come out.
func FuzzBaggage(f *testing.F) {
	for _, seed := range []string{
		"order.id=o-42,user.id=u-7,order.amount=99.5,order.item_count=3",
		"order.id=o%2C42;prop=1,evil.key=x",
		"order.id=%ff%fe,order.item_count=1e3,order.amount=NaN",
		strings.Repeat("order.id=a,", 100),
		"order.id=" + strings.Repeat("x", 300),
		" order.id = spaced ,tenant.id=t1;p;q=r",
		"=,;,order.amount=-0,order.amount=Inf",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		ctx := propagation.Baggage{}.Extract(context.Background(), propagation.MapCarrier{"baggage": header})
		check := func(where string, kvs []attribute.KeyValue) {
			for _, kv := range kvs {
				info, ok := LookupKey(kv.Key)
				if !ok || !info.Travels || kv.Value.Type() != info.Type {
					t.Fatalf("%s: %s=%v is not an allowlisted business attribute", where, kv.Key, kv.Value.String())
				}
				if v := kv.Value.String(); len(v) > maxBusinessValueLen || !utf8.ValidString(v) {
					t.Fatalf("%s: %s value unfiltered: %q", where, kv.Key, v)
				}
			}
		}
		check("Business", Business(ctx))

		// Setting business context on top of anything inbound stays within
		// the W3C limits.
		ctx = SetBusiness(ctx, fuzzOrderID.String(header), TenantID.String("t-1"))
		if b := baggage.FromContext(ctx); b.Len() > maxBaggageMembers || len(b.String()) > maxBaggageBytes {
			t.Fatalf("baggage over the limits: %d members, %d bytes", b.Len(), len(b.String()))
		}
	})
}
