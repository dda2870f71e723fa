package ubl

import (
	"bytes"
	"errors"
	"flag"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func acmeSeller() invoice.Seller {
	return invoice.Seller{
		Name:               "ACME SRL",
		VATID:              "RO18547290",
		RegistrationNumber: "J12/1234/2015",
		Email:              "billing@acme.test",
		Phone:              "+40264123456",
		Address: invoice.Address{
			Line1: "Str. Memorandumului 28", City: "Cluj-Napoca", PostalCode: "400114", Region: "Cluj", Country: "RO",
		},
	}
}

func acmeBank() invoice.BankAccount {
	return invoice.BankAccount{IBAN: "RO49 AAAA 1B31 0075 9384 0000", BIC: "AAAARO22", BankName: "Banca Demo", Holder: "ACME SRL"}
}

func anaPopescu() invoice.Customer {
	return invoice.Customer{
		Name: "Ana Popescu", Email: "ana@example.com", Phone: "+40712345678", VATID: "RO123",
		Address: invoice.Address{Line1: "Str. Lalelelor 5", City: "Cluj-Napoca", PostalCode: "400000", Country: "RO"},
	}
}

// computed runs invoice.Compute on inv, as the API does before storing it.
func computed(t testing.TB, inv *invoice.Invoice) *invoice.Invoice {
	t.Helper()
	if err := invoice.Compute(inv); err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return inv
}

// designDoc is the example invoice of the design document: 10 hours of
// consulting at 95.00 EUR with 19% VAT.
func designDoc(t testing.TB) Document {
	return Document{
		Invoice: computed(t, &invoice.Invoice{
			ID: "inv_1001", Number: "INV-1001", Currency: "EUR", Status: invoice.StatusOpen,
			IssueDate: "2026-11-21", DueDate: "2026-12-21", Language: "en",
			Customer:    anaPopescu(),
			Lines:       []invoice.Line{{Description: "Consulting", Quantity: "10", Unit: "h", UnitPrice: "95.00", TaxRate: "19"}},
			Notes:       "Thank you!",
			PaymentLink: "https://pay.example.com/inv_1001",
		}),
		Seller: acmeSeller(),
		Bank:   acmeBank(),
	}
}

// multiRateDoc has three VAT rates (19%, 5% and 0%), a discounted line, a
// partial payment, and text that needs escaping.
func multiRateDoc(t testing.TB) Document {
	return Document{
		Invoice: computed(t, &invoice.Invoice{
			ID: "inv_42", Number: "RO-2026/0042", Currency: "RON", Status: invoice.StatusOpen,
			IssueDate: "2026-11-21", DueDate: "2026-12-06", Language: "ro", Reference: "PO 4711",
			Customer: invoice.Customer{
				Name: `Tehnic & Construct "Nord" <SRL>`, Email: "contabilitate@tehnic.example", VATID: "12345678",
				Address: invoice.Address{Line1: "Bd. 21 Decembrie 1989 nr. 77", Line2: "Et. 3, ap. 12", City: "Cluj-Napoca", PostalCode: "400105", Region: "Cluj", Country: "RO"},
			},
			Lines: []invoice.Line{
				{Description: "Carte: Ghid practic", Quantity: "2", Unit: "buc", UnitPrice: "45.50", TaxRate: "5"},
				{Description: "Servicii de mentenanță\nLunar, conform contractului nr. 12 & anexei 2", Quantity: "1.5", Unit: "lună", UnitPrice: "200", TaxRate: "19", DiscountRate: "10"},
				{Description: "Transport export", Quantity: "1", UnitPrice: "10", TaxRate: "0"},
			},
			Notes:      "Vă mulțumim!\nFactura include <reducerea> de 10% & transportul.",
			Terms:      "Plata în 15 zile prin transfer bancar.",
			AmountPaid: "100.00",
		}),
		Seller: acmeSeller(),
		Bank:   acmeBank(),
	}
}

// jpyDoc is in a currency without a minor unit, from a seller whose tax id
// (a Japanese invoice registration number) has no country prefix.
func jpyDoc(t testing.TB) Document {
	return Document{
		Invoice: computed(t, &invoice.Invoice{
			ID: "inv_jp", Number: "JP-0007", Currency: "JPY", Status: invoice.StatusOpen,
			IssueDate: "2026-11-21", DueDate: "2026-12-31", Language: "en",
			Customer: invoice.Customer{
				Name:    "山田商事株式会社",
				Address: invoice.Address{Line1: "丸の内1-1-1", City: "千代田区", PostalCode: "100-0005", Region: "東京都", Country: "JP"},
			},
			Lines: []invoice.Line{
				{Description: "Widget", Quantity: "3", Unit: "pcs", UnitPrice: "1999", TaxRate: "10"},
				{Description: "On-site support", Quantity: "2.5", Unit: "hours", UnitPrice: "5000", TaxRate: "10"},
			},
		}),
		Seller: invoice.Seller{
			Name: "株式会社サンプル", VATID: "T1234567890123", RegistrationNumber: "1234567890123", Email: "seikyu@sample.example",
			Address: invoice.Address{Line1: "梅田2-2-2", City: "大阪市北区", PostalCode: "530-0001", Country: "JP"},
		},
	}
}

// bhdDoc is in a currency with three decimals.
func bhdDoc(t testing.TB) Document {
	return Document{
		Invoice: computed(t, &invoice.Invoice{
			ID: "inv_bh", Number: "BH-2026-19", Currency: "BHD", Status: invoice.StatusOpen,
			IssueDate: "2026-11-21", DueDate: "2026-11-30", Language: "en",
			Customer: invoice.Customer{
				Name: "Pearl Contracting W.L.L.", VATID: "BH210000000000003",
				Address: invoice.Address{Line1: "Building 100, Road 200", City: "Manama", PostalCode: "317", Country: "BH"},
			},
			Lines: []invoice.Line{
				{Description: "Consulting", Quantity: "1", Unit: "day", UnitPrice: "10.005", TaxRate: "10"},
				{Description: "Cable", Quantity: "12", Unit: "m", UnitPrice: "0.125", TaxRate: "10"},
			},
		}),
		Seller: invoice.Seller{
			Name: "Gulf Trading W.L.L.", VATID: "BH200000000000001", Email: "accounts@gulf.example",
			Address: invoice.Address{Line1: "Building 5, Road 10", City: "Manama", Country: "BH"},
		},
		Bank: invoice.BankAccount{IBAN: "BH67BMAG00001299123456", BIC: "BMAGBHBM", Holder: "Gulf Trading W.L.L."},
	}
}

// creditDoc credits two hours of the design invoice: its quantity, and so
// every computed amount, is negative.
func creditDoc(t testing.TB) Document {
	d := designDoc(t)
	d.Invoice = computed(t, &invoice.Invoice{
		ID: "cn_1001", Number: "CN-1001", Currency: "EUR", Status: invoice.StatusOpen,
		IssueDate: "2026-11-28", DueDate: "2026-12-12", Language: "en", Reference: "INV-1001",
		Customer:    anaPopescu(),
		Lines:       []invoice.Line{{Description: "Consulting billed twice on INV-1001", Quantity: "-2", Unit: "h", UnitPrice: "95.00", TaxRate: "19"}},
		PaymentLink: "https://pay.example.com/cn_1001",
	})
	if d.Invoice.Total != "-226.10" {
		t.Fatalf("credit note total = %s, want -226.10", d.Invoice.Total)
	}
	return d
}

// correctingDoc is a credit note of the design invoice: two of its ten
// hours, in positive figures, referring to INV-1001.
func correctingDoc(t testing.TB) Document {
	d := designDoc(t)
	orig := d.Invoice
	cn := invoice.CreditNoteFor(orig, "cn_1002", "CN-1002", "2026-11-28",
		[]invoice.Line{{Description: "Consulting billed twice", Quantity: "2", Unit: "h", UnitPrice: "95.00", TaxRate: "19"}})
	cn.Status, cn.Notes = invoice.StatusOpen, "Two hours billed twice"
	d.Invoice = computed(t, cn)
	return d
}

// tenLineDoc is the design invoice with ten lines of several rates, units
// and discounts.
func tenLineDoc(t testing.TB) Document {
	d := designDoc(t)
	inv := *d.Invoice
	inv.Lines = []invoice.Line{
		{Description: "Consulting", Quantity: "10", Unit: "h", UnitPrice: "95.00", TaxRate: "19"},
		{Description: "Workshop preparation\nAgenda, slides and exercises", Quantity: "1", Unit: "day", UnitPrice: "760.00", TaxRate: "19"},
		{Description: "Workshop", Quantity: "2", Unit: "days", UnitPrice: "760.00", TaxRate: "19", DiscountRate: "15"},
		{Description: "Travel", Quantity: "1", UnitPrice: "184.37", TaxRate: "19"},
		{Description: "Handbook", Quantity: "12", Unit: "pcs", UnitPrice: "24.90", TaxRate: "5"},
		{Description: "Licence, 12 months", Quantity: "12", Unit: "months", UnitPrice: "49.00", TaxRate: "19", DiscountRate: "20"},
		{Description: "Hosting", Quantity: "1", Unit: "month", UnitPrice: "19.99", TaxRate: "19"},
		{Description: "Support", Quantity: "3.25", Unit: "Std.", UnitPrice: "110.00", TaxRate: "19"},
		{Description: "Shipping to Norway", Quantity: "1", UnitPrice: "35.00", TaxRate: "0"},
		{Description: "Small parts", Quantity: "150", Unit: "buc", UnitPrice: "0.0325", TaxRate: "19"},
	}
	d.Invoice = computed(t, &inv)
	return d
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  func(testing.TB) Document
		// want maps a path below the root ("a/b@attr" for an attribute)
		// to the value of its first match; "" means the element is absent.
		want map[string]string
	}{
		{"design", designDoc, map[string]string{
			"cbc:CustomizationID":                               CustomizationID,
			"cbc:InvoiceTypeCode":                               "380",
			"cbc:DueDate":                                       "2026-12-21",
			"cbc:BuyerReference":                                "",
			"cac:PaymentMeans/cbc:PaymentMeansCode":             "58",
			"cac:PaymentMeans/cbc:PaymentID":                    "INV-1001",
			"cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID": "RO49AAAA1B31007593840000",
			"cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID": "AAAARO22",
			"cac:PaymentTerms/cbc:Note":                                                "Due date: 21 Dec 2026.\nPay online: https://pay.example.com/inv_1001",
			"cac:AccountingSupplierParty/cac:Party/cbc:EndpointID@schemeID":            "EM",
			"cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID":   "RO18547290",
			"cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID": "J12/1234/2015",
			"cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID":   "RO123",
			"cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID":                      "S",
			"cac:LegalMonetaryTotal/cbc:PayableAmount":                                 "1130.50",
			"cac:LegalMonetaryTotal/cbc:PrepaidAmount":                                 "",
			"cac:InvoiceLine/cbc:InvoicedQuantity@unitCode":                            "HUR",
			"cac:InvoiceLine/cbc:LineExtensionAmount":                                  "950.00",
			"cac:InvoiceLine/cac:Item/cbc:Description":                                 "",
			"cac:InvoiceLine/cac:Price/cbc:PriceAmount":                                "95.00",
		}},
		{"multirate-ron", multiRateDoc, map[string]string{
			"cbc:BuyerReference":                                                       "PO 4711",
			"cac:PaymentMeans/cbc:PaymentMeansCode":                                    "30",
			"cac:PaymentTerms/cbc:Note":                                                "Plata în 15 zile prin transfer bancar.",
			"cac:AccountingCustomerParty/cac:Party/cac:PartyName/cbc:Name":             `Tehnic & Construct "Nord" <SRL>`,
			"cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID":   "",
			"cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID": "12345678",
			"cac:LegalMonetaryTotal/cbc:LineExtensionAmount":                           "371.00",
			"cac:LegalMonetaryTotal/cbc:PrepaidAmount":                                 "100.00",
			"cac:LegalMonetaryTotal/cbc:PayableAmount":                                 "326.85",
			"cac:TaxTotal/cbc:TaxAmount":                                               "55.85",
			"cac:InvoiceLine/cbc:InvoicedQuantity@unitCode":                            "H87",
		}},
		{"jpy", jpyDoc, map[string]string{
			"cac:PaymentMeans/cbc:PaymentMeansCode":                                         "",
			"cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID":        "T1234567890123",
			"cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cac:TaxScheme/cbc:ID": "TAX",
			"cac:TaxTotal/cbc:TaxAmount":                                                    "1850",
			"cac:LegalMonetaryTotal/cbc:PayableAmount":                                      "20347",
			"cac:InvoiceLine/cac:Price/cbc:PriceAmount":                                     "1999",
		}},
		{"bhd", bhdDoc, map[string]string{
			"cac:PaymentMeans/cbc:PaymentMeansCode":         "30",
			"cac:TaxTotal/cbc:TaxAmount":                    "1.15",
			"cac:LegalMonetaryTotal/cbc:PayableAmount":      "12.66",
			"cac:InvoiceLine/cbc:InvoicedQuantity@unitCode": "DAY",
			"cac:InvoiceLine/cac:Price/cbc:PriceAmount":     "10.005",
		}},
		{"peppol", tableCase(invoice.ProfilePeppol, "domestic, two rates, discounts, allowance and charge"), map[string]string{
			"cbc:CustomizationID": CustomizationPeppol,
			"cbc:ProfileID":       ProfileIDPeppol,
			"cac:AccountingSupplierParty/cac:Party/cbc:EndpointID":          "RO18547290",
			"cac:AccountingSupplierParty/cac:Party/cbc:EndpointID@schemeID": "9947",
			"cac:AccountingSupplierParty/cac:Party/cac:Contact/cbc:Name":    "Accounts",
			"cac:OrderReference/cbc:ID":                                     "PO-2026-118",
			"cac:ContractDocumentReference/cbc:ID":                          "CTR-7",
			"cac:InvoicePeriod/cbc:StartDate":                               "2026-11-01",
			"cac:AllowanceCharge/cbc:ChargeIndicator":                       "false",
			"cac:AllowanceCharge/cbc:MultiplierFactorNumeric":               "5",
			"cac:AllowanceCharge/cbc:BaseAmount":                            "950.00",
			"cac:AllowanceCharge/cbc:Amount":                                "47.50",
			"cac:LegalMonetaryTotal/cbc:AllowanceTotalAmount":               "57.50",
			"cac:LegalMonetaryTotal/cbc:ChargeTotalAmount":                  "25.00",
			"cbc:TaxCurrencyCode":                                           "",
		}},
		{"cius-ro-export", tableCase(invoice.ProfileCIUSRO, "export G"), map[string]string{
			"cbc:CustomizationID":      CustomizationCIUSRO,
			"cbc:ProfileID":            "",
			"cbc:DocumentCurrencyCode": "CHF",
			"cbc:TaxCurrencyCode":      "RON",
			"cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID":                     "G",
			"cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent":                "0",
			"cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReasonCode": "VATEX-EU-G",
			"cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReason":     "Export outside the EU",
			"cac:AccountingCustomerParty/cac:Party/cbc:EndpointID@schemeID":           "EM",
		}},
		{"xrechnung-k", tableCase(invoice.ProfileXRechnung, "intra-community supply K"), map[string]string{
			"cbc:CustomizationID":                 CustomizationXRechnung,
			"cbc:BuyerReference":                  "04011000-1234512345-06",
			"cac:Delivery/cbc:ActualDeliveryDate": "2026-11-18",
			"cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode": "AT",
			"cac:Delivery/cac:DeliveryParty/cac:PartyName/cbc:Name":                            "Wiener Technik GmbH",
			"cac:AccountingSupplierParty/cac:Party/cac:Contact/cbc:Telephone":                  "+49 30 1234567",
			"cac:AllowanceCharge/cbc:ChargeIndicator":                                          "true",
			"cac:AllowanceCharge/cbc:AllowanceChargeReasonCode":                                "FC",
			"cac:AllowanceCharge/cac:TaxCategory/cbc:ID":                                       "K",
		}},
		{"creditnote", creditDoc, map[string]string{
			"cbc:CreditNoteTypeCode":                           "381",
			"cbc:InvoiceTypeCode":                              "",
			"cbc:DueDate":                                      "",
			"cac:PaymentMeans/cbc:PaymentMeansCode":            "",
			"cac:PaymentTerms/cbc:Note":                        "Due date: 12 Dec 2026.",
			"cac:TaxTotal/cbc:TaxAmount":                       "36.10",
			"cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount":   "190.00",
			"cac:LegalMonetaryTotal/cbc:PayableAmount":         "226.10",
			"cac:InvoiceLine/cbc:ID":                           "",
			"cac:CreditNoteLine/cbc:CreditedQuantity":          "2",
			"cac:CreditNoteLine/cbc:CreditedQuantity@unitCode": "HUR",
			"cac:CreditNoteLine/cbc:LineExtensionAmount":       "190.00",
			"cac:CreditNoteLine/cac:Price/cbc:PriceAmount":     "95.00",
		}},
		{"corrects", correctingDoc, map[string]string{
			"cbc:CreditNoteTypeCode": "381",
			"cbc:ID":                 "CN-1002",
			"cbc:Note":               "Two hours billed twice",
			"cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID":        "INV-1001",
			"cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate": "2026-11-21",
			"cac:PaymentMeans/cbc:PaymentMeansCode":                           "",
			"cac:PaymentTerms/cbc:Note":                                       "Credited against invoice INV-1001 of 21 Nov 2026.",
			"cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount":                   "226.10",
			"cac:LegalMonetaryTotal/cbc:PayableAmount":                        "226.10",
			"cac:CreditNoteLine/cbc:CreditedQuantity":                         "2",
			"cac:CreditNoteLine/cbc:LineExtensionAmount":                      "190.00",
			"cac:CreditNoteLine/cac:Price/cbc:PriceAmount":                    "95.00",
		}},
		{"tenlines", tenLineDoc, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := Render(tt.doc(t))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			golden(t, tt.name+".xml", out)
			if v := Check(out); len(v) > 0 {
				t.Errorf("Check found %d violations:\n%s", len(v), violations(v))
			}
			root, err := parseTree(out)
			if err != nil {
				t.Fatal(err)
			}
			for path, want := range tt.want {
				if got := lookup(root, path); got != want {
					t.Errorf("%s = %q, want %q", path, got, want)
				}
			}
			xmllintWellFormed(t, out)
		})
	}
}

