package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// listIDs follows nextCursor through every page of GET /api/v1/invoices
// with query q and returns the ids in order.
func (h *harness) listIDs(token string, q url.Values) []string {
	h.t.Helper()
	var ids []string
	for range 100 {
		d := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices?"+q.Encode(), token, nil)).data()
		for _, inv := range d["invoices"].([]any) {
			ids = append(ids, inv.(map[string]any)["id"].(string))
		}
		next, _ := d["nextCursor"].(string)
		if d["hasMore"] != (next != "") {
			h.t.Fatalf("hasMore %v with nextCursor %q", d["hasMore"], next)
		}
		if next == "" {
			return ids
		}
		q.Set("startingAfter", next)
	}
	h.t.Fatal("the listing never ends")
	return nil
}

func TestListInvoices(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())
	other := h.tenant("Other SRL", acmeSettings())
	var newestFirst []string
	for i := range 7 {
		id := fmt.Sprintf("inv_l%d", i)
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice(id)))
		newestFirst = append([]string{id}, newestFirst...)
	}
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", other, sampleInvoice("inv_theirs")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_l2/finalize", token, nil))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_l5/finalize", token, nil))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_l5/void", token, nil))

	first := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices", token, nil)).data()
	items := first["invoices"].([]any)
	if len(items) != 7 || first["hasMore"] != false || first["nextCursor"] != nil {
		t.Fatalf("default listing: %d invoices, hasMore %v, nextCursor %v", len(items), first["hasMore"], first["nextCursor"])
	}
	inv := items[0].(map[string]any)
	if inv["id"] != "inv_l6" || inv["total"] != "1130.50" || inv["publicUrl"] == "" || inv["deliveries"] != nil {
		t.Fatalf("first listed invoice = %v", inv)
	}
	if got := h.listIDs(token, url.Values{"limit": {"3"}}); !slices.Equal(got, newestFirst) {
		t.Fatalf("pages of 3: %v, want %v", got, newestFirst)
	}
	if got := h.listIDs(token, url.Values{"status": {"open"}, "limit": {"1"}}); !slices.Equal(got, []string{"inv_l2"}) {
		t.Fatalf("open: %v", got)
	}
	if got := h.listIDs(token, url.Values{"status": {"void"}}); !slices.Equal(got, []string{"inv_l5"}) {
		t.Fatalf("void: %v", got)
	}
	if got := h.listIDs(other, url.Values{}); !slices.Equal(got, []string{"inv_theirs"}) {
		t.Fatalf("the other tenant lists %v", got)
	}

	for _, tt := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=101", "limit"}, {"limit=ten", "limit"},
		{"status=late", "status"}, {"startingAfter=inv_nope", "startingAfter"},
		{"startingAfter=inv_theirs", "startingAfter"}, {"startingAfter=a%3Ab", "startingAfter"},
	} {
		r := h.do("GET", "/api/v1/invoices?"+tt.query, token, nil)
		if r.Status != http.StatusBadRequest || r.errorFields()[tt.field] == nil {
			t.Errorf("?%s = %d %s, want 400 naming %s", tt.query, r.Status, r.Raw, tt.field)
		}
	}
	h.must(http.StatusUnauthorized, h.do("GET", "/api/v1/invoices", "", nil))
}

func TestListScheduledSends(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())
	other := h.tenant("Other SRL", acmeSettings())
	for _, id := range []string{"inv_a", "inv_b"} {
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice(id)))
	}
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", other, sampleInvoice("inv_a")))
	at := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }
	schedule := func(token, inv string, in time.Duration) string {
		t.Helper()
		r := h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/"+inv+"/send", token, map[string]any{"scheduledAt": at(in)}))
		return r.data()["sendId"].(string)
	}
	later := schedule(token, "inv_a", 3*time.Hour)
	soon := schedule(token, "inv_b", time.Hour)
	middle := schedule(token, "inv_a", 2*time.Hour)
	schedule(other, "inv_a", time.Hour)
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_b/send", token, nil)) // now: not scheduled

	list := func(q string) ([]string, map[string]any) {
		t.Helper()
		d := h.must(http.StatusOK, h.do("GET", "/api/v1/scheduled-sends"+q, token, nil)).data()
		var ids []string
		for _, s := range d["sends"].([]any) {
			ids = append(ids, s.(map[string]any)["sendId"].(string))
		}
		return ids, d
	}
	ids, d := list("")
	if !slices.Equal(ids, []string{soon, middle, later}) || d["hasMore"] != false {
		t.Fatalf("scheduled sends = %v (hasMore %v), want soonest first %v", ids, d["hasMore"], []string{soon, middle, later})
	}
	first := d["sends"].([]any)[0].(map[string]any)
	if first["invoiceId"] != "inv_b" || first["status"] != "scheduled" || first["scheduledAt"] == nil {
		t.Fatalf("first scheduled send = %v", first)
	}
	ids, d = list("?limit=2")
	next, _ := d["nextCursor"].(string)
	if !slices.Equal(ids, []string{soon, middle}) || d["hasMore"] != true || next == "" {
		t.Fatalf("first page of 2 = %v, %v", ids, d)
	}
	// Canceling a listed send takes it off the list; the cursor still works.
	h.must(http.StatusOK, h.do("DELETE", "/api/v1/invoices/inv_a/sends/"+middle, token, nil))
	if ids, _ := list("?limit=2&startingAfter=" + url.QueryEscape(next)); !slices.Equal(ids, []string{later}) {
		t.Fatalf("second page = %v, want %v", ids, []string{later})
	}
	if ids, _ := list(""); !slices.Equal(ids, []string{soon, later}) {
		t.Fatalf("after a cancel = %v", ids)
	}
	for _, q := range []string{"?limit=0", "?limit=101", "?startingAfter=snd_x", "?startingAfter=12"} {
		r := h.do("GET", "/api/v1/scheduled-sends"+q, token, nil)
		if r.Status != http.StatusBadRequest || len(r.errorFields()) != 1 {
			t.Errorf("%s = %d %s, want 400 naming the field", q, r.Status, r.Raw)
		}
	}
}

