package ubl

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/internal/einvoicetest"
	"github.com/invoiced/invoiced/invoice"
)

// The acceptance table: every case of einvoiceCases in every profile is
// built as the API builds an invoice (invoice.Validate, invoice.Compute),
// rendered, and judged by the official validators: the UBL 2.5 schema,
// the EN 16931 Schematron and the profile's own (none for en16931). Each
// document must have no fatal finding, unless the case says which rule of
// which validator refuses it in that profile; Check must find nothing.

// profileParties are the parties and money of one profile's cases.
type profileParties struct {
	seller   invoice.Seller
	bank     invoice.BankAccount
	domestic invoice.Customer // a business in the seller's country
	consumer invoice.Customer // a buyer without a VAT id
	eu       invoice.Customer // a business in another member state
	export   invoice.Customer // a business outside the EU
	// currency is the domestic currency; rates are a standard and a
	// reduced VAT rate.
	currency       string
	standard, low  string
	reference      string // the buyer reference
	taxCurrencyFor func(cur string) (string, string)
}

func romanianSeller() invoice.Seller {
	return invoice.Seller{
		Name: "ACME SRL", VATID: "RO18547290", RegistrationNumber: "J12/1234/2015",
		Email: "billing@acme.test", Phone: "+40264123456", ContactName: "Accounts",
		Address: invoice.Address{Line1: "Str. Memorandumului 28", City: "Cluj-Napoca", PostalCode: "400114", Region: "RO-CJ", Country: "RO"},
	}
}

func germanBusiness() invoice.Customer {
	return invoice.Customer{
		Name: "Muster Maschinenbau GmbH", Email: "rechnung@muster.example", VATID: "DE123456789",
		Address: invoice.Address{Line1: "Industriestr. 5", City: "München", PostalCode: "80331", Region: "DE-BY", Country: "DE"},
	}
}

func swissBusiness() invoice.Customer {
	return invoice.Customer{
		Name: "Alpen Handel AG", Email: "invoices@alpen.example", VATID: "CHE123456789",
		Address: invoice.Address{Line1: "Bahnhofstrasse 1", City: "Zürich", PostalCode: "8001", Region: "ZH", Country: "CH"},
	}
}

// partiesFor returns the parties of profile's cases: a Romanian seller
// for en16931, Peppol and CIUS-RO (with counties and Bucharest sectors as
// CIUS-RO codes them), a German one for XRechnung, with a public buyer's
// Leitweg-ID.
func partiesFor(profile string) profileParties {
	p := profileParties{
		seller: romanianSeller(), bank: acmeBank(), currency: "RON", standard: "19", low: "9",
		reference: "PO-2026-118",
		domestic: invoice.Customer{
			Name: "Beta Distributie SRL", Email: "facturi@beta.example", VATID: "RO16478210",
			Address: invoice.Address{Line1: "Bd. Unirii 10", City: "SECTOR3", PostalCode: "030833", Region: "RO-B", Country: "RO"},
		},
		consumer: invoice.Customer{
			Name: "Ana Popescu", Email: "ana@example.com",
			Address: invoice.Address{Line1: "Str. Lalelelor 5", City: "Cluj-Napoca", PostalCode: "400000", Region: "RO-CJ", Country: "RO"},
		},
		eu: germanBusiness(), export: swissBusiness(),
		taxCurrencyFor: func(cur string) (string, string) { return "", "" },
	}
	switch profile {
	case invoice.ProfilePeppol:
		p.seller.Endpoint = &invoice.Endpoint{Scheme: "9947", ID: "RO18547290"}
		p.domestic.Endpoint = &invoice.Endpoint{Scheme: "9947", ID: "RO16478210"}
		// A buyer without a VAT id is on Peppol by another identifier:
		// here a GLN. Consumers have no Peppol address.
		p.consumer = invoice.Customer{
			Name: "Asociatia Prietenii Naturii", Email: "contact@prietenii.example",
			Endpoint: &invoice.Endpoint{Scheme: "0088", ID: "5940000000011"},
			Address:  invoice.Address{Line1: "Str. Horea 3", City: "Cluj-Napoca", PostalCode: "400174", Country: "RO"},
		}
		p.eu.Endpoint = &invoice.Endpoint{Scheme: "9930", ID: "DE123456789"}
		p.export.Endpoint = &invoice.Endpoint{Scheme: "0183", ID: "CHE123456789"}
	case invoice.ProfileXRechnung:
		p.seller = invoice.Seller{
			Name: "Beispiel Software GmbH", VATID: "DE811907980", RegistrationNumber: "HRB 12345",
			Email: "rechnung@beispiel.example", Phone: "+49 30 1234567", ContactName: "Buchhaltung",
			Address: invoice.Address{Line1: "Friedrichstr. 100", City: "Berlin", PostalCode: "10117", Country: "DE"},
		}
		p.bank = invoice.BankAccount{IBAN: "DE89 3704 0044 0532 0130 00", BIC: "COBADEFFXXX", Holder: "Beispiel Software GmbH"}
		p.currency, p.standard, p.low = "EUR", "19", "7"
		p.reference = "04011000-1234512345-06" // Leitweg-ID
		p.domestic = invoice.Customer{
			Name: "Bezirksamt Mitte von Berlin", Email: "e-rechnung@ba-mitte.example",
			Address: invoice.Address{Line1: "Karl-Marx-Allee 31", City: "Berlin", PostalCode: "10178", Country: "DE"},
		}
		p.consumer = invoice.Customer{
			Name: "Erika Mustermann", Email: "erika@example.com",
			Address: invoice.Address{Line1: "Heidestr. 17", City: "Köln", PostalCode: "51147", Country: "DE"},
		}
		p.eu = invoice.Customer{
			Name: "Wiener Technik GmbH", Email: "office@wiener.example", VATID: "ATU12345678",
			Address: invoice.Address{Line1: "Ringstr. 1", City: "Wien", PostalCode: "1010", Country: "AT"},
		}
	case invoice.ProfileCIUSRO:
		p.consumer.VATID = "0000000000000" // a consumer without a CNP given
		p.taxCurrencyFor = func(cur string) (string, string) {
			switch cur {
			case "RON":
				return "", ""
			case "JPY":
				return "RON", "0.0301"
			case "BHD":
				return "RON", "12.1234"
			}
			return "RON", "4.9746"
		}
	default:
		p.domestic.Address.City, p.domestic.Address.Region = "București", "Sector 3"
	}
	return p
}