// lookup returns the text of the first element at path below root, or the
// attribute named after "@".
func lookup(root *node, path string) string {
	path, attr, _ := strings.Cut(path, "@")
	n := root.find(strings.Split(path, "/")...)
	if attr != "" {
		return n.attr(attr)
	}
	return n.text()
}

func TestRenderRootAndNamespaces(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc  func(testing.TB) Document
		root string
	}{
		{designDoc, `<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">`},
		{creditDoc, `<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">`},
	}
	for _, tt := range tests {
		out, err := Render(tt.doc(t))
		if err != nil {
			t.Fatal(err)
		}
		want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + tt.root + "\n"
		if !bytes.HasPrefix(out, []byte(want)) {
			t.Errorf("document starts\n%s\nwant\n%s", out[:min(len(out), len(want))], want)
		}
	}
}

// TestRenderNegativePrice sets the computed fields by hand, as a credit
// written with a negative unit price would have them: BR-27 forbids a
// negative price, so the sign moves to the quantity.
func TestRenderNegativePrice(t *testing.T) {
	t.Parallel()
	inv := &invoice.Invoice{
		Number: "CN-7", Currency: "EUR", IssueDate: "2026-11-21", DueDate: "2026-12-21",
		Customer: anaPopescu(),
		Lines: []invoice.Line{
			{Description: "Goodwill credit", Quantity: "1", UnitPrice: "-50.00", TaxRate: "19", Discount: "0.00", Amount: "-50.00"},
			{Description: "Late fee", Quantity: "1", UnitPrice: "10.00", TaxRate: "19", Discount: "0.00", Amount: "10.00"},
		},
		Subtotal: "-40.00", DiscountTotal: "0.00", TaxTotal: "-7.60", Total: "-47.60", AmountPaid: "0.00", AmountDue: "-47.60",
		Taxes: []invoice.TaxSummary{{Rate: "19", Base: "-40.00", Amount: "-7.60"}},
	}
	out, err := Render(Document{Invoice: inv, Seller: acmeSeller()})
	if err != nil {
		t.Fatal(err)
	}
	if v := Check(out); len(v) > 0 {
		t.Errorf("Check found %d violations:\n%s", len(v), violations(v))
	}
	root, err := parseTree(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := root.all("cac:CreditNoteLine")
	if len(lines) != 2 {
		t.Fatalf("%d credit note lines, want 2", len(lines))
	}
	for i, want := range []struct{ qty, net, price string }{{"1", "50.00", "50.00"}, {"-1", "-10.00", "10.00"}} {
		got := struct{ qty, net, price string }{
			lines[i].value("cbc:CreditedQuantity"), lines[i].value("cbc:LineExtensionAmount"), lines[i].value("cac:Price", "cbc:PriceAmount"),
		}
		if got != want {
			t.Errorf("line %d: quantity, net, price = %v, want %v", i+1, got, want)
		}
	}
	if got := lookup(root, "cac:LegalMonetaryTotal/cbc:PayableAmount"); got != "47.60" {
		t.Errorf("PayableAmount = %s, want 47.60", got)
	}
}

func TestRenderItemName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Ă", 150)
	tests := []struct{ description, name, desc string }{
		{"Consulting", "Consulting", ""},
		{"  Consulting  ", "Consulting", ""},
		{"Maintenance\r\nMonthly, per contract", "Maintenance", "Maintenance\r\nMonthly, per contract"},
		{long, strings.Repeat("Ă", 99) + "…", long},
	}
	for _, tt := range tests {
		it := item(tt.description, taxCategory(categoryStandard, big.NewRat(19, 1)))
		if it.Name != tt.name || it.Description != tt.desc {
			t.Errorf("item(%q) = name %q, description %q; want %q, %q", tt.description, it.Name, it.Description, tt.name, tt.desc)
		}
	}
}

