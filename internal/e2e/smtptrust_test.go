package e2e

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers/smtp/smtptest"
	"github.com/invoiced/invoiced/store"
)

// smtpSettings points a tenant's email at an SMTP server.
func smtpSettings(host string, port int, extra map[string]any) map[string]any {
	smtp := map[string]any{"host": host, "port": port, "username": "mailer", "password": "s3cret", "tls": "starttls"}
	for k, v := range extra {
		smtp[k] = v
	}
	settings := acmeSettings()
	settings["email"] = map[string]any{"provider": "smtp", "fromEmail": "billing@acme.test", "smtp": smtp}
	return settings
}

// TestSMTPOwnCA sends through a tenant's SMTP server whose certificate
// comes from a CA nobody trusts: the delivery fails after one attempt,
// saying why and what to set, instead of being retried for days; with the
// tenant's CA in email.smtp.caCert the next send is delivered.
func TestSMTPOwnCA(t *testing.T) {
	t.Parallel()
	h := setup(t)
	own := smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "s3cret"})

	// The sender is verified through the deployment's test server, on
	// the same host as the tenant's own.
	token := h.tenant("ACME SRL", smtpSettings(h.SMTP.Host(), h.SMTP.Port(), nil))
	h.verifySMTPSender(token)
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, smtpSettings(own.Host(), own.Port(), nil)))
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_1")))

	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_1/send", token, nil))
	d := h.failedDelivery(t, token, "inv_1")
	attempts := d["attempts"].([]any)
	if len(attempts) != 1 {
		t.Fatalf("attempts = %v, want one", attempts)
	}
	reason, _ := d["error"].(string)
	for _, want := range []string{"certificate is not trusted", "x509:", "email.smtp.caCert"} {
		if !strings.Contains(reason, want) {
			t.Errorf("failure reason %q does not mention %q", reason, want)
		}
	}
	if a := attempts[0].(map[string]any); a["code"] != "smtp_certificate" || a["permanent"] != true {
		t.Errorf("attempt = %v, want permanent smtp_certificate", a)
	}

	// The tenant's CA is kept, shown, and trusted.
	r := h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token,
		smtpSettings(own.Host(), own.Port(), map[string]any{"caCert": string(own.CertPEM())})))
	if got := r.data()["email"].(map[string]any)["smtp"].(map[string]any)["caCert"]; got != string(own.CertPEM()) {
		t.Errorf("settings show caCert %v, want the PEM", got)
	}
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_1/resend", token, nil))
	eventually(t, 10*time.Second, "the resend to be sent", func() bool {
		ds := h.deliveries(token, "inv_1")
		return len(ds) == 2 && ds[1]["status"] == "sent"
	})
	msgs := own.WaitForMessages(t, 1, 5*time.Second)
	if !msgs[0].TLS {
		t.Error("the message did not come over TLS")
	}
}

func TestSMTPCACertValidation(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", nil)
	key := "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHk=\n-----END PRIVATE KEY-----\n"
	for name, ca := range map[string]string{
		"not PEM":             "hello",
		"a key, not a cert":   key,
		"a broken cert":       "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"a cert and junk":     string(h.SMTP.CertPEM()) + "junk",
		"a cert and then key": string(h.SMTP.CertPEM()) + key,
	} {
		t.Run(name, func(t *testing.T) {
			r := h.must(http.StatusBadRequest, h.do("PUT", "/api/v1/settings", token,
				smtpSettings("smtp.acme.test", 587, map[string]any{"caCert": ca})))
			fields, _ := r.Body["error"].(map[string]any)["fields"].(map[string]any)
			if msg, _ := fields["email.smtp.caCert"].(string); !strings.Contains(msg, "PEM") {
				t.Fatalf("fields = %v, want email.smtp.caCert to ask for a PEM certificate", fields)
			}
		})
	}
}

// loopbackName returns a host name that the system resolves to loopback
// addresses only (the machine's own name usually is, in /etc/hosts). A
// machine without one skips the test, except in CI, where it must run.
func loopbackName(t *testing.T) string {
	t.Helper()
	skip := t.Skipf
	if os.Getenv("CI") == "true" {
		skip = t.Fatalf
	}
	name, err := os.Hostname()
	if err != nil {
		skip("no host name: %v", err)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", name)
	if err != nil || len(addrs) == 0 {
		skip("host name %q does not resolve: %v", name, err)
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			skip("host name %q resolves to %v, not loopback only; a name resolving to loopback is needed", name, addrs)
		}
	}
	return name
}

