package e2e

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDeliveryLog sends several invoices by email and SMS and reads the
// tenant's deliveries across invoices: filtered, paged, exported as NDJSON
// and CSV, and never another tenant's.
func TestDeliveryLog(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())
	other := h.tenant("Other SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", other, sampleInvoice("inv_o")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_o/send", other, nil))
	for _, id := range []string{"inv_l1", "inv_l2", "inv_l3"} {
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice(id)))
	}
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_l1/send", token, nil))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_l2/send", token, map[string]any{"sendVia": []string{"email", "sms"}}))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_l3/send", token, nil))
	list := func(query string) []map[string]any {
		var out []map[string]any
		path := "/api/v1/deliveries?" + query
		for {
			r := h.must(http.StatusOK, h.do("GET", path, token, nil))
			for _, d := range r.data()["deliveries"].([]any) {
				out = append(out, d.(map[string]any))
			}
			next, _ := r.data()["nextCursor"].(string)
			if next == "" {
				return out
			}
			path = "/api/v1/deliveries?" + query + "&startingAfter=" + next
		}
	}
	eventually(t, 15*time.Second, "all four deliveries sent", func() bool { return len(list("status=sent")) == 4 })

	all := list("limit=1")
	if len(all) != 4 {
		t.Fatalf("the log a page of one at a time: %d deliveries, want 4", len(all))
	}
	seen := map[string]bool{}
	for i, d := range all {
		if seen[d["id"].(string)] {
			t.Errorf("delivery %s on two pages", d["id"])
		}
		seen[d["id"].(string)] = true
		if !strings.HasPrefix(d["invoiceId"].(string), "inv_l") {
			t.Errorf("delivery of invoice %v in ACME's log", d["invoiceId"])
		}
		if i > 0 && createdAt(t, d).After(createdAt(t, all[i-1])) {
			t.Errorf("the log is not newest first: %v after %v", d["createdAt"], all[i-1]["createdAt"])
		}
	}
	if sms := list("channel=sms"); len(sms) != 1 || sms[0]["invoiceId"] != "inv_l2" || sms[0]["method"] != "sms" {
		t.Errorf("channel=sms: %v, want inv_l2's SMS", sms)
	}
	if failed := list("status=failed&channel=email"); len(failed) != 0 {
		t.Errorf("status=failed: %v, want none", failed)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if later := list("since=" + future); len(later) != 0 {
		t.Errorf("since an hour from now: %d deliveries", len(later))
	}

	r := h.must(http.StatusBadRequest, h.do("GET", "/api/v1/deliveries?status=lost&channel=fax&since=yesterday", token, nil))
	for _, f := range []string{"status", "channel", "since"} {
		if r.errorFields()[f] == nil {
			t.Errorf("a bad %s is not named: %s", f, r.Raw)
		}
	}

	today := time.Now().UTC().Format(time.DateOnly)
	tomorrow := time.Now().UTC().Add(24 * time.Hour).Format(time.DateOnly)
	r = h.must(http.StatusOK, h.do("GET", "/api/v1/deliveries/export?since="+today+"&until="+tomorrow, token, nil))
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("NDJSON export Content-Type %q", ct)
	}
	lines := strings.Split(strings.TrimSuffix(string(r.Raw), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("NDJSON export: %d lines, want 4:\n%s", len(lines), r.Raw)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first["id"] != all[3]["id"] {
		t.Errorf("NDJSON export starts with %v (%v), want the oldest delivery %v", first["id"], err, all[3]["id"])
	}

	r = h.must(http.StatusOK, h.do("GET", "/api/v1/deliveries/export?format=csv&channel=email", token, nil))
	rows, err := csv.NewReader(strings.NewReader(string(r.Raw))).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][0] != "id" || rows[0][5] != "status" {
		t.Fatalf("CSV export of the emails: %v rows %v: %s", len(rows), err, r.Raw)
	}
	for _, row := range rows[1:] {
		if row[3] != "email" || row[5] != "sent" || row[7] == "" {
			t.Errorf("CSV row %v: want a sent email with its sentAt", row)
		}
	}
	h.must(http.StatusBadRequest, h.do("GET", "/api/v1/deliveries/export?format=xlsx", token, nil))
}

func createdAt(t *testing.T, d map[string]any) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, d["createdAt"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return at
}
