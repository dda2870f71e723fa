package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/netguard/netguardtest"
)

// loopbackOnly is the dial guard for tests: past the address check, it
// refuses anything but loopback, so that a bug in the check can never send
// a packet to a real private or public address from a test.
func loopbackOnly(t *testing.T) func(network, address string) error {
	return func(network, address string) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			t.Errorf("dialled %s %s past the address check", network, address)
			return errors.New("test guard: only loopback may be dialled")
		}
		return nil
	}
}

// testLookup resolves names from a fixed table and fails for all others,
// so tests never query real DNS.
func testLookup(names map[string][]string) func(ctx context.Context, host string) ([]netip.Addr, error) {
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

var testNames = map[string][]string{
	"localhost":     {"127.0.0.1", "::1"},
	"localhost.":    {"127.0.0.1", "::1"},
	"rebind.test":   {"127.0.0.1"},
	"metadata.test": {"169.254.169.254"},
	"mixed.test":    {"93.184.215.14", "127.0.0.1"},
	"mapped.test":   {"::ffff:127.0.0.1"},
	"public.test":   {"127.0.0.2"},
	"allowed.test":  {"127.0.0.1"},
}

// listen127 listens on 127.0.0.2, an address allowed by AllowNets in the
// tests below while the canary's 127.0.0.1 is not. It skips the test
// where only 127.0.0.1 is configured.
func listen127(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	return ln
}

func serveOn(t *testing.T, ln net.Listener, h http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	_ = srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestClientRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	c4 := netguardtest.Start(t, "127.0.0.1")
	c6 := netguardtest.Start(t, "::1")
	p4 := c4.Port
	p6 := p4
	if c6 != nil {
		p6 = c6.Port
	}
	client := newClient(ClientConfig{Timeout: 5 * time.Second, LookupFunc: testLookup(testNames)}, loopbackOnly(t))

	tests := []struct {
		name string
		url  string
	}{
		{"loopback", "http://127.0.0.1:" + p4 + "/"},
		{"loopback https", "https://127.0.0.1:" + p4 + "/"},
		{"localhost", "http://localhost:" + p4 + "/"},
		{"localhost with trailing dot", "http://localhost.:" + p4 + "/"},
		{"IPv6 loopback", "http://[::1]:" + p6 + "/"},
		{"IPv4-mapped loopback", "http://[::ffff:127.0.0.1]:" + p4 + "/"},
		{"IPv4-mapped loopback in hex", "http://[::ffff:7f00:1]:" + p4 + "/"},
		{"NAT64 loopback", "http://[64:ff9b::7f00:1]:" + p4 + "/"},
		{"6to4 loopback", "http://[2002:7f00:1::1]:" + p4 + "/"},
		{"hex integer", "http://0x7f000001:" + p4 + "/"},
		{"decimal integer", "http://2130706433:" + p4 + "/"},
		{"octal", "http://0177.0.0.1:" + p4 + "/"},
		{"short form", "http://127.1:" + p4 + "/"},
		{"unspecified", "http://0.0.0.0:" + p4 + "/"},
		{"IPv6 unspecified", "http://[::]:" + p6 + "/"},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/"},
		{"private 10/8", "http://10.0.0.1/"},
		{"private 172.16/12", "http://172.16.0.1/"},
		{"private 192.168/16", "http://192.168.1.1/"},
		{"carrier-grade NAT", "http://100.64.0.1/"},
		{"IPv6 link-local with zone", "http://[fe80::1%25lo]:" + p6 + "/"},
		{"IPv6 unique-local", "http://[fd00::1]/"},
		{"broadcast", "http://255.255.255.255/"},
		{"name resolving to loopback (DNS rebinding)", "http://rebind.test:" + p4 + "/"},
		{"name resolving to metadata", "http://metadata.test/"},
		{"name resolving to a mapped loopback", "http://mapped.test:" + p4 + "/"},
		{"name with one internal address among public ones", "http://mixed.test:" + p4 + "/"},
	}
	t.Run("group", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				resp, err := client.Post(tt.url, "application/json", strings.NewReader("{}"))
				if err == nil {
					_ = resp.Body.Close()
					t.Fatalf("POST %s answered %s, want %v", tt.url, resp.Status, ErrForbiddenAddress)
				}
				if !errors.Is(err, ErrForbiddenAddress) {
					t.Fatalf("POST %s = %v, want %v", tt.url, err, ErrForbiddenAddress)
				}
			})
		}
	})
	c4.AssertUntouched(t)
	c6.AssertUntouched(t)
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	c := netguardtest.Start(t, "127.0.0.1")
	var landed atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/landing", func(w http.ResponseWriter, _ *http.Request) { landed.Add(1) })
	ln := listen127(t)
	base := serveOn(t, ln, mux)
	mux.HandleFunc("/to-canary", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:"+c.Port+"/", http.StatusFound)
	})
	mux.HandleFunc("/to-canary-307", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+c.Port+"/", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/to-allowed", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, base+"/landing", http.StatusMovedPermanently)
	})
	client := newClient(ClientConfig{
		Timeout:    5 * time.Second,
		AllowNets:  []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")},
		LookupFunc: testLookup(testNames),
	}, loopbackOnly(t))

	tests := []struct {
		path string
		want int
	}{
		{"/to-canary", http.StatusFound},
		{"/to-canary-307", http.StatusTemporaryRedirect},
		{"/to-allowed", http.StatusMovedPermanently},
	}
	t.Run("group", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.path, func(t *testing.T) {
				t.Parallel()
				resp, err := client.Post(base+tt.path, "application/json", strings.NewReader("{}"))
				if err != nil {
					t.Fatalf("POST: %v", err)
				}
				_ = resp.Body.Close()
				if resp.StatusCode != tt.want {
					t.Errorf("status = %d, want %d: the redirect was followed", resp.StatusCode, tt.want)
				}
			})
		}
	})
	if n := landed.Load(); n != 0 {
		t.Errorf("redirect target was reached %d time(s)", n)
	}
	c.AssertUntouched(t)
}

