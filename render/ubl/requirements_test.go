package ubl

import (
	"errors"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
)

// TestRequirements holds, per profile, the fields Requirements names for a
// document that lacks them, and the rule each message cites.
func TestRequirements(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Document)
		want   map[string]string // field → rule id in its message
	}{
		{"en16931 complete", func(d *Document) {}, nil},
		{"en16931 seller without VAT id", func(d *Document) { d.Seller.VATID = "" },
			map[string]string{"branding.vatId": "BR-S-02"}},
		{"en16931 reverse charge needs a prefixed seller VAT id", func(d *Document) {
			d.Seller.VATID = "18547290"
			d.Invoice.Customer.VATID = ""
			d.Invoice.Lines[0].TaxCategory, d.Invoice.Lines[0].TaxRate = "AE", "0"
		}, map[string]string{"branding.vatId": "BR-AE-02", "customer.vatId": "BR-AE-02"}},
		{"en16931 export", func(d *Document) {
			d.Seller.VATID = ""
			d.Invoice.Lines[0].TaxCategory, d.Invoice.Lines[0].TaxRate = "G", "0"
		}, map[string]string{"branding.vatId": "BR-G-02"}},
		{"en16931 no seller name nor countries", func(d *Document) {
			d.Seller.Name, d.Seller.Address.Country, d.Invoice.Customer.Address.Country = "", "", ""
		}, map[string]string{"branding.name": "BR-06", "branding.address.country": "BR-09", "customer.address.country": "BR-11"}},
		{"en16931 intra-community supply without a delivery address", func(d *Document) {
			d.Invoice.Lines[0].TaxCategory, d.Invoice.Lines[0].TaxRate = "K", "0"
			d.Invoice.Delivery = &invoice.Delivery{Date: "2026-11-20"}
		}, map[string]string{"delivery.address": "BR-IC-12"}},
		{"en16931 delivery address without country", func(d *Document) {
			d.Invoice.Delivery = &invoice.Delivery{Address: &invoice.Address{City: "Cluj-Napoca"}}
		}, map[string]string{"delivery.address.country": "BR-57"}},
		{"peppol in JPY with fractions of a yen", func(d *Document) {
			d.Profile = invoice.ProfilePeppol
			d.Invoice.Currency, d.Invoice.OrderReference = "JPY", "PO-1"
			d.Invoice.Customer.Endpoint = &invoice.Endpoint{Scheme: "9947", ID: "RO123"}
			d.Seller.Endpoint = &invoice.Endpoint{Scheme: "9947", ID: "RO18547290"}
			d.Invoice.Lines = []invoice.Line{
				{Description: "Whole", Quantity: "2.5", UnitPrice: "5000", TaxRate: "10"},
				{Description: "Fraction", Quantity: "2.5", UnitPrice: "5000.5", TaxRate: "10"},
			}
			d.Invoice.Allowances = []invoice.AllowanceCharge{
				{Reason: "Whole", Rate: "2", Base: "10000", TaxRate: "10"},
				{Reason: "Fraction", Rate: "2.5", Base: "10001", TaxRate: "10"},
			}
		}, map[string]string{"lines[1].unitPrice": "PEPPOL-EN16931-R120", "allowances[1].rate": "PEPPOL-EN16931-R040"}},
		{"en16931 not subject to VAT without a registration number", func(d *Document) {
			d.Seller.RegistrationNumber = ""
			d.Invoice.Lines[0].TaxCategory, d.Invoice.Lines[0].TaxRate = "O", "0"
		}, map[string]string{"branding.registrationNumber": "BR-CO-26"}},
		{"cius-ro not subject to VAT with VAT ids", func(d *Document) {
			d.Profile = invoice.ProfileCIUSRO
			d.Invoice.Currency = "RON"
			d.Seller.Address.Region, d.Invoice.Customer.Address.Region = "RO-CJ", "RO-CJ"
			d.Invoice.Lines[0].TaxCategory, d.Invoice.Lines[0].TaxRate = "O", "0"
		}, map[string]string{"branding.vatId": "BR-RO-065", "customer.vatId": "BR-RO-120"}},
		{"unknown profile", func(d *Document) { d.Profile = "zugferd" }, map[string]string{"profile": "zugferd"}},
		{"peppol", func(d *Document) { d.Profile = invoice.ProfilePeppol }, map[string]string{
			"customer.endpoint": "PEPPOL-EN16931-R010", "branding.endpoint": "PEPPOL-EN16931-R020",
			"reference": "PEPPOL-EN16931-R003",
		}},
		{"peppol with an email endpoint and an order reference", func(d *Document) {
			d.Profile = invoice.ProfilePeppol
			d.Invoice.OrderReference = "PO-1"
			d.Invoice.Customer.Endpoint = &invoice.Endpoint{Scheme: "EM", ID: "ana@example.com"}
			d.Seller.Endpoint = &invoice.Endpoint{Scheme: "9947", ID: "RO18547290"}
		}, map[string]string{"customer.endpoint.scheme": "PEPPOL-EN16931-CL008"}},
		{"xrechnung", func(d *Document) {
			d.Profile = invoice.ProfileXRechnung
			d.Seller.Phone, d.Seller.Email = "", ""
			d.Invoice.Customer.Email, d.Invoice.Customer.Address.PostalCode = "", ""
			d.Bank = invoice.BankAccount{}
		}, map[string]string{
			"reference": "BR-DE-15", "branding.contactName": "BR-DE-5", "branding.phone": "BR-DE-6",
			"branding.email": "BR-DE-7", "branding.endpoint": "BT-34", "customer.endpoint": "BT-49",
			"customer.address.postalCode": "BR-DE-9", "bank.iban": "BR-DE-1",
		}},
		{"cius-ro", func(d *Document) {
			d.Profile = invoice.ProfileCIUSRO
			d.Invoice.Number = "FACT-A"
			d.Invoice.Customer.VATID = ""
			d.Invoice.Customer.Address.Region = "RO-B"
			d.Invoice.Customer.Address.City = "București"
			d.Invoice.Lines[0].Description = strings.Repeat("x", 201)
		}, map[string]string{
			"number": "BR-RO-010", "customer.vatId": "BR-RO-120", "branding.address.region": "BR-RO-110",
			"customer.address.city": "BR-RO-101", "taxCurrency": "BR-RO-030", "lines[0].description": "BR-RO-L212",
		}},
		{"cius-ro in RON", func(d *Document) {
			d.Profile = invoice.ProfileCIUSRO
			d.Invoice.Currency = "RON"
			d.Seller.Address.Region = "RO-CJ"
			d.Invoice.Customer.Address.Region = "RO-CJ"
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := designDoc(t)
			tt.change(&d)
			got := Requirements(d)
			for field, rule := range tt.want {
				if msg, ok := got[field]; !ok {
					t.Errorf("%s is not named; got %v", field, got)
				} else if !strings.Contains(msg, rule) {
					t.Errorf("%s: %q does not cite %s", field, msg, rule)
				}
			}
			for field, msg := range got {
				if _, ok := tt.want[field]; !ok {
					t.Errorf("unexpected %s: %s", field, msg)
				}
			}
			_, err := Render(d)
			var re *RequirementsError
			switch {
			case len(tt.want) == 0 && err != nil:
				t.Errorf("Render: %v", err)
			case len(tt.want) > 0 && !errors.As(err, &re):
				t.Errorf("Render error = %v, want a *RequirementsError", err)
			case len(tt.want) > 0 && len(re.Fields) != len(tt.want):
				t.Errorf("Render's error names %v, want %d fields", re.Fields, len(tt.want))
			}
		})
	}
}