// TestListInvoicesByCustomer lists invoices by their customer's email
// (in any case) and external id, a page at a time and with a status; a
// draft given to another customer moves between the listings.
func TestListInvoicesByCustomer(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())
	other := h.tenant("Other SRL", acmeSettings())
	create := func(token, id, externalID, email string, status int) {
		t.Helper()
		inv := sampleInvoice(id)
		c := inv["customer"].(map[string]any)
		c["email"] = email
		if externalID != "" {
			c["externalId"] = externalID
		}
		h.must(status, h.do("POST", "/api/v1/invoices", token, inv))
	}
	create(token, "inv_a1", "cus_ana", "Ana.Pop@Example.com", http.StatusCreated)
	create(token, "inv_b1", "cus_bob", "bob@example.com", http.StatusCreated)
	create(token, "inv_a2", "cus_ana", "ana.pop@example.com", http.StatusCreated)
	create(token, "inv_e1", "", "eve@example.com", http.StatusCreated)
	create(token, "inv_a3", "cus_ana", "ANA.POP@EXAMPLE.COM", http.StatusCreated)
	create(other, "inv_theirs", "cus_ana", "ana.pop@example.com", http.StatusCreated)
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_a2/finalize", token, nil))

	got := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_a1", token, nil)).data()
	if c := got["customer"].(map[string]any); c["externalId"] != "cus_ana" {
		t.Fatalf("customer = %v, want externalId cus_ana", c)
	}
	for _, tt := range []struct {
		name string
		q    url.Values
		want []string
	}{
		{"email in another case", url.Values{"customerEmail": {"ana.pop@EXAMPLE.com"}}, []string{"inv_a3", "inv_a2", "inv_a1"}},
		{"id", url.Values{"customerId": {"cus_ana"}}, []string{"inv_a3", "inv_a2", "inv_a1"}},
		{"email, no id", url.Values{"customerEmail": {"eve@example.com"}}, []string{"inv_e1"}},
		{"email and status", url.Values{"customerEmail": {"Ana.Pop@Example.com"}, "status": {"draft"}}, []string{"inv_a3", "inv_a1"}},
		{"id and status", url.Values{"customerId": {"cus_ana"}, "status": {"open"}}, []string{"inv_a2"}},
		{"email and id", url.Values{"customerEmail": {"bob@example.com"}, "customerId": {"cus_bob"}}, []string{"inv_b1"}},
		{"nobody", url.Values{"customerId": {"cus_nobody"}}, nil},
	} {
		for _, limit := range []string{"1", "20"} {
			q := url.Values{"limit": {limit}}
			for k, v := range tt.q {
				q[k] = v
			}
			if ids := h.listIDs(token, q); !slices.Equal(ids, tt.want) {
				t.Errorf("%s, limit %s: %v, want %v", tt.name, limit, ids, tt.want)
			}
		}
	}
	// A page of one with more to come says so.
	d := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices?customerId=cus_ana&limit=1", token, nil)).data()
	if d["hasMore"] != true || d["nextCursor"] != "inv_a3" {
		t.Errorf("first page of one: %v", d)
	}

	// The draft inv_a3 given to Bob moves to his listings.
	create(token, "inv_a3", "cus_bob", "bob@example.com", http.StatusOK)
	if ids := h.listIDs(token, url.Values{"customerId": {"cus_ana"}}); !slices.Equal(ids, []string{"inv_a2", "inv_a1"}) {
		t.Errorf("Ana's after the move: %v", ids)
	}
	if ids := h.listIDs(token, url.Values{"customerEmail": {"BOB@example.com"}, "limit": {"1"}}); !slices.Equal(ids, []string{"inv_a3", "inv_b1"}) {
		t.Errorf("Bob's after the move: %v", ids)
	}
	if ids := h.listIDs(other, url.Values{"customerEmail": {"ana.pop@example.com"}}); !slices.Equal(ids, []string{"inv_theirs"}) {
		t.Errorf("the other tenant's: %v", ids)
	}

	for _, tt := range []struct{ query, field string }{
		{"customerEmail=not-an-address", "customerEmail"},
		{"customerEmail=Ana%20%3Cana%40example.com%3E", "customerEmail"},
		{"customerId=" + strings.Repeat("x", 65), "customerId"},
		{"customerId=cus%01a", "customerId"},
		{"customerId=%20cus_a", "customerId"},
		{"customerId=cus_ana&status=late", "status"},
	} {
		r := h.do("GET", "/api/v1/invoices?"+tt.query, token, nil)
		if r.Status != http.StatusBadRequest || r.errorFields()[tt.field] == nil {
			t.Errorf("?%s = %d %s, want 400 naming %s", tt.query, r.Status, r.Raw, tt.field)
		}
	}
	for _, externalID := range []string{strings.Repeat("x", 65), "cus\tana", " cus_ana"} {
		inv := sampleInvoice("inv_bad")
		inv["customer"].(map[string]any)["externalId"] = externalID
		r := h.do("POST", "/api/v1/invoices", token, inv)
		if r.Status != http.StatusBadRequest || r.errorFields()["customer.externalId"] == nil {
			t.Errorf("externalId %q = %d %s, want 400 naming customer.externalId", externalID, r.Status, r.Raw)
		}
	}
}