// einvoiceCase is one row of the table.
type einvoiceCase struct {
	name string
	// build makes the case's invoice (not computed) and may change the
	// document's parties.
	build func(p profileParties, d *Document) *invoice.Invoice
	// tamper, when set, changes the rendered document: the validators
	// must then find what was broken.
	tamper func([]byte) []byte
	// refused says, per profile, why the case cannot exist there.
	refused map[string]refusal
}

// refusal is why a case cannot exist in a profile: Requirements names
// field, so Render refuses it, and the validator, given the document all
// the same, fails it with the fatal rule. Without a field, the case is a
// tampered document, which the validator must fail.
type refusal struct{ field, validator, rule string }

var (
	payableAmount  = regexp.MustCompile(`(<cbc:PayableAmount currencyID="[A-Z]+">)[0-9]+\.([0-9]{2})`)
	buyerReference = regexp.MustCompile(`\s*<cbc:BuyerReference>[^<]*</cbc:BuyerReference>|\s*<cac:OrderReference>\s*<cbc:ID>[^<]*</cbc:ID>\s*</cac:OrderReference>`)
)

// jpyInvoice is an export in JPY whose second line, 2.5 × 5000.5 yen, is
// not a whole number of yen.
func jpyInvoice(p profileParties, d *Document) *invoice.Invoice {
	inv := domesticInvoice(p, "JP-0007")
	inv.Currency = "JPY"
	inv.TaxCurrency, inv.TaxExchangeRate = p.taxCurrencyFor("JPY")
	inv.Customer = p.export
	g := func(l invoice.Line) invoice.Line {
		l.TaxRate, l.TaxCategory, l.TaxExemptionCode, l.TaxExemptionReason = "0", "G", "VATEX-EU-G", "Export outside the EU"
		return l
	}
	inv.Lines = []invoice.Line{
		g(invoice.Line{Description: "Widget", Quantity: "3", Unit: "pcs", UnitPrice: "1999"}),
		g(invoice.Line{Description: "On-site support", Quantity: "2.5", Unit: "h", UnitPrice: "5000.5", DiscountRate: "4"}),
	}
	inv.Allowances = []invoice.AllowanceCharge{{Reason: "Discount", ReasonCode: "95", Rate: "2", Base: "10000", TaxRate: "0", TaxCategory: "G"}}
	inv.Charges = []invoice.AllowanceCharge{{Reason: "Freight", ReasonCode: "FC", Amount: "1500", TaxRate: "0", TaxCategory: "G"}}
	return inv
}

