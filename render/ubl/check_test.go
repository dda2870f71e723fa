package ubl

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// edit is one change to a rendered document: the nth occurrence (1-based;
// -1 for the last) of old becomes new.
type edit struct {
	old, new string
	nth      int
}

// apply makes the edits to doc, failing when one finds nothing to change,
// so that a broken document is never silently the valid one.
func apply(t *testing.T, doc []byte, edits []edit) []byte {
	t.Helper()
	for _, e := range edits {
		parts := bytes.Split(doc, []byte(e.old))
		n := e.nth
		if n == -1 {
			n = len(parts) - 1
		}
		if n < 1 || n >= len(parts) {
			t.Fatalf("edit %q: occurrence %d of %d", e.old, e.nth, len(parts)-1)
		}
		head := bytes.Join(parts[:n], []byte(e.old))
		tail := bytes.Join(parts[n:], []byte(e.old))
		doc = append(append(head, e.new...), tail...)
	}
	return doc
}

func TestCheckBrokenDocuments(t *testing.T) {
	t.Parallel()
	lines := regexp.MustCompile(`(?s)\s*<cac:InvoiceLine>.*</cac:InvoiceLine>`)
	tests := []struct {
		name  string
		doc   func(testing.TB) Document
		edits []edit
		// mangle, when set, replaces the edits.
		mangle func([]byte) []byte
		rule   string
	}{
		{"wrong PayableAmount", designDoc,
			[]edit{{`<cbc:PayableAmount currencyID="EUR">1130.50<`, `<cbc:PayableAmount currencyID="EUR">1130.51<`, 1}}, nil, "BR-CO-16"},
		{"missing CustomizationID", designDoc,
			[]edit{{"<cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>", "", 1}}, nil, "BR-01"},
		{"another specification", designDoc,
			[]edit{{"urn:cen.eu:en16931:2017", "urn:example:invoice", 1}}, nil, "BR-01"},
		{"tax subtotal taxable amount not matching the lines", designDoc,
			[]edit{{`<cbc:TaxableAmount currencyID="EUR">950.00<`, `<cbc:TaxableAmount currencyID="EUR">900.00<`, 1}}, nil, "BR-S-08"},
		{"tax subtotal VAT not taxable × rate", designDoc,
			[]edit{{`<cbc:TaxAmount currencyID="EUR">180.50<`, `<cbc:TaxAmount currencyID="EUR">180.49<`, 2}}, nil, "BR-CO-17"},
		{"total VAT not the sum of the breakdown", designDoc,
			[]edit{{`<cbc:TaxAmount currencyID="EUR">180.50<`, `<cbc:TaxAmount currencyID="EUR">181.50<`, 2}}, nil, "BR-CO-14"},
		{"wrong decimals", designDoc,
			[]edit{{`<cbc:PayableAmount currencyID="EUR">1130.50<`, `<cbc:PayableAmount currencyID="EUR">1130.5<`, 1}}, nil, ruleDecimals},
		{"decimals in JPY", jpyDoc,
			[]edit{{`<cbc:PayableAmount currencyID="JPY">20347<`, `<cbc:PayableAmount currencyID="JPY">20347.00<`, 1}}, nil, ruleDecimals},
		{"three decimals in BHD", bhdDoc,
			[]edit{{`<cbc:TaxAmount currencyID="BHD">1.15<`, `<cbc:TaxAmount currencyID="BHD">1.150<`, 1}}, nil, ruleDecimals},
		{"exempt without a reason", tableCase("en16931", "exempt E with reason"), nil, func(b []byte) []byte {
			return regexp.MustCompile(`\s*<cbc:TaxExemptionReason(Code)?>[^<]*</cbc:TaxExemptionReason(Code)?>`).ReplaceAll(b, nil)
		}, "BR-E-10"},
		{"reason for a standard rate", designDoc,
			[]edit{{"<cbc:Percent>19</cbc:Percent>\n        <cac:TaxScheme>", "<cbc:Percent>19</cbc:Percent><cbc:TaxExemptionReason>x</cbc:TaxExemptionReason>\n        <cac:TaxScheme>", 1}}, nil, "BR-S-10"},
		{"reverse charge, seller without VAT id", tableCase("en16931", "reverse charge AE"),
			[]edit{{"<cbc:ID>VAT</cbc:ID>", "<cbc:ID>TAX</cbc:ID>", 1}}, nil, "BR-AE-02"},
		{"reverse charge, buyer without VAT id", tableCase("en16931", "reverse charge AE"),
			[]edit{{"<cbc:CompanyID>DE123456789</cbc:CompanyID>", "", 1}}, nil, "BR-AE-02"},
		{"intra-community supply, buyer without VAT id", tableCase("en16931", "intra-community supply K"),
			[]edit{{"<cbc:CompanyID>DE123456789</cbc:CompanyID>", "", 1}}, nil, "BR-IC-02"},
		{"not subject to VAT, with a seller VAT id", tableCase("en16931", "not subject to VAT O"),
			[]edit{{"<cbc:CompanyID>18547290</cbc:CompanyID>\n        <cac:TaxScheme>\n          <cbc:ID>TAX</cbc:ID>", "<cbc:CompanyID>RO18547290</cbc:CompanyID>\n        <cac:TaxScheme>\n          <cbc:ID>VAT</cbc:ID>", 1}}, nil, "BR-O-02"},
		{"export, seller without VAT id", tableCase("en16931", "export G"),
			[]edit{{"<cbc:ID>VAT</cbc:ID>", "<cbc:ID>TAX</cbc:ID>", 1}}, nil, "BR-G-02"},
		{"intra-community supply without delivery date nor period", tableCase("en16931", "intra-community supply K"), nil, func(b []byte) []byte {
			return regexp.MustCompile(`(?s)\s*<cbc:ActualDeliveryDate>[^<]*</cbc:ActualDeliveryDate>|\s*<cac:InvoicePeriod>.*?</cac:InvoicePeriod>`).ReplaceAll(b, nil)
		}, "BR-IC-11"},
		{"intra-community supply without delivery country", tableCase("en16931", "intra-community supply K"), nil, func(b []byte) []byte {
			return regexp.MustCompile(`(?s)\s*<cac:DeliveryLocation>.*?</cac:DeliveryLocation>`).ReplaceAll(b, nil)
		}, "BR-IC-12"},
		{"VAT accounting currency without its VAT total", tableCase("cius-ro", "export G"), nil, func(b []byte) []byte {
			return regexp.MustCompile(`(?s)\s*<cac:TaxTotal>\s*<cbc:TaxAmount currencyID="RON">[^<]*</cbc:TaxAmount>\s*</cac:TaxTotal>`).ReplaceAll(b, nil)
		}, "BR-53"},
		{"unknown VAT accounting currency", tableCase("cius-ro", "export G"),
			[]edit{{"<cbc:TaxCurrencyCode>RON<", "<cbc:TaxCurrencyCode>XYZ<", 1}}, nil, "BR-CL-05"},
		{"VAT total in the accounting currency with three decimals", tableCase("cius-ro", "export G"), nil, func(b []byte) []byte {
			return regexp.MustCompile(`(<cbc:TaxAmount currencyID="RON">[0-9]+\.[0-9]{2})<`).ReplaceAll(b, []byte("${1}0<"))
		}, ruleDecimals},
		{"not a number", designDoc,
			[]edit{{`<cbc:PayableAmount currencyID="EUR">1130.50<`, `<cbc:PayableAmount currencyID="EUR">1,130.50<`, 1}}, nil, ruleDecimals},
		{"another currency", designDoc,
			[]edit{{`<cbc:PayableAmount currencyID="EUR">`, `<cbc:PayableAmount currencyID="USD">`, 1}}, nil, ruleCurrency},
		{"no currencyID", designDoc,
			[]edit{{`<cbc:PayableAmount currencyID="EUR">`, `<cbc:PayableAmount>`, 1}}, nil, ruleCurrency},
		{"unknown currency", designDoc,
			[]edit{{`<cbc:DocumentCurrencyCode>EUR<`, `<cbc:DocumentCurrencyCode>EUX<`, 1}}, nil, "BR-CL-04"},
		{"sum of lines wrong", designDoc,
			[]edit{{`<cbc:LineExtensionAmount currencyID="EUR">950.00<`, `<cbc:LineExtensionAmount currencyID="EUR">960.00<`, 1}}, nil, "BR-CO-10"},
		{"total without VAT wrong", designDoc,
			[]edit{{`<cbc:TaxExclusiveAmount currencyID="EUR">950.00<`, `<cbc:TaxExclusiveAmount currencyID="EUR">960.00<`, 1}}, nil, "BR-CO-13"},
		{"total with VAT wrong", designDoc,
			[]edit{{`<cbc:TaxInclusiveAmount currencyID="EUR">1130.50<`, `<cbc:TaxInclusiveAmount currencyID="EUR">1130.00<`, 1}}, nil, "BR-CO-15"},
		{"allowance total without allowances", designDoc,
			[]edit{{`<cbc:PayableAmount`, `<cbc:AllowanceTotalAmount currencyID="EUR">5.00</cbc:AllowanceTotalAmount><cbc:PayableAmount`, 1}}, nil, "BR-CO-11"},
		{"prepaid amount not deducted", designDoc,
			[]edit{{`<cbc:PayableAmount`, `<cbc:PrepaidAmount currencyID="EUR">100.00</cbc:PrepaidAmount><cbc:PayableAmount`, 1}}, nil, "BR-CO-16"},
		{"line net not quantity × price", designDoc,
			[]edit{{`<cbc:LineExtensionAmount currencyID="EUR">950.00<`, `<cbc:LineExtensionAmount currencyID="EUR">951.00<`, 2}}, nil, ruleLineNet},
		{"line discount not deducted", multiRateDoc,
			[]edit{{`<cbc:Amount currencyID="RON">30.00<`, `<cbc:Amount currencyID="RON">20.00<`, 1}}, nil, ruleLineNet},
		{"line allowance without reason", multiRateDoc,
			[]edit{{"<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>", "", 1}, {"<cbc:AllowanceChargeReason>Discount</cbc:AllowanceChargeReason>", "", 1}}, nil, "BR-42"},
		{"zero-rated breakdown with VAT", multiRateDoc,
			[]edit{{`<cbc:TaxAmount currencyID="RON">0.00<`, `<cbc:TaxAmount currencyID="RON">1.00<`, 1}}, nil, "BR-Z-09"},
		{"line of a rate without breakdown", multiRateDoc,
			[]edit{{"<cbc:Percent>5</cbc:Percent>", "<cbc:Percent>9</cbc:Percent>", -1}}, nil, "BR-S-08"},
		{"standard rate line at 0%", designDoc,
			[]edit{{"<cbc:Percent>19</cbc:Percent>", "<cbc:Percent>0</cbc:Percent>", -1}}, nil, "BR-S-05"},
		{"seller without VAT id", designDoc,
			[]edit{{"<cbc:CompanyID>RO18547290</cbc:CompanyID>", "", 1}, {"<cac:TaxScheme>\n          <cbc:ID>VAT</cbc:ID>\n        </cac:TaxScheme>", "", 1}}, nil, "BR-S-02"},
		{"VAT id without country prefix", designDoc,
			[]edit{{"<cbc:CompanyID>RO18547290<", "<cbc:CompanyID>18547290<", 1}}, nil, "BR-CO-09"},
		{"seller identified only by a tax registration", designDoc,
			[]edit{{"<cbc:CompanyID>J12/1234/2015</cbc:CompanyID>", "", 1}, {"<cbc:ID>VAT</cbc:ID>", "<cbc:ID>TAX</cbc:ID>", 1}}, nil, "BR-CO-26"},
		{"unknown unit code", designDoc,
			[]edit{{`unitCode="HUR"`, `unitCode="XYZ"`, 1}}, nil, ruleUnitCode},
		{"no unit code", designDoc,
			[]edit{{` unitCode="HUR"`, ``, 1}}, nil, "BR-23"},
		{"no quantity", designDoc,
			[]edit{{`<cbc:InvoicedQuantity unitCode="HUR">10</cbc:InvoicedQuantity>`, ``, 1}}, nil, "BR-22"},
		{"no item name", designDoc,
			[]edit{{`<cbc:Name>Consulting</cbc:Name>`, ``, 1}}, nil, "BR-25"},
		{"no price", designDoc,
			[]edit{{`<cbc:PriceAmount currencyID="EUR">95.00</cbc:PriceAmount>`, ``, 1}}, nil, "BR-26"},
		{"negative price", designDoc,
			[]edit{{`<cbc:PriceAmount currencyID="EUR">95.00<`, `<cbc:PriceAmount currencyID="EUR">-95.00<`, 1}}, nil, "BR-27"},
		{"no lines", designDoc, nil, func(b []byte) []byte { return lines.ReplaceAll(b, nil) }, "BR-16"},
		{"no seller name", designDoc,
			[]edit{{"<cbc:RegistrationName>ACME SRL</cbc:RegistrationName>", "", 1}}, nil, "BR-06"},
		{"no buyer name", designDoc,
			[]edit{{"<cbc:RegistrationName>Ana Popescu</cbc:RegistrationName>", "", 1}}, nil, "BR-07"},
		{"no buyer country", designDoc,
			[]edit{{"<cbc:IdentificationCode>RO</cbc:IdentificationCode>", "", -1}}, nil, "BR-11"},
		{"no seller country", designDoc,
			[]edit{{"<cbc:IdentificationCode>RO</cbc:IdentificationCode>", "", 1}}, nil, "BR-09"},
		{"country not ISO", designDoc,
			[]edit{{"<cbc:IdentificationCode>RO</cbc:IdentificationCode>", "<cbc:IdentificationCode>UK</cbc:IdentificationCode>", 1}}, nil, "BR-CL-14"},
		{"no invoice number", designDoc,
			[]edit{{"<cbc:ID>INV-1001</cbc:ID>", "", 1}}, nil, "BR-02"},
		{"bad issue date", designDoc,
			[]edit{{"<cbc:IssueDate>2026-11-21<", "<cbc:IssueDate>21.11.2026<", 1}}, nil, "BR-03"},
		{"no type code", designDoc,
			[]edit{{"<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>", "", 1}}, nil, "BR-04"},
		{"no currency", designDoc,
			[]edit{{"<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>", "", 1}}, nil, "BR-05"},
		{"no due date nor terms", designDoc,
			[]edit{{"<cbc:DueDate>2026-12-21</cbc:DueDate>", "", 1}, {"<cbc:Note>Due date: 21 Dec 2026.&#xA;Pay online: https://pay.example.com/inv_1001</cbc:Note>", "", 1}}, nil, "BR-CO-25"},
		{"credit transfer without account", designDoc,
			[]edit{{"<cbc:ID>RO49AAAA1B31007593840000</cbc:ID>", "", 1}}, nil, "BR-61"},
		{"no VAT breakdown", designDoc, nil, func(b []byte) []byte {
			return regexp.MustCompile(`(?s)<cac:TaxSubtotal>.*</cac:TaxSubtotal>`).ReplaceAll(b, nil)
		}, "BR-CO-18"},
		{"credit note with wrong total", creditDoc,
			[]edit{{`<cbc:PayableAmount currencyID="EUR">226.10<`, `<cbc:PayableAmount currencyID="EUR">-226.10<`, 1}}, nil, "BR-CO-16"},
		{"credit note with invoice lines", creditDoc,
			[]edit{{"cac:CreditNoteLine>", "cac:InvoiceLine>", 1}, {"cac:CreditNoteLine>", "cac:InvoiceLine>", 1}}, nil, "BR-16"},
		{"not XML", designDoc, nil, func(b []byte) []byte { return b[:len(b)/2] }, ruleXML},
		{"not UBL", designDoc,
			[]edit{{"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2", "urn:example:invoice", 1}}, nil, ruleXML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := Render(tt.doc(t))
			if err != nil {
				t.Fatal(err)
			}
			if v := Check(doc); len(v) > 0 {
				t.Fatalf("the document is broken before the edit:\n%s", violations(v))
			}
			if tt.mangle != nil {
				doc = tt.mangle(doc)
			} else {
				doc = apply(t, doc, tt.edits)
			}
			got := Check(doc)
			for _, v := range got {
				if v.Rule == tt.rule {
					if v.Message == "" {
						t.Errorf("%s has no message", v.Rule)
					}
					return
				}
			}
			t.Errorf("Check did not report %s; it found:\n%s", tt.rule, violations(got))
		})
	}
}

