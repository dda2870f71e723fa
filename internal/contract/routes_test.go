package contract

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/invoiced/invoiced/api"
	"github.com/invoiced/invoiced/providers/stripe/stripetest"
)

// TestBinaryServesEveryRoute runs the built binary's production roles. A
// Stripe checkout.session.completed, signed with Stripe's own library,
// marks an invoice paid through it; then every operation of
// api/openapi.yaml is asked for, and any the running api does not serve,
// however the configuration left it out, fails the test. (The route
// check goes last: its PUT /api/v1/settings of {} empties the tenant's
// settings.)
func TestBinaryServesEveryRoute(t *testing.T) {
	t.Parallel()
	s := start(t, withStripe)
	const whsec = "whsec_contract_secret"
	settings := acmeSettings()
	settings["payments"] = map[string]any{"gateway": "stripe",
		"stripe": map[string]any{"secretKey": stripetest.TestKey, "webhookSecret": whsec}}
	tenantID, token := s.tenant(t, "ACME Corp", settings)
	invID := s.invoice(t, token, sampleInvoice("inv_routes"))
	paidID := s.invoice(t, token, sampleInvoice("inv_stripe"))
	must(t, http.StatusOK, s.do(t, "POST", "/api/v1/invoices/"+paidID+"/finalize", bearer(token), ""))

	// Stripe's checkout.session.completed, as Stripe signs it.
	payload := fmt.Sprintf(`{"id":"evt_contract_1","object":"event","type":"checkout.session.completed","api_version":"2025-01-27.acacia",
		"created":%d,"data":{"object":{"id":"cs_test_contract","object":"checkout.session","payment_status":"paid","status":"complete",
		"amount_total":113050,"currency":"eur","metadata":{"tenant_id":%q,"invoice_id":%q,"invoice_number":"INV-stripe"}}}}`,
		time.Now().Unix(), tenantID, paidID)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(payload), Secret: whsec, Timestamp: time.Now()})
	r := s.do(t, "POST", "/callbacks/stripe/"+tenantID, map[string]string{"Stripe-Signature": signed.Header, "Content-Type": "application/json"}, payload)
	must(t, http.StatusNoContent, r)
	inv := must(t, http.StatusOK, s.do(t, "GET", "/api/v1/invoices/"+paidID, bearer(token), "")).object(t)["data"].(map[string]any)
	if inv["status"] != "paid" || inv["paidBy"] != "stripe" {
		t.Fatalf("after Stripe's checkout.session.completed the invoice is %v (paid by %v), want paid by stripe", inv["status"], inv["paidBy"])
	}

	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIDocument())
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"{id}": invID, "{sendId}": "snd_missing", "{token}": "not-a-token",
		"{tenant}": tenantID, "{address}": "nobody@example.com"}
	paths := doc.Paths.InMatchingOrder()
	slices.Sort(paths)
	served := 0
	for _, path := range paths {
		for method := range doc.Paths.Value(path).Operations() {
			url := path
			for k, v := range params {
				url = strings.ReplaceAll(url, k, v)
			}
			if strings.Contains(url, "{") {
				t.Errorf("%s %s: no test value for its path parameter", method, path)
				continue
			}
			headers := bearer(token)
			if strings.HasPrefix(path, "/admin/") || path == "/metrics" || strings.HasPrefix(path, "/monitoring") {
				headers = bearer(adminToken)
			}
			body := ""
			if method == http.MethodPost || method == http.MethodPut {
				body = "{}"
			}
			r := s.do(t, method, url, headers, body)
			if notServed(r) {
				t.Errorf("%s %s is in api/openapi.yaml but the binary does not serve it: %d %s", method, url, r.Status, r.Raw)
				continue
			}
			served++
		}
	}
	if served < 40 {
		t.Errorf("only %d operations served; the document lists more", served)
	}
}

// notServed reports whether r is the answer to a route the api does not
// have: the catch-all's 404, a route left out by the configuration, or a
// method the mux does not know for the path.
func notServed(r response) bool {
	if r.Status == http.StatusMethodNotAllowed {
		return true
	}
	if r.Status != http.StatusNotFound {
		return false
	}
	var e struct {
		Error struct{ Message string }
	}
	_ = json.Unmarshal(r.Raw, &e)
	return strings.HasPrefix(e.Error.Message, "no route for") || e.Error.Message == "route not found" || len(r.Raw) == 0 ||
		strings.HasPrefix(string(r.Raw), "404 page not found")
}

// sampleInvoice is the DESIGN document's example invoice.
func sampleInvoice(id string) map[string]any {
	return map[string]any{
		"id": id, "number": "INV-" + strings.TrimPrefix(id, "inv_"), "currency": "EUR",
		"issueDate": "2026-11-21", "dueDate": "2026-12-21", "language": "en",
		"customer": map[string]any{"name": "Ana Popescu", "email": "ana@example.com", "phone": "+40712345678",
			"address": map[string]any{"line1": "Str. Lalelelor 5", "city": "Cluj-Napoca", "postalCode": "400000", "country": "RO"}},
		"lines": []any{map[string]any{"description": "Consulting", "quantity": "10", "unit": "h", "unitPrice": "95.00", "taxRate": "19"}},
		"notes": "Thank you!",
	}
}

// TestReadmeListsEveryRoute holds the README's route table to
// api/openapi.yaml: every operation the document describes (and the
// binary serves, as TestBinaryServesEveryRoute checks) has its row.
func TestReadmeListsEveryRoute(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := readmeRoutes(string(readme))
	if len(listed) == 0 {
		t.Fatal("no route table found in README.md")
	}
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIDocument())
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method := range doc.Paths.Value(path).Operations() {
			if !listed[method+" "+path] {
				t.Errorf("README.md's route table has no row for %s %s", method, path)
			}
		}
	}
}

// readmeRoutes reads the README's route table (the one headed "| route |
// does |"): the first cell of each row names routes in backticks,
// "`GET /t/o/{token}`" or "`GET`, `PUT /api/v1/settings`", a query string
// after the path.
func readmeRoutes(readme string) map[string]bool {
	out := map[string]bool{}
	_, table, ok := strings.Cut(readme, "| route | does |\n")
	if !ok {
		return out
	}
	for _, line := range strings.Split(table, "\n")[1:] {
		if !strings.HasPrefix(line, "| `") {
			break
		}
		cell, _, _ := strings.Cut(line[1:], " | ")
		var methods []string
		for _, chunk := range strings.Split(cell, "`")[1:] {
			chunk = strings.TrimSpace(chunk)
			method, path, hasPath := strings.Cut(chunk, " ")
			if method == "" || strings.ToUpper(method) != method || strings.ContainsAny(method, ",/") {
				continue
			}
			methods = append(methods, method)
			if !hasPath {
				continue
			}
			path, _, _ = strings.Cut(path, "?")
			for _, m := range methods {
				out[m+" "+path] = true
			}
			methods = nil
		}
	}
	return out
}
