package api

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	proxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies: the peer", "203.0.113.7:5123", nil, nil, "203.0.113.7"},
		{"no proxies: a spoofed header ignored", "203.0.113.7:5123", []string{"192.168.1.1"}, nil, "203.0.113.7"},
		{"untrusted peer: header ignored", "203.0.113.7:5123", []string{"192.168.1.1"}, loopback, "203.0.113.7"},
		{"trusted peer: the forwarded client", "127.0.0.1:40000", []string{"192.168.1.1"}, loopback, "192.168.1.1"},
		{"trusted peer without the header: the peer", "127.0.0.1:40000", nil, loopback, "127.0.0.1"},
		{"entries left of the client are the client's to forge", "127.0.0.1:40000", []string{"6.6.6.6, 198.51.100.2"}, loopback, "198.51.100.2"},
		{"trusted hops skipped", "127.0.0.1:40000", []string{"6.6.6.6, 198.51.100.2, 10.1.2.3"}, proxies, "198.51.100.2"},
		{"hops over several headers", "127.0.0.1:40000", []string{"6.6.6.6", "198.51.100.2,10.1.2.3"}, proxies, "198.51.100.2"},
		{"only trusted hops: the leftmost", "127.0.0.1:40000", []string{"10.0.0.1, 10.0.0.2"}, proxies, "10.0.0.1"},
		{"malformed hop: the last trusted proxy", "127.0.0.1:40000", []string{"198.51.100.2, bogus, 10.0.0.2"}, proxies, "10.0.0.2"},
		{"hops with ports", "127.0.0.1:40000", []string{"198.51.100.2:8443"}, loopback, "198.51.100.2"},
		{"IPv6 hop in brackets with a port", "127.0.0.1:40000", []string{"[2001:db8::1]:443"}, loopback, "2001:db8::1"},
		{"IPv6 hop in brackets", "127.0.0.1:40000", []string{"[2001:db8::1]"}, loopback, "2001:db8::1"},
		{"IPv4-mapped peer matches an IPv4 prefix", "[::ffff:127.0.0.1]:40000", []string{"192.0.2.9"}, loopback, "192.0.2.9"},
		{"IPv6 peer", "[2001:db8::9]:40000", []string{"192.0.2.9"}, loopback, "2001:db8::9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/t/o/x", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, tt.trusted); got != tt.want {
				t.Errorf("clientIP = %s, want %s", got, tt.want)
			}
		})
	}
}
