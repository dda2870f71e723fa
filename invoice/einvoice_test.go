package invoice

import (
	"reflect"
	"strings"
	"testing"
)

// einvoiceBase is a valid invoice the cases below change one thing of.
func einvoiceBase() *Invoice {
	return &Invoice{
		Number: "INV-1", Currency: "EUR", IssueDate: "2026-11-21",
		Customer: Customer{Name: "Kunde GmbH", VATID: "DE123456789", Address: Address{Country: "DE"}},
		Lines: []Line{
			{Description: "Consulting", Quantity: "10", UnitPrice: "100", TaxRate: "19", DiscountRate: "10"},
			{Description: "Book", Quantity: "2", UnitPrice: "25", TaxRate: "7"},
		},
	}
}

// TestComputeAllowancesAndCharges: document level allowances and charges
// change their category's taxable amount and VAT, and the total without
// VAT; the breakdown is per category and rate.
func TestComputeAllowancesAndCharges(t *testing.T) {
	inv := einvoiceBase()
	inv.Allowances = []AllowanceCharge{{Reason: "Loyalty", Rate: "5", TaxRate: "19"}}
	inv.Charges = []AllowanceCharge{{Reason: "Shipping", ReasonCode: "FC", Amount: "12.50", TaxRate: "7"}}
	inv.Lines = append(inv.Lines, Line{Description: "Export part", Quantity: "1", UnitPrice: "40", TaxRate: "0",
		TaxCategory: CategoryExport, TaxExemptionCode: "VATEX-EU-G", TaxExemptionReason: "Export outside the EU"})
	if fe := Validate(inv); fe != nil {
		t.Fatal(fe)
	}
	if err := Compute(inv); err != nil {
		t.Fatal(err)
	}
	// Lines 900 + 50 + 40 = 990; 5 % of 990 = 49.50 off the 19 % base:
	// 850.50 × 19 % = 161.595 → 161.60; the 7 % base 50 + 12.50 = 62.50
	// → 4.375 → 4.38; VAT 165.98, total 953.00 + 165.98.
	got := []string{inv.Subtotal, inv.AllowanceTotal, inv.ChargeTotal, inv.NetTotal, inv.TaxTotal, inv.Total, inv.Allowances[0].Amount, inv.Allowances[0].Base}
	want := []string{"990.00", "49.50", "12.50", "953.00", "165.98", "1118.98", "49.50", "990.00"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("subtotal, allowances, charges, net, tax, total, allowance, base = %v, want %v", got, want)
	}
	wantTaxes := []TaxSummary{
		{Category: "S", Rate: "19", Base: "850.50", Amount: "161.60"},
		{Category: "S", Rate: "7", Base: "62.50", Amount: "4.38"},
		{Category: "G", Rate: "0", Base: "40.00", Amount: "0.00", ExemptionReason: "Export outside the EU", ExemptionCode: "VATEX-EU-G"},
	}
	if !reflect.DeepEqual(inv.Taxes, wantTaxes) {
		t.Errorf("taxes = %+v, want %+v", inv.Taxes, wantTaxes)
	}
}

// TestTaxCurrency: the VAT in the accounting currency is the VAT total
// times the exchange rate, rounded to that currency's hundredths.
func TestTaxCurrency(t *testing.T) {
	inv := einvoiceBase()
	inv.TaxCurrency, inv.TaxExchangeRate = "RON", "4.9746"
	if fe := Validate(inv); fe != nil {
		t.Fatal(fe)
	}
	if err := Compute(inv); err != nil {
		t.Fatal(err)
	}
	// VAT 171.00 + 3.50 = 174.50 EUR × 4.9746 = 868.0677 RON.
	if inv.TaxTotal != "174.50" || inv.TaxTotalInTaxCurrency != "868.07" {
		t.Errorf("taxTotal %s, in RON %s, want 174.50 and 868.07", inv.TaxTotal, inv.TaxTotalInTaxCurrency)
	}
}