// TestSMTPInternalAddress points a tenant's SMTP host at loopback, where a
// server waits, with no SMTP allow-list: a literal address is refused when
// the settings are saved, naming the field; a name that resolves there is
// accepted then and refused when the worker dials, so the delivery fails
// and nothing the server says (it was never reached) shows in it.
func TestSMTPInternalAddress(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.smtpAllowNets = []netip.Prefix{} })
	canary := smtptest.Start(t, smtptest.Options{Domain: "banner-canary.smtptest", Username: "mailer", Password: "s3cret"})
	token := h.tenant("ACME SRL", nil)

	for _, host := range []string{"127.0.0.1", "::1", "::ffff:127.0.0.1", "169.254.169.254", "10.0.0.1", "0x7f000001", "2130706433", "localhost"} {
		r := h.must(http.StatusBadRequest, h.do("PUT", "/api/v1/settings", token, smtpSettings(host, canary.Port(), nil)))
		fields, _ := r.Body["error"].(map[string]any)["fields"].(map[string]any)
		if msg, _ := fields["email.smtp.host"].(string); !strings.Contains(msg, "not a public internet address") {
			t.Errorf("PUT smtp host %s: fields = %v, want email.smtp.host refused", host, fields)
		}
	}

	name := loopbackName(t)
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, smtpSettings(name, canary.Port(), nil)))
	id := h.tenantID(token)
	identity := store.SenderIdentity(store.EmailSettings{Provider: "smtp", FromEmail: "billing@acme.test", SMTP: &store.SMTPSettings{Host: name}})
	if err := h.Store.StartVerification(t.Context(), id, identity, "123456"); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.ConfirmVerification(t.Context(), id, identity, "123456"); err != nil {
		t.Fatal(err)
	}
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_1")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_1/send", token, nil))
	d := h.failedDelivery(t, token, "inv_1")
	attempts := d["attempts"].([]any)
	if len(attempts) != 1 {
		t.Fatalf("attempts = %v, want one", attempts)
	}
	if reason, _ := d["error"].(string); !strings.Contains(reason, "address is not a public internet address") {
		t.Errorf("failure reason %q, want the address refused", reason)
	}
	raw := string(h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_1/delivery-status", token, nil)).Raw)
	if strings.Contains(raw, "banner-canary") || strings.Contains(raw, "ESMTP") {
		t.Errorf("the delivery status carries the server's greeting: %s", raw)
	}
	if n := canary.Connections(); n != 0 {
		t.Errorf("the server on loopback saw %d connections, want none", n)
	}
}

// TestDefaultSMTPOnLoopback sends through the deployment's own SMTP server
// on loopback with no SMTP allow-list: the operator's server is trusted,
// only tenants' hosts are held to the address policy.
func TestDefaultSMTPOnLoopback(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.smtpAllowNets, o.defaultSMTP = []netip.Prefix{}, true })
	settings := acmeSettings()
	delete(settings, "email")
	token := h.tenant("ACME SRL", settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_1")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_1/send", token, nil))
	h.SMTP.WaitForMessages(t, 1, 10*time.Second)
}

// TestSMTPHostValidation refuses SMTP hosts that are not a host name or an
// address when they are saved, rather than failing every delivery later.
func TestSMTPHostValidation(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", nil)
	for _, host := range []string{"smtp.acme.test:587", "[2001:4860::1]", "smtp acme.test", "smtp://smtp.acme.test", "-smtp.acme.test"} {
		r := h.must(http.StatusBadRequest, h.do("PUT", "/api/v1/settings", token, smtpSettings(host, 587, nil)))
		fields, _ := r.Body["error"].(map[string]any)["fields"].(map[string]any)
		if msg, _ := fields["email.smtp.host"].(string); !strings.Contains(msg, "host name") {
			t.Errorf("PUT smtp host %q: fields = %v, want email.smtp.host refused", host, fields)
		}
	}
	for _, host := range []string{"smtp.acme.test", "SMTP.Acme.Test.", "mail-1.eu.acme.test", "8.8.8.8", "2001:4860::1"} {
		h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, smtpSettings(host, 587, nil)))
	}
}