func TestClientAllowNets(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	host := srv.Listener.Addr().(*net.TCPAddr).AddrPort().Addr()

	tests := []struct {
		name   string
		allow  []netip.Prefix
		url    string
		wantOK bool
	}{
		{name: "not allowed", url: srv.URL, wantOK: false},
		{name: "host allowed", allow: []netip.Prefix{netip.PrefixFrom(host, host.BitLen())}, url: srv.URL, wantOK: true},
		{name: "loopback range allowed", allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, url: srv.URL, wantOK: true},
		{name: "other range allowed", allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, url: srv.URL, wantOK: false},
		{name: "name resolving to an allowed address", allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, url: "http://allowed.test:" + port + "/", wantOK: host.Is4()},
		{name: "mapped form of an allowed address", allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, url: "http://mapped.test:" + port + "/", wantOK: host.Is4()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := newClient(ClientConfig{Timeout: 5 * time.Second, AllowNets: tt.allow, LookupFunc: testLookup(testNames)}, loopbackOnly(t))
			resp, err := client.Get(tt.url)
			if !tt.wantOK {
				if err == nil {
					_ = resp.Body.Close()
					t.Fatalf("GET answered %s, want %v", resp.Status, ErrForbiddenAddress)
				}
				if !errors.Is(err, ErrForbiddenAddress) {
					t.Fatalf("GET = %v, want %v", err, ErrForbiddenAddress)
				}
				return
			}
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			defer func() { _ = resp.Body.Close() }()
			if b, _ := io.ReadAll(resp.Body); string(b) != "ok" {
				t.Errorf("body = %q, want ok", b)
			}
		})
	}
}

