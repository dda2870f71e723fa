package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/pdftest"
	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/render/ubl"
)

// wantFields fails unless r is status with a validation error naming each
// of fields, with a message containing its text.
func wantFields(t *testing.T, r response, status int, fields map[string]string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	got := r.errorFields()
	for f, text := range fields {
		msg, _ := got[f].(string)
		if msg == "" || !strings.Contains(msg, text) {
			t.Errorf("error field %s = %q, want one containing %q: %s", f, msg, text, r.Raw)
		}
	}
}

// TestEInvoiceSettings checks the settings of e-invoices: the tenant's
// default profile and the seller's electronic address and contact, each
// refused by name when wrong, and shown by GET.
func TestEInvoiceSettings(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())

	st := acmeSettings()
	st["defaults"].(map[string]any)["einvoiceProfile"] = "zugferd"
	st["branding"].(map[string]any)["endpoint"] = map[string]any{"scheme": "1234", "id": ""}
	wantFields(t, h.do("PUT", "/api/v1/settings", token, st), http.StatusBadRequest, map[string]string{
		"defaults.einvoiceProfile": "en16931, peppol, xrechnung, cius-ro",
		"branding.endpoint.scheme": "Electronic Address Scheme",
		"branding.endpoint.id":     "is required",
	})

	st = acmeSettings()
	st["defaults"].(map[string]any)["einvoiceProfile"] = "peppol"
	st["branding"].(map[string]any)["endpoint"] = map[string]any{"scheme": "9947", "id": "RO18547290"}
	st["branding"].(map[string]any)["contactName"] = "Accounts department"
	r := h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, st))
	b := r.data()["branding"].(map[string]any)
	if ep, _ := b["endpoint"].(map[string]any); ep["scheme"] != "9947" || ep["id"] != "RO18547290" || b["contactName"] != "Accounts department" {
		t.Fatalf("branding = %v, want the endpoint and contact name sent", b)
	}
	if got := r.data()["defaults"].(map[string]any)["einvoiceProfile"]; got != "peppol" {
		t.Fatalf("defaults.einvoiceProfile = %v, want peppol", got)
	}
	r = h.must(http.StatusOK, h.do("GET", "/api/v1/settings", token, nil))
	if got := r.data()["defaults"].(map[string]any)["einvoiceProfile"]; got != "peppol" {
		t.Fatalf("GET defaults.einvoiceProfile = %v, want peppol", got)
	}
	other := h.tenant("Other SRL", nil)
	r = h.must(http.StatusOK, h.do("GET", "/api/v1/settings", other, nil))
	if got := r.data()["defaults"].(map[string]any)["einvoiceProfile"]; got != "en16931" {
		t.Fatalf("a tenant without a default profile shows %v, want en16931", got)
	}
}

// peppolInvoice is sampleInvoice(id) as the Peppol profile wants it: the
// buyer's electronic address and an order reference.
func peppolInvoice(id string) map[string]any {
	inv := sampleInvoice(id)
	inv["customer"].(map[string]any)["endpoint"] = map[string]any{"scheme": "0208", "id": "0123456789"}
	inv["customer"].(map[string]any)["vatId"] = "BE0123456789"
	inv["orderReference"] = "PO-77"
	return inv
}

