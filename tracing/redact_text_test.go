package tracing

import (
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// testPersonalParam is declared personal once for the tests of this package.
const testPersonalParam = "customer"

func init() {
	if err := RegisterPersonalQueryParam(testPersonalParam, HashPersonal); err != nil {
		panic(err)
	}
	if err := RegisterPersonalQueryParam("ssn", DropPersonal); err != nil {
		panic(err)
	}
}

func TestRedactAttr_URLsAndFreeText(t *testing.T) {
	h := defaultRedactor.computeHash
	for _, tc := range []struct {
		in   attribute.KeyValue
		want string
	}{
		// url.full: sensitive query values and credentials, names kept.
		{semconv.URLFull("https://api.test/v1/x?token=abc123&api_key=k-1&page=2"), "https://api.test/v1/x?token=REDACTED&api_key=REDACTED&page=2"},
		{semconv.URLFull("https://s3.test/b/o?AWSAccessKeyId=AKIA1&Signature=c2ln&Expires=1&sig=x&X-Goog-Signature=y"), "https://s3.test/b/o?AWSAccessKeyId=REDACTED&Signature=REDACTED&Expires=1&sig=REDACTED&X-Goog-Signature=REDACTED"},
		{semconv.URLFull("https://user:pass@host.test/p?q=1"), "https://REDACTED:REDACTED@host.test/p?q=1"},
		{semconv.URLFull("https://ghp_tok@github.test/r"), "https://REDACTED@github.test/r"},
		{semconv.URLFull("https://host.test/recs?customer=u-1001&n=3"), "https://host.test/recs?customer=" + h("u-1001") + "&n=3"},
		{semconv.URLFull("https://host.test/recs?customer=u%2D1001"), "https://host.test/recs?customer=" + h("u-1001")},
		{semconv.URLFull("https://host.test/p?ssn=123-45-6789"), "https://host.test/p?ssn=REDACTED"},
		{semconv.URLQuery("password=hunter2&x=1"), "password=REDACTED&x=1"},
		{attribute.String("http.target", "/login?passwd=a%20b"), "/login?passwd=REDACTED"},
		{attribute.String("http.url", "http://a:b@h.test/"), "http://REDACTED:REDACTED@h.test/"},
		{semconv.URLPath("/users/jane.doe@example.com/orders"), "/users/" + h("jane.doe@example.com") + "/orders"},
		// Free text.
		{attribute.String("exception.message", `dial postgres://app:hunter2@db/shop: refused`), `dial postgres://REDACTED:REDACTED@db/shop: refused`},
		{attribute.String("exception.message", "connect host=db password=hunter2 user=app"), "connect host=db password=REDACTED user=app"},
		{attribute.String("exception.message", "connect host=db password = 'a b\\' c' user=app"), "connect host=db password = 'REDACTED' user=app"},
		{attribute.String("exception.message", `Get "http://recs.test/r?token=abc&x=1": EOF`), `Get "http://recs.test/r?token=REDACTED&x=1": EOF`},
		{attribute.String("exception.message", `bad body {"api_key": "k-123", "n": 1}`), `bad body {"api_key": "REDACTED", "n": 1}`},
		{attribute.String("exception.message", `invalid input syntax for type integer: "secret=s3cr3t"`), `invalid input syntax for type integer: "secret=REDACTED"`},
		{attribute.String("note", "mail Jane.Doe+x@mail.example.com, now"), "mail " + h("Jane.Doe+x@mail.example.com") + ", now"},
		{attribute.String("note", "Authorization: Bearer abcdefghijklmnopqrstuvwxyz"), "Authorization: Bearer abc...xyz"},
		{attribute.String("db.query.parameter.2", `{"baggage":"user.id=u-7;p=1,order.id=o-1"}`), `{"baggage":"user.id=` + h("u-7") + `;p=1,order.id=o-1"}`},
		{attribute.String("note", "baggage user.id=jane%40example.com"), "baggage user.id=" + h("jane@example.com")},
		// Secret keys.
		{attribute.String("db.connection_string", "postgres://app:hunter2@db.test/shop"), "pos...hop"},
		{attribute.String("app.dsn", "host=db password=x"), "hos...d=x"},
		{attribute.String("pg.conninfo", "password=x"), "***"},
		// Left alone.
		{attribute.String("db.query.text", "SELECT * FROM t WHERE id = $1 AND token = $2 OR token = ?"), "SELECT * FROM t WHERE id = $1 AND token = $2 OR token = ?"},
		{attribute.String("db.query.text", "SELECT * FROM users WHERE password = 'hunter2'"), "SELECT * FROM users WHERE password = 'REDACTED'"},
		{semconv.URLFull("https://host.test/p?page=2&sort=asc#top"), "https://host.test/p?page=2&sort=asc#top"},
		{attribute.String("note", "at 12:30:01 user@localhost said a@b"), "at 12:30:01 user@localhost said a@b"},
		{attribute.String("note", "password=REDACTED token="+h("x")), "password=REDACTED token=" + h("x")},
	} {
		got := RedactAttr(tc.in)
		if got.Value.AsString() != tc.want {
			t.Errorf("RedactAttr(%s=%q)\n got %q\nwant %q", tc.in.Key, tc.in.Value.AsString(), got.Value.AsString(), tc.want)
		}
		if again := RedactAttr(got); again != got {
			t.Errorf("not idempotent: %q -> %q", got.Value.AsString(), again.Value.AsString())
		}
	}
}

// TestRedactor_URLKeysScannedWithoutValueScan checks that the conventions'
// URL redaction holds when the value scan is turned off.
func TestRedactor_URLKeysScannedWithoutValueScan(t *testing.T) {
	r := NewRedactor(RedactionRules{NoValueScan: true})
	got, _ := r.Attr(semconv.URLFull("https://u:p@h.test/?sig=abc&token=t"))
	if want := "https://REDACTED:REDACTED@h.test/?sig=REDACTED&token=REDACTED"; got.Value.AsString() != want {
		t.Errorf("got %q, want %q", got.Value.AsString(), want)
	}
	note := attribute.String("note", "password=hunter2")
	if got, _ := r.Attr(note); got != note {
		t.Errorf("NoValueScan still scanned %q -> %q", note.Value.AsString(), got.Value.AsString())
	}
}

func TestRedactor_EmailHashUsesHashKey(t *testing.T) {
	keyed := NewRedactor(RedactionRules{HashKey: []byte("k1")})
	got, _ := keyed.Text("no account for a@example.com")
	if want := "no account for " + keyed.computeHash("a@example.com"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if user, _ := keyed.Attr(UserID.String("a@example.com")); !strings.HasSuffix(got, user.Value.AsString()) {
		t.Errorf("an e-mail in text hashes to %q, as user.id to %q", got, user.Value.AsString())
	}
}

func TestRegisterPersonalQueryParam(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Personal
		ok   bool
	}{
		{testPersonalParam, HashPersonal, true},
		{testPersonalParam, DropPersonal, false},
		{"", HashPersonal, false},
		{"a b", HashPersonal, false},
		{"x", NotPersonal, false},
		{"email_addr", HashPersonal, true},
	} {
		if err := RegisterPersonalQueryParam(tc.name, tc.p); (err == nil) != tc.ok {
			t.Errorf("RegisterPersonalQueryParam(%q, %v) = %v, want ok=%v", tc.name, tc.p, err, tc.ok)
		}
	}
}
