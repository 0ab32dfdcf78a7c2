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
	if ip := parseIP(host); ip.IsValid() {
		return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast()
	}
	if !strings.Contains(host, ".") {
		return true
	}
	for _, suffix := range [...]string{".local", ".internal", ".localhost", ".svc", ".cluster.local"} {
		if strings.HasSuffix(host, suffix) {
			return true
		}
	}
	return false
}

func parseIP(host string) netip.Addr {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}
