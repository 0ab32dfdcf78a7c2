package tracing

import "strings"

// mask is what replaces a secret too short to keep a prefix and suffix of.
const mask = "***"

// keepLen is how much of a secret's start and end survive masking: enough to
// tell two values apart, not enough to use one.
const keepLen = 3

// minKeepLen is the shortest secret that keeps its ends.
const minKeepLen = 16

// maskSecret masks a value stored under a secret-looking key. An HTTP
// authorization scheme ("Bearer ", "Basic ") is kept.
func maskSecret(s string) string {
	if alreadyMasked(s) {
		return s
	}
	if end, repl, ok := providerKeyAt(s, 0); ok && end == len(s) {
		return repl
	}
	if i := strings.IndexByte(s, ' '); i > 0 && i < len(s)-1 && isAuthScheme(s[:i]) {
		return s[:i+1] + keepEnds(strings.TrimLeft(s[i+1:], " "))
	}
	return keepEnds(s)
}

func keepEnds(s string) string {
	if alreadyMasked(s) {
		return s
	}
	if len(s) < minKeepLen || !isASCII(s[:keepLen]) || !isASCII(s[len(s)-keepLen:]) {
		return mask
	}
	return s[:keepLen] + "..." + s[len(s)-keepLen:]
}

// alreadyMasked reports whether s is the output of keepEnds, possibly after
// a provider prefix, so that redacting twice changes nothing.
func alreadyMasked(s string) bool {
	for _, p := range providerPrefixes {
		if strings.HasPrefix(s, p) {
			s = s[len(p):]
			break
		}
	}
	return s == mask || (len(s) == 2*keepLen+3 && s[keepLen:keepLen+3] == "...")
}

func isAuthScheme(s string) bool {
	return strings.EqualFold(s, "bearer") || strings.EqualFold(s, "basic") || strings.EqualFold(s, "token")
}

