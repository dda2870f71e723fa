package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// batchResults returns data.results of a batch answer.
func batchResults(t testing.TB, r response) []map[string]any {
	t.Helper()
	raw, _ := r.data()["results"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, x := range raw {
		out = append(out, x.(map[string]any))
	}
	return out
}

// badLinePrice is sampleInvoice(id) with a unit price that is not a number.
func badLinePrice(id string) map[string]any {
	inv := sampleInvoice(id)
	inv["lines"] = []any{map[string]any{"description": "Consulting", "quantity": "1", "unitPrice": "ten", "taxRate": "19"}}
	return inv
}

func TestBatchCreatesEachItemOnItsOwn(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())

	body := map[string]any{"invoices": []any{
		sampleInvoice("inv_b1"), sampleInvoice("inv_b2"), badLinePrice("inv_b3"), sampleInvoice("inv_b4"),
	}}
	r := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token, body))
	res := batchResults(t, r)
	if len(res) != 4 {
		t.Fatalf("%d results for 4 invoices: %s", len(res), r.Raw)
	}
	for i, want := range []string{"created", "created", "error", "created"} {
		if res[i]["index"] != float64(i) || res[i]["status"] != want {
			t.Fatalf("results[%d] = %v, want index %d status %s", i, res[i], i, want)
		}
	}
	e := res[2]["error"].(map[string]any)
	if e["code"] != "validation_error" || e["fields"].(map[string]any)["invoices[2].lines[0].unitPrice"] == nil {
		t.Fatalf("the bad item's error = %v; want a validation_error naming invoices[2].lines[0].unitPrice", e)
	}
	if res[2]["invoice"] != nil {
		t.Fatalf("a refused item carries an invoice: %v", res[2])
	}
	if got := res[0]["invoice"].(map[string]any)["total"]; got != "1130.50" {
		t.Fatalf("results[0].invoice.total = %v, want 1130.50", got)
	}
	for _, id := range []string{"inv_b1", "inv_b2", "inv_b4"} {
		g := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/"+id, token, nil))
		if g.data()["status"] != "draft" {
			t.Fatalf("%s: %s", id, g.Raw)
		}
	}
	h.must(http.StatusNotFound, h.do("GET", "/api/v1/invoices/inv_b3", token, nil))
	// Drafts get their finalize task, as one created alone does.
	if _, err := h.Inspector.GetTaskInfo("default", "finalize:"+h.tenantID(token)+":inv_b4"); err != nil {
		t.Fatalf("finalize task of inv_b4: %v", err)
	}

	// The same ids again, one of them changed: drafts are updated, not
	// duplicated, and an item without an id gets one of its own.
	changed := sampleInvoice("inv_b2")
	changed["notes"] = "Second thoughts"
	noID := sampleInvoice("inv_x")
	delete(noID, "id")
	r = h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token, map[string]any{"invoices": []any{sampleInvoice("inv_b1"), changed, noID}}))
	res = batchResults(t, r)
	if res[0]["status"] != "updated" || res[1]["status"] != "updated" || res[2]["status"] != "created" {
		t.Fatalf("second batch: %s", r.Raw)
	}
	if id, _ := res[2]["id"].(string); !strings.HasPrefix(id, "inv_") {
		t.Fatalf("generated id %q", id)
	}
	g := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_b2", token, nil))
	if g.data()["notes"] != "Second thoughts" {
		t.Fatalf("inv_b2 not updated: %s", g.Raw)
	}
	list := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices?limit=100", token, nil))
	if n := len(list.data()["invoices"].([]any)); n != 4 {
		t.Fatalf("%d invoices after two batches, want 4: %s", n, list.Raw)
	}
}