// TestCheckReportsEveryViolation breaks several rules at once and expects
// each of them, in document order.
func TestCheckReportsEveryViolation(t *testing.T) {
	t.Parallel()
	doc, err := Render(designDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	doc = apply(t, doc, []edit{
		{"<cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>", "", 1},
		{"<cbc:CompanyID>RO123<", "<cbc:CompanyID>123<", 1},
		{`<cbc:PayableAmount currencyID="EUR">1130.50<`, `<cbc:PayableAmount currencyID="EUR">1130.5<`, 1},
		{`<cbc:TaxInclusiveAmount currencyID="EUR">1130.50<`, `<cbc:TaxInclusiveAmount currencyID="EUR">1131.50<`, 1},
	})
	var got []string
	for _, v := range Check(doc) {
		got = append(got, v.Rule)
	}
	want := []string{"BR-01", "BR-CO-09", "BR-CO-15", "BR-CO-16", ruleDecimals}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("rules = %v, want %v", got, want)
	}
}

func TestCheckMessage(t *testing.T) {
	t.Parallel()
	doc, err := Render(designDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	doc = apply(t, doc, []edit{{`<cbc:PayableAmount currencyID="EUR">1130.50<`, `<cbc:PayableAmount currencyID="EUR">1130.51<`, 1}})
	v := Check(doc)
	want := Violation{Rule: "BR-CO-16", Message: "PayableAmount is 1130.51, want 1130.50 (TaxInclusiveAmount 1130.50 − PrepaidAmount 0 + PayableRoundingAmount 0)."}
	if len(v) != 1 || v[0] != want {
		t.Errorf("Check = %v, want [%v]", v, want)
	}
}

// TestRulesDocumented keeps the rule table of doc.go in step with the
// rules Check reports.
func TestRulesDocumented(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("check.go")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	ids := regexp.MustCompile(`"((?:BR|PEPPOL|invoiced)-[A-Za-z0-9-]+)"`).FindAllSubmatch(src, -1)
	if len(ids) < 40 {
		t.Fatalf("found only %d rule ids in check.go", len(ids))
	}
	for _, m := range ids {
		id := string(m[1])
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(id) + `\b`).Match(docs) {
			t.Errorf("rule %s is checked but not listed in doc.go", id)
		}
	}
}