func TestRenderParties(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		sellerVAT, buyVAT string
		want              map[string]string
	}{
		{"prefixed ids are VAT ids", "ro 185 472 90", "de123456789", map[string]string{
			"cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID":        "RO18547290",
			"cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cac:TaxScheme/cbc:ID": "VAT",
			"cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID":        "DE123456789",
			"cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID":      "",
		}},
		{"Greece uses EL", "EL094259216", "", map[string]string{
			"cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cac:TaxScheme/cbc:ID": "VAT",
			"cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID":        "",
		}},
		{"unprefixed ids are registrations", "18547290", "12345678", map[string]string{
			"cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID":        "18547290",
			"cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cac:TaxScheme/cbc:ID": "TAX",
			"cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID":        "",
			"cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID":      "12345678",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := designDoc(t)
			doc.Seller.VATID = tt.sellerVAT
			doc.Invoice.Customer.VATID = tt.buyVAT
			out, err := Render(doc)
			if err != nil {
				t.Fatal(err)
			}
			if v := Check(out); len(v) > 0 {
				t.Errorf("Check found %d violations:\n%s", len(v), violations(v))
			}
			root, _ := parseTree(out)
			for path, want := range tt.want {
				if got := lookup(root, path); got != want {
					t.Errorf("%s = %q, want %q", path, got, want)
				}
			}
		})
	}
}

