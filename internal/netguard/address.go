// Package netguard decides which addresses the workers may connect to on
// a tenant's behalf: only the public internet, unless the operator allows
// chosen internal networks. Tenants choose webhook URLs and SMTP hosts;
// without this, a tenant could make a worker talk to loopback, the cloud
// metadata service or any host on the private network, and read the
// answers back in delivery attempts.
//
// The verdict is given twice. CheckHost, when a tenant saves a host, on
// what can be known without DNS (literal addresses, numeric hosts,
// localhost); a Dialer on every connection, after DNS resolution and again
// on the socket itself, so a name that resolves (or later re-resolves) to
// an internal address is refused before any packet is sent.
package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrForbiddenAddress is matched by errors.Is when a host names, or
// resolves to, an address that is not on the public internet:
// loopback, private, link-local, shared (CGNAT), multicast, reserved or
// documentation ranges, and IPv6 forms that embed one of those.
var ErrForbiddenAddress = errors.New("address is not a public internet address")

// forbiddenV4 holds the IPv4 ranges that are not globally reachable unicast
// (IANA IPv4 Special-Purpose Address Registry, RFC 6890 and successors).
var forbiddenV4 = mustPrefixes(
	"0.0.0.0/8",       // "this network", including the unspecified 0.0.0.0
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // shared address space (carrier-grade NAT)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, including cloud metadata 169.254.169.254
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation (TEST-NET-1)
	"192.88.99.0/24",  // deprecated 6to4 relay anycast
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation (TEST-NET-2)
	"203.0.113.0/24",  // documentation (TEST-NET-3)
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, including broadcast 255.255.255.255
)

var (
	// globalV6 is IPv6 global unicast; everything outside it (unspecified,
	// loopback, unique-local, link-local, site-local, multicast, the
	// discard prefix, SRv6 SIDs, reserved space) is forbidden outright,
	// except the two translation prefixes below, which embed an IPv4
	// address that decides.
	globalV6 = netip.MustParsePrefix("2000::/3")
	// forbiddenV6 is the special-purpose space inside 2000::/3.
	forbiddenV6 = mustPrefixes(
		"2001::/23",     // IETF protocol assignments, including Teredo 2001::/32
		"2001:db8::/32", // documentation
		"3fff::/20",     // documentation
	)
	nat64     = netip.MustParsePrefix("64:ff9b::/96") // well-known NAT64, v4 in the last 32 bits
	sixToFour = netip.MustParsePrefix("2002::/16")    // 6to4, v4 in bits 16–47
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
)

func mustPrefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

// CheckAddr returns nil when a may be dialled: it is in one of allow, or it
// is a public unicast address (an IPv4 address and its IPv4-mapped IPv6
// form are the same address for both checks). Otherwise it returns an error wrapping
// ErrForbiddenAddress. An IPv6 zone is ignored for the range checks
// (netip.Prefix.Contains is false for zoned addresses, which would
// otherwise let fe80::1%eth0 through).
func CheckAddr(a netip.Addr, allow []netip.Prefix) error {
	if !a.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrForbiddenAddress)
	}
	a = a.WithZone("")
	if allowed(a, allow) || allowed(a.Unmap(), allow) || allowed(netip.AddrFrom16(a.As16()), allow) {
		return nil
	}
	if reason := forbiddenReason(a); reason != "" {
		return fmt.Errorf("%w: %s is %s", ErrForbiddenAddress, a, reason)
	}
	return nil
}

func allowed(a netip.Addr, allow []netip.Prefix) bool {
	for _, p := range allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forbiddenReason says why a (without a zone) is not a public address, or
// returns "" when it is one.
func forbiddenReason(a netip.Addr) string {
	if a.Is4In6() {
		if r := forbiddenReason(a.Unmap()); r != "" {
			return "an IPv4-mapped form of " + r
		}
		return ""
	}
	if a.Is4() {
		for _, p := range forbiddenV4 {
			if p.Contains(a) {
				return describe(a) + " (" + p.String() + ")"
			}
		}
		return ""
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		if r := forbiddenReason(netip.AddrFrom4([4]byte(b[12:16]))); r != "" {
			return "a NAT64 form of " + r
		}
		return ""
	case sixToFour.Contains(a):
		if r := forbiddenReason(netip.AddrFrom4([4]byte(b[2:6]))); r != "" {
			return "a 6to4 form of " + r
		}
		return ""
	case !globalV6.Contains(a):
		return describe(a)
	}
	for _, p := range forbiddenV6 {
		if p.Contains(a) {
			return "reserved (" + p.String() + ")"
		}
	}
	return ""
}

func describe(a netip.Addr) string {
	switch {
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsMulticast():
		return "multicast"
	case cgnat.Contains(a):
		return "shared (carrier-grade NAT)"
	}
	return "reserved"
}

// NumericHost reports whether host would be read as an IPv4 address by
// some resolver although it is not a dotted quad Go parses: "2130706433",
// "0x7f000001", "0177.0.0.1", "127.1". The WHATWG URL rule is used: a host
// whose last label is all digits, or 0x followed by hex digits, is a
// number. No real DNS name ends in such a label, and glibc's resolver
// turns these into addresses, so they are refused rather than resolved.
func NumericHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if rest, ok := strings.CutPrefix(strings.ToLower(last), "0x"); ok {
		return strings.Trim(rest, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// CheckHost gives the verdict on host (a name or a literal address, without
// brackets or port) that can be known without DNS, for checking a host when
// a tenant saves it: a literal address, "localhost" (and names under
// .localhost), and a numeric host such as "2130706433" or "0x7f000001" are
// refused unless allow lets their address through; the error wraps
// ErrForbiddenAddress. Other names are not resolved here: a Dialer checks
// what they resolve to on every connection.
func CheckHost(host string, allow []netip.Prefix) error {
	if a, err := netip.ParseAddr(host); err == nil {
		return CheckAddr(a, allow)
	}
	if NumericHost(host) {
		return fmt.Errorf("%w: %q is a numeric host that is not a dotted-quad IPv4 address", ErrForbiddenAddress, host)
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		if CheckAddr(netip.MustParseAddr("127.0.0.1"), allow) != nil {
			return fmt.Errorf("%w: %q is loopback", ErrForbiddenAddress, host)
		}
	}
	return nil
}