// scanSecrets masks the secret-looking parts of s, wherever they are: bearer
// and basic credentials, JWTs, provider keys, card numbers passing the Luhn
// check, the credentials of URLs, the values of secret-looking pairs
// (`password=...`, `"api_key": "..."`), and it hashes e-mail addresses and
// the values of personal query parameters. It walks s once and allocates
// only when something changes.
func (r *Redactor) scanSecrets(s string) (string, bool) {
	if !r.maySecret(s) {
		return s, false
	}
	var b strings.Builder
	last, changed := 0, false
	for i := 0; i < len(s); {
		start, end, repl, ok := r.secretAt(s, i, last)
		if !ok {
			i = max(i+1, end)
			continue
		}
		if !changed {
			b.Grow(len(s))
			changed = true
		}
		b.WriteString(s[last:start])
		b.WriteString(repl)
		last, i = end, end
	}
	if !changed {
		return s, false
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// maySecret is the fast filter in front of the scanner, one pass over s:
// every secret the scanner finds holds 13 digits or more, an '@', a '=' or
// ':' after a key [Redactor.pairAt] masks or hashes, or one of "eyJ",
// "_live_", "_test_", "whsec_", or "bearer " or "basic " in any case.
func (r *Redactor) maySecret(s string) bool {
	if len(s) < 5 {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if digits++; digits >= 13 {
				return true
			}
		case c == '@':
			return true
		case c == '=' || c == ':':
			// "scheme://" is for the '@' of its credentials to flag.
			if c == ':' && i+1 < len(s) && s[i+1] == '/' {
				continue
			}
			if r.pairKey(s, i) != pairNone {
				return true
			}
		case c == 'J':
			if i >= 2 && s[i-2] == 'e' && s[i-1] == 'y' {
				return true
			}
		case c == '_':
			if strings.HasPrefix(s[i:], "_live_") || strings.HasPrefix(s[i:], "_test_") || (i >= 5 && s[i-5:i] == "whsec") {
				return true
			}
		case c == ' ' && i > 0:
			// A look at the last letter first: most spaces end other words.
			switch s[i-1] | 0x20 {
			case 'r':
				if i >= 6 && strings.EqualFold(s[i-6:i], "bearer") {
					return true
				}
			case 'c':
				if i >= 5 && strings.EqualFold(s[i-5:i], "basic") {
					return true
				}
			}
		}
	}
	return false
}

// secretAt reports whether a secret is found at s[i]: it is s[start:end]
// (start <= i, but not before last, the end of the previous replacement),
// and repl replaces it. When there is none, a non-zero end is where the
// scan may resume.
func (r *Redactor) secretAt(s string, i, last int) (start, end int, repl string, ok bool) {
	switch s[i] {
	case '@':
		return r.emailAt(s, i, last)
	case ':':
		if strings.HasPrefix(s[i:], "://") {
			return userinfoAt(s, i)
		}
		return r.pairAt(s, i)
	case '=':
		return r.pairAt(s, i)
	}
	if i > 0 && isWordByte(s[i-1]) {
		return 0, 0, "", false
	}
	switch c := s[i]; {
	case c == 'b' || c == 'B':
		end, repl, ok = authAt(s, i)
	case c == 'e':
		end, repl, ok = jwtAt(s, i)
	case c == 's' || c == 'p' || c == 'r' || c == 'w':
		end, repl, ok = providerKeyAt(s, i)
	case c >= '0' && c <= '9':
		end, repl, ok = cardAt(s, i)
	}
	return i, end, repl, ok
}

func authAt(s string, i int) (int, string, bool) {
	var j int
	switch {
	case hasPrefixFold(s[i:], "bearer "):
		j = i + len("bearer ")
	case hasPrefixFold(s[i:], "basic "):
		j = i + len("basic ")
	default:
		return 0, "", false
	}
	for j < len(s) && s[j] == ' ' {
		j++
	}
	k := j
	for k < len(s) && isToken68(s[k]) {
		k++
	}
	for k < len(s) && s[k] == '=' {
		k++
	}
	if k-j < 8 || alreadyMasked(s[j:k]) {
		return 0, "", false
	}
	return k, s[i:j] + keepEnds(s[j:k]), true
}

func jwtAt(s string, i int) (int, string, bool) {
	if !strings.HasPrefix(s[i:], "eyJ") {
		return 0, "", false
	}
	k := i
	for seg := 0; seg < 3; seg++ {
		if seg > 0 {
			if k >= len(s) || s[k] != '.' {
				return 0, "", false
			}
			k++
		}
		start := k
		for k < len(s) && isBase64URL(s[k]) {
			k++
		}
		// A header is base64 JSON ({"alg":...}), far longer than its
		// "eyJ" opening; a bare "eyJ" is the kept end of a masked token
		// ("eyJ...eyJ") followed by dots, which is not to be masked again.
		if k == start || (seg == 0 && k-start <= len("eyJ")) {
			return 0, "", false
		}
	}
	if k < len(s) && isWordByte(s[k]) {
		return 0, "", false
	}
	return k, keepEnds(s[i:k]), true
}

var providerPrefixes = []string{"sk_live_", "pk_live_", "rk_live_", "sk_test_", "pk_test_", "rk_test_", "whsec_"}

func providerKeyAt(s string, i int) (int, string, bool) {
	for _, p := range providerPrefixes {
		if !strings.HasPrefix(s[i:], p) {
			continue
		}
		j := i + len(p)
		k := j
		for k < len(s) && isAlnum(s[k]) {
			k++
		}
		if k-j < 8 {
			return 0, "", false
		}
		return k, p + s[j:j+keepLen] + "..." + s[k-keepLen:k], true
	}
	return 0, "", false
}

// cardAt matches card numbers in the run of digit groups (separated by
// single spaces or dashes) starting at s[i]: every window of whole groups
// holding 13 to 19 digits that starts like a payment card (2-6) and passes
// the Luhn check. Everything from the first such window to the end of the
// last one is masked, so overlapping candidates cannot leave digits of a card
// in clear; digits of the run outside them are kept. With no card in the
// run, end is still the run's end, so the caller skips it whole.
func cardAt(s string, i int) (end int, repl string, ok bool) {
	from, to := -1, -1
	for gs := i; gs >= 0; gs = nextGroup(s, gs) {
		if s[gs] < '2' || s[gs] > '6' {
			continue
		}
		n := 0
		for k := gs; k < len(s) && n < 19; {
			c := s[k]
			if c >= '0' && c <= '9' {
				n++
				k++
				if n >= 13 && (k == len(s) || !isWordByte(s[k])) && luhn(s[gs:k]) {
					if from < 0 {
						from = gs
					}
					to = max(to, k)
				}
				continue
			}
			if (c == ' ' || c == '-') && k+1 < len(s) && s[k+1] >= '0' && s[k+1] <= '9' {
				k++
				continue
			}
			break
		}
	}
	end = runEnd(s, i)
	if from < 0 {
		return end, "", false
	}
	return end, s[i:from] + "****" + lastDigits(s[from:to], 4) + s[to:end], true
}

// nextGroup returns the start of the digit group after the one holding
// s[gs], or -1 at the end of the run.
func nextGroup(s string, gs int) int {
	k := gs
	for k < len(s) && s[k] >= '0' && s[k] <= '9' {
		k++
	}
	if k+1 < len(s) && (s[k] == ' ' || s[k] == '-') && s[k+1] >= '0' && s[k+1] <= '9' {
		return k + 1
	}
	return -1
}

func runEnd(s string, i int) int {
	k := i
	for {
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k+1 < len(s) && (s[k] == ' ' || s[k] == '-') && s[k+1] >= '0' && s[k+1] <= '9' {
			k++
			continue
		}
		return k
	}
}

func lastDigits(s string, n int) string {
	var b [4]byte
	j := len(b)
	for k := len(s) - 1; k >= 0 && j > len(b)-n; k-- {
		if s[k] >= '0' && s[k] <= '9' {
			j--
			b[j] = s[k]
		}
	}
	return string(b[j:])
}

// luhn checks the digits of s, skipping separators.
func luhn(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < '0' || s[i] > '9' {
			continue
		}
		v := int(s[i] - '0')
		if double {
			if v *= 2; v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isWordByte(c byte) bool { return isAlnum(c) || c == '_' }

func isBase64URL(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

func isToken68(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