func domesticInvoice(p profileParties, number string) *invoice.Invoice {
	return &invoice.Invoice{
		ID: "inv_" + strings.ToLower(number), Number: number, Currency: p.currency, Status: invoice.StatusOpen,
		IssueDate: "2026-11-21", DueDate: "2026-12-21", Language: "en",
		Reference: p.reference, OrderReference: "PO-2026-118", ContractReference: "CTR-7",
		Period:   &invoice.Period{Start: "2026-11-01", End: "2026-11-30"},
		Customer: p.domestic,
		Lines: []invoice.Line{
			{Description: "Consulting", Quantity: "10", Unit: "h", UnitPrice: "95.00", TaxRate: p.standard},
			{Description: "Workshop", Quantity: "2", Unit: "days", UnitPrice: "760.00", TaxRate: p.standard, DiscountRate: "15"},
			{Description: "Handbook", Quantity: "12", Unit: "pcs", UnitPrice: "24.90", TaxRate: p.low},
		},
		Allowances: []invoice.AllowanceCharge{
			{Reason: "Loyalty discount", ReasonCode: "95", Rate: "5", Base: "950.00", TaxRate: p.standard},
			{Reason: "Book discount", ReasonCode: "95", Amount: "10.00", TaxRate: p.low},
		},
		Charges: []invoice.AllowanceCharge{{Reason: "Freight", ReasonCode: "FC", Amount: "25.00", TaxRate: p.standard}},
		Notes:   "Thank you!",
	}
}

