package e2e

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/store"
)

func TestGracePeriodFinalizesAndEmailsOnce(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["defaults"] = map[string]any{"gracePeriod": "1s", "autoEmailOnFinalize": true}
	token := h.tenant("ACME SRL", settings)

	inv := sampleInvoice("inv_grace")
	inv["autoAdvance"] = true
	r := h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv))
	if r.data()["status"] != "draft" || r.data()["finalizeAt"] == nil {
		t.Fatalf("created = %s", r.Raw)
	}
	eventually(t, 15*time.Second, "the draft finalized", func() bool {
		return h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_grace", token, nil)).data()["status"] == "open"
	})
	eventually(t, 10*time.Second, "the auto email", func() bool { return len(h.emails()) == 1 })

	// A sweep after the fact, and a duplicate finalize, send nothing more.
	h.sweep()
	time.Sleep(1500 * time.Millisecond)
	if n := len(h.emails()); n != 1 {
		t.Fatalf("outbox holds %d emails, want exactly 1", n)
	}
	ds := h.deliveries(token, "inv_grace")
	if len(ds) != 1 || ds[0]["status"] != "sent" {
		t.Fatalf("deliveries = %v", ds)
	}
	got := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_grace", token, nil)).data()
	if got["finalizedBy"] != "grace" {
		t.Errorf("finalizedBy = %v, want grace", got["finalizedBy"])
	}
}

// TestScheduledSendSuppressesAutoEmail: a draft with a send scheduled
// for after its grace period is finalized when the period ends, but not
// auto-emailed: the scheduled send is the one email the customer gets.
// A scheduled SMS is no email, so it leaves the auto-email be.
func TestScheduledSendSuppressesAutoEmail(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["defaults"] = map[string]any{"gracePeriod": "1s", "autoEmailOnFinalize": true}
	token := h.tenant("ACME SRL", settings)

	for _, id := range []string{"inv_sched", "inv_sms"} {
		inv := sampleInvoice(id)
		inv["autoAdvance"] = true
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv))
	}
	at := time.Now().Add(4 * time.Second).UTC().Format(time.RFC3339Nano)
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_sched/send", token, map[string]any{"scheduledAt": at}))
	// A scheduled SMS does not email: the auto-email still goes.
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_sms/send", token, map[string]any{"scheduledAt": at, "sendVia": []string{"sms"}}))

	eventually(t, 15*time.Second, "both drafts finalized by the grace period", func() bool {
		a := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_sched", token, nil)).data()
		b := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_sms", token, nil)).data()
		return a["status"] == "open" && b["status"] == "open"
	})
	pending := func(id string) bool {
		for _, d := range h.deliveries(token, id) {
			if d["status"] == "scheduled" || d["status"] == "queued" {
				return true
			}
		}
		return false
	}
	eventually(t, 20*time.Second, "both scheduled sends done", func() bool { return !pending("inv_sched") && !pending("inv_sms") })
	time.Sleep(1500 * time.Millisecond)
	if n := len(h.emails()); n != 2 {
		t.Fatalf("outbox holds %d emails, want 2: inv_sched's scheduled email and inv_sms's auto-email", n)
	}
	var kinds []string
	for _, d := range h.deliveries(token, "inv_sched") {
		kinds = append(kinds, fmt.Sprint(d["method"], "/", d["status"]))
	}
	if len(kinds) != 1 || kinds[0] != "email/sent" {
		t.Errorf("inv_sched deliveries = %v, want the scheduled send's one email", kinds)
	}
	if got := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_sched", token, nil)).data()["finalizedBy"]; got != "grace" {
		t.Errorf("inv_sched finalizedBy = %v, want grace", got)
	}
	var autos int
	for _, d := range h.deliveries(token, "inv_sms") {
		if d["method"] == "email" {
			autos++
		}
	}
	if autos != 1 {
		t.Errorf("inv_sms has %d email deliveries, want its auto-email", autos)
	}
}

