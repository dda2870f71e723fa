package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRetention sends two invoices, pays one and leaves the other open,
// and moves the paid one's final time back past the tenant's retention of
// 7 days: the next sweep deletes it, so its API routes, hosted page and
// PDF link answer 404 and the delivery log no longer lists it, while the
// open invoice stays whole.
func TestRetention(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["defaults"].(map[string]any)["retentionDays"] = 7
	token := h.tenant("ACME SRL", settings)
	tenantID := h.tenantID(token)
	if got := h.must(http.StatusOK, h.do("GET", "/api/v1/settings", token, nil)).data()["defaults"].(map[string]any)["retentionDays"]; got != 7.0 {
		t.Fatalf("settings defaults.retentionDays = %v, want 7", got)
	}
	for _, id := range []string{"inv_old", "inv_open"} {
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice(id)))
		h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/"+id+"/send", token, nil))
	}
	eventually(t, 10*time.Second, "both invoices sent", func() bool {
		r := h.must(http.StatusOK, h.do("GET", "/api/v1/deliveries?status=sent", token, nil))
		return len(r.data()["deliveries"].([]any)) == 2
	})
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_old/mark-paid", token, nil))
	page := strings.TrimPrefix(h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_old", token, nil)).data()["publicUrl"].(string), h.URL)
	h.must(http.StatusOK, h.do("GET", page, "", nil))

	// Paid 7 days and a minute ago, as the store's index records it.
	rdb := redis.NewClient(&redis.Options{Addr: h.RedisAddr})
	t.Cleanup(func() { rdb.Close() })
	finalKey := "ivd:{" + tenantID + "}:final"
	paidAt := time.Now().Add(-7*24*time.Hour - time.Minute)
	if n := rdb.ZAddXX(t.Context(), finalKey, redis.Z{Score: float64(paidAt.UnixMilli()), Member: "inv_old"}).Val(); n != 0 {
		t.Fatalf("ZADD XX changed %d", n)
	}
	if s, err := rdb.ZScore(t.Context(), finalKey, "inv_old").Result(); err != nil || int64(s) != paidAt.UnixMilli() {
		t.Fatalf("the paid invoice is not in the final index: %v, %v", s, err)
	}
	h.sweep()
	eventually(t, 10*time.Second, "the paid invoice deleted", func() bool {
		return h.do("GET", "/api/v1/invoices/inv_old", token, nil).Status == http.StatusNotFound
	})
	for _, path := range []string{"/api/v1/invoices/inv_old/delivery-status", "/api/v1/invoices/inv_old/pdf", page, page + "/pdf"} {
		tok := token
		if strings.HasPrefix(path, "/i/") {
			tok = ""
		}
		if r := h.do("GET", path, tok, nil); r.Status != http.StatusNotFound {
			t.Errorf("GET %s after retention: %d %s, want 404", path, r.Status, r.Raw)
		}
	}
	r := h.must(http.StatusOK, h.do("GET", "/api/v1/deliveries", token, nil))
	ds := r.data()["deliveries"].([]any)
	if len(ds) != 1 || ds[0].(map[string]any)["invoiceId"] != "inv_open" {
		t.Errorf("delivery log after retention: %s, want only inv_open's delivery", r.Raw)
	}
	h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_open", token, nil))
	list := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices", token, nil)).data()
	if invs := list["invoices"].([]any); len(invs) != 1 {
		t.Errorf("invoice list after retention: %v, want only inv_open", invs)
	}
}

// TestRetentionDaysBounds: defaults.retentionDays outside 7–3650 is a 400
// naming the field.
func TestRetentionDaysBounds(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", nil)
	for _, days := range []int{3, 3651, -1} {
		r := h.do("PUT", "/api/v1/settings", token, map[string]any{"defaults": map[string]any{"retentionDays": days}})
		if r.Status != http.StatusBadRequest || r.errorFields()["defaults.retentionDays"] == nil {
			t.Errorf("retentionDays %d: %d %s, want 400 naming defaults.retentionDays", days, r.Status, r.Raw)
		}
	}
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, map[string]any{"defaults": map[string]any{"retentionDays": 365}}))
}

// TestRepeatedOpensBounded opens one email's tracking pixel 30 times: the
// delivery's history keeps the open and its first 20 repeats, and
// repeatsNotKept counts the other 9.
func TestRepeatedOpensBounded(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["email"].(map[string]any)["tracking"] = true
	token := h.tenant("ACME SRL", settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_opens")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_opens/send", token, nil))
	eventually(t, 10*time.Second, "the email", func() bool { return len(h.emails()) == 1 })
	raw := strings.NewReplacer("=\r\n", "", "=\n", "", "=3D", "=").Replace(string(mustRead(t, h.emails()[0])))
	var pixel string
	for _, m := range hrefPattern.FindAllStringSubmatch(raw, -1) {
		if strings.Contains(m[1], "/t/o/") {
			pixel = m[1]
		}
	}
	if pixel == "" {
		t.Fatalf("no tracking pixel in the email:\n%s", raw)
	}
	for range 30 {
		resp, err := http.Get(pixel)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	r := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_opens/delivery-status", token, nil))
	d := r.data()["deliveries"].([]any)[0].(map[string]any)
	opens := 0
	for _, step := range d["history"].([]any) {
		if step.(map[string]any)["status"] == "opened" {
			opens++
		}
	}
	if opens != 21 || d["repeatsNotKept"] != 9.0 {
		t.Errorf("after 30 opens: %d opens in the history, repeatsNotKept %v; want 21 and 9", opens, d["repeatsNotKept"])
	}
}