// TestEInvoiceProfile checks where an invoice's profile comes from (the
// request, the tenant's default, en16931), that what the profile needs is
// asked for by name when the invoice is created and when its XML is asked
// for after the settings changed, and that a credit note keeps the
// corrected invoice's profile.
func TestEInvoiceProfile(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())

	r := h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_plain")))
	if got := r.data()["profile"]; got != "en16931" {
		t.Fatalf("profile = %v, want en16931 without a request's or a default", got)
	}
	bad := sampleInvoice("inv_bad")
	bad["profile"] = "zugferd"
	wantFields(t, h.do("POST", "/api/v1/invoices", token, bad), http.StatusBadRequest, map[string]string{"profile": "must be one of"})
	r = h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token, map[string]any{"invoices": []any{bad}}))
	if f := batchResults(t, r)[0]["error"].(map[string]any)["fields"].(map[string]any); f["invoices[0].profile"] == nil {
		t.Fatalf("the batch item's error names %v, want invoices[0].profile", f)
	}

	// Peppol asked for by the request: the seller has no electronic
	// address in the settings, the buyer none in the invoice.
	asked := sampleInvoice("inv_p0")
	asked["profile"] = "peppol"
	r = h.do("POST", "/api/v1/invoices", token, asked)
	wantFields(t, r, http.StatusBadRequest, map[string]string{
		"branding.endpoint": "required by the peppol profile, in the settings",
		"customer.endpoint": "required by the peppol profile",
	})
	if msg := r.Body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "branding.endpoint") || !strings.Contains(msg, "peppol") {
		t.Fatalf("message %q names neither the setting nor the profile", msg)
	}

	// The tenant's default profile, once its settings give what Peppol
	// needs of the seller.
	st := acmeSettings()
	st["defaults"].(map[string]any)["einvoiceProfile"] = "peppol"
	st["branding"].(map[string]any)["endpoint"] = map[string]any{"scheme": "9947", "id": "RO18547290"}
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, st))
	wantFields(t, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_p1")), http.StatusBadRequest,
		map[string]string{"customer.endpoint": "peppol"})
	r = h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, peppolInvoice("inv_p2")))
	if got := r.data()["profile"]; got != "peppol" {
		t.Fatalf("profile = %v, want the tenant's default, peppol", got)
	}
	if ep := r.data()["customer"].(map[string]any)["endpoint"].(map[string]any); ep["scheme"] != "0208" || ep["id"] != "0123456789" {
		t.Fatalf("customer.endpoint = %v", ep)
	}
	h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_p2/xml", token, nil))

	// A credit note keeps the profile of the invoice it corrects.
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_p2/finalize", token, nil))
	r = h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices/inv_p2/credit-notes", token, map[string]any{"number": "CN-P2"}))
	if got := r.data()["profile"]; got != "peppol" {
		t.Fatalf("the credit note's profile = %v, want peppol", got)
	}

	// The settings lose the seller's address: the XML names it.
	delete(st["branding"].(map[string]any), "endpoint")
	st["defaults"].(map[string]any)["einvoiceProfile"] = ""
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, st))
	r = h.do("GET", "/api/v1/invoices/inv_p2/xml", token, nil)
	wantFields(t, r, http.StatusUnprocessableEntity, map[string]string{"branding.endpoint": "required by the peppol profile"})
	if r.errorCode() != "invoice_not_renderable" {
		t.Fatalf("code %q, want invoice_not_renderable", r.errorCode())
	}
}

// pdfText is the text of a PDF, as pdftotext reads it in content order
// (a label beside its value), with every run of white space one space.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	redistest.RequireTool(t, "pdftotext")
	f := filepath.Join(t.TempDir(), "invoice.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(string(out), "\u00a0", " ")), " ")
}

