package e2e

import (
	"bytes"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/einvoicetest"
	"github.com/invoiced/invoiced/invoice"
)

// profileTenant is, for one e-invoice profile, a tenant's settings and
// the invoices a billing system sends it, as JSON.
type profileTenant struct {
	settings map[string]any
	invoices []map[string]any
}

// romanianSeller is the settings of a Romanian seller ready for every
// profile: its VAT id, county, contact and Peppol address.
func romanianSeller(profile string) map[string]any {
	return map[string]any{
		"branding": map[string]any{"name": "ACME SRL", "vatId": "RO18547290", "registrationNumber": "J12/1234/2015",
			"email": "billing@acme.test", "phone": "+40264123456", "contactName": "Accounts",
			"endpoint": map[string]any{"scheme": "9947", "id": "RO18547290"},
			"address": map[string]any{"line1": "Str. Memorandumului 28", "city": "Cluj-Napoca", "postalCode": "400114",
				"region": "RO-CJ", "country": "RO"}},
		"bank":     map[string]any{"iban": "RO49AAAA1B31007593840000", "bic": "AAAARO22", "bankName": "Banca Demo", "holder": "ACME SRL"},
		"email":    map[string]any{"provider": "outbox", "fromEmail": "billing@acme.test", "fromName": "ACME Billing"},
		"defaults": map[string]any{"language": "en", "autoEmailOnFinalize": false, "einvoiceProfile": profile},
	}
}

// domesticInvoice has two VAT rates, a line discount, a document level
// allowance and a charge, a period and the buyer's references.
func domesticInvoice(id, currency, standard, low, reference string, customer map[string]any) map[string]any {
	return map[string]any{
		"id": id, "number": "INV-" + id[len("inv_"):], "currency": currency,
		"issueDate": "2026-11-21", "dueDate": "2026-12-21", "language": "en",
		"reference": reference, "orderReference": "PO-2026-118", "contractReference": "CTR-7",
		"period":   map[string]any{"start": "2026-11-01", "end": "2026-11-30"},
		"customer": customer,
		"lines": []any{
			map[string]any{"description": "Consulting", "quantity": "10", "unit": "h", "unitPrice": "95.00", "taxRate": standard},
			map[string]any{"description": "Workshop", "quantity": "2", "unit": "days", "unitPrice": "760.00", "taxRate": standard, "discountRate": "15"},
			map[string]any{"description": "Handbook", "quantity": "12", "unit": "pcs", "unitPrice": "24.90", "taxRate": low},
		},
		"allowances": []any{
			map[string]any{"reason": "Loyalty discount", "reasonCode": "95", "rate": "5", "base": "950.00", "taxRate": standard},
			map[string]any{"reason": "Book discount", "reasonCode": "95", "amount": "10.00", "taxRate": low},
		},
		"charges": []any{map[string]any{"reason": "Freight", "reasonCode": "FC", "amount": "25.00", "taxRate": standard}},
		"notes":   "Thank you!",
	}
}

// reverseChargeInvoice is a supply to a business liable for the VAT
// (category AE), with a line discount and a document level allowance.
func reverseChargeInvoice(id, reference string, customer map[string]any) map[string]any {
	ae := func(l map[string]any) map[string]any {
		l["taxRate"], l["taxCategory"] = "0", "AE"
		l["taxExemptionReason"], l["taxExemptionCode"] = "Reverse charge", "VATEX-EU-AE"
		return l
	}
	return map[string]any{
		"id": id, "number": "INV-" + id[len("inv_"):], "currency": "EUR",
		"issueDate": "2026-11-21", "dueDate": "2026-12-21", "language": "en",
		"reference": reference, "orderReference": "PO-2026-119",
		"customer": customer,
		"lines": []any{
			ae(map[string]any{"description": "Installation services", "quantity": "8", "unit": "h", "unitPrice": "120.00"}),
			ae(map[string]any{"description": "Configuration", "quantity": "1", "unitPrice": "300.00", "discountRate": "10"}),
		},
		"allowances": []any{map[string]any{"reason": "Discount", "reasonCode": "95", "amount": "50.00", "taxRate": "0", "taxCategory": "AE"}},
	}
}

func germanBusiness() map[string]any {
	return map[string]any{"name": "Muster Maschinenbau GmbH", "email": "rechnung@muster.example", "vatId": "DE123456789",
		"address": map[string]any{"line1": "Industriestr. 5", "city": "München", "postalCode": "80331", "region": "DE-BY", "country": "DE"}}
}