func TestBatchRefusesTheWholeRequest(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())

	over := make([]any, 1001)
	for i := range over {
		over[i] = sampleInvoice("inv_o" + strconv.Itoa(i))
	}
	for _, c := range []struct {
		name  string
		body  any
		field string
	}{
		{"1,001 invoices", map[string]any{"invoices": over}, "invoices"},
		{"no invoices", map[string]any{"invoices": []any{}}, "invoices"},
		{"invoices missing", map[string]any{}, "invoices"},
		{"unknown field", map[string]any{"invoices": []any{sampleInvoice("inv_u")}, "sendd": true}, "sendd"},
		{"an invoice that is not an object", map[string]any{"invoices": []any{sampleInvoice("inv_u"), 5}}, "invoices[1]"},
		{"send of the wrong type", map[string]any{"invoices": []any{sampleInvoice("inv_u")}, "send": "yes"}, "send"},
		{"a send field wrong for every item", map[string]any{"invoices": []any{sampleInvoice("inv_u")},
			"send": map[string]any{"cc": []any{"not-an-address"}}}, "send.cc[0]"},
	} {
		r := h.must(http.StatusBadRequest, h.do("POST", "/api/v1/invoices/batch", token, c.body))
		if _, ok := r.errorFields()[c.field]; !ok {
			t.Errorf("%s: %s; want the field %s named", c.name, r.Raw, c.field)
		}
	}
	list := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices", token, nil))
	if n := len(list.data()["invoices"].([]any)); n != 0 {
		t.Fatalf("refused batches stored %d invoices", n)
	}

	// 1,000 invoices fit within the body limit, and their answer of some
	// megabytes is replayed whole.
	big := map[string]any{"invoices": over[:1000]}
	r := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token, big, "Idempotency-Key", "big"))
	if n := len(batchResults(t, r)); n != 1000 {
		t.Fatalf("%d results for 1,000 invoices", n)
	}
	replay := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token, big, "Idempotency-Key", "big"))
	if replay.Header.Get("Idempotent-Replayed") != "true" || string(replay.Raw) != string(r.Raw) {
		t.Fatalf("the replay of 1,000 results differs (%d bytes, first %d)", len(replay.Raw), len(r.Raw))
	}

	// One id twice in a batch: the second is refused, naming it.
	r = h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token,
		map[string]any{"invoices": []any{sampleInvoice("inv_d"), sampleInvoice("inv_d")}}))
	res := batchResults(t, r)
	if res[0]["status"] != "created" || res[1]["status"] != "error" ||
		res[1]["error"].(map[string]any)["fields"].(map[string]any)["invoices[1].id"] == nil {
		t.Fatalf("repeated id: %s", r.Raw)
	}
}

func TestBatchSend(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())

	noEmail := sampleInvoice("inv_s3")
	noEmail["customer"].(map[string]any)["email"] = ""
	body := map[string]any{
		"invoices": []any{sampleInvoice("inv_s1"), sampleInvoice("inv_s2"), noEmail, badLinePrice("inv_s4"), sampleInvoice("inv_s5")},
		"send":     map[string]any{"attachPdf": false, "subject": "Your invoice {{invoiceNumber}}"},
	}
	r := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token, body, "Idempotency-Key", "month-end-1"))
	res := batchResults(t, r)
	for _, i := range []int{0, 1, 4} {
		send, _ := res[i]["send"].(map[string]any)
		if res[i]["status"] != "created" || send == nil || send["status"] != "queued" || res[i]["error"] != nil {
			t.Fatalf("results[%d] = %v; want created and its send queued", i, res[i])
		}
	}
	// Stored, but with nobody to email: the invoice is created, its send
	// refused, naming the field.
	if res[2]["status"] != "created" || res[2]["send"] != nil ||
		res[2]["error"].(map[string]any)["fields"].(map[string]any)["invoices[2].send.email"] == nil {
		t.Fatalf("results[2] = %v; want created, no send, an error naming invoices[2].send.email", res[2])
	}
	if res[3]["status"] != "error" {
		t.Fatalf("results[3] = %v", res[3])
	}
	h.eventuallyEmails(t, 3)
	for _, id := range []string{"inv_s1", "inv_s2", "inv_s5"} {
		g := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/"+id, token, nil))
		if len(g.data()["deliveries"].([]any)) != 1 {
			t.Fatalf("%s deliveries: %s", id, g.Raw)
		}
	}

	// The same request with the same key: the first answer, replayed.
	again := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token, body, "Idempotency-Key", "month-end-1"))
	if again.Header.Get("Idempotent-Replayed") != "true" || string(again.Raw) != string(r.Raw) {
		t.Fatalf("replay differs:\n%s\n%s", again.Raw, r.Raw)
	}
	// Without the key, the same ids: the invoices (sent, so open by now)
	// are answered as they are, and their sends are not repeated.
	eventually(t, 10*time.Second, "the sent invoices to be finalized", func() bool {
		g := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_s5", token, nil))
		return g.data()["status"] == "open"
	})
	retry := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token, body))
	res2 := batchResults(t, retry)
	for _, i := range []int{0, 1, 4} {
		send, _ := res2[i]["send"].(map[string]any)
		if res2[i]["status"] != "existing" || send == nil || send["sendId"] != res[i]["send"].(map[string]any)["sendId"] {
			t.Fatalf("retried results[%d] = %v; want existing with the first send %v", i, res2[i], res[i]["send"])
		}
	}
	time.Sleep(time.Second)
	if n := len(h.emails()); n != 3 {
		t.Fatalf("%d emails after the retries, want 3", n)
	}
	for _, id := range []string{"inv_s1", "inv_s2", "inv_s5"} {
		g := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/"+id, token, nil))
		if len(g.data()["deliveries"].([]any)) != 1 {
			t.Fatalf("%s has more than one delivery after a retry: %s", id, g.Raw)
		}
	}

	// An open invoice under a reused id with other content is a conflict,
	// not the existing one.
	other := sampleInvoice("inv_s1")
	other["lines"] = []any{map[string]any{"description": "Other", "quantity": "1", "unitPrice": "5.00", "taxRate": "19"}}
	r = h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token, map[string]any{"invoices": []any{other}}))
	if e, _ := batchResults(t, r)[0]["error"].(map[string]any); e == nil || e["code"] != "conflict" {
		t.Fatalf("another invoice under an open invoice's id: %s", r.Raw)
	}
}

