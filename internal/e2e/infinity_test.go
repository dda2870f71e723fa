package e2e

import (
	"net/http"
	"testing"
	"time"
)

// infinityInvoice GETs the invoice in Infinity's shape.
func (h *harness) infinityInvoice(token, id string) map[string]any {
	h.t.Helper()
	r := h.must(http.StatusOK, h.do("GET", "/v1/invoices/"+id, "", nil, "x-api-token", token))
	inv, ok := r.Body["invoice"].(map[string]any)
	if !ok {
		h.t.Fatalf("no invoice object: %s", r.Raw)
	}
	return inv
}

// TestInfinityInvoiceObject holds Infinity's invoice object to the
// invoice: amounts in minor units, each line's VAT share adding up to the
// invoice's VAT, the dates, the texts and the paid state.
func TestInfinityInvoiceObject(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())
	inv := sampleInvoice("inv_inf")
	inv["terms"] = "Payable within 30 days."
	// 19 % of 33 cents three times is 18.81 cents, VAT 19 on their sum:
	// the cent left over goes to the first line. The discounted line has
	// a rate of its own.
	inv["lines"] = []any{
		map[string]any{"description": "a", "quantity": "1", "unitPrice": "0.3333", "taxRate": "19"},
		map[string]any{"description": "b", "quantity": "1", "unitPrice": "0.3333", "taxRate": "19"},
		map[string]any{"description": "c", "quantity": "1", "unitPrice": "0.3334", "taxRate": "19"},
		map[string]any{"description": "Workshop", "quantity": "1.5", "unit": "day", "unitPrice": "800.00", "taxRate": "5", "discountRate": "12.5"},
	}
	created := h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv)).data()

	got := h.infinityInvoice(token, "inv_inf")
	want := map[string]any{
		"id": "inv_inf", "isDraft": true, "number": "INV-inf", "organisation": h.tenantID(token),
		"openingDate": "2026-11-21", "dueDate": "2026-12-21", "payableInDays": 30.0,
		// 0.99 + 1050.00 net; 0.19 + 52.50 VAT.
		"totalNetAmount": 105099.0, "totalVatDebt": 5269.0, "totalAmount": 110368.0,
		"totalAmountPaid": 0.0, "totalRestAmount": 110368.0, "isPaid": false, "isOverpaid": false, "isAnnulled": false,
		"isQrInvoice": false, "recipient": "Ana Popescu", "title": "INV-inf",
		"introductoryText": "", "closingText": "Thank you!\n\nPayable within 30 days.",
		"originalCurrency": "EUR", "exchangeRate": 1.0,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if created["total"] != "1103.68" || created["taxTotal"] != "52.69" {
		t.Fatalf("the invoice's totals are %v and %v", created["total"], created["taxTotal"])
	}
	positions := got["positions"].([]any)
	wantPositions := []map[string]any{
		{"id": "inv_inf-1", "name": "a", "singleAmount": 33.0, "quantity": 1.0, "totalAmount": 33.0, "vatDebt": 7.0, "discountRate": 0.0, "taxRate": 19.0},
		{"id": "inv_inf-2", "name": "b", "singleAmount": 33.0, "quantity": 1.0, "totalAmount": 33.0, "vatDebt": 6.0, "discountRate": 0.0, "taxRate": 19.0},
		{"id": "inv_inf-3", "name": "c", "singleAmount": 33.0, "quantity": 1.0, "totalAmount": 33.0, "vatDebt": 6.0, "discountRate": 0.0, "taxRate": 19.0},
		{"id": "inv_inf-4", "name": "Workshop", "unit": "day", "singleAmount": 80000.0, "quantity": 1.5, "totalAmount": 105000.0,
			"vatDebt": 5250.0, "discountRate": 12.5, "taxRate": 5.0, "type": "product", "originalCurrency": "EUR", "exchangeRate": 1.0},
	}
	if len(positions) != len(wantPositions) {
		t.Fatalf("positions = %v", positions)
	}
	var vat float64
	for i, p := range positions {
		p := p.(map[string]any)
		for k, v := range wantPositions[i] {
			if p[k] != v {
				t.Errorf("positions[%d].%s = %#v, want %#v", i, k, p[k], v)
			}
		}
		vat += p["vatDebt"].(float64)
	}
	if vat != got["totalVatDebt"] {
		t.Errorf("the positions' vatDebt add up to %v, totalVatDebt is %v", vat, got["totalVatDebt"])
	}

	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_inf/finalize", token, nil))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_inf/mark-paid", token, nil))
	paid := h.infinityInvoice(token, "inv_inf")
	if paid["isDraft"] != false || paid["isPaid"] != true || paid["totalAmountPaid"] != 110368.0 || paid["totalRestAmount"] != 0.0 {
		t.Errorf("paid: isDraft %v isPaid %v totalAmountPaid %v totalRestAmount %v", paid["isDraft"], paid["isPaid"], paid["totalAmountPaid"], paid["totalRestAmount"])
	}

	// A void invoice owes nothing; one without a due date is payable on
	// receipt.
	v := sampleInvoice("inv_inf_void")
	delete(v, "dueDate")
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, v))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_inf_void/void", token, nil))
	void := h.infinityInvoice(token, "inv_inf_void")
	if void["isAnnulled"] != true || void["totalRestAmount"] != 0.0 || void["dueDate"] != "2026-11-21" || void["payableInDays"] != 0.0 {
		t.Errorf("void: isAnnulled %v totalRestAmount %v dueDate %v payableInDays %v", void["isAnnulled"], void["totalRestAmount"], void["dueDate"], void["payableInDays"])
	}
	if r := h.do("POST", "/v1/invoices/inv_inf_void/send", "", map[string]any{}, "x-api-token", token); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("sending a void invoice: %d %s", r.Status, r.Raw)
	}

	// An overpaid invoice has nothing left to pay.
	over := sampleInvoice("inv_inf_over")
	over["amountPaid"] = "1200.00"
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, over))
	o := h.infinityInvoice(token, "inv_inf_over")
	if o["isOverpaid"] != true || o["totalAmountPaid"] != 120000.0 || o["totalRestAmount"] != 0.0 {
		t.Errorf("overpaid: isOverpaid %v totalAmountPaid %v totalRestAmount %v", o["isOverpaid"], o["totalAmountPaid"], o["totalRestAmount"])
	}
}

