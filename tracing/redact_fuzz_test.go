package tracing

import (
	"strings"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
)

// FuzzRedact checks redaction of arbitrary keys and values: it never panics,
// keeps valid UTF-8 valid, is idempotent, and masks a known secret placed
// anywhere in the value.
func FuzzRedact(f *testing.F) {
	for _, seed := range [][2]string{
		{"http.request.header.authorization", "Bearer abcdefghijklmnopqrstuvwxyz"},
		{"note", "card 4111 1111 1111 1111 2 items"},
		{"stripe.key", testPK},
		{"rpc.note", testJWT + "." + testJWT},
		{"x", "bearer bearer bearer eyJ.eyJ. pk_live_ 4111"},
		{"db.password", "héllo wörld, naïve password"},
		{"user.id", "u-7"},
		{"url.full", "https://u:p@h.test/p?token=abc&customer=u-1&sig=x#f"},
		{"exception.message", `connect host=db password='a \' b' user=app: "api_key": "k"`},
		{"note", "mail a.b+c@mail.example.com or x@y, at 12:30"},
		{"db.query.text", "SELECT 1 WHERE token = $1 AND password = 'x'"},
	} {
		f.Add(seed[0], seed[1])
	}
	secrets := []string{testPK, testJWT, testCard, "Bearer abcdefghijklmnopqrstuvwxyz", "sk_test_0123456789abcdefXYZ",
		"postgres://app:hunter2@db/shop", "password=hunter2", "jane.doe@example.com"}
	f.Fuzz(func(t *testing.T, key, value string) {
		kv := attribute.String(key, value)
		out, keep := defaultRedactor.Attr(kv)
		if !keep {
			return
		}
		s := out.Value.String()
		if utf8.ValidString(value) && !utf8.ValidString(s) {
			t.Fatalf("%q -> invalid UTF-8 %q", value, s)
		}
		if again, _ := defaultRedactor.Attr(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", value, s, again.Value.String())
		}
		for _, secret := range secrets {
			in := value + " " + secret + " " + value
			got, _ := defaultRedactor.Attr(attribute.String(key, in))
			// The fuzzer may put the secret into value too, glued to other
			// text: only the copy placed as a word must go.
			if strings.Count(got.Value.String(), secret) > 2*strings.Count(value, secret) {
				t.Fatalf("%q survived redaction of %q: %q", secret, in, got.Value.String())
			}
		}
	})
}