// eventuallyEmails waits for n emails in the outbox.
func (h *harness) eventuallyEmails(t *testing.T, n int) {
	t.Helper()
	eventually(t, 20*time.Second, fmt.Sprintf("%d emails in the outbox", n), func() bool { return len(h.emails()) >= n })
}

func TestBatchSendCountsAgainstTheHourlyLimit(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.limitedTenant(3, nil)

	invs := make([]any, 5)
	for i := range invs {
		invs[i] = sampleInvoice("inv_r" + strconv.Itoa(i))
	}
	r := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token, map[string]any{"invoices": invs, "send": true}))
	res := batchResults(t, r)
	for i, x := range res {
		e, _ := x["error"].(map[string]any)
		switch {
		case x["status"] != "created":
			t.Fatalf("results[%d] = %v; every invoice is created", i, x)
		case i < 3 && (x["send"] == nil || e != nil):
			t.Fatalf("results[%d] = %v; want its send queued", i, x)
		case i >= 3 && (x["send"] != nil || e == nil || e["code"] != "rate_limited"):
			t.Fatalf("results[%d] = %v; want rate_limited and no send", i, x)
		}
	}
	// The budget is spent: a single send is refused too.
	h.must(http.StatusTooManyRequests, h.do("POST", "/api/v1/invoices/inv_r4/send", token, nil))
	// testMode sends take nothing from it.
	r = h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token,
		map[string]any{"invoices": invs[3:], "send": map[string]any{"testMode": true}}))
	for i, x := range batchResults(t, r) {
		if x["send"] == nil {
			t.Fatalf("testMode results[%d] = %v", i, x)
		}
	}
}

func TestBatchTenantIsolation(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	acme := h.tenant("ACME SRL", acmeSettings())
	other := h.tenant("Other SRL", acmeSettings())

	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", acme, sampleInvoice("inv_t1")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_t1/finalize", acme, nil))

	// Another tenant's batch with the same id and the same key creates its
	// own draft: it neither sees nor changes ACME's open invoice, and is
	// not answered with ACME's replay.
	mine := sampleInvoice("inv_t1")
	mine["notes"] = "Other's own"
	body := map[string]any{"invoices": []any{mine}}
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", acme, map[string]any{"invoices": []any{sampleInvoice("inv_t2")}}, "Idempotency-Key", "k1"))
	r := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", other, body, "Idempotency-Key", "k1"))
	if r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("another tenant's key replayed: %s", r.Raw)
	}
	if res := batchResults(t, r); res[0]["status"] != "created" || res[0]["invoice"].(map[string]any)["status"] != "draft" {
		t.Fatalf("other tenant's batch: %s", r.Raw)
	}
	g := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_t1", acme, nil))
	if g.data()["status"] != "open" || g.data()["notes"] == "Other's own" {
		t.Fatalf("ACME's invoice changed by another tenant's batch: %s", g.Raw)
	}
	h.must(http.StatusNotFound, h.do("GET", "/api/v1/invoices/inv_t2", other, nil))
}

// TestBatchSendWithoutEmailProvider checks that a batch sent by a tenant
// with no email provider gets email_not_configured on every item, and
// that, as with a single send, each invoice is finalized all the same.
func TestBatchSendWithoutEmailProvider(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true; o.defaultNil = true })
	settings := acmeSettings()
	delete(settings, "email")
	token := h.tenant("ACME SRL", settings)

	r := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token,
		map[string]any{"invoices": []any{sampleInvoice("inv_n1"), sampleInvoice("inv_n2")}, "send": true}))
	for i, x := range batchResults(t, r) {
		e, _ := x["error"].(map[string]any)
		if x["status"] != "created" || x["send"] != nil || e == nil || e["code"] != "email_not_configured" {
			t.Fatalf("results[%d] = %v; want created with email_not_configured", i, x)
		}
	}
	for _, id := range []string{"inv_n1", "inv_n2"} {
		g := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/"+id, token, nil))
		if g.data()["status"] != "open" || len(g.data()["deliveries"].([]any)) != 0 {
			t.Fatalf("%s: %s; want it finalized, with no delivery", id, g.Raw)
		}
	}
}
