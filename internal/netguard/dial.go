package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

// LookupFunc resolves a host name to its addresses.
type LookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// Dialer connects only to addresses CheckAddr accepts. It is safe for
// concurrent use.
type Dialer struct {
	allow  []netip.Prefix
	lookup LookupFunc
	net    net.Dialer
	base   func(network, address string, c syscall.RawConn) error
}

// NewDialer returns a Dialer that lets through public addresses and those
// in allow, for on-premises installs whose tenants' servers live on a
// private network. lookup resolves names; nil uses
// net.DefaultResolver.LookupNetIP(ctx, "ip", host), and tests use it to
// point names at chosen addresses. base sets the timeouts and keep-alive
// of each connection; its Control, when set, runs on the socket after the
// address check passes, just before connect(2).
func NewDialer(base net.Dialer, allow []netip.Prefix, lookup LookupFunc) *Dialer {
	d := &Dialer{lookup: lookup, net: base, base: base.Control}
	for _, p := range allow {
		if p.IsValid() {
			d.allow = append(d.allow, p.Masked())
		}
	}
	if d.lookup == nil {
		d.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	d.net.Control = d.control
	d.net.ControlContext = nil
	return d
}

// DialContext connects to addr ("host:port") like net.Dialer.DialContext.
// It resolves the host itself, refuses it if any of its addresses is
// forbidden (a name with several addresses is refused when one of them
// is), and dials the addresses in order until one connects. Each dial
// checks the address once more on the socket itself. A refusal wraps
// ErrForbiddenAddress and happens before any packet is sent.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: bad port %q", host, portStr)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if NumericHost(host) {
		return nil, fmt.Errorf("dial %s: %w: numeric host that is not a dotted-quad IPv4 address", host, ErrForbiddenAddress)
	} else {
		addrs, err = d.lookup(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", host, err)
		}
	}
	addrs = onNetwork(network, addrs)
	if len(addrs) == 0 {
		return nil, fmt.Errorf("dial %s: no %s address", host, network)
	}
	for _, a := range addrs {
		if err := CheckAddr(a, d.allow); err != nil {
			return nil, fmt.Errorf("dial %s: %w", host, err)
		}
	}
	var first error
	for _, a := range addrs {
		conn, err := d.net.DialContext(ctx, network, netip.AddrPortFrom(a.Unmap(), uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

func onNetwork(network string, addrs []netip.Addr) []netip.Addr {
	if network != "tcp4" && network != "tcp6" {
		return addrs
	}
	var out []netip.Addr
	for _, a := range addrs {
		if a.Unmap().Is4() == (network == "tcp4") {
			out = append(out, a)
		}
	}
	return out
}

// control runs on the socket after it is created and before it connects,
// with the address actually being dialled, and then base's Control.
func (d *Dialer) control(network, address string, c syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dialled address %q", ErrForbiddenAddress, address)
	}
	if err := CheckAddr(ap.Addr(), d.allow); err != nil {
		return err
	}
	if d.base != nil {
		return d.base(network, address, c)
	}
	return nil
}
