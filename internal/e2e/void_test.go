package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers/razorpay/razorpaytest"
	"github.com/invoiced/invoiced/providers/stripe/stripetest"
	"github.com/invoiced/invoiced/tasks"
)

func razorpaySettings() map[string]any {
	return paymentSettings(map[string]any{"gateway": "razorpay",
		"razorpay": map[string]any{"keyId": razorpaytest.KeyID, "keySecret": razorpaytest.KeySecret}})
}

// openWithLink finalizes a new invoice id and waits for its payment link.
func (h *harness) openWithLink(token, id string) map[string]any {
	h.t.Helper()
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice(id)))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/"+id+"/finalize", token, nil))
	return h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/"+id+"/payment-link", token, nil)).data()
}

// linkStatus is the status of the only Razorpay link of the invoice id.
func (h *harness) linkStatus(id string) string {
	for _, l := range h.Razorpay.Links() {
		if l.Notes["invoice_id"] == id {
			return l.Status
		}
	}
	return ""
}

// TestMarkPaidDeactivatesTheLink pays invoices by bank transfer (mark-paid):
// their gateway links are switched off so the customer cannot pay again.
func TestMarkPaidDeactivatesTheLink(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.stripe = true })

	t.Run("razorpay", func(t *testing.T) {
		token := h.tenant("Razor SRL", razorpaySettings())
		h.openWithLink(token, "inv_rp")
		if s := h.linkStatus("inv_rp"); s != "created" {
			t.Fatalf("link is %q before payment", s)
		}
		paid := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_rp/mark-paid", token, nil)).data()
		if paid["status"] != "paid" {
			t.Fatalf("mark-paid = %v", paid)
		}
		eventually(t, 10*time.Second, "the link cancelled", func() bool { return h.linkStatus("inv_rp") == "cancelled" })
		if pl := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_rp/payment-link", token, nil)).data(); pl["active"] != false {
			t.Fatalf("payment-link of a paid invoice = %v, want active false", pl)
		}
		eventually(t, 5*time.Second, "paymentLinkDeactivatedAt", func() bool {
			inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_rp", token, nil)).data()
			return inv["paymentLinkDeactivatedAt"] != nil
		})
	})

	t.Run("razorpay link paid meanwhile", func(t *testing.T) {
		token := h.tenant("Twice SRL", razorpaySettings())
		pl := h.openWithLink(token, "inv_twice")
		for _, l := range h.Razorpay.Links() {
			if l.ShortURL == pl["paymentLink"] {
				h.Razorpay.SetStatus(l.ID, "paid")
			}
		}
		h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_twice/mark-paid", token, nil))
		eventually(t, 10*time.Second, "the double payment shown on the invoice", func() bool {
			inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_twice", token, nil)).data()
			e, _ := inv["paymentLinkError"].(string)
			return strings.Contains(e, "paid twice")
		})
		if inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_twice", token, nil)).data(); inv["paymentLinkDeactivatedAt"] != nil {
			t.Fatalf("a paid link is reported deactivated: %v", inv["paymentLinkDeactivatedAt"])
		}
	})

	t.Run("stripe", func(t *testing.T) {
		token := h.tenant("Stripe SRL", paymentSettings(map[string]any{"gateway": "stripe",
			"stripe": map[string]any{"secretKey": stripetest.TestKey}}))
		h.openWithLink(token, "inv_st")
		h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_st/mark-paid", token, nil))
		eventually(t, 10*time.Second, "paymentLinkDeactivatedAt", func() bool {
			inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_st", token, nil)).data()
			return inv["paymentLinkDeactivatedAt"] != nil && inv["paymentLinkError"] == nil
		})
	})

	t.Run("static link has nothing to switch off", func(t *testing.T) {
		token := h.tenant("Static SRL", paymentSettings(map[string]any{"gateway": "static",
			"static": map[string]any{"urlTemplate": "https://pay.acme.test/{invoiceId}"}}))
		h.openWithLink(token, "inv_static")
		h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_static/mark-paid", token, nil))
		time.Sleep(500 * time.Millisecond)
		inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_static", token, nil)).data()
		if inv["paymentLinkDeactivatedAt"] != nil || inv["paymentLinkError"] != nil {
			t.Fatalf("static link: deactivated %v, error %v", inv["paymentLinkDeactivatedAt"], inv["paymentLinkError"])
		}
	})
}

