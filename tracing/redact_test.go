package tracing

import (
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

const (
	testJWT  = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTcifQ.c2lnbmF0dXJlLWJ5dGVz"
	testCard = "4111 1111 1111 1111"
	testPK   = "pk_live_abcdefghijklmnopxyz"
)

func TestRedactAttr(t *testing.T) {
	for _, tc := range []struct {
		in, want attribute.KeyValue
	}{
		{attribute.String("http.request.header.authorization", "Bearer abcdefghijklmnopqrstuvwxyz"), attribute.String("http.request.header.authorization", "Bearer abc...xyz")},
		{attribute.String("db.password", "hunter2"), attribute.String("db.password", "***")},
		{attribute.String("stripe.key", testPK), attribute.String("stripe.key", "pk_live_abc...xyz")},
		{attribute.String("x-api-key", "0123456789abcdef0123"), attribute.String("x-api-key", "012...123")},
		{attribute.String("oauth.access_token", "short"), attribute.String("oauth.access_token", "***")},
		{attribute.StringSlice("http.request.header.cookie", []string{"session=abcdefghijklmnopqr"}), attribute.StringSlice("http.request.header.cookie", []string{"ses...pqr"})},
		{attribute.String("payment.provider.config", "key "+testPK+" v2"), attribute.String("payment.provider.config", "key pk_live_abc...xyz v2")},
		{attribute.String("rpc.note", "sent "+testJWT+"."), attribute.String("rpc.note", "sent eyJ...GVz.")},
		{attribute.String("exception.message", "charge of card "+testCard+" declined"), attribute.String("exception.message", "charge of card ****1111 declined")},
		{attribute.String("note", "card 4111-1111-1111-1111."), attribute.String("note", "card ****1111.")},
		{attribute.String("note", "paid 4111 1111 1111 1111 2 items"), attribute.String("note", "paid ****1111 2 items")},
		{attribute.String("note", "amex 378282246310005"), attribute.String("note", "amex ****0005")},
		{attribute.String("note", "4100011111111 4111 1111 1111 1111 x"), attribute.String("note", "****1111 x")},
		{attribute.String("note", "qty 1 4111 1111 1111 1111"), attribute.String("note", "qty 1 ****1111")},
		{attribute.String("note", "ref 1 2 3 4 5 6 7 8 9 0 1 2 3 4"), attribute.String("note", "ref 1 2 3 4 5 6 7 8 9 0 1 2 3 4")},
		{attribute.String("url.query", "auth=Bearer%20x bearer abcdefgh12345678zz"), attribute.String("url.query", "auth=Bearer%20x bearer abc...8zz")},
		// Left alone.
		{attribute.String("order.id", "o-42"), attribute.String("order.id", "o-42")},
		{attribute.String("messaging.kafka.message.key", "o-42"), attribute.String("messaging.kafka.message.key", "o-42")},
		{attribute.Int("gen_ai.usage.input_tokens", 12), attribute.Int("gen_ai.usage.input_tokens", 12)},
		{attribute.String("note", "eyJ...eyJ.0.0"), attribute.String("note", "eyJ...eyJ.0.0")}, // a masked JWT's kept end
		{attribute.String("note", "order 4111111111111112 (fails Luhn)"), attribute.String("note", "order 4111111111111112 (fails Luhn)")},
		{attribute.String("note", "id 9111111111111111"), attribute.String("note", "id 9111111111111111")},
		{attribute.String("db.query.text", "SELECT * FROM orders WHERE id = $1"), attribute.String("db.query.text", "SELECT * FROM orders WHERE id = $1")},
		{attribute.Int64("order.item_count", 47), attribute.Int64("order.item_count", 47)},
	} {
		if got := RedactAttr(tc.in); got != tc.want {
			t.Errorf("RedactAttr(%s=%q) = %q, want %q", tc.in.Key, tc.in.Value.String(), got.Value.String(), tc.want.Value.String())
		}
	}
	h := RedactAttr(UserID.String("u-7"))
	if v := h.Value.AsString(); h.Key != UserID.Key() || !strings.HasPrefix(v, "sha256:") || len(v) != len("sha256:")+32 || strings.Contains(v, "u-7") {
		t.Errorf("user.id hashed as %q", v)
	}
	if RedactAttr(UserID.String("u-7")) != h || RedactAttr(UserID.String("u-8")) == h {
		t.Errorf("hash is not a stable function of the value")
	}
}

func TestRedactor_HashKeyAndDrop(t *testing.T) {
	email := NewStringKey("customer.email", PersonalData(DropPersonal))
	keyed := NewRedactor(RedactionRules{HashKey: []byte("k1")})
	a, _ := keyed.Attr(UserID.String("u-7"))
	if a == RedactAttr(UserID.String("u-7")) {
		t.Errorf("HashKey does not change the hash")
	}
	if got := RedactAttr(email.String("a@example.com")); got.Valid() {
		t.Errorf("dropped key exported as %v", got)
	}
	custom := NewRedactor(RedactionRules{SecretKeyWords: []string{"pin"}, AllowKeys: []attribute.Key{"stripe.key"}, NoValueScan: true})
	for in, want := range map[attribute.KeyValue]string{
		attribute.String("card.pin", "1234"):           "***",
		attribute.String("stripe.key", testPK):         testPK,
		attribute.String("note", "card "+testCard):     "card " + testCard,
		attribute.String("db.password", "hunter2hunt"): "hunter2hunt",
	} {
		if got, _ := custom.Attr(in); got.Value.AsString() != want {
			t.Errorf("custom rules: %s=%q -> %q, want %q", in.Key, in.Value.AsString(), got.Value.AsString(), want)
		}
	}
}

// TestHashCache checks that remembered hashes are those of their values,
// with more values than slots and with two redactors of different keys.
func TestHashCache(t *testing.T) {
	plain, keyed := NewRedactor(RedactionRules{}), NewRedactor(RedactionRules{HashKey: []byte("k")})
	for round := range 2 {
		for i := range 3 * hashCacheSize {
			v := "u-" + strconv.Itoa(i)
			for _, r := range []*Redactor{plain, keyed} {
				if got, want := r.hash(v), r.computeHash(v); got != want {
					t.Fatalf("round %d: hash(%q) = %q, want %q", round, v, got, want)
				}
			}
			if plain.hash(v) == keyed.hash(v) {
				t.Fatalf("hash(%q) is the same with and without a key", v)
			}
		}
	}
}
