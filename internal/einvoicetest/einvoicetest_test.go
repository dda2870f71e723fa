package einvoicetest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/ubl"
)

// TestParseSVRL holds the SVRL reading to a report of each kind.
func TestParseSVRL(t *testing.T) {
	t.Parallel()
	svrl := `<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
		<svrl:fired-rule context="/"/>
		<svrl:failed-assert test="x" id="BR-01" flag="fatal" location="/Invoice"><svrl:text>[BR-01]-An
		Invoice shall have a Specification identifier.</svrl:text></svrl:failed-assert>
		<svrl:successful-report test="y" id="BR-DE-TMP-32" flag="information" location="/Invoice"><svrl:text>period</svrl:text></svrl:successful-report>
		<svrl:failed-assert test="z" id="BR-DE-1" flag="error" location="/Invoice"><svrl:text>payment</svrl:text></svrl:failed-assert>
		<svrl:failed-assert test="w" id="PEPPOL-EN16931-R002" flag="warning" location="/Invoice"><svrl:text>notes</svrl:text></svrl:failed-assert>
	</svrl:schematron-output>`
	got, err := parseSVRL([]byte(svrl))
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{
		{"BR-01", "fatal", "/Invoice", "[BR-01]-An Invoice shall have a Specification identifier."},
		{"BR-DE-TMP-32", "information", "/Invoice", "period"},
		{"BR-DE-1", "error", "/Invoice", "payment"},
		{"PEPPOL-EN16931-R002", "warning", "/Invoice", "notes"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("parseSVRL =\n%v\nwant\n%v", got, want)
	}
	r := Result{Findings: map[string][]Finding{invoice.ProfileXRechnung: got[1:], EN16931: got[:1]}}
	wantFatal := []string{
		"EN16931: BR-01 [fatal] at /Invoice: [BR-01]-An Invoice shall have a Specification identifier.",
		"xrechnung: BR-DE-1 [error] at /Invoice: payment",
	}
	if fmt.Sprint(r.Fatal()) != fmt.Sprint(wantFatal) {
		t.Errorf("Fatal() = %q, want %q", r.Fatal(), wantFatal)
	}
	if w := r.Warnings(); len(w) != 2 || !strings.HasPrefix(w[0], "xrechnung: BR-DE-TMP-32") {
		t.Errorf("Warnings() = %q, want BR-DE-TMP-32 and PEPPOL-EN16931-R002", w)
	}
	if r.Valid() {
		t.Error("Valid() with fatal findings")
	}
}

// sampleDocuments are a small domestic invoice in profile, as the API
// builds it, and a credit note of it.
func sampleDocuments(t *testing.T, profile string) (inv, creditNote []byte) {
	t.Helper()
	in := &invoice.Invoice{
		ID: "inv_1", Number: "INV-1", Currency: "RON", Status: invoice.StatusOpen, Profile: profile,
		IssueDate: "2026-11-21", DueDate: "2026-12-21", Language: "en", Reference: "PO-1",
		Customer: invoice.Customer{
			Name: "Beta Distributie SRL", Email: "facturi@beta.example", VATID: "RO16478210",
			Endpoint: &invoice.Endpoint{Scheme: "9947", ID: "RO16478210"},
			Address:  invoice.Address{Line1: "Bd. Unirii 10", City: "SECTOR3", PostalCode: "030833", Region: "RO-B", Country: "RO"},
		},
		Lines: []invoice.Line{
			{Description: "Consulting", Quantity: "10", Unit: "h", UnitPrice: "95.00", TaxRate: "19"},
			{Description: "Handbook", Quantity: "2", Unit: "pcs", UnitPrice: "24.90", TaxRate: "9", DiscountRate: "10"},
		},
	}
	if fe := invoice.Validate(in); len(fe) > 0 {
		t.Fatalf("Validate: %v", fe)
	}
	if err := invoice.Compute(in); err != nil {
		t.Fatal(err)
	}
	d := ubl.Document{
		Invoice: in,
		Seller: invoice.Seller{
			Name: "ACME SRL", VATID: "RO18547290", Email: "billing@acme.test", Phone: "+40264123456", ContactName: "Accounts",
			Endpoint: &invoice.Endpoint{Scheme: "9947", ID: "RO18547290"},
			Address:  invoice.Address{Line1: "Str. Memorandumului 28", City: "Cluj-Napoca", PostalCode: "400114", Region: "RO-CJ", Country: "RO"},
		},
		Bank: invoice.BankAccount{IBAN: "RO49AAAA1B31007593840000", BIC: "AAAARO22"},
	}
	var err error
	if inv, err = ubl.Render(d); err != nil {
		t.Fatal(err)
	}
	d.Invoice = invoice.CreditNoteFor(in, "cn_1", "CN-1", "2026-11-28", nil)
	d.Invoice.Status = invoice.StatusOpen
	if err := invoice.Compute(d.Invoice); err != nil {
		t.Fatal(err)
	}
	if creditNote, err = ubl.Render(d); err != nil {
		t.Fatal(err)
	}
	return inv, creditNote
}

var payableAmount = regexp.MustCompile(`(<cbc:PayableAmount currencyID="[A-Z]+">)[0-9]+`)

// TestValidate runs the validators over a valid document and broken
// copies of it in two profiles, and wants each fault found where it
// belongs, and nothing in the valid ones.
func TestValidate(t *testing.T) {
	t.Parallel()
	RequireTools(t)
	docs := map[string]map[string][]byte{}
	for _, profile := range []string{invoice.ProfileEN16931, invoice.ProfileCIUSRO} {
		b, cn := sampleDocuments(t, profile)
		docs[profile] = map[string][]byte{
			"valid.xml":   b,
			"credit.xml":  cn,
			"payable.xml": payableAmount.ReplaceAll(b, []byte("${1}1")),
			"notxml.xml":  b[:len(b)/2],
		}
	}
	// CIUS-RO's own rule: a Bucharest address names its sector as city.
	docs[invoice.ProfileCIUSRO]["sector.xml"] = bytes.ReplaceAll(docs[invoice.ProfileCIUSRO]["valid.xml"],
		[]byte("<cbc:CityName>SECTOR3</cbc:CityName>"), []byte("<cbc:CityName>Bucuresti</cbc:CityName>"))

	got := ValidateProfiles(t, docs)
	for profile, byName := range docs {
		for name := range byName {
			r, ok := got[profile][name]
			if !ok {
				t.Fatalf("%s/%s: no result", profile, name)
			}
			if _, ok := r.Findings[profile]; ok != (profile == invoice.ProfileCIUSRO && name != "notxml.xml") {
				t.Errorf("%s/%s: findings of the profile's own rules: %v", profile, name, ok)
			}
			var want string
			switch name {
			case "valid.xml", "credit.xml":
				if !r.Valid() {
					t.Errorf("%s/%s: schema %q, fatal %q", profile, name, r.Schema, r.Fatal())
				}
				continue
			case "payable.xml":
				want = "EN16931: BR-CO-16 "
			case "sector.xml":
				want = "cius-ro: BR-RO-101 "
			case "notxml.xml":
				if len(r.Schema) != 1 || !strings.HasPrefix(r.Schema[0], "not well-formed XML") {
					t.Errorf("%s/%s: schema %q, want it not well-formed", profile, name, r.Schema)
				}
				continue
			}
			found := false
			for _, f := range r.Fatal() {
				found = found || strings.HasPrefix(f, want)
			}
			if !found || len(r.Schema) > 0 {
				t.Errorf("%s/%s: fatal %q, schema %q; want %s alone", profile, name, r.Fatal(), r.Schema, want)
			}
		}
	}
}

// TestRunXSDFindsFaults holds the schema run to the faults a schema
// finds: an element it does not know and elements out of order, each
// reported for its own file, a valid invoice and a valid credit note
// beside them reported for nothing.
func TestRunXSDFindsFaults(t *testing.T) {
	t.Parallel()
	RequireTools(t)
	b, cn := sampleDocuments(t, invoice.ProfileEN16931)
	dir := t.TempDir()
	files := map[string][]byte{
		"valid.xml":      b,
		"creditnote.xml": cn,
		"unknown.xml":    bytes.Replace(b, []byte("<cbc:IssueDate>"), []byte("<cbc:Colour>red</cbc:Colour><cbc:IssueDate>"), 1),
		"order.xml": regexp.MustCompile(`(<cbc:ID>[^<]*</cbc:ID>)(\s*)(<cbc:IssueDate>[^<]*</cbc:IssueDate>)`).
			ReplaceAll(b, []byte("$3$2$1")),
	}
	var paths []string
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if bytes.Equal(files["order.xml"], b) {
		t.Fatal("the ID and IssueDate were not swapped")
	}
	got, err := runXSD(filepath.Join(Dir(t), "ubl-xsd", "maindoc"), paths)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"unknown.xml": "Colour", "order.xml": "IssueDate"} {
		if es := got[name]; len(es) == 0 || !strings.Contains(strings.Join(es, "\n"), want) {
			t.Errorf("%s: schema errors %q, want one naming %s", name, es, want)
		}
	}
	for _, name := range []string{"valid.xml", "creditnote.xml"} {
		if es := got[name]; len(es) > 0 {
			t.Errorf("%s: schema errors %q in a valid document", name, es)
		}
	}
}
