package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
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