func TestSweepFinalizesDraftWhoseTaskWasLost(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["defaults"] = map[string]any{"gracePeriod": "1s", "autoEmailOnFinalize": false}
	token := h.tenant("ACME SRL", settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_lost")))
	// Lose the finalize task, as a Redis restored from an old snapshot would.
	tenantID := h.tenantID(token)
	if err := h.Inspector.DeleteTask("default", "finalize:"+tenantID+":inv_lost"); err != nil {
		t.Fatalf("delete finalize task: %v", err)
	}
	time.Sleep(1100 * time.Millisecond)
	h.sweep()
	eventually(t, 10*time.Second, "the sweep to finalize the draft", func() bool {
		return h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_lost", token, nil)).data()["status"] == "open"
	})
	time.Sleep(500 * time.Millisecond)
	if n := len(h.emails()); n != 0 {
		t.Fatalf("auto-email is off but %d emails went out", n)
	}
}

// tenantID resolves a token's tenant.
func (h *harness) tenantID(token string) string {
	h.t.Helper()
	ten, err := h.Store.TenantByToken(h.t.Context(), token)
	if err != nil {
		h.t.Fatal(err)
	}
	return ten.ID
}

func TestScheduledSendAndCancel(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_s")))

	at := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)
	r := h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_s/send", token, map[string]any{"scheduledAt": at}))
	if r.data()["status"] != "scheduled" || r.data()["scheduledAt"] == nil {
		t.Fatalf("scheduled send = %s", r.Raw)
	}
	kept := r.data()["sendId"].(string)

	later := time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339)
	r = h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_s/send", token, map[string]any{"scheduledAt": later, "email": "other@example.com"}))
	canceled := r.data()["sendId"].(string)

	ds := h.deliveries(token, "inv_s")
	if len(ds) != 2 || ds[0]["status"] != "scheduled" || ds[1]["status"] != "scheduled" {
		t.Fatalf("deliveries before the time = %v", ds)
	}
	if inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_s", token, nil)).data(); inv["status"] != "draft" {
		t.Fatalf("a scheduled send finalized the draft early: %v", inv["status"])
	}

	r = h.must(http.StatusOK, h.do("DELETE", "/api/v1/invoices/inv_s/sends/"+canceled, token, nil))
	if r.data()["status"] != "canceled" {
		t.Fatalf("cancel = %s", r.Raw)
	}

	eventually(t, 10*time.Second, "the scheduled send", func() bool { return len(h.emails()) == 1 })
	time.Sleep(2500 * time.Millisecond) // past the canceled send's time
	if n := len(h.emails()); n != 1 {
		t.Fatalf("outbox holds %d emails, want 1 (the canceled send must not go)", n)
	}
	for _, d := range h.deliveries(token, "inv_s") {
		switch d["sendId"] {
		case kept:
			if got := strings.Join(historyOf(d), ","); got != "scheduled,queued,sent" {
				t.Errorf("kept send history = %s", got)
			}
		case canceled:
			if got := strings.Join(historyOf(d), ","); got != "scheduled,canceled" {
				t.Errorf("canceled send history = %s", got)
			}
		}
	}
	// The sent one can no longer be canceled; an unknown one is not found.
	h.must(http.StatusConflict, h.do("DELETE", "/api/v1/invoices/inv_s/sends/"+kept, token, nil))
	h.must(http.StatusNotFound, h.do("DELETE", "/api/v1/invoices/inv_s/sends/snd_nope", token, nil))
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_i")))

	body := map[string]any{"subject": "Your invoice {{invoiceNumber}}"}
	first := h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_i/send", token, body, "Idempotency-Key", "key-1"))
	second := h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_i/send", token, body, "Idempotency-Key", "key-1"))
	if string(first.Raw) != string(second.Raw) || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay differs:\n%s\n%s", first.Raw, second.Raw)
	}
	other := h.must(http.StatusConflict, h.do("POST", "/api/v1/invoices/inv_i/send", token, map[string]any{"subject": "other"}, "Idempotency-Key", "key-1"))
	if other.errorCode() != "idempotency_key_reused" {
		t.Fatalf("reused key = %s", other.Raw)
	}
	eventually(t, 10*time.Second, "the email", func() bool { return len(h.emails()) == 1 })
	time.Sleep(500 * time.Millisecond)
	if n := len(h.emails()); n != 1 {
		t.Fatalf("outbox holds %d emails, want 1", n)
	}
	if n := len(h.deliveries(token, "inv_i")); n != 1 {
		t.Fatalf("%d deliveries, want 1", n)
	}
	// Another tenant's identical key is its own.
	tokenB := h.tenant("Other SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", tokenB, sampleInvoice("inv_i"), "Idempotency-Key", "key-1"))
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	a := h.tenant("A SRL", acmeSettings())
	b := h.tenant("B SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", a, sampleInvoice("inv_a")))
	sendID := h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_a/send", a,
		map[string]any{"scheduledAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})).data()["sendId"].(string)

	routes := []struct{ method, path string }{
		{"GET", "/api/v1/invoices/inv_a"},
		{"POST", "/api/v1/invoices/inv_a/finalize"},
		{"POST", "/api/v1/invoices/inv_a/send"},
		{"POST", "/api/v1/invoices/inv_a/resend"},
		{"DELETE", "/api/v1/invoices/inv_a/sends/" + sendID},
		{"GET", "/api/v1/invoices/inv_a/delivery-status"},
		{"GET", "/api/v1/invoices/inv_a/pdf"},
		{"POST", "/api/v1/invoices/inv_a/send-email"},
		{"POST", "/api/v1/invoices/inv_a/email"},
		{"POST", "/v1/invoices/inv_a/send"},
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			r := h.do(rt.method, rt.path, b, nil)
			if r.Status != http.StatusNotFound {
				t.Fatalf("tenant B got %d, want 404: %s", r.Status, r.Raw)
			}
		})
	}
	// B's upsert with A's id creates B's own invoice and leaves A's alone.
	mine := sampleInvoice("inv_a")
	mine["number"] = "B-1"
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", b, mine))
	if got := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_a", a, nil)).data()["number"]; got != "INV-a" {
		t.Fatalf("A's invoice number = %v", got)
	}
	// The tenant headers must name the token's tenant.
	h.must(http.StatusForbidden, h.do("GET", "/api/v1/invoices/inv_a", a, nil, "X-Tenant-ID", h.tenantID(b)))
	h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_a", a, nil, "X-Tenant-ID", h.tenantID(a)))
	h.must(http.StatusForbidden, h.do("GET", "/api/v1/invoices/inv_a", a, nil, "X-Company", "B SRL"))
}