// TestReverseChargeInvoice creates, through the API, an invoice with a
// reverse-charge line beside a standard-rated one, a document level
// allowance and VAT accounted in RON, and checks the computed answer, the
// PDF's notes and totals and the XML's VAT category and exemption reason.
func TestReverseChargeInvoice(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())

	inv := sampleInvoice("inv_rc")
	inv["customer"] = map[string]any{"name": "Müller GmbH", "email": "einkauf@mueller.test", "vatId": "DE123456789",
		"address": map[string]any{"line1": "Hauptstraße 1", "city": "Berlin", "postalCode": "10115", "country": "DE"}}
	inv["lines"] = []any{
		map[string]any{"description": "Consulting", "quantity": "10", "unit": "h", "unitPrice": "95.00", "taxRate": "0",
			"taxCategory": "AE", "taxExemptionReason": "Reverse charge", "taxExemptionCode": "VATEX-EU-AE"},
		map[string]any{"description": "Workshop in Cluj-Napoca", "quantity": "1", "unitPrice": "100", "taxRate": "19"},
	}
	inv["allowances"] = []any{map[string]any{"reason": "Loyalty discount", "reasonCode": "95", "amount": "47.50", "taxRate": "0", "taxCategory": "AE"}}
	inv["taxCurrency"], inv["taxExchangeRate"] = "RON", "4.9746"
	inv["orderReference"] = "PO-4711"
	r := h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv))
	d := r.data()
	for field, want := range map[string]string{
		"subtotal": "1050.00", "allowanceTotal": "47.50", "netTotal": "1002.50", "taxTotal": "19.00",
		"taxTotalInTaxCurrency": "94.52", "total": "1021.50", "profile": "en16931", "orderReference": "PO-4711",
	} {
		if d[field] != want {
			t.Errorf("%s = %v, want %s", field, d[field], want)
		}
	}
	if _, ok := d["chargeTotal"]; ok {
		t.Errorf("chargeTotal = %v on an invoice without charges", d["chargeTotal"])
	}
	var ae map[string]any
	for _, x := range d["taxes"].([]any) {
		if tax := x.(map[string]any); tax["category"] == "AE" {
			ae = tax
		}
	}
	if ae == nil || ae["base"] != "902.50" || ae["amount"] != "0.00" || ae["exemptionReason"] != "Reverse charge" || ae["exemptionCode"] != "VATEX-EU-AE" {
		t.Fatalf("the AE breakdown is %v; want base 902.50, VAT 0.00 and the exemption reason and code: %s", ae, r.Raw)
	}
	if l := d["lines"].([]any)[0].(map[string]any); l["taxCategory"] != "AE" || l["taxExemptionCode"] != "VATEX-EU-AE" {
		t.Fatalf("lines[0] = %v", l)
	}

	// Open, without the draft's stamp across the page.
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_rc/finalize", token, nil))
	p := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_rc/pdf", token, nil))
	text := pdfText(t, p.Raw)
	// The header, the VAT breakdown, the totals (their labels, then
	// their amounts, as pdftotext reads the two columns), the notes.
	pos := 0
	for _, want := range []string{
		"Order reference PO-4711", "VAT ID: DE123456789",
		"VAT 19% €100.00 €19.00", "Reverse charge €902.50 €0.00",
		"VAT notes Reverse charge: the customer is liable for the VAT",
		"VAT in RON: 94.52 RON at 4.9746 RON/EUR",
	} {
		i := strings.Index(text[pos:], want)
		if i < 0 {
			t.Fatalf("the PDF lacks %q after byte %d:\n%s", want, pos, text)
		}
		pos += i + len(want)
	}

	// The hosted page words the totals and the VAT as the PDF does.
	pub := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_rc", token, nil)).data()["publicUrl"].(string)
	html := string(h.must(http.StatusOK, h.do("GET", strings.TrimPrefix(pub, h.URL), "", nil)).Raw)
	for _, want := range []string{
		"<td>Loyalty discount</td><td class=\"num\">-€47.50</td>", "<td>Total without VAT</td><td class=\"num\">€1,002.50</td>",
		"<td>Reverse charge</td><td class=\"num\">€0.00</td>", "Reverse charge: the customer is liable for the VAT",
		"VAT in RON: 94.52",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the hosted page lacks %q", want)
		}
	}

	// The totals, each label on the row of its amount.
	layout := pdftest.Text(t, p.Raw)
	for _, row := range [][2]string{
		{"Subtotal", "€1,050.00"}, {"Loyalty discount", "-€47.50"}, {"Total without VAT", "€1,002.50"},
		{"VAT total", "€19.00"}, {"Total", "€1,021.50"},
	} {
		if !regexp.MustCompile(`(?m)` + regexp.QuoteMeta(row[0]) + ` +` + regexp.QuoteMeta(row[1]) + `\s*$`).MatchString(layout) {
			t.Errorf("no totals row %q %q in the PDF:\n%s", row[0], row[1], layout)
		}
	}

	x := string(h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_rc/xml", token, nil)).Raw)
	for _, want := range []string{
		"<cbc:ID>AE</cbc:ID>", "<cbc:TaxExemptionReason>Reverse charge</cbc:TaxExemptionReason>",
		"<cbc:TaxExemptionReasonCode>VATEX-EU-AE</cbc:TaxExemptionReasonCode>",
		"<cbc:TaxCurrencyCode>RON</cbc:TaxCurrencyCode>", `<cbc:TaxAmount currencyID="RON">94.52</cbc:TaxAmount>`,
		"<cbc:AllowanceChargeReason>Loyalty discount</cbc:AllowanceChargeReason>",
	} {
		if !strings.Contains(x, want) {
			t.Errorf("the XML lacks %s:\n%s", want, x)
		}
	}
	if v := ubl.Check([]byte(x)); len(v) > 0 {
		t.Errorf("the XML breaks EN 16931 rules: %v", v)
	}
}

