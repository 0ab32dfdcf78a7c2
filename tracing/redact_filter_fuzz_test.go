package tracing

import "testing"

// FuzzMaySecret checks that the fast filter in front of the value scan
// never lets a secret through: wherever the scan, run without the filter,
// masks or hashes something, maySecret says the text may hold a secret.
func FuzzMaySecret(f *testing.F) {
	for _, seed := range []string{
		"order accepted", "ord-1042", "card 4111 1111 1111 1111 2 items", testPK, testJWT,
		"Bearer abcdefghijklmnopqrstuvwxyz", "BASIC dXNlcjpwYXNzd29yZA==", "whsec_0123456789abcdef",
		"postgres://app:hunter2@db/shop", `{"api_key": "k-123"}`, "password = 'x'",
		"mail jane.doe@example.com", "?customer=u-1&sig=x", "user.id=u-7,order.id=o-1",
		"at 12:30 from 10.0.0.7:5432", "12345678901234", "x_live_0123456789",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range []*Redactor{defaultRedactor, secretsRedactor} {
			if m, changed := r.maskSecrets(s); changed && !r.maySecret(s) {
				t.Fatalf("maySecret(%q) = false, but the scan makes it %q", s, m)
			}
		}
	})
}