func betaDistributie(city, region string) map[string]any {
	return map[string]any{"name": "Beta Distributie SRL", "email": "facturi@beta.example", "vatId": "RO16478210",
		"address": map[string]any{"line1": "Bd. Unirii 10", "city": city, "postalCode": "030833", "region": region, "country": "RO"}}
}

// profileTenants are, per profile, a tenant whose settings suit it and
// the invoices it issues: a domestic one and a reverse charge in each,
// an intra-community supply, an export and a consumer in some, the
// buyers' Peppol addresses in peppol, Leitweg-IDs in xrechnung, and in
// cius-ro invoices in EUR and CHF with their VAT in RON and addresses in
// Bucharest, named by sector.
func profileTenants() map[string]profileTenant {
	withEndpoint := func(c map[string]any, scheme, id string) map[string]any {
		c["endpoint"] = map[string]any{"scheme": scheme, "id": id}
		return c
	}
	german := romanianSeller(invoice.ProfileXRechnung)
	german["branding"] = map[string]any{"name": "Beispiel Software GmbH", "vatId": "DE811907980", "registrationNumber": "HRB 12345",
		"email": "rechnung@beispiel.example", "phone": "+49 30 1234567", "contactName": "Buchhaltung",
		"endpoint": map[string]any{"scheme": "EM", "id": "rechnung@beispiel.example"},
		"address":  map[string]any{"line1": "Friedrichstr. 100", "city": "Berlin", "postalCode": "10117", "country": "DE"}}
	german["bank"] = map[string]any{"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "holder": "Beispiel Software GmbH"}
	german["email"] = map[string]any{"provider": "outbox", "fromEmail": "rechnung@beispiel.example", "fromName": "Beispiel Software"}

	const leitwegID = "04011000-1234512345-06"
	cius := reverseChargeInvoice("inv_ro2", "PO-2026-119", germanBusiness())
	cius["taxCurrency"], cius["taxExchangeRate"] = "RON", "4.9746"
	ciusEUR := domesticInvoice("inv_ro3", "EUR", "19", "9", "PO-2026-120", betaDistributie("SECTOR1", "RO-B"))
	ciusEUR["taxCurrency"], ciusEUR["taxExchangeRate"] = "RON", "4.9746"

	// An intra-community supply (K) delivered in Germany, an export (G).
	supply := func(id, category, code, currency string, customer map[string]any) map[string]any {
		inv := reverseChargeInvoice(id, "PO-2026-121", customer)
		inv["currency"] = currency
		inv["lines"] = []any{map[string]any{"description": "Machine parts", "quantity": "40", "unit": "pcs", "unitPrice": "37.50",
			"taxRate": "0", "taxCategory": category, "taxExemptionReason": "Exempt supply", "taxExemptionCode": code}}
		delete(inv, "allowances")
		inv["charges"] = []any{map[string]any{"reason": "Freight", "reasonCode": "FC", "amount": "80.00", "taxRate": "0", "taxCategory": category}}
		if category == "K" {
			inv["delivery"] = map[string]any{"date": "2026-11-18", "partyName": customer["name"], "address": customer["address"]}
		}
		return inv
	}
	swiss := map[string]any{"name": "Alpen Handel AG", "email": "invoices@alpen.example", "vatId": "CHE123456789",
		"address": map[string]any{"line1": "Bahnhofstrasse 1", "city": "Zürich", "postalCode": "8001", "country": "CH"}}
	roK := supply("inv_ro4", "K", "VATEX-EU-IC", "EUR", germanBusiness())
	roK["taxCurrency"], roK["taxExchangeRate"] = "RON", "4.9746"
	roG := supply("inv_ro5", "G", "VATEX-EU-G", "CHF", swiss)
	roG["taxCurrency"], roG["taxExchangeRate"] = "RON", "5.3120"
	consumer := domesticInvoice("inv_ro6", "RON", "19", "9", "Ana 1006", map[string]any{"name": "Ana Popescu",
		"email": "ana@example.com", "vatId": "0000000000000",
		"address": map[string]any{"line1": "Str. Lalelelor 5", "city": "Cluj-Napoca", "postalCode": "400000", "region": "RO-CJ", "country": "RO"}})
	consumer["delivery"] = map[string]any{"date": "2026-11-20", "partyName": "Ana Popescu", "address": map[string]any{
		"line1": "Calea Victoriei 12", "city": "SECTOR1", "postalCode": "010061", "region": "RO-B", "country": "RO"}}

	return map[string]profileTenant{
		invoice.ProfileEN16931: {settings: romanianSeller(invoice.ProfileEN16931), invoices: []map[string]any{
			domesticInvoice("inv_en1", "RON", "19", "9", "PO-2026-118", betaDistributie("București", "Sector 3")),
			reverseChargeInvoice("inv_en2", "PO-2026-119", germanBusiness()),
			supply("inv_en3", "K", "VATEX-EU-IC", "EUR", germanBusiness()),
			supply("inv_en4", "G", "VATEX-EU-G", "CHF", swiss),
			domesticInvoice("inv_en5", "RON", "19", "9", "Ana 1006", map[string]any{"name": "Ana Popescu", "email": "ana@example.com",
				"address": map[string]any{"line1": "Str. Lalelelor 5", "city": "Cluj-Napoca", "postalCode": "400000", "country": "RO"}}),
		}},
		invoice.ProfilePeppol: {settings: romanianSeller(invoice.ProfilePeppol), invoices: []map[string]any{
			domesticInvoice("inv_pe1", "RON", "19", "9", "PO-2026-118",
				withEndpoint(betaDistributie("București", "Sector 3"), "9947", "RO16478210")),
			reverseChargeInvoice("inv_pe2", "PO-2026-119", withEndpoint(germanBusiness(), "9930", "DE123456789")),
			supply("inv_pe3", "G", "VATEX-EU-G", "CHF", withEndpoint(swiss, "0183", "CHE123456789")),
		}},
		invoice.ProfileXRechnung: {settings: german, invoices: []map[string]any{
			domesticInvoice("inv_de1", "EUR", "19", "7", leitwegID, map[string]any{
				"name": "Bezirksamt Mitte von Berlin", "email": "e-rechnung@ba-mitte.example",
				"address": map[string]any{"line1": "Karl-Marx-Allee 31", "city": "Berlin", "postalCode": "10178", "country": "DE"}}),
			// Reverse charge within Germany, as for construction work
			// (§ 13b UStG).
			reverseChargeInvoice("inv_de2", leitwegID, map[string]any{
				"name": "Bau Berlin GmbH", "email": "rechnung@bau.example", "vatId": "DE136695976",
				"address": map[string]any{"line1": "Baustr. 2", "city": "Berlin", "postalCode": "10115", "country": "DE"}}),
			domesticInvoice("inv_de3", "EUR", "19", "7", "Kunde 4711", map[string]any{"name": "Erika Mustermann", "email": "erika@example.com",
				"address": map[string]any{"line1": "Heidestr. 17", "city": "Köln", "postalCode": "51147", "country": "DE"}}),
		}},
		invoice.ProfileCIUSRO: {settings: romanianSeller(invoice.ProfileCIUSRO), invoices: []map[string]any{
			domesticInvoice("inv_ro1", "RON", "19", "9", "PO-2026-118", betaDistributie("SECTOR3", "RO-B")),
			cius, ciusEUR, roK, roG, consumer,
		}},
	}
}

// TestEInvoiceValidatorsJudgeTheAPI has the official validators judge
// the XML the API serves: in each profile, a tenant whose settings suit
// it creates its invoices through POST /api/v1/invoices, finalizes them
// and credits each with a credit note; every document GET …/xml
// serves, and the XML attached to an email sent with attachXml, must
// have no schema error and no fatal finding from the EN 16931 rules nor
// the profile's own.
func TestEInvoiceValidatorsJudgeTheAPI(t *testing.T) {
	t.Parallel()
	einvoicetest.RequireTools(t)
	h := setup(t)
	docs := map[string]map[string][]byte{} // profile → file → XML
	var peppolToken string
	for profile, pt := range profileTenants() {
		token := h.tenant("Tenant "+profile, pt.settings)
		if profile == invoice.ProfilePeppol {
			peppolToken = token
		}
		docs[profile] = map[string][]byte{}
		var ids []string
		for _, inv := range pt.invoices {
			r := h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv))
			if got := r.data()["profile"]; got != profile {
				t.Fatalf("%s: profile %v, want the tenant's default %s", inv["id"], got, profile)
			}
			id := inv["id"].(string)
			h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/"+id+"/finalize", token, nil))
			ids = append(ids, id)
		}
		// A full credit of every invoice but the reverse charge, of which
		// one line is credited in part.
		invoices := len(ids)
		for i, id := range ids[:invoices] {
			n := id[len("inv_"):]
			body := map[string]any{"id": "cn_" + n, "number": "CN-" + n, "reason": "Returned goods"}
			if i == 1 {
				body["reason"] = "Hours not worked"
				body["lines"] = []any{map[string]any{"description": "Installation services", "quantity": "2", "unit": "h", "unitPrice": "120.00",
					"taxRate": "0", "taxCategory": "AE", "taxExemptionReason": "Reverse charge", "taxExemptionCode": "VATEX-EU-AE"}}
			}
			h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices/"+id+"/credit-notes", token, body))
			ids = append(ids, "cn_"+n)
		}
		for _, id := range ids {
			docs[profile][id+".xml"] = h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/"+id+"/xml", token, nil)).Raw
		}
	}

	// The XML on an email, as the customer's system receives it.
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_pe1/send", peppolToken, map[string]any{"attachXml": true}))
	eventually(t, 20*time.Second, "the email with the XML", func() bool { return len(h.emails()) == 1 })
	e := parseEmail(t, mustRead(t, h.emails()[0]))
	attached, ok := e.Attachments["INV-pe1.xml"]
	if !ok {
		t.Fatalf("no INV-pe1.xml on the email: %v", slices.Sorted(maps.Keys(e.Attachments)))
	}
	if !bytes.Equal(attached, docs[invoice.ProfilePeppol]["inv_pe1.xml"]) {
		t.Errorf("the attached XML is not the one GET …/xml serves:\n%s", attached)
	}
	docs[invoice.ProfilePeppol]["email-INV-pe1.xml"] = attached

	// The documents are the ones meant: what each profile is chosen for
	// is in them.
	for _, want := range []struct{ profile, name, text string }{
		{invoice.ProfileEN16931, "inv_en2.xml", "<cbc:TaxExemptionReasonCode>VATEX-EU-AE</cbc:TaxExemptionReasonCode>"},
		{invoice.ProfileEN16931, "cn_en1.xml", "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"},
		{invoice.ProfilePeppol, "inv_pe1.xml", `<cbc:EndpointID schemeID="9947">RO16478210</cbc:EndpointID>`},
		{invoice.ProfilePeppol, "inv_pe2.xml", `<cbc:EndpointID schemeID="9930">DE123456789</cbc:EndpointID>`},
		{invoice.ProfileXRechnung, "inv_de1.xml", "<cbc:BuyerReference>04011000-1234512345-06</cbc:BuyerReference>"},
		{invoice.ProfileXRechnung, "cn_de1.xml", "<cbc:BuyerReference>04011000-1234512345-06</cbc:BuyerReference>"},
		{invoice.ProfileCIUSRO, "inv_ro3.xml", "<cbc:TaxCurrencyCode>RON</cbc:TaxCurrencyCode>"},
		{invoice.ProfileCIUSRO, "inv_ro3.xml", "<cbc:CityName>SECTOR1</cbc:CityName>"},
		{invoice.ProfileCIUSRO, "inv_ro1.xml", "<cbc:CountrySubentity>RO-CJ</cbc:CountrySubentity>"},
	} {
		if !bytes.Contains(docs[want.profile][want.name], []byte(want.text)) {
			t.Errorf("%s/%s lacks %s", want.profile, want.name, want.text)
		}
	}

	results := einvoicetest.ValidateProfiles(t, docs)
	for _, profile := range slices.Sorted(maps.Keys(docs)) {
		for _, name := range slices.Sorted(maps.Keys(docs[profile])) {
			r, ok := results[profile][name]
			if !ok {
				t.Fatalf("%s/%s: not validated", profile, name)
			}
			for _, e := range r.Schema {
				t.Errorf("%s/%s: XSD: %s", profile, name, e)
			}
			for _, f := range r.Fatal() {
				t.Errorf("%s/%s: %s", profile, name, f)
			}
			for _, w := range r.Warnings() {
				t.Logf("%s/%s: %s", profile, name, w)
			}
			if _, ok := r.Findings[profile]; !ok && profile != invoice.ProfileEN16931 {
				t.Errorf("%s/%s: the %s rules did not run", profile, name, profile)
			}
			t.Logf("%s/%s: %d schema errors, %d fatal, %d warnings", profile, name, len(r.Schema), len(r.Fatal()), len(r.Warnings()))
		}
	}
}