func TestRenderPaymentMeans(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, currency, iban, want string
	}{
		{"EUR to a SEPA IBAN", "EUR", "DE89 3704 0044 0532 0130 00", "58"},
		{"EUR to a non-SEPA IBAN", "EUR", "TR330006100519786457841326", "30"},
		{"RON to a SEPA IBAN", "RON", "RO49AAAA1B31007593840000", "30"},
		{"no IBAN", "EUR", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := designDoc(t)
			doc.Invoice.Currency = tt.currency
			doc.Bank.IBAN = tt.iban
			out, err := Render(doc)
			if err != nil {
				t.Fatal(err)
			}
			if v := Check(out); len(v) > 0 {
				t.Errorf("Check found %d violations:\n%s", len(v), violations(v))
			}
			root, _ := parseTree(out)
			if got := lookup(root, "cac:PaymentMeans/cbc:PaymentMeansCode"); got != tt.want {
				t.Errorf("PaymentMeansCode = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Document)
		want   string
	}{
		{"no invoice", func(d *Document) { d.Invoice = nil }, "no invoice"},
		{"unknown currency", func(d *Document) { d.Invoice.Currency = "EURO" }, "currency"},
		{"totals not computed", func(d *Document) { d.Invoice.Total, d.Invoice.AmountDue = "", "" }, "not computed"},
		{"amount with too many digits", func(d *Document) { d.Invoice.Subtotal = "950.001" }, "subtotal"},
		{"bad quantity", func(d *Document) { d.Invoice.Lines[0].Quantity = "ten" }, "lines[0].quantity"},
		{"bad tax rate", func(d *Document) { d.Invoice.Taxes[0].Rate = "19%" }, "taxes[0].rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := designDoc(t)
			tt.change(&doc)
			out, err := Render(doc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render = %d bytes, %v; want an error about %q", len(out), err, tt.want)
			}
		})
	}
	if _, err := Render(Document{}); !errors.Is(err, ErrNoInvoice) {
		t.Errorf("Render(Document{}) = %v, want ErrNoInvoice", err)
	}
}

func TestUnitCode(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"h": "HUR", "H": "HUR", "hour": "HUR", "hours": "HUR", "ore": "HUR", "Std": "HUR", "Std.": "HUR", " Stunden ": "HUR", "HUR": "HUR",
		"day": "DAY", "days": "DAY", "zi": "DAY", "Zile": "DAY", "Tag": "DAY", "jours": "DAY",
		"pcs": "H87", "piece": "H87", "buc": "H87", "buc.": "H87", "Stk": "H87", "Stück": "H87",
		"": "C62", "unit": "C62", "ea": "C62", "C62": "C62",
		"month": "MON", "lună": "MON", "week": "WEE", "year": "ANN", "min": "MIN",
		"kg": "KGM", "m": "MTR", "m²": "MTK", "l": "LTR", "kWh": "KWH",
		"furlong": "C62", "licence": "C62",
	}
	for unit, want := range tests {
		if got := UnitCode(unit); got != want {
			t.Errorf("UnitCode(%q) = %q, want %q", unit, got, want)
		}
	}
}