func TestVoid(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", razorpaySettings())
	rc := newReceiver(t)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/webhooks", token, map[string]any{"url": rc.srv.URL, "events": []string{"invoice.voided"}}))
	tenantID := h.tenantID(token)

	t.Run("open invoice with a scheduled send and a link", func(t *testing.T) {
		h.openWithLink(token, "inv_v")
		at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		sendID := h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_v/send", token, map[string]any{"scheduledAt": at})).data()["sendId"].(string)

		inv := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_v/void", token, nil)).data()
		if inv["status"] != "void" || inv["voidedAt"] == nil {
			t.Fatalf("void = status %v, voidedAt %v", inv["status"], inv["voidedAt"])
		}
		ds := inv["deliveries"].([]any)
		if len(ds) != 1 || ds[0].(map[string]any)["status"] != "canceled" {
			t.Fatalf("deliveries after void = %v, want the scheduled one canceled", ds)
		}
		if _, err := h.Inspector.GetTaskInfo(tasks.QueueCritical, tasks.SendTaskID(tenantID, sendID)); err == nil {
			t.Error("the scheduled send's task is still queued")
		}
		eventually(t, 10*time.Second, "the link cancelled", func() bool { return h.linkStatus("inv_v") == "cancelled" })
		eventually(t, 10*time.Second, "invoice.voided", func() bool { return slices.Equal(rc.types(), []string{"invoice.voided"}) })

		// Void again: the same invoice, no second event.
		again := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_v/void", token, nil)).data()
		if again["status"] != "void" || again["voidedAt"] != inv["voidedAt"] {
			t.Fatalf("second void = %v at %v", again["status"], again["voidedAt"])
		}
		// Nothing moves a void invoice.
		if r := h.do("POST", "/api/v1/invoices/inv_v/send", token, nil); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("send of a void invoice = %d %s, want 422", r.Status, r.Raw)
		}
		if r := h.do("POST", "/api/v1/invoices/inv_v/mark-paid", token, nil); r.Status != http.StatusConflict {
			t.Errorf("mark-paid of a void invoice = %d, want 409", r.Status)
		}
		if r := h.do("POST", "/api/v1/invoices/inv_v/finalize", token, nil); r.Status != http.StatusConflict {
			t.Errorf("finalize of a void invoice = %d, want 409", r.Status)
		}
		time.Sleep(300 * time.Millisecond)
		if got := rc.types(); len(got) != 1 {
			t.Errorf("events after the second void: %v, want one invoice.voided", got)
		}
	})

	t.Run("draft is never finalized", func(t *testing.T) {
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_vd")))
		h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_vd/void", token, nil))
		if _, err := h.Inspector.GetTaskInfo(tasks.QueueDefault, tasks.FinalizeTaskID(tenantID, "inv_vd")); err == nil {
			t.Error("the draft's finalize task is still queued")
		}
		ids, err := h.Store.DraftsDue(t.Context(), tenantID, time.Now().Add(48*time.Hour), 100)
		if err != nil || slices.Contains(ids, "inv_vd") {
			t.Fatalf("the voided draft is still due for finalization: %v, %v", ids, err)
		}
		if got := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_vd", token, nil)).data()["status"]; got != "void" {
			t.Fatalf("status = %v", got)
		}
	})

	t.Run("paid invoice cannot be voided", func(t *testing.T) {
		h.openWithLink(token, "inv_vp")
		h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_vp/mark-paid", token, nil))
		r := h.do("POST", "/api/v1/invoices/inv_vp/void", token, nil)
		if r.Status != http.StatusConflict || r.errorCode() == "" {
			t.Fatalf("void of a paid invoice = %d %s, want 409", r.Status, r.Raw)
		}
		h.must(http.StatusNotFound, h.do("POST", "/api/v1/invoices/inv_nope/void", token, nil))
		other := h.tenant("Other SRL", acmeSettings())
		h.must(http.StatusNotFound, h.do("POST", "/api/v1/invoices/inv_vp/void", other, nil))
	})
}
