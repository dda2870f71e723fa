package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/netguard/netguardtest"
)

// loopbackOnly is a base dialer for tests: past the address check, it
// refuses anything but loopback, so that a bug in the check can never
// send a packet to a real private or public address from a test.
func loopbackOnly(t *testing.T) net.Dialer {
	return net.Dialer{Timeout: 2 * time.Second, Control: func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			t.Errorf("dialled %s %s past the address check", network, address)
			return errors.New("test guard: only loopback may be dialled")
		}
		return nil
	}}
}

// testLookup resolves names from a fixed table and fails for all others.
func testLookup(names map[string][]string) LookupFunc {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		ss, ok := names[strings.ToLower(host)]
		if !ok {
			return nil, &net.DNSError{Err: "no such host (test resolver)", Name: host, IsNotFound: true}
		}
		addrs := make([]netip.Addr, len(ss))
		for i, s := range ss {
			addrs[i] = netip.MustParseAddr(s)
		}
		return addrs, nil
	}
}

// TestDialerRefusesInternalAddresses dials the canaries on loopback in
// every spelling, and other internal addresses, through a Dialer: each is
// refused before a packet is sent. "localhost" goes through the system's
// resolver, as it does in production.
func TestDialerRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	c4 := netguardtest.Start(t, "127.0.0.1")
	c6 := netguardtest.Start(t, "::1")
	p4, p6 := c4.Port, c4.Port
	if c6 != nil {
		p6 = c6.Port
	}
	names := testLookup(map[string][]string{
		"rebind.test":   {"127.0.0.1"},
		"metadata.test": {"169.254.169.254"},
		"mapped.test":   {"::ffff:127.0.0.1"},
		"mixed.test":    {"93.184.215.14", "127.0.0.1"},
	})
	system := NewDialer(loopbackOnly(t), nil, nil)
	table := NewDialer(loopbackOnly(t), nil, names)

	tests := []struct {
		name string
		d    *Dialer
		addr string
	}{
		{"loopback", table, "127.0.0.1:" + p4},
		{"other loopback", table, "127.0.0.2:" + p4},
		{"IPv6 loopback", table, "[::1]:" + p6},
		{"IPv4-mapped loopback", table, "[::ffff:127.0.0.1]:" + p4},
		{"NAT64 loopback", table, "[64:ff9b::7f00:1]:" + p4},
		{"hex integer", table, "0x7f000001:" + p4},
		{"decimal integer", table, "2130706433:" + p4},
		{"octal", table, "0177.0.0.1:" + p4},
		{"short form", table, "127.1:" + p4},
		{"unspecified", table, "0.0.0.0:" + p4},
		{"private 10/8", table, "10.0.0.1:25"},
		{"private 192.168/16", table, "192.168.1.1:25"},
		{"cloud metadata", table, "169.254.169.254:80"},
		{"IPv6 link-local with zone", table, "[fe80::1%lo]:" + p6},
		{"IPv6 unique-local", table, "[fd00::1]:25"},
		{"name resolving to loopback", table, "rebind.test:" + p4},
		{"name resolving to metadata", table, "metadata.test:80"},
		{"name resolving to a mapped loopback", table, "mapped.test:" + p4},
		{"name with one internal address among public ones", table, "mixed.test:" + p4},
		{"localhost through the system resolver", system, "localhost:" + p4},
	}
	t.Run("group", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				conn, err := tt.d.DialContext(context.Background(), "tcp", tt.addr)
				if err == nil {
					_ = conn.Close()
					t.Fatalf("DialContext(%s) connected, want %v", tt.addr, ErrForbiddenAddress)
				}
				if !errors.Is(err, ErrForbiddenAddress) {
					t.Fatalf("DialContext(%s) = %v, want %v", tt.addr, err, ErrForbiddenAddress)
				}
			})
		}
	})
	c4.AssertUntouched(t)
	c6.AssertUntouched(t)
}

// TestDialerAllow connects to the canary once its address is allowed,
// and still refuses the addresses outside the allowed prefix.
func TestDialerAllow(t *testing.T) {
	t.Parallel()
	c := netguardtest.Start(t, "127.0.0.1")
	d := NewDialer(loopbackOnly(t), []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		testLookup(map[string][]string{"allowed.test": {"127.0.0.1"}}))
	for _, addr := range []string{"127.0.0.1:" + c.Port, "allowed.test:" + c.Port} {
		conn, err := d.DialContext(context.Background(), "tcp", addr)
		if err != nil {
			t.Fatalf("DialContext(%s) = %v, want a connection", addr, err)
		}
		_ = conn.Close()
	}
	if _, err := d.DialContext(context.Background(), "tcp", "127.0.0.2:"+c.Port); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("DialContext(127.0.0.2) = %v, want %v", err, ErrForbiddenAddress)
	}
}

func TestCheckHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host      string
		allow     string
		forbidden bool
	}{
		{host: "smtp.example.com"},
		{host: "8.8.8.8"},
		{host: "2606:4700:4700::1111"},
		{host: "rebind.example.com"}, // names are checked when dialled
		{host: "10.1.2.3", allow: "10.0.0.0/8"},
		{host: "localhost", allow: "127.0.0.0/8"},
		{host: "127.0.0.1", forbidden: true},
		{host: "::1", forbidden: true},
		{host: "::ffff:127.0.0.1", forbidden: true},
		{host: "10.0.0.1", forbidden: true},
		{host: "169.254.169.254", forbidden: true},
		{host: "fe80::1%eth0", forbidden: true},
		{host: "0x7f000001", forbidden: true},
		{host: "2130706433", forbidden: true},
		{host: "0177.0.0.1", forbidden: true},
		{host: "127.1", forbidden: true},
		{host: "localhost", forbidden: true},
		{host: "LOCALHOST.", forbidden: true},
		{host: "mail.localhost", forbidden: true},
		{host: "10.1.2.3", allow: "192.168.0.0/16", forbidden: true},
	}
	for _, tt := range tests {
		t.Run(tt.host+"/"+tt.allow, func(t *testing.T) {
			t.Parallel()
			var allow []netip.Prefix
			if tt.allow != "" {
				allow = []netip.Prefix{netip.MustParsePrefix(tt.allow)}
			}
			err := CheckHost(tt.host, allow)
			if tt.forbidden != (err != nil) {
				t.Fatalf("CheckHost(%q, %v) = %v, want forbidden %t", tt.host, allow, err, tt.forbidden)
			}
			if err != nil && !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("CheckHost error %v does not wrap ErrForbiddenAddress", err)
			}
		})
	}
}

