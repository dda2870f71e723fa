package contract

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/money"
)

// infinitySendResponse is the response example of Infinity's "Send
// invoice by email" (POST /v1/invoices/{invoiceId}/send), verbatim.
const infinitySendResponse = `{
  "invoice": {
    "id": "<string>",
    "isDraft": true,
    "number": "<string>",
    "organisation": "<string>",
    "template": "<string>",
    "openingDate": "2023-12-25",
    "dueDate": "2023-12-25",
    "positions": [
      {
        "type": "product",
        "name": "<string>",
        "singleAmount": 12000,
        "quantity": 2,
        "contraAccount": 5499,
        "id": "<string>",
        "unit": "<string>",
        "taxCode": "",
        "articleNumber": "<string>",
        "description": "<string>",
        "date": "<string>",
        "discountRate": 50,
        "customTextColumns": {
          "customTextColumn1": "<string>",
          "customTextColumn2": "<string>",
          "customTextColumn3": "<string>"
        },
        "totalAmount": 123,
        "vatDebt": 123,
        "originalCurrency": "<string>",
        "exchangeRate": 123
      }
    ],
    "totalAmount": 123,
    "totalNetAmount": 123,
    "totalVatDebt": 123,
    "isQrInvoice": true,
    "totalAmountPaid": 123,
    "totalRestAmount": 123,
    "isPaid": true,
    "isOverpaid": true,
    "isAnnulled": true,
    "recipient": "<string>",
    "customRecipientText": "<string>",
    "title": "<string>",
    "payableInDays": 123,
    "introductoryText": "<string>",
    "closingText": "<string>",
    "originalCurrency": "<string>",
    "exchangeRate": 123,
    "columns": [],
    "emailDeliveries": [
      {
        "recipientEmail": "jsmith@example.com",
        "status": "<string>",
        "timestamp": "2023-11-07T05:31:56Z"
      }
    ],
    "publicPdfUrl": "<string>"
  }
}`

// swissSettings are a Swiss seller's settings, paid into a QR-IBAN, so its
// CHF invoices carry a Swiss QR-bill.
func swissSettings() map[string]any {
	return map[string]any{
		"branding": map[string]any{"name": "Robert Schneider AG", "vatId": "CHE-123.456.788 MWST", "email": "billing@schneider.test",
			"address": map[string]any{"line1": "Rue du Lac 1268", "city": "Biel", "postalCode": "2501", "country": "CH"}},
		"bank":     map[string]any{"iban": "CH44 3199 9123 0008 8901 2", "bankName": "Bank Demo", "holder": "Robert Schneider AG"},
		"email":    map[string]any{"provider": "outbox", "fromEmail": "billing@schneider.test", "fromName": "Robert Schneider AG"},
		"defaults": map[string]any{"language": "de", "gracePeriod": "1h", "autoEmailOnFinalize": false},
	}
}

// infinityHeaders are the headers of Infinity's examples.
func infinityHeaders(token string) map[string]string {
	return map[string]string{"Content-Type": "application/json", "x-api-token": token}
}