func violations(v []Violation) string {
	var b strings.Builder
	for _, x := range v {
		b.WriteString("  " + x.String() + "\n")
	}
	return b.String()
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendered document (run go test -update if the change is intended)\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// requireTool returns the path of the command name, and skips the test
// when it is not installed, except in CI (CI=true), where it fails.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI: %v", name, err)
	}
	t.Skipf("%s is not installed (it comes with libxml2-utils); skipping", name)
	return ""
}

// xmllintWellFormed has xmllint, an XML parser independent of Go's, read
// doc.
func xmllintWellFormed(t *testing.T, doc []byte) {
	t.Helper()
	bin := requireTool(t, "xmllint")
	file := filepath.Join(t.TempDir(), "invoice.xml")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--noout", file).CombinedOutput()
	if err != nil {
		t.Errorf("xmllint --noout: %v\n%s", err, out)
	}
}

// TestRenderCreditedInvoice: an invoice that a credit note corrects is
// still written as it was issued, payable in full; the credit is a
// document of its own.
func TestRenderCreditedInvoice(t *testing.T) {
	t.Parallel()
	d := designDoc(t)
	cn := correctingDoc(t).Invoice
	if err := invoice.Credit(d.Invoice, cn); err != nil {
		t.Fatal(err)
	}
	if d.Invoice.AmountDue != "904.40" {
		t.Fatalf("amountDue after the credit = %s", d.Invoice.AmountDue)
	}
	out, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if v := Check(out); len(v) > 0 {
		t.Errorf("Check found %d violations:\n%s", len(v), violations(v))
	}
	root, err := parseTree(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := lookup(root, "cac:LegalMonetaryTotal/cbc:PayableAmount"); got != "1130.50" {
		t.Errorf("PayableAmount = %s, want the invoice's 1130.50", got)
	}
}

// TestRenderAmountsToHundredths: amounts of a 3-decimal currency are
// written with two decimals, and an amount stored with three (computed
// before amounts were rounded to hundredths) is an error naming it, not a
// document whose sums no longer add up.
func TestRenderAmountsToHundredths(t *testing.T) {
	t.Parallel()
	d := bhdDoc(t)
	doc, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte(`<cbc:TaxInclusiveAmount currencyID="BHD">12.66</cbc:TaxInclusiveAmount>`)) ||
		!bytes.Contains(doc, []byte(`<cbc:PriceAmount currencyID="BHD">10.005</cbc:PriceAmount>`)) {
		t.Errorf("want amounts with two decimals and the unit price as given:\n%s", doc)
	}
	d.Invoice.Lines[0].Amount = "10.005"
	if _, err := Render(d); err == nil || !strings.Contains(err.Error(), "lines[0].amount is 10.005, not a whole number of hundredths") {
		t.Errorf("Render of a 3-decimal line amount: %v", err)
	}
}
