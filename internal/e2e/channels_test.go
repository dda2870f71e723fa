package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers/stripe/stripetest"
)

// smsFiles returns the outbox's SMS, decoded.
func (h *harness) smsFiles() []map[string]any {
	files, _ := filepath.Glob(filepath.Join(h.Outbox, "sms", "*.json"))
	var out []map[string]any
	for _, f := range files {
		var m map[string]any
		if err := json.Unmarshal(mustRead(h.t, f), &m); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestEmailAndSMSInOneSend(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())
	inv := sampleInvoice("inv_sms")
	inv["customer"].(map[string]any)["phone"] = "0712 345 678" // national form, customer in RO
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv))

	r := h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_sms/send", token, map[string]any{"sendVia": []string{"email", "sms"}}))
	if got := r.data()["sentTo"]; got != "ana@example.com" {
		t.Fatalf("sentTo = %v, want the email address", got)
	}
	recipients, _ := json.Marshal(r.data()["recipients"])
	if want := `[{"method":"email","sentTo":"ana@example.com"},{"method":"sms","sentTo":"+40712345678"}]`; string(recipients) != want {
		t.Fatalf("recipients = %s, want %s: the email and the E.164 phone", recipients, want)
	}
	eventually(t, 10*time.Second, "an email and an SMS", func() bool { return len(h.emails()) == 1 && len(h.smsFiles()) == 1 })
	sms := h.smsFiles()[0]
	if body, _ := sms["body"].(string); sms["to"] != "+40712345678" || !strings.HasPrefix(body, "ACME SRL: New invoice for €1,130.50 due 21 Dec 2026.\nPay now: ") || !strings.Contains(body, "/i/") {
		t.Fatalf("SMS = %v, want the number, the total, the due date and the hosted invoice page (no payment link)", sms)
	}
	eventually(t, 5*time.Second, "both deliveries sent", func() bool {
		ds := h.deliveries(token, "inv_sms")
		return len(ds) == 2 && ds[0]["status"] == "sent" && ds[1]["status"] == "sent"
	})
	methods := []string{}
	for _, d := range h.deliveries(token, "inv_sms") {
		methods = append(methods, d["method"].(string))
	}
	if strings.Join(methods, ",") != "email,sms" {
		t.Fatalf("delivery methods = %v", methods)
	}
}

func TestSMSTooLongFailsPermanently(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["sms"] = map[string]any{"provider": "outbox", "maxSegments": 1}
	token := h.tenant("ACME SRL", settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_long")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_long/send", token, map[string]any{
		"sendVia": []string{"sms"}, "message": strings.Repeat("Plată restantă. ", 10),
	}))
	eventually(t, 10*time.Second, "the SMS delivery to fail", func() bool {
		ds := h.deliveries(token, "inv_long")
		return len(ds) == 1 && ds[0]["status"] == "failed"
	})
	d := h.deliveries(token, "inv_long")[0]
	if !strings.Contains(d["error"].(string), "UCS-2") || len(d["attempts"].([]any)) != 1 {
		t.Fatalf("delivery = %v, want one attempt failing on UCS-2 segments", d)
	}
	if len(h.smsFiles()) != 0 {
		t.Fatal("an over-long SMS was sent")
	}
}

func TestSuppressedAddressFailsFast(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())
	if err := h.Store.Suppress(t.Context(), h.tenantID(token), "ana@example.com", "hard bounce"); err != nil {
		t.Fatal(err)
	}
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_sup")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_sup/send", token, nil))
	eventually(t, 10*time.Second, "the delivery to fail", func() bool {
		ds := h.deliveries(token, "inv_sup")
		return len(ds) == 1 && ds[0]["status"] == "failed"
	})
	d := h.deliveries(token, "inv_sup")[0]
	if e := d["error"].(string); !strings.Contains(e, "suppressed") || !strings.Contains(e, "hard bounce") {
		t.Fatalf("error = %q, want the suppression and its reason", e)
	}
	if a := d["attempts"].([]any); len(a) != 1 || a[0].(map[string]any)["code"] != "suppressed" {
		t.Fatalf("attempts = %v", a)
	}
	if len(h.emails()) != 0 {
		t.Fatal("an email went to a suppressed address")
	}
}

func TestEmailsPerHourLimit(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	settings := acmeSettings()
	settings["defaults"] = map[string]any{"emailsPerHour": 2}
	token := h.tenant("ACME SRL", settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_r")))
	for range 2 {
		h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_r/send", token, nil))
	}
	r := h.must(http.StatusTooManyRequests, h.do("POST", "/api/v1/invoices/inv_r/send", token, nil))
	if r.errorCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("third send = %s (Retry-After %q)", r.Raw, r.Header.Get("Retry-After"))
	}
	// Each compatibility route answers the limit in its own shape, with
	// the same Retry-After. Storno's needs its recipient and an issued
	// invoice to get as far.
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_r/finalize", token, nil))
	for path, body := range map[string]any{
		"/api/v1/invoices/inv_r/send-email": nil,
		"/api/v1/invoices/inv_r/email":      map[string]any{"to": "ana@example.com"},
		"/v1/invoices/inv_r/send":           nil,
	} {
		r := h.must(http.StatusTooManyRequests, h.do("POST", path, token, body))
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("POST %s over the limit: no Retry-After (%s)", path, r.Raw)
		}
	}
	// testMode is not counted: it delivers only to the outbox.
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_r/send", token, map[string]any{"testMode": true}))
}