// TestInfinitySendFinalizesAndLogsDeliveries: the send finalizes a draft
// before it answers, the answer carries the new delivery, and every later
// send is one more entry whose status follows the delivery. A send the
// API refuses leaves the draft a draft.
func TestInfinitySendFinalizesAndLogsDeliveries(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["defaults"] = map[string]any{"gracePeriod": "1h", "autoEmailOnFinalize": false}
	token := h.tenant("ACME SRL", settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_infs")))
	send := func(body map[string]any) response {
		return h.do("POST", "/v1/invoices/inv_infs/send", "", body, "x-api-token", token)
	}

	r := send(map[string]any{"email": "not-an-address"})
	if r.Status != http.StatusBadRequest || r.errorFields()["email"] == nil {
		t.Fatalf("a bad address: %d %s", r.Status, r.Raw)
	}
	if got := h.infinityInvoice(token, "inv_infs"); got["isDraft"] != true {
		t.Fatalf("a refused send finalized the draft")
	}

	before := time.Now().UTC().Truncate(time.Second)
	r = h.must(http.StatusOK, send(map[string]any{"description": "Thank you for the order."}))
	inv := r.Body["invoice"].(map[string]any)
	if inv["isDraft"] != false {
		t.Errorf("isDraft = %v after the send, want false", inv["isDraft"])
	}
	ds := inv["emailDeliveries"].([]any)
	if len(ds) != 1 {
		t.Fatalf("emailDeliveries = %v, want the new delivery", ds)
	}
	first := ds[0].(map[string]any)
	if first["recipientEmail"] != "ana@example.com" || (first["status"] != "queued" && first["status"] != "sent") {
		t.Errorf("the new delivery = %v", first)
	}
	got := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_infs", token, nil)).data()
	if got["status"] != "open" || got["finalizedBy"] != "send" {
		t.Errorf("the invoice is %v, finalized by %v; want open, by send", got["status"], got["finalizedBy"])
	}
	if _, err := h.Store.Event(t.Context(), h.tenantID(token), "evt_inv_infs_invoice.finalized"); err != nil {
		t.Errorf("invoice.finalized was not recorded: %v", err)
	}

	h.must(http.StatusOK, send(map[string]any{"email": "accounts@example.com"}))
	var later []any
	eventually(t, 10*time.Second, "both deliveries sent", func() bool {
		later = h.infinityInvoice(token, "inv_infs")["emailDeliveries"].([]any)
		return len(later) == 2 && later[0].(map[string]any)["status"] == "sent" && later[1].(map[string]any)["status"] == "sent"
	})
	for i, to := range []string{"ana@example.com", "accounts@example.com"} {
		d := later[i].(map[string]any)
		at, err := time.Parse(time.RFC3339, d["timestamp"].(string))
		if d["recipientEmail"] != to || err != nil || at.Before(before) || at.After(time.Now().Add(time.Second)) {
			t.Errorf("emailDeliveries[%d] = %v, want sent to %s since %s", i, d, to, before)
		}
	}
	if first["id"] != later[0].(map[string]any)["id"] {
		t.Errorf("the first delivery is %v in the answer and %v later", first["id"], later[0].(map[string]any)["id"])
	}
	if n := len(h.emails()); n != 2 {
		t.Errorf("outbox holds %d emails, want 2", n)
	}

	// Another tenant's invoice does not exist for this one.
	other := h.tenant("Other SRL", acmeSettings())
	if r := h.do("GET", "/v1/invoices/inv_infs", "", nil, "x-api-token", other); r.Status != http.StatusNotFound {
		t.Errorf("another tenant's GET: %d %s", r.Status, r.Raw)
	}
}