var einvoiceCases = []einvoiceCase{
	{name: "domestic, two rates, discounts, allowance and charge", build: func(p profileParties, d *Document) *invoice.Invoice {
		return domesticInvoice(p, "INV-1001")
	}},
	{name: "reverse charge AE", build: func(p profileParties, d *Document) *invoice.Invoice {
		inv := domesticInvoice(p, "INV-1002")
		inv.Currency = "EUR"
		inv.TaxCurrency, inv.TaxExchangeRate = p.taxCurrencyFor("EUR")
		inv.Customer, inv.Allowances, inv.Charges = p.eu, nil, nil
		if d.Profile == invoice.ProfileXRechnung {
			// Reverse charge within Germany, as for construction work
			// (§ 13b UStG).
			inv.Customer = invoice.Customer{
				Name: "Bau Berlin GmbH", Email: "rechnung@bau.example", VATID: "DE136695976",
				Address: invoice.Address{Line1: "Baustr. 2", City: "Berlin", PostalCode: "10115", Country: "DE"},
			}
		}
		inv.Lines = []invoice.Line{
			{Description: "Installation services", Quantity: "8", Unit: "h", UnitPrice: "120.00", TaxRate: "0",
				TaxCategory: "AE", TaxExemptionReason: "Reverse charge", TaxExemptionCode: "VATEX-EU-AE"},
			{Description: "Configuration", Quantity: "1", UnitPrice: "300.00", TaxRate: "0", DiscountRate: "10",
				TaxCategory: "AE", TaxExemptionReason: "Reverse charge", TaxExemptionCode: "VATEX-EU-AE"},
		}
		inv.Allowances = []invoice.AllowanceCharge{{Reason: "Discount", ReasonCode: "95", Amount: "50.00", TaxRate: "0", TaxCategory: "AE"}}
		return inv
	}},
	{name: "intra-community supply K", build: func(p profileParties, d *Document) *invoice.Invoice {
		inv := domesticInvoice(p, "INV-1003")
		inv.Currency = "EUR"
		inv.TaxCurrency, inv.TaxExchangeRate = p.taxCurrencyFor("EUR")
		inv.Customer, inv.Allowances, inv.Charges = p.eu, nil, nil
		addr := p.eu.Address
		inv.Delivery = &invoice.Delivery{Date: "2026-11-18", PartyName: p.eu.Name, Address: &addr}
		inv.Lines = []invoice.Line{
			{Description: "Machine parts", Quantity: "40", Unit: "pcs", UnitPrice: "37.50", TaxRate: "0",
				TaxCategory: "K", TaxExemptionReason: "Intra-community supply", TaxExemptionCode: "VATEX-EU-IC"},
		}
		inv.Charges = []invoice.AllowanceCharge{{Reason: "Freight", ReasonCode: "FC", Amount: "80.00", TaxRate: "0", TaxCategory: "K"}}
		return inv
	}},
	{name: "export G", build: func(p profileParties, d *Document) *invoice.Invoice {
		inv := domesticInvoice(p, "INV-1004")
		inv.Currency = "CHF"
		inv.TaxCurrency, inv.TaxExchangeRate = p.taxCurrencyFor("CHF")
		inv.Customer, inv.Allowances, inv.Charges = p.export, nil, nil
		inv.Lines = []invoice.Line{
			{Description: "Industrial sensors", Quantity: "25", Unit: "pcs", UnitPrice: "84.20", TaxRate: "0",
				TaxCategory: "G", TaxExemptionReason: "Export outside the EU", TaxExemptionCode: "VATEX-EU-G"},
		}
		return inv
	}},
	{name: "exempt E with reason", build: func(p profileParties, d *Document) *invoice.Invoice {
		inv := domesticInvoice(p, "INV-1005")
		inv.Allowances, inv.Charges = nil, nil
		inv.Lines = []invoice.Line{
			{Description: "Vocational training course", Quantity: "3", Unit: "days", UnitPrice: "400.00", TaxRate: "0",
				TaxCategory: "E", TaxExemptionReason: "Exempt under Article 132(1)(i) of Directive 2006/112/EC", TaxExemptionCode: "VATEX-EU-132-1I"},
			{Description: "Course materials", Quantity: "3", Unit: "pcs", UnitPrice: "35.00", TaxRate: p.standard},
		}
		return inv
	}},
	{name: "not subject to VAT O", build: func(p profileParties, d *Document) *invoice.Invoice {
		// A seller not registered for VAT, known by its tax number.
		d.Seller.VATID = "18547290"
		if d.Profile == invoice.ProfileXRechnung {
			d.Seller.VATID = "3012345678"
		}
		inv := domesticInvoice(p, "INV-1012")
		if d.Profile == invoice.ProfileCIUSRO {
			inv.Customer.VATID = "16478210"
		}
		o := func(l invoice.Line) invoice.Line {
			l.TaxRate, l.TaxCategory, l.TaxExemptionReason, l.TaxExemptionCode = "0", "O", "Not subject to VAT", "VATEX-EU-O"
			return l
		}
		for i := range inv.Lines {
			inv.Lines[i] = o(inv.Lines[i])
		}
		inv.Allowances = []invoice.AllowanceCharge{{Reason: "Loyalty discount", ReasonCode: "95", Amount: "20.00", TaxRate: "0", TaxCategory: "O"}}
		inv.Charges = nil
		return inv
	}},
	{name: "B2C, buyer without VAT id", build: func(p profileParties, d *Document) *invoice.Invoice {
		inv := domesticInvoice(p, "INV-1006")
		inv.Customer, inv.Allowances, inv.Charges = p.consumer, nil, nil
		inv.OrderReference, inv.ContractReference = "", ""
		if d.Profile != invoice.ProfileXRechnung {
			inv.Reference = "Ana 1006"
		} else {
			inv.Reference = "Kunde 4711"
		}
		return inv
	}},
	{name: "credit note correcting an invoice", build: func(p profileParties, d *Document) *invoice.Invoice {
		orig := domesticInvoice(p, "INV-1001")
		if err := invoice.Compute(orig); err != nil {
			panic(err)
		}
		cn := invoice.CreditNoteFor(orig, "cn_1001", "CN-1001", "2026-11-28", nil)
		cn.Status, cn.Notes = invoice.StatusOpen, "Full credit of INV-1001"
		return cn
	}},
	{name: "JPY", build: func(p profileParties, d *Document) *invoice.Invoice {
		inv := jpyInvoice(p, d)
		inv.Lines[1].UnitPrice = "5000"
		return inv
	}},
	{name: "JPY, line amount in fractions of a yen", build: jpyInvoice, refused: map[string]refusal{
		invoice.ProfilePeppol: {"lines[1].unitPrice", invoice.ProfilePeppol, "PEPPOL-EN16931-R120"},
	}},
	{name: "BHD", build: func(p profileParties, d *Document) *invoice.Invoice {
		inv := domesticInvoice(p, "BH-2026-19")
		inv.Currency = "BHD"
		inv.TaxCurrency, inv.TaxExchangeRate = p.taxCurrencyFor("BHD")
		inv.Lines = []invoice.Line{
			{Description: "Consulting", Quantity: "1", Unit: "day", UnitPrice: "10.005", TaxRate: p.standard},
			{Description: "Cable", Quantity: "12", Unit: "m", UnitPrice: "0.125", TaxRate: p.standard, DiscountRate: "7.5"},
			{Description: "Manual", Quantity: "3", Unit: "pcs", UnitPrice: "2.333", TaxRate: p.low},
		}
		inv.Allowances = []invoice.AllowanceCharge{{Reason: "Discount", ReasonCode: "95", Rate: "3", TaxRate: p.standard}}
		inv.Charges = []invoice.AllowanceCharge{{Reason: "Freight", ReasonCode: "FC", Amount: "1.255", TaxRate: p.low}}
		return inv
	}},
	{name: "tampered: amount due off", build: func(p profileParties, d *Document) *invoice.Invoice {
		return domesticInvoice(p, "INV-1010")
	}, tamper: func(b []byte) []byte {
		return payableAmount.ReplaceAll(b, []byte("${1}1.${2}"))
	}, refused: map[string]refusal{
		invoice.ProfileEN16931:   {"", "EN16931", "BR-CO-16"},
		invoice.ProfilePeppol:    {"", "EN16931", "BR-CO-16"},
		invoice.ProfileXRechnung: {"", "EN16931", "BR-CO-16"},
		invoice.ProfileCIUSRO:    {"", "EN16931", "BR-CO-16"},
	}},
	{name: "tampered: no buyer or order reference, no sector", build: func(p profileParties, d *Document) *invoice.Invoice {
		return domesticInvoice(p, "INV-1011")
	}, tamper: func(b []byte) []byte {
		b = buyerReference.ReplaceAll(b, nil)
		return bytes.ReplaceAll(b, []byte("<cbc:CityName>SECTOR3</cbc:CityName>"), []byte("<cbc:CityName>Bucuresti</cbc:CityName>"))
	}, refused: map[string]refusal{
		invoice.ProfilePeppol:    {"", invoice.ProfilePeppol, "PEPPOL-EN16931-R003"},
		invoice.ProfileXRechnung: {"", invoice.ProfileXRechnung, "BR-DE-15"},
		invoice.ProfileCIUSRO:    {"", invoice.ProfileCIUSRO, "BR-RO-101"},
	}},
	{name: "1,000 lines", build: func(p profileParties, d *Document) *invoice.Invoice {
		inv := domesticInvoice(p, "INV-1009")
		inv.Lines = nil
		for i := range 1000 {
			rate := p.standard
			if i%3 == 0 {
				rate = p.low
			}
			l := invoice.Line{Description: fmt.Sprintf("Item %d", i+1), Quantity: fmt.Sprint(1 + i%7), Unit: "pcs",
				UnitPrice: fmt.Sprintf("%d.%02d", 3+i%50, (i*37)%100), TaxRate: rate}
			if i%5 == 0 {
				l.DiscountRate = "12.5"
			}
			inv.Lines = append(inv.Lines, l)
		}
		return inv
	}},
}