func TestEmailDefaults(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	settings := acmeSettings()
	settings["templates"] = map[string]any{"de": map[string]any{"subject": "Rechnung {invoice_number} von {{companyName}}",
		"overdueSubject": "Noch offen: {{invoiceNumber}}"}}
	token := h.tenant("ACME SRL", settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_d")))

	en := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_d/email-defaults", token, nil)).data()
	if !strings.Contains(en["subject"].(string), "INV-d") || !strings.Contains(en["body"].(string), "Ana Popescu") || en["language"] != "en" {
		t.Fatalf("en defaults = %v", en)
	}
	de := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_d/email-defaults?language=de", token, nil)).data()
	if de["subject"] != "Rechnung INV-d von ACME SRL" {
		t.Fatalf("de subject = %v, want the tenant's template with the branding name", de["subject"])
	}
	ro := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_d/email-defaults?language=ro", token, nil)).data()
	if ro["language"] != "ro" || !strings.Contains(ro["body"].(string), "INV-d") {
		t.Fatalf("ro defaults = %v", ro)
	}
	h.must(http.StatusBadRequest, h.do("GET", "/api/v1/invoices/inv_d/email-defaults?language=xx_1", token, nil))

	// The payment reminders: the tenant's overdue text, the built-in
	// reminder before the due date.
	overdue := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_d/email-defaults?language=de&kind=overdue", token, nil)).data()
	if overdue["subject"] != "Noch offen: INV-d" || !strings.Contains(overdue["body"].(string), "INV-d") {
		t.Fatalf("de overdue = %v", overdue)
	}
	reminder := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_d/email-defaults?kind=reminder", token, nil)).data()
	if !strings.HasPrefix(reminder["subject"].(string), "Reminder: invoice INV-d is due on") || reminder["language"] != "en" {
		t.Fatalf("en reminder = %v", reminder)
	}
	if r := h.do("GET", "/api/v1/invoices/inv_d/email-defaults?kind=dunning", token, nil); r.Status != http.StatusBadRequest || r.errorFields()["kind"] == nil {
		t.Fatalf("kind=dunning = %d %s", r.Status, r.Raw)
	}
}

func TestSettingsSecretsAreWriteOnly(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	settings := acmeSettings()
	settings["email"] = map[string]any{"provider": "ses", "fromEmail": "billing@acme.test",
		"ses": map[string]any{"region": "eu-west-1", "accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "ses-secret-value"}}
	settings["sms"] = map[string]any{"provider": "twilio", "twilio": map[string]any{
		"accountSid": "AC" + strings.Repeat("a", 32), "authToken": "twilio-secret-value", "from": "+40712345678"}}
	settings["payments"] = map[string]any{"gateway": "stripe", "stripe": map[string]any{"secretKey": stripetest.TestKey}}
	token := h.tenant("ACME SRL", settings)
	got := h.must(http.StatusOK, h.do("GET", "/api/v1/settings", token, nil))
	for _, secret := range []string{"ses-secret-value", "twilio-secret-value"} {
		if strings.Contains(string(got.Raw), secret) {
			t.Fatalf("GET settings shows a secret: %s", got.Raw)
		}
	}
	if !strings.Contains(string(got.Raw), `"authTokenSet":true`) || !strings.Contains(string(got.Raw), `"secretAccessKeySet":true`) {
		t.Fatalf("GET settings does not say the secrets are set: %s", got.Raw)
	}
	// Sending back what GET showed, read-only fields and all, keeps the
	// secrets and changes nothing.
	back := got.data()
	again := h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, back)).data()
	st, err := h.Store.Settings(t.Context(), h.tenantID(token))
	if err != nil || st.SMS.Twilio.AuthToken != "twilio-secret-value" || st.Email.SES.SecretAccessKey != "ses-secret-value" ||
		st.Payments.Stripe.SecretKey != stripetest.TestKey {
		t.Fatalf("secrets after a round trip: %+v %+v %+v %v", st.SMS.Twilio, st.Email.SES, st.Payments.Stripe, err)
	}
	delete(back, "updatedAt")
	delete(again, "updatedAt")
	if !reflect.DeepEqual(back, again) {
		t.Fatalf("a round trip changed the settings:\nbefore %v\nafter  %v", back, again)
	}

	bad := acmeSettings()
	bad["sms"] = map[string]any{"provider": "twilio", "twilio": map[string]any{"accountSid": "nope", "from": "0712"}}
	r := h.must(http.StatusBadRequest, h.do("PUT", "/api/v1/settings", token, bad))
	for _, f := range []string{"sms.twilio.accountSid", "sms.twilio.from"} {
		if _, ok := r.errorFields()[f]; !ok {
			t.Errorf("no message for %s: %s", f, r.Raw)
		}
	}
}