// TestValidateEInvoice: each EN 16931 requirement the model can check is
// a 400 naming the field.
func TestValidateEInvoice(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Invoice)
		field  string
		says   string
	}{
		{"unknown category", func(inv *Invoice) { inv.Lines[0].TaxCategory = "X" }, "lines[0].taxCategory", "one of S, Z"},
		{"S at 0 %", func(inv *Invoice) { inv.Lines[1].TaxCategory, inv.Lines[1].TaxRate = "S", "0" }, "lines[1].taxRate", "above 0"},
		{"AE with a rate", func(inv *Invoice) {
			inv.Lines[0].TaxCategory, inv.Lines[0].TaxExemptionCode = "AE", "VATEX-EU-AE"
		}, "lines[0].taxRate", "must be 0 for category AE"},
		{"exempt without a reason", func(inv *Invoice) { inv.Lines[1].TaxCategory, inv.Lines[1].TaxRate = "E", "0" }, "lines[1].taxExemptionReason", "required for category E"},
		{"a reason on a standard line", func(inv *Invoice) { inv.Lines[0].TaxExemptionReason = "why" }, "lines[0].taxExemptionReason", "only for categories"},
		{"bad VATEX code", func(inv *Invoice) {
			inv.Lines[1].TaxCategory, inv.Lines[1].TaxRate, inv.Lines[1].TaxExemptionCode = "E", "0", "EU-132"
		}, "lines[1].taxExemptionCode", "VATEX"},
		{"two reasons in one category", func(inv *Invoice) {
			for i := range inv.Lines {
				inv.Lines[i].TaxCategory, inv.Lines[i].TaxRate = "E", "0"
			}
			inv.Lines[0].TaxExemptionReason, inv.Lines[1].TaxExemptionReason = "Article 132", "Article 135"
		}, "lines[1].taxExemptionReason", "share one reason"},
		{"reverse charge without the buyer's VAT id", func(inv *Invoice) {
			inv.Customer.VATID = ""
			inv.Lines[0].TaxCategory, inv.Lines[0].TaxRate, inv.Lines[0].TaxExemptionCode = "AE", "0", "VATEX-EU-AE"
		}, "customer.vatId", "reverse charge"},
		{"intra-community without a delivery date", func(inv *Invoice) {
			inv.Lines[0].TaxCategory, inv.Lines[0].TaxRate, inv.Lines[0].TaxExemptionCode = "K", "0", "VATEX-EU-IC"
		}, "delivery.date", "intra-community"},
		{"O with another category", func(inv *Invoice) {
			inv.Lines[0].TaxCategory, inv.Lines[0].TaxRate, inv.Lines[0].TaxExemptionReason = "O", "0", "Not subject to VAT"
		}, "lines[1].taxCategory", "no other category"},
		{"allowance without a reason", func(inv *Invoice) { inv.Allowances = []AllowanceCharge{{Amount: "5", TaxRate: "19"}} }, "allowances[0].reason", "required"},
		{"allowance with amount and rate", func(inv *Invoice) {
			inv.Allowances = []AllowanceCharge{{Reason: "x", Amount: "5", Rate: "2", TaxRate: "19"}}
		}, "allowances[0].amount", "not both"},
		{"allowance without a tax rate", func(inv *Invoice) { inv.Allowances = []AllowanceCharge{{Reason: "x", Amount: "5"}} }, "allowances[0].taxRate", "required"},
		{"charge with an allowance code", func(inv *Invoice) {
			inv.Charges = []AllowanceCharge{{ReasonCode: "95", Amount: "5", TaxRate: "19"}}
		}, "charges[0].reasonCode", "7161"},
		{"allowance in a category no line has", func(inv *Invoice) {
			inv.Allowances = []AllowanceCharge{{Reason: "x", Amount: "5", TaxRate: "0", TaxCategory: "E"}}
		}, "allowances[0].taxCategory", "no line has category E"},
		{"allowances beyond the lines", func(inv *Invoice) {
			inv.Allowances = []AllowanceCharge{{Reason: "x", Amount: "5000", TaxRate: "19"}}
		}, "allowances", "negative"},
		{"period ends before it starts", func(inv *Invoice) { inv.Period = &Period{Start: "2026-11-30", End: "2026-11-01"} }, "period.end", "before"},
		{"delivery date", func(inv *Invoice) { inv.Delivery = &Delivery{Date: "30.11.2026"} }, "delivery.date", "date like"},
		{"tax currency without a rate", func(inv *Invoice) { inv.TaxCurrency = "RON" }, "taxExchangeRate", "required with taxCurrency"},
		{"tax currency is the currency", func(inv *Invoice) { inv.TaxCurrency, inv.TaxExchangeRate = "EUR", "1" }, "taxCurrency", "leave it out"},
		{"unknown endpoint scheme", func(inv *Invoice) { inv.Customer.Endpoint = &Endpoint{Scheme: "GLN", ID: "4000001000005"} }, "customer.endpoint.scheme", "0088"},
		{"email endpoint that is not an email", func(inv *Invoice) { inv.Customer.Endpoint = &Endpoint{Scheme: "EM", ID: "nope"} }, "customer.endpoint.id", "email"},
		{"unknown profile", func(inv *Invoice) { inv.Profile = "zugferd" }, "profile", "peppol"},
		{"a paid amount in fils", func(inv *Invoice) { inv.Currency, inv.AmountPaid = "BHD", "1.005" }, "amountPaid", "hundredths"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := einvoiceBase()
			tt.change(inv)
			fe := Validate(inv)
			if !strings.Contains(fe[tt.field], tt.says) {
				t.Fatalf("Validate = %v, want %s to say %q", fe, tt.field, tt.says)
			}
		})
	}
	if fe := Validate(einvoiceBase()); fe != nil {
		t.Fatalf("the base invoice: %v", fe)
	}
}