// TestBatchRetryWithEInvoiceFields checks that a batch sent again finds
// the invoices it made, as they are, when they carry a customer's
// electronic address, VAT categories and allowances, and that a changed
// e-invoice field is a conflict.
func TestBatchRetryWithEInvoiceFields(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())

	inv := peppolInvoice("inv_br")
	inv["lines"] = []any{map[string]any{"description": "Consulting", "quantity": "10", "unitPrice": "95.00", "taxRate": "0",
		"taxCategory": "AE", "taxExemptionCode": "VATEX-EU-AE"}}
	inv["allowances"] = []any{map[string]any{"reason": "Loyalty discount", "rate": "5", "taxRate": "0", "taxCategory": "AE"}}
	body := map[string]any{"invoices": []any{inv}}
	r := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token, body))
	if got := batchResults(t, r)[0]["status"]; got != "created" {
		t.Fatalf("status %v, want created: %s", got, r.Raw)
	}
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_br/finalize", token, nil))
	r = h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token, body))
	if got := batchResults(t, r)[0]["status"]; got != "existing" {
		t.Fatalf("the same batch again: status %v, want existing: %s", got, r.Raw)
	}
	inv["allowances"] = []any{map[string]any{"reason": "Loyalty discount", "rate": "6", "taxRate": "0", "taxCategory": "AE"}}
	r = h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token, body))
	if res := batchResults(t, r)[0]; res["status"] != "error" || res["error"].(map[string]any)["code"] != "conflict" {
		t.Fatalf("a changed allowance: %v, want a conflict", res)
	}
}

// TestSendRefusesAnUnwritableEInvoice: a send that attaches the UBL XML of
// an invoice its profile cannot be written for (EN 16931 wants the
// buyer's country) is 422 naming the field, and leaves no delivery; the
// same send without the XML goes out.
func TestSendRefusesAnUnwritableEInvoice(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())
	inv := sampleInvoice("inv_nocountry")
	delete(inv["customer"].(map[string]any)["address"].(map[string]any), "country")
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv))

	r := h.must(http.StatusUnprocessableEntity, h.do("POST", "/api/v1/invoices/inv_nocountry/send", token, map[string]any{"attachXml": true}))
	if f, _ := r.errorFields()["customer.address.country"].(string); r.errorCode() != "invoice_not_renderable" || !strings.Contains(f, "en16931") {
		t.Fatalf("send with the XML = %s, want invoice_not_renderable naming customer.address.country", r.Raw)
	}
	if ds := h.deliveries(token, "inv_nocountry"); len(ds) != 0 {
		t.Fatalf("a refused send left deliveries: %v", ds)
	}
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_nocountry/send", token, map[string]any{}))
	eventually(t, 10*time.Second, "the email without the XML", func() bool { return len(h.emails()) == 1 })
}