// TestInfinitySend sends Infinity's documented request to the binary and
// holds the answer to Infinity's documented invoice object: its shape, and
// what its values say about the invoice, its delivery and its PDF.
func TestInfinitySend(t *testing.T) {
	t.Parallel()
	s := start(t)
	tenantID, token := s.tenant(t, "Robert Schneider AG", swissSettings())
	const customer = "pia.rutschmann@example.com"
	// Dates around today, so that the public PDF link, which expires 30
	// days after the due date, works whenever the test runs.
	issued, due := time.Now().UTC().Format(time.DateOnly), time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly)
	id := s.invoice(t, token, map[string]any{
		"id": "inv_inf_1", "number": "2026-0042", "currency": "CHF", "issueDate": issued, "dueDate": due, "language": "de",
		"customer": map[string]any{"name": "Pia-Maria Rutschmann-Schnyder", "email": customer,
			"address": map[string]any{"line1": "Grosse Marktgasse 28", "city": "Rorschach", "postalCode": "9400", "country": "CH"}},
		"lines": []any{
			map[string]any{"description": "Beratung", "quantity": "2", "unit": "h", "unitPrice": "120.00", "taxRate": "8.1"},
			map[string]any{"description": "Hosting", "quantity": "12", "unit": "Monat", "unitPrice": "14.95", "taxRate": "8.1", "discountRate": "10"},
		},
		"notes": "Vielen Dank für Ihren Auftrag.",
	})
	canonical := must(t, http.StatusOK, s.do(t, "GET", "/api/v1/invoices/"+id, bearer(token), "")).object(t)["data"].(map[string]any)
	if canonical["status"] != "draft" {
		t.Fatalf("the invoice is %v, want a draft", canonical["status"])
	}

	const description = "Guten Tag, anbei unsere Rechnung 2026-0042 für die Beratung im November."
	r := must(t, http.StatusOK, s.do(t, "POST", "/v1/invoices/"+id+"/send", infinityHeaders(token),
		`{"email": "jsmith@example.com", "description": "`+description+`"}`))
	body := r.object(t)
	matchShape(t, "POST /v1/invoices/{id}/send", infinitySendResponse, body)
	inv, _ := body["invoice"].(map[string]any)
	if inv == nil {
		t.Fatalf("no invoice: %s", r.Raw)
	}

	chf, err := money.ParseCurrency("CHF")
	if err != nil {
		t.Fatal(err)
	}
	minor := func(v any) float64 {
		t.Helper()
		n, err := money.ParseAmount(v.(string), chf)
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		return float64(n)
	}
	// 240.00 and 179.40 less 10 %, 161.46: 401.46 net; VAT 8.1 % of it,
	// 32.52, of which the exact shares are 19.44 and 13.07826 Rappen
	// short of the rounding: the Rappen left goes to the second line.
	want := map[string]any{
		"id": id, "isDraft": false, "number": "2026-0042", "organisation": tenantID,
		"openingDate": issued, "dueDate": due, "payableInDays": 30.0,
		"totalNetAmount": minor(canonical["netTotal"]), "totalVatDebt": minor(canonical["taxTotal"]), "totalAmount": minor(canonical["total"]),
		"totalAmountPaid": 0.0, "totalRestAmount": minor(canonical["amountDue"]),
		"isQrInvoice": true, "isPaid": false, "isOverpaid": false, "isAnnulled": false,
		"recipient": "Pia-Maria Rutschmann-Schnyder", "closingText": "Vielen Dank für Ihren Auftrag.",
		"originalCurrency": "CHF", "exchangeRate": 1.0,
	}
	if want["totalNetAmount"] != 40146.0 || want["totalVatDebt"] != 3252.0 || want["totalAmount"] != 43398.0 {
		t.Fatalf("the canonical totals are %v, %v, %v", canonical["netTotal"], canonical["taxTotal"], canonical["total"])
	}
	for k, v := range want {
		if inv[k] != v {
			t.Errorf("invoice.%s = %#v, want %#v", k, inv[k], v)
		}
	}
	lines := canonical["lines"].([]any)
	positions, _ := inv["positions"].([]any)
	if len(positions) != len(lines) {
		t.Fatalf("positions = %v, want one per line of %v", positions, lines)
	}
	wantVAT := []float64{1944, 1308}
	var vat float64
	for i, p := range positions {
		p := p.(map[string]any)
		l := lines[i].(map[string]any)
		checks := map[string]any{
			"name": l["description"], "unit": l["unit"], "singleAmount": minor(l["unitPrice"]),
			"totalAmount": minor(l["amount"]), "vatDebt": wantVAT[i], "type": "product",
			"originalCurrency": "CHF", "exchangeRate": 1.0,
		}
		for k, v := range checks {
			if p[k] != v {
				t.Errorf("positions[%d].%s = %#v, want %#v", i, k, p[k], v)
			}
		}
		vat += p["vatDebt"].(float64)
	}
	if q := positions[1].(map[string]any); q["quantity"] != 12.0 || q["discountRate"] != 10.0 || positions[0].(map[string]any)["discountRate"] != 0.0 {
		t.Errorf("quantity %v and discountRate %v of the discounted line, discountRate %v of the other",
			q["quantity"], q["discountRate"], positions[0].(map[string]any)["discountRate"])
	}
	if vat != inv["totalVatDebt"] {
		t.Errorf("the positions' vatDebt add up to %v, totalVatDebt is %v", vat, inv["totalVatDebt"])
	}
	deliveries, _ := inv["emailDeliveries"].([]any)
	if len(deliveries) != 1 || deliveries[0].(map[string]any)["recipientEmail"] != "jsmith@example.com" {
		t.Fatalf("emailDeliveries = %v, want the delivery to jsmith@example.com", deliveries)
	}
	if st := deliveries[0].(map[string]any)["status"]; st != "queued" && st != "sent" {
		t.Errorf("the new delivery is %v", st)
	}

	// Later, the delivery has gone out, and GET says so.
	var later map[string]any
	eventually(t, 20*time.Second, "the delivery sent", func() bool {
		g := must(t, http.StatusOK, s.do(t, "GET", "/v1/invoices/"+id, map[string]string{"x-api-token": token}, "")).object(t)
		later, _ = g["invoice"].(map[string]any)
		ds, _ := later["emailDeliveries"].([]any)
		return len(ds) == 1 && ds[0].(map[string]any)["status"] == "sent"
	})
	matchShape(t, "GET /v1/invoices/{id}", infinitySendResponse, map[string]any{"invoice": later})
	d := later["emailDeliveries"].([]any)[0].(map[string]any)
	if at, err := time.Parse(time.RFC3339, d["timestamp"].(string)); err != nil || time.Since(at) > time.Minute || d["recipientEmail"] != "jsmith@example.com" {
		t.Errorf("the sent delivery = %v", d)
	}
	emails := s.emails(t, 1)
	if to := emails[0].Header.Get("To"); !strings.Contains(to, "jsmith@example.com") {
		t.Errorf("the email went to %q, want jsmith@example.com", to)
	}
	if !strings.Contains(emails[0].Text, description) {
		t.Errorf("the email's text lacks the description:\n%s", emails[0].Text)
	}

	// publicPdfUrl serves the PDF to anyone holding it, and the PDF
	// carries the Swiss QR-bill that isQrInvoice promises.
	pdfURL, _ := inv["publicPdfUrl"].(string)
	if !strings.HasPrefix(pdfURL, s.URL+"/") {
		t.Fatalf("publicPdfUrl = %q", pdfURL)
	}
	p := must(t, http.StatusOK, s.do(t, "GET", strings.TrimPrefix(pdfURL, s.URL), nil, ""))
	if p.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(p.Raw), "%PDF-") {
		t.Fatalf("publicPdfUrl answers %s, %.20q", p.Header.Get("Content-Type"), p.Raw)
	}
	if text := infinityPDFText(t, p.Raw); !strings.Contains(text, "Zahlteil") || !strings.Contains(text, "Empfangsschein") {
		t.Errorf("the PDF carries no Swiss QR-bill:\n%s", text)
	}

	// Without email, the invoice goes to the customer's address.
	r = must(t, http.StatusOK, s.do(t, "POST", "/v1/invoices/"+id+"/send", infinityHeaders(token), `{"description": "Zur Erinnerung."}`))
	deliveries, _ = r.object(t)["invoice"].(map[string]any)["emailDeliveries"].([]any)
	if len(deliveries) != 2 || deliveries[1].(map[string]any)["recipientEmail"] != customer {
		t.Errorf("emailDeliveries = %v, want the second to %s", deliveries, customer)
	}
	found := false
	for _, e := range s.emails(t, 2) {
		found = found || strings.Contains(e.Header.Get("To"), customer)
	}
	if !found {
		t.Errorf("no email went to the customer's %s", customer)
	}

	// A description over 2000 characters is refused, naming it.
	r = s.do(t, "POST", "/v1/invoices/"+id+"/send", infinityHeaders(token),
		`{"email": "jsmith@example.com", "description": "`+strings.Repeat("x", 2001)+`"}`)
	must(t, http.StatusBadRequest, r)
	if e, _ := r.object(t)["error"].(map[string]any); e == nil || e["fields"].(map[string]any)["description"] == nil {
		t.Errorf("the 400 does not name description: %s", r.Raw)
	}

	// Another tenant's token does not reach this invoice.
	_, other := s.tenant(t, "Other AG", swissSettings())
	must(t, http.StatusNotFound, s.do(t, "POST", "/v1/invoices/"+id+"/send", infinityHeaders(other), `{"email": "jsmith@example.com", "description": "x"}`))
	must(t, http.StatusNotFound, s.do(t, "GET", "/v1/invoices/"+id, map[string]string{"x-api-token": other}, ""))
}

// infinityPDFText is the text of a PDF, by pdftotext.
func infinityPDFText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext is not installed")
	}
	f := filepath.Join(t.TempDir(), "invoice.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(context.Background(), "pdftotext", "-layout", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}
