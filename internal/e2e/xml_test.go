package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/render/ubl"
)

func TestUBLInvoice(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())
	inv := sampleInvoice("inv_x")
	inv["customer"].(map[string]any)["vatId"] = "RO123456"
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv))

	r := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_x/xml", token, nil))
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("content type %s", r.Header.Get("Content-Type"))
	}
	if v := ubl.Check(r.Raw); len(v) > 0 {
		t.Fatalf("the served XML breaks EN 16931 rules: %v", v)
	}
	for _, want := range []string{"urn:cen.eu:en16931:2017", "<cbc:ID>INV-x</cbc:ID>", "RO49AAAA1B31007593840000", `<cbc:PayableAmount currencyID="EUR">1130.50</cbc:PayableAmount>`, `unitCode="HUR"`} {
		if !strings.Contains(string(r.Raw), want) {
			t.Errorf("XML lacks %s", want)
		}
	}

	// Storno's attachXml puts the same document on the email.
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_x/finalize", token, nil))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_x/email", token, map[string]any{"to": "ana@example.com", "attachXml": true}))
	eventually(t, 10*time.Second, "the email", func() bool { return len(h.emails()) == 1 })
	e := parseEmail(t, mustRead(t, h.emails()[0]))
	xml, ok := e.Attachments["INV-x.xml"]
	if !ok {
		t.Fatalf("no INV-x.xml attachment: %v", keys(e.Attachments))
	}
	if v := ubl.Check(xml); len(v) > 0 {
		t.Fatalf("the attached XML breaks rules: %v", v)
	}
	if _, ok := e.Attachments["INV-x.pdf"]; !ok {
		t.Error("the PDF is no longer attached beside the XML")
	}
}
