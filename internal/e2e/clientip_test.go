package e2e

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/api"
	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/store"
)

// noPDF is the PDF renderer of an API that serves tracking only.
type noPDF struct{}

func (noPDF) Render(pdf.Document) ([]byte, error) { return nil, errors.New("no PDFs here") }

// behind serves another API over h's store and queue, trusting the proxies
// given, and returns its URL: the same tracking links reach it through a
// proxy of the deployment's choosing.
func (h *harness) behind(t *testing.T, trusted ...string) string {
	t.Helper()
	var prefixes []netip.Prefix
	for _, p := range trusted {
		prefixes = append(prefixes, netip.MustParsePrefix(p))
	}
	a, err := api.New(api.Config{Store: h.Store, Enqueuer: h.Client, Tasks: h.Inspector, PDF: noPDF{},
		PublicBaseURL: h.URL, TrustedProxies: prefixes})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestTrackingClientIP opens and clicks one email's tracking links through
// APIs that trust no proxy, another network's proxies, and the test's own
// address (127.0.0.1, the proxy here), each time with an X-Forwarded-For:
// only the last believes the header, and then only its rightmost untrusted
// entry. Each step keeps its address, and the events carry the one of the
// change they report.
func TestTrackingClientIP(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["email"].(map[string]any)["tracking"] = true
	token := h.tenant("ACME SRL", settings)
	tenantID := h.tenantID(token)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_ip")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_ip/send", token, nil))
	eventually(t, 10*time.Second, "the email", func() bool { return len(h.emails()) == 1 })
	raw := strings.NewReplacer("=\r\n", "", "=\n", "", "=3D", "=").Replace(string(mustRead(t, h.emails()[0])))
	var pixel, click string
	for _, m := range hrefPattern.FindAllStringSubmatch(raw, -1) {
		switch {
		case strings.Contains(m[1], "/t/o/"):
			pixel = m[1]
		case strings.Contains(m[1], "/t/c/"):
			click = m[1]
		}
	}
	if pixel == "" || click == "" {
		t.Fatalf("no tracking pixel or link in the email:\n%s", raw)
	}
	untrusted := h.URL // the harness's API trusts no proxy
	otherProxies := h.behind(t, "10.0.0.0/8")
	trusted := h.behind(t, "10.0.0.0/8", "127.0.0.1/32")

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(base, link, xff string) {
		t.Helper()
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", base+u.Path, nil)
		req.Header.Set("X-Forwarded-For", xff)
		resp, err := noRedirect.Do(req)
		if err != nil || resp.StatusCode >= 400 {
			t.Fatalf("GET %s: %v %v", u.Path, err, resp)
		}
		resp.Body.Close()
	}
	get(untrusted, pixel, "192.168.1.1")         // spoofed: nobody vouches for it
	get(otherProxies, pixel, "192.168.1.1")      // from a proxy, but not a trusted one
	get(trusted, pixel, "6.6.6.6, 198.51.100.7") // the client forged the left entry
	get(trusted, click, "192.0.2.44, 10.1.2.3")  // through two proxies
	get(trusted, pixel, "")                      // the proxy sent no header: its own address

	d := h.deliveries(token, "inv_ip")[0]
	var steps []string
	for _, s := range d["history"].([]any) {
		step := s.(map[string]any)
		ip, _ := step["ip"].(string)
		steps = append(steps, step["status"].(string)+"@"+ip)
	}
	want := "queued@,sent@,opened@127.0.0.1,opened@127.0.0.1,opened@198.51.100.7,clicked@192.0.2.44,opened@127.0.0.1"
	if got := strings.Join(steps, ","); got != want {
		t.Errorf("history = %s\nwant      %s", got, want)
	}

	deliveryID := d["id"].(string)
	for typ, ip := range map[string]string{store.EventInvoiceOpened: "127.0.0.1", store.EventInvoiceLinkClicked: "192.0.2.44"} {
		ev, err := h.Store.Event(t.Context(), tenantID, "evt_"+deliveryID+"_"+typ)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if ev.Data["ipAddress"] != ip || ev.Data["invoiceId"] != "inv_ip" {
			t.Errorf("%s data = %v, want ipAddress %s", typ, ev.Data, ip)
		}
	}
}