// tableDoc builds case c in profile as the API would: Validate, then
// Compute.
func tableDoc(t testing.TB, profile string, c einvoiceCase) Document {
	t.Helper()
	p := partiesFor(profile)
	d := Document{Seller: p.seller, Bank: p.bank, Profile: profile}
	inv := c.build(p, &d)
	inv.Profile = profile
	if fe := invoice.Validate(inv); len(fe) > 0 {
		t.Fatalf("%s/%s: Validate: %v", profile, c.name, fe)
	}
	if err := invoice.Compute(inv); err != nil {
		t.Fatalf("%s/%s: Compute: %v", profile, c.name, err)
	}
	d.Invoice = inv
	return d
}

// validated is one rendered case and what the validators found.
type validated struct {
	profile, caseName, file string
	refused                 refusal
	einvoicetest.Result
}

// TestEInvoiceValidators is the acceptance table. The EN 16931 rules and
// the schema run once over every document, each profile's rules once over
// its own: four JVM starts and two xmllint runs in all.
func TestEInvoiceValidators(t *testing.T) {
	einvoicetest.RequireTools(t)
	docs := map[string]map[string][]byte{} // profile → file → document
	var cases []*validated
	for _, profile := range invoice.Profiles {
		docs[profile] = map[string][]byte{}
		for i, c := range einvoiceCases {
			d := tableDoc(t, profile, c)
			refused := c.refused[profile]
			b, err := Render(d)
			switch {
			case refused.field != "" && c.tamper == nil:
				var re *RequirementsError
				if !errors.As(err, &re) || re.Fields[refused.field] == "" {
					t.Errorf("%s/%s: Render = %v, want a RequirementsError naming %s", profile, c.name, err, refused.field)
				}
				// What the validator says of it all the same.
				if b, err = render(d); err != nil {
					t.Fatalf("%s/%s: render: %v", profile, c.name, err)
				}
			case err != nil:
				t.Fatalf("%s/%s: Render: %v", profile, c.name, err)
			case c.tamper != nil:
				b = c.tamper(b)
				if refused.validator == einvoicetest.EN16931 && !hasRule(Check(b), refused.rule) {
					t.Errorf("%s/%s: Check does not find %s", profile, c.name, refused.rule)
				}
			default:
				if v := Check(b); len(v) > 0 {
					t.Errorf("%s/%s: Check: %v", profile, c.name, v)
				}
			}
			file := fmt.Sprintf("%02d.xml", i)
			docs[profile][file] = b
			cases = append(cases, &validated{profile: profile, caseName: c.name, file: file, refused: refused})
		}
	}

	results := einvoicetest.ValidateProfiles(t, docs)
	for _, v := range cases {
		v.Result = results[v.profile][v.file]
	}

	var table strings.Builder
	row := "%-52s %-10s %-6s %-15s %-15s %s\n"
	fmt.Fprintf(&table, row, "case", "profile", "XSD", "EN16931", "profile rules", "result")
	for _, v := range cases {
		var fatal []einvoicetest.Finding
		counts := map[string][2]int{}
		for validator, fs := range v.Findings {
			n := counts[validator]
			for _, f := range fs {
				if f.Fatal() {
					n[0]++
					fatal = append(fatal, f)
				} else {
					n[1]++
					t.Logf("%s/%s: %s warning: %s", v.profile, v.caseName, validator, f)
				}
			}
			counts[validator] = n
		}
		result := "pass"
		switch {
		case v.refused.rule != "":
			result = "refused: " + v.refused.rule
			found := false
			for _, f := range v.Findings[v.refused.validator] {
				found = found || (f.Fatal() && f.ID == v.refused.rule)
			}
			if !found {
				result = "FAIL"
				t.Errorf("%s/%s: %s does not refuse it with %s: %v", v.profile, v.caseName, v.refused.validator, v.refused.rule, fatal)
			}
		case len(fatal) > 0 || len(v.Schema) > 0:
			result = "FAIL"
			for _, f := range fatal {
				t.Errorf("%s/%s: %s", v.profile, v.caseName, f)
			}
			for _, e := range v.Schema {
				t.Errorf("%s/%s: XSD: %s", v.profile, v.caseName, e)
			}
		}
		profileRules := "-"
		if _, ok := v.Findings[v.profile]; ok {
			profileRules = fmt.Sprintf("%d fatal %d warn", counts[v.profile][0], counts[v.profile][1])
		}
		fmt.Fprintf(&table, row, v.caseName, v.profile, fmt.Sprintf("%d err", len(v.Schema)),
			fmt.Sprintf("%d fatal %d warn", counts[einvoicetest.EN16931][0], counts[einvoicetest.EN16931][1]), profileRules, result)
	}
	t.Log("\n" + table.String())
	// EINVOICE_TABLE=file keeps the table, for a report.
	if out := os.Getenv("EINVOICE_TABLE"); out != "" {
		if err := os.WriteFile(out, []byte(table.String()), 0o644); err != nil {
			t.Errorf("writing the table: %v", err)
		}
	}
}

func hasRule(vs []Violation, rule string) bool {
	for _, v := range vs {
		if v.Rule == rule {
			return true
		}
	}
	return false
}

// tableCase returns the document of the table's case named name in
// profile.
func tableCase(profile, name string) func(testing.TB) Document {
	return func(t testing.TB) Document {
		for _, c := range einvoiceCases {
			if c.name == name {
				return tableDoc(t, profile, c)
			}
		}
		t.Fatalf("no case %q", name)
		return Document{}
	}
}
