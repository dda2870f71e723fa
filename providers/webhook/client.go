package webhook

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/invoiced/invoiced/internal/netguard"
)

// DefaultTimeout bounds one delivery when ClientConfig.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// MaxURLLength is the longest endpoint URL CheckURL accepts.
const MaxURLLength = 2048

// ErrForbiddenAddress is matched by errors.Is when a webhook URL names, or
// its host resolves to, an address that is not on the public internet (see
// package netguard).
var ErrForbiddenAddress = netguard.ErrForbiddenAddress

// ErrInvalidURL is matched by errors.Is for every CheckURL failure that is
// not about the address (those match ErrForbiddenAddress).
var ErrInvalidURL = errors.New("invalid webhook URL")

// ClientConfig configures the HTTP client webhooks are delivered with.
type ClientConfig struct {
	// Timeout bounds one request, from dialling to reading the answer.
	// Defaults to 15s; a negative value also means the default.
	Timeout time.Duration
	// AllowNets lists prefixes that may be dialled even though they are
	// not public, for on-premises installs whose receivers live on a
	// private network. Leave it empty in a hosted install. An address is
	// allowed when it, or the IPv4 address it maps, is in a prefix.
	AllowNets []netip.Prefix
	// LookupFunc resolves a host name to its addresses. Defaults to
	// net.DefaultResolver.LookupNetIP(ctx, "ip", host). Tests use it to
	// point names at chosen addresses.
	LookupFunc netguard.LookupFunc
}

// NewClient returns an HTTP client that can only reach public addresses
// (and cfg.AllowNets), for delivering to URLs that tenants choose.
//
// Every address is checked when it is dialled, after DNS resolution, so a
// name that resolves to an internal address, DNS rebinding between a
// settings check and a delivery, and IPv4-mapped, NAT64 and 6to4 spellings
// of internal addresses all fail with an error wrapping
// ErrForbiddenAddress, before any packet is sent. A host name that
// resolves to several addresses is refused when any of them is forbidden.
//
// The client ignores HTTP_PROXY, HTTPS_PROXY and NO_PROXY: a proxy would
// dial the target on our behalf, past the check. It does not follow
// redirects: a 3xx answer is returned as it is, and Sender.Deliver treats
// it as a failure. Webhook receivers are expected to answer at the URL
// they registered, and a redirect to an internal host is a classic way
// around an address check.
//
// Only http and https URLs can be fetched; other schemes fail in the
// transport.
func NewClient(cfg ClientConfig) *http.Client {
	return newClient(cfg, nil)
}

// newClient is NewClient with guard run by the dialer's Control hook after
// the address check passes, just before connect(2). Tests use it to make
// sure nothing but loopback is ever dialled.
func newClient(cfg ClientConfig, guard func(network, address string) error) *http.Client {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	base := net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	if guard != nil {
		base.Control = func(network, address string, _ syscall.RawConn) error { return guard(network, address) }
	}
	d := netguard.NewDialer(base, cfg.AllowNets, cfg.LookupFunc)
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// CheckURL validates a webhook endpoint URL when a tenant saves it: http or
// https, a host, no user name or password, a valid port, at most
// MaxURLLength bytes. A literal IP address, "localhost", or a numeric host
// such as "2130706433" or "0x7f000001" is refused at once unless it is in
// allow (pass ClientConfig.AllowNets); those errors wrap
// ErrForbiddenAddress, the rest ErrInvalidURL. Host names are not resolved
// here: the client checks what they resolve to on every delivery.
func CheckURL(raw string, allow ...netip.Prefix) error {
	u, err := parseEndpoint(raw)
	if err != nil {
		return err
	}
	if err := netguard.CheckHost(u.Hostname(), allow); err != nil {
		return fmt.Errorf("webhook URL host: %w", err)
	}
	return nil
}

// parseEndpoint checks everything about an endpoint URL but its address.
func parseEndpoint(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidURL)
	}
	if len(raw) > MaxURLLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidURL, MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, which may carry a token; keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: scheme must be http or https", ErrInvalidURL)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: no host", ErrInvalidURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: must not contain a user name or password", ErrInvalidURL)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return nil, fmt.Errorf("%w: bad port %q", ErrInvalidURL, p)
		}
	}
	return u, nil
}