func TestAuthForms(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("A SRL", nil)
	tests := []struct {
		name    string
		headers []string
		want    int
	}{
		{"bearer", []string{"Authorization", "Bearer " + token}, http.StatusOK},
		{"x-api-token", []string{"x-api-token", token}, http.StatusOK},
		{"cookie", []string{"Cookie", "access_token=" + token}, http.StatusOK},
		{"none", nil, http.StatusUnauthorized},
		{"wrong", []string{"Authorization", "Bearer nope"}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("GET", "/api/v1/settings", "", nil, tt.headers...)
			if r.Status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.want, r.Raw)
			}
		})
	}
	h.must(http.StatusUnauthorized, h.do("POST", "/admin/v1/tenants", "wrong", map[string]any{"name": "x"}))
}

// TestCookieRefusedCrossSite posts as a page on another site would, with
// the browser adding the access_token cookie (and perhaps cached Basic
// credentials): a forged request that must not create or send anything.
// The same request from the API's own origin, from a client other than a
// browser, or with the token in a header goes through.
func TestCookieRefusedCrossSite(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("A SRL", nil)
	cookie := []string{"Cookie", "access_token=" + token}
	own := strings.TrimPrefix(h.URL, "http://")
	n := 0
	create := func(headers ...string) response {
		n++
		return h.do("POST", "/api/v1/invoices", "", sampleInvoice(fmt.Sprintf("inv_c%d", n)), append(slices.Clone(cookie), headers...)...)
	}
	for _, tt := range []struct {
		name    string
		headers []string
		want    int
	}{
		{"cross-site Origin", []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"opaque Origin", []string{"Origin", "null"}, http.StatusForbidden},
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"Sec-Fetch-Site same-site", []string{"Sec-Fetch-Site", "same-site", "Origin", "http://other." + own}, http.StatusForbidden},
		{"own origin", []string{"Origin", "http://" + own, "Sec-Fetch-Site", "same-origin"}, http.StatusCreated},
		{"not a browser", nil, http.StatusCreated},
		{"token in a header too", []string{"Origin", "https://evil.example", "Authorization", "Bearer " + token}, http.StatusCreated},
		// A browser adds cached Basic credentials by itself: they carry no
		// API token, so the cookie still authenticates and the guard holds.
		{"cached Basic credentials", []string{"Origin", "https://evil.example", "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:secret"))}, http.StatusForbidden},
		{"empty x-api-token", []string{"Sec-Fetch-Site", "cross-site", "X-Api-Token", ""}, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := create(tt.headers...)
			if r.Status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.want, r.Raw)
			}
		})
	}
	// Reading is not refused: another site cannot read the answer.
	h.must(http.StatusOK, h.do("GET", "/api/v1/settings", "", nil, "Cookie", "access_token="+token, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"))
	r := h.do("POST", "/admin/v1/tenants", "", map[string]any{"name": "forged"}, "Cookie", "access_token="+adminToken, "Origin", "https://evil.example")
	if r.Status != http.StatusForbidden {
		t.Fatalf("cross-site admin request with the cookie: %d %s", r.Status, r.Raw)
	}
	ids, err := h.Store.ListInvoices(t.Context(), h.tenantID(token), store.InvoiceQuery{Limit: 100})
	if err != nil || len(ids.Invoices) != 3 {
		t.Fatalf("%d invoices were created, want the 3 allowed requests' (%v)", len(ids.Invoices), err)
	}
}