// TestClientIgnoresProxyEnv cannot run in parallel: it sets the proxy
// variables for the whole process.
func TestClientIgnoresProxyEnv(t *testing.T) {
	c := netguardtest.Start(t, "127.0.0.1")
	proxy := "http://127.0.0.1:" + c.Port
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"} {
		t.Setenv(k, proxy)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")

	base := serveOn(t, listen127(t), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "direct")
	}))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	client := newClient(ClientConfig{
		Timeout:    5 * time.Second,
		AllowNets:  []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")},
		LookupFunc: testLookup(testNames),
	}, loopbackOnly(t))
	if tr, ok := client.Transport.(*http.Transport); !ok || tr.Proxy != nil {
		t.Fatalf("transport %T has a Proxy func", client.Transport)
	}

	resp, err := client.Get(fmt.Sprintf("http://public.test:%s/", port))
	if err != nil {
		t.Fatalf("GET allowed host: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(b) != "direct" {
		t.Errorf("body = %q, want direct", b)
	}

	resp, err = client.Get(fmt.Sprintf("http://rebind.test:%s/", c.Port))
	if err == nil {
		_ = resp.Body.Close()
		t.Fatalf("GET forbidden host answered %s", resp.Status)
	}
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("GET forbidden host = %v, want %v", err, ErrForbiddenAddress)
	}
	c.AssertUntouched(t)
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url   string
		allow string
		want  error
	}{
		{url: "https://hooks.example.com/invoiced"},
		{url: "http://hooks.example.com:8080/a?b=c"},
		{url: "HTTPS://Hooks.Example.com/"},
		{url: "https://8.8.8.8/hook"},
		{url: "https://[2606:4700:4700::1111]/hook"},
		{url: "https://10.1.2.3/hook", allow: "10.0.0.0/8"},
		{url: "http://localhost:8080/", allow: "127.0.0.0/8"},
		{url: "", want: ErrInvalidURL},
		{url: "https://example.com/" + strings.Repeat("a", MaxURLLength), want: ErrInvalidURL},
		{url: "ftp://example.com/", want: ErrInvalidURL},
		{url: "file:///etc/passwd", want: ErrInvalidURL},
		{url: "gopher://example.com/", want: ErrInvalidURL},
		{url: "example.com/hook", want: ErrInvalidURL},
		{url: "https:example.com", want: ErrInvalidURL},
		{url: "https:///path", want: ErrInvalidURL},
		{url: "https://user:pass@example.com/", want: ErrInvalidURL},
		{url: "https://user@example.com/", want: ErrInvalidURL},
		{url: "https://example.com:0/", want: ErrInvalidURL},
		{url: "https://example.com:65536/", want: ErrInvalidURL},
		{url: "https://exa mple.com/", want: ErrInvalidURL},
		{url: "http://127.0.0.1/", want: ErrForbiddenAddress},
		{url: "http://[::1]/", want: ErrForbiddenAddress},
		{url: "http://[::ffff:127.0.0.1]/", want: ErrForbiddenAddress},
		{url: "http://169.254.169.254/latest/meta-data/", want: ErrForbiddenAddress},
		{url: "http://10.0.0.1/", want: ErrForbiddenAddress},
		{url: "http://100.64.0.1/", want: ErrForbiddenAddress},
		{url: "http://[fe80::1%25eth0]/", want: ErrForbiddenAddress},
		{url: "http://0x7f000001/", want: ErrForbiddenAddress},
		{url: "http://2130706433/", want: ErrForbiddenAddress},
		{url: "http://0177.0.0.1/", want: ErrForbiddenAddress},
		{url: "http://127.1/", want: ErrForbiddenAddress},
		{url: "http://8.8.8.8.:80/", want: ErrForbiddenAddress},
		{url: "http://localhost/", want: ErrForbiddenAddress},
		{url: "http://LOCALHOST./", want: ErrForbiddenAddress},
		{url: "http://app.localhost/", want: ErrForbiddenAddress},
		{url: "https://10.1.2.3/hook", allow: "192.168.0.0/16", want: ErrForbiddenAddress},
	}
	for _, tt := range tests {
		name := tt.url
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var allow []netip.Prefix
			if tt.allow != "" {
				allow = append(allow, netip.MustParsePrefix(tt.allow))
			}
			err := CheckURL(tt.url, allow...)
			if tt.want == nil && err != nil {
				t.Fatalf("CheckURL(%q) = %v", tt.url, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("CheckURL(%q) = %v, want %v", tt.url, err, tt.want)
			}
		})
	}
}