// TestControlChecksTheSocket dials the canary through the Control hook
// alone, without DialContext's checks in front of it: the hook must refuse
// before the connection is made.
func TestControlChecksTheSocket(t *testing.T) {
	t.Parallel()
	c := netguardtest.Start(t, "127.0.0.1")
	d := NewDialer(net.Dialer{}, nil, nil)
	nd := net.Dialer{Timeout: time.Second, Control: d.control}
	conn, err := nd.Dial("tcp", "127.0.0.1:"+c.Port)
	if err == nil {
		_ = conn.Close()
		t.Fatal("Control let a loopback dial through")
	}
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("Dial = %v, want %v", err, ErrForbiddenAddress)
	}
	c.AssertUntouched(t)
}

func TestCheckAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr      string
		allow     string
		forbidden bool
	}{
		{addr: "8.8.8.8"},
		{addr: "1.1.1.1"},
		{addr: "93.184.215.14"},
		{addr: "2606:4700:4700::1111"},
		{addr: "::ffff:8.8.8.8"},
		{addr: "64:ff9b::808:808"},
		{addr: "2002:808:808::1"},
		{addr: "100.63.255.255"},
		{addr: "100.128.0.0"},
		{addr: "172.15.255.255"},
		{addr: "172.32.0.0"},
		{addr: "0.0.0.0", forbidden: true},
		{addr: "0.1.2.3", forbidden: true},
		{addr: "127.0.0.1", forbidden: true},
		{addr: "127.255.255.254", forbidden: true},
		{addr: "10.0.0.1", forbidden: true},
		{addr: "172.16.0.1", forbidden: true},
		{addr: "172.31.255.255", forbidden: true},
		{addr: "192.168.0.1", forbidden: true},
		{addr: "169.254.169.254", forbidden: true},
		{addr: "100.64.0.1", forbidden: true},
		{addr: "100.127.255.255", forbidden: true},
		{addr: "192.0.0.8", forbidden: true},
		{addr: "192.0.2.1", forbidden: true},
		{addr: "198.18.0.1", forbidden: true},
		{addr: "198.19.255.255", forbidden: true},
		{addr: "198.51.100.1", forbidden: true},
		{addr: "203.0.113.1", forbidden: true},
		{addr: "224.0.0.1", forbidden: true},
		{addr: "239.255.255.250", forbidden: true},
		{addr: "240.0.0.1", forbidden: true},
		{addr: "255.255.255.255", forbidden: true},
		{addr: "::", forbidden: true},
		{addr: "::1", forbidden: true},
		{addr: "::127.0.0.1", forbidden: true},
		{addr: "::ffff:127.0.0.1", forbidden: true},
		{addr: "::ffff:10.1.2.3", forbidden: true},
		{addr: "::ffff:169.254.169.254", forbidden: true},
		{addr: "64:ff9b::7f00:1", forbidden: true},
		{addr: "64:ff9b::a9fe:a9fe", forbidden: true},
		{addr: "64:ff9b:1::808:808", forbidden: true},
		{addr: "2002:7f00:1::1", forbidden: true},
		{addr: "2002:a00:1::1", forbidden: true},
		{addr: "2001::1", forbidden: true},
		{addr: "2001:db8::1", forbidden: true},
		{addr: "3fff::1", forbidden: true},
		{addr: "fc00::1", forbidden: true},
		{addr: "fd12:3456::1", forbidden: true},
		{addr: "fe80::1", forbidden: true},
		{addr: "fe80::1%eth0", forbidden: true},
		{addr: "fec0::1", forbidden: true},
		{addr: "ff02::1", forbidden: true},
		{addr: "100::1", forbidden: true},
		{addr: "5f00::1", forbidden: true},
		{addr: "10.1.2.3", allow: "10.0.0.0/8"},
		{addr: "::ffff:10.1.2.3", allow: "10.0.0.0/8"},
		{addr: "10.1.2.3", allow: "::ffff:10.0.0.0/104"},
		{addr: "fd00::5", allow: "fd00::/8"},
		{addr: "fe80::1%eth0", allow: "fe80::/10"},
		{addr: "10.1.2.3", allow: "10.9.0.0/16", forbidden: true},
		{addr: "127.0.0.2", allow: "127.0.0.1/32", forbidden: true},
	}
	for _, tt := range tests {
		t.Run(tt.addr+"/"+tt.allow, func(t *testing.T) {
			t.Parallel()
			var allow []netip.Prefix
			if tt.allow != "" {
				allow = []netip.Prefix{netip.MustParsePrefix(tt.allow)}
			}
			err := CheckAddr(netip.MustParseAddr(tt.addr), allow)
			if tt.forbidden != (err != nil) {
				t.Fatalf("CheckAddr(%s, %v) = %v, want forbidden %t", tt.addr, allow, err, tt.forbidden)
			}
			if err != nil && !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("CheckAddr error %v does not wrap ErrForbiddenAddress", err)
			}
		})
	}
}
