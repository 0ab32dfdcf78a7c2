package httptrace

import (
	"net/http"
	"net/netip"
	"strings"
)

// InternalHost is the default trust policy of [NewTransport]: it trusts
// loopback, private and link-local addresses, single-label host names
// (`inventory`, `localhost`) and names under `.local`, `.internal`,
// `.localhost`, `.svc` and `.cluster.local` (Kubernetes). Every other host
// (a payment provider's API) is untrusted.
func InternalHost(r *http.Request) bool {
	host := strings.ToLower(r.URL.Hostname())
	if host == "" {
		return false
	}
	for _, suffix := range [...]string{".local", ".internal", ".localhost", ".svc", ".cluster.local"} {
		if strings.HasSuffix(host, suffix) {
			return true
		}
	}
	// Parse only what may be an IP address (it ends in a digit or holds a
	// colon): a failed parse allocates an error.
	if last := host[len(host)-1]; last >= '0' && last <= '9' || strings.Contains(host, ":") {
		if ip := parseIP(host); ip.IsValid() {
			return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast()
		}
	}
	return !strings.Contains(host, ".")
}

func parseIP(host string) netip.Addr {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}
