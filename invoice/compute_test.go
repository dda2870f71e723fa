package invoice

import (
	"math/big"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/invoiced/invoiced/money"
)

func TestCompute(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		currency string
		lines    []Line
		subtotal string
		discount string
		tax      string
		total    string
		taxes    []TaxSummary
	}{
		{
			name:     "design example",
			currency: "EUR",
			lines:    []Line{{Description: "Consulting", Quantity: "10", UnitPrice: "95.00", TaxRate: "19"}},
			subtotal: "950.00", discount: "0.00", tax: "180.50", total: "1130.50",
			taxes: []TaxSummary{{Rate: "19", Base: "950.00", Amount: "180.50"}},
		},
		{
			// Per-line VAT would be 3 × round(0.333×0.19)=3×0.06=0.18; BR-CO-17
			// computes it on the rate's sum: round(1.00×0.19) = 0.19.
			name:     "VAT on the sum of a rate's nets, not per line",
			currency: "EUR",
			lines: []Line{
				{Description: "a", Quantity: "1", UnitPrice: "0.3333", TaxRate: "19"},
				{Description: "b", Quantity: "1", UnitPrice: "0.3333", TaxRate: "19"},
				{Description: "c", Quantity: "1", UnitPrice: "0.3334", TaxRate: "19"},
			},
			subtotal: "0.99", discount: "0.00", tax: "0.19", total: "1.18",
			taxes: []TaxSummary{{Rate: "19", Base: "0.99", Amount: "0.19"}},
		},
		{
			name:     "several rates sorted high to low, discount",
			currency: "RON",
			lines: []Line{
				{Description: "book", Quantity: "2", UnitPrice: "45.50", TaxRate: "5"},
				{Description: "service", Quantity: "1.5", UnitPrice: "200", TaxRate: "19", DiscountRate: "10"},
				{Description: "export", Quantity: "1", UnitPrice: "10", TaxRate: "0"},
			},
			subtotal: "371.00", discount: "30.00", tax: "55.85", total: "426.85",
			taxes: []TaxSummary{
				{Rate: "19", Base: "270.00", Amount: "51.30"},
				{Rate: "5", Base: "91.00", Amount: "4.55"},
				{Rate: "0", Base: "10.00", Amount: "0.00"},
			},
		},
		{
			name:     "half-up at the minor unit",
			currency: "EUR",
			lines:    []Line{{Description: "x", Quantity: "1", UnitPrice: "0.125", TaxRate: "20"}},
			subtotal: "0.13", discount: "0.00", tax: "0.03", total: "0.16",
			taxes: []TaxSummary{{Rate: "20", Base: "0.13", Amount: "0.03"}},
		},
		{
			name:     "JPY has no minor unit",
			currency: "JPY",
			lines:    []Line{{Description: "x", Quantity: "3", UnitPrice: "1999", TaxRate: "10"}},
			subtotal: "5997", discount: "0", tax: "600", total: "6597",
			taxes: []TaxSummary{{Rate: "10", Base: "5997", Amount: "600"}},
		},
		{
			name:     "BHD has three decimals",
			currency: "BHD",
			lines:    []Line{{Description: "x", Quantity: "1", UnitPrice: "10.005", TaxRate: "10"}},
			subtotal: "10.005", discount: "0.000", tax: "1.001", total: "11.006",
			taxes: []TaxSummary{{Rate: "10", Base: "10.005", Amount: "1.001"}},
		},
		{
			name:     "fractional rate",
			currency: "EUR",
			lines:    []Line{{Description: "x", Quantity: "1", UnitPrice: "100", TaxRate: "5.5"}},
			subtotal: "100.00", discount: "0.00", tax: "5.50", total: "105.50",
			taxes: []TaxSummary{{Rate: "5.5", Base: "100.00", Amount: "5.50"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Invoice{Currency: tt.currency, Lines: tt.lines}
			if err := Compute(inv); err != nil {
				t.Fatal(err)
			}
			got := []string{inv.Subtotal, inv.DiscountTotal, inv.TaxTotal, inv.Total, inv.AmountDue}
			want := []string{tt.subtotal, tt.discount, tt.tax, tt.total, tt.total}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("subtotal, discount, tax, total, due = %v, want %v", got, want)
			}
			if !reflect.DeepEqual(inv.Taxes, tt.taxes) {
				t.Errorf("taxes = %+v, want %+v", inv.Taxes, tt.taxes)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	valid := func() *Invoice {
		return &Invoice{
			Number: "INV-1", Currency: "EUR", IssueDate: "2026-11-21", DueDate: "2026-12-21",
			Customer: Customer{Name: "Ana", Email: "ana@example.com"},
			Lines:    []Line{{Description: "x", Quantity: "1", UnitPrice: "1", TaxRate: "19"}},
		}
	}
	if fe := Validate(valid()); fe != nil {
		t.Fatalf("Validate(valid) = %v", fe)
	}
	tests := []struct {
		field  string
		mutate func(*Invoice)
	}{
		{"number", func(i *Invoice) { i.Number = "" }},
		{"currency", func(i *Invoice) { i.Currency = "ABC" }},
		{"issueDate", func(i *Invoice) { i.IssueDate = "21.11.2026" }},
		{"dueDate", func(i *Invoice) { i.DueDate = "2026-01-01" }},
		{"customer.name", func(i *Invoice) { i.Customer.Name = " " }},
		{"customer.email", func(i *Invoice) { i.Customer.Email = "ana" }},
		{"customer.email", func(i *Invoice) { i.Customer.Email = "Ana <ana@example.com>" }},
		{"customer.address.country", func(i *Invoice) { i.Customer.Address.Country = "Romania" }},
		{"lines", func(i *Invoice) { i.Lines = nil }},
		{"lines[0].quantity", func(i *Invoice) { i.Lines[0].Quantity = "-1" }},
		{"lines[0].quantity", func(i *Invoice) { i.Lines[0].Quantity = "0" }},
		{"lines[0].quantity", func(i *Invoice) { i.Lines[0].Quantity = "1.00001" }},
		{"lines[0].unitPrice", func(i *Invoice) { i.Lines[0].UnitPrice = "-5" }},
		{"lines[0].taxRate", func(i *Invoice) { i.Lines[0].TaxRate = "101" }},
		{"lines[0].taxRate", func(i *Invoice) { i.Lines[0].TaxRate = "" }},
		{"lines[0].discountRate", func(i *Invoice) { i.Lines[0].DiscountRate = "x" }},
		{"lines[0].description", func(i *Invoice) { i.Lines[0].Description = "" }},
		{"number", func(i *Invoice) { i.Number = "INV\r\nBcc: x@y.z" }},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			inv := valid()
			tt.mutate(inv)
			fe := Validate(inv)
			if _, ok := fe[tt.field]; !ok {
				t.Fatalf("Validate() = %v, want a message for %s", fe, tt.field)
			}
		})
	}
}

// TestLineTaxes: a line's VAT share is its exact share rounded down, plus
// one minor unit for the largest remainders until the rate's lines add up
// to the rate's VAT.
func TestLineTaxes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		currency string
		lines    []Line
		want     []int64
	}{
		{
			name: "one line", currency: "EUR",
			lines: []Line{{Description: "Consulting", Quantity: "10", UnitPrice: "95.00", TaxRate: "19"}},
			want:  []int64{18050},
		},
		{
			// 3 × 6.27 cents is 18.81, the rate's VAT 19: the cent left
			// over goes to the first of three equal remainders.
			name: "equal remainders, earlier line first", currency: "EUR",
			lines: []Line{
				{Description: "a", Quantity: "1", UnitPrice: "0.3333", TaxRate: "19"},
				{Description: "b", Quantity: "1", UnitPrice: "0.3333", TaxRate: "19"},
				{Description: "c", Quantity: "1", UnitPrice: "0.3334", TaxRate: "19"},
			},
			want: []int64{7, 6, 6},
		},
		{
			// 8.1 % of 0.15, 0.25 and 0.40 CHF: 1.215, 2.025 and 3.24
			// Rappen, 6.48 in all, VAT 6: nothing left over to hand out.
			// 2.6 % of 0.45: 1.17 Rappen, VAT 1.
			name: "several rates, each rate adds up", currency: "CHF",
			lines: []Line{
				{Description: "a", Quantity: "1", UnitPrice: "0.15", TaxRate: "8.1"},
				{Description: "b", Quantity: "1", UnitPrice: "0.45", TaxRate: "2.6"},
				{Description: "c", Quantity: "1", UnitPrice: "0.25", TaxRate: "8.1"},
				{Description: "d", Quantity: "1", UnitPrice: "0.40", TaxRate: "8.1"},
			},
			want: []int64{1, 1, 2, 3},
		},
		{
			// 19 % of 0.08, 0.05 and 0.02: 1.52, 0.95 and 0.38 cents,
			// 2.85 in all, VAT 3: two cents left over, for the remainders
			// 0.95 and 0.52, none for 0.38.
			name: "largest remainders win", currency: "EUR",
			lines: []Line{
				{Description: "a", Quantity: "1", UnitPrice: "0.08", TaxRate: "19"},
				{Description: "b", Quantity: "1", UnitPrice: "0.05", TaxRate: "19"},
				{Description: "c", Quantity: "1", UnitPrice: "0.02", TaxRate: "19"},
			},
			want: []int64{2, 1, 0},
		},
		{
			name: "discount and a zero rate", currency: "RON",
			lines: []Line{
				{Description: "book", Quantity: "2", UnitPrice: "45.50", TaxRate: "5"},
				{Description: "service", Quantity: "1.5", UnitPrice: "200", TaxRate: "19", DiscountRate: "10"},
				{Description: "export", Quantity: "1", UnitPrice: "10", TaxRate: "0"},
			},
			want: []int64{455, 5130, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Invoice{Currency: tt.currency, Lines: tt.lines}
			if err := Compute(inv); err != nil {
				t.Fatal(err)
			}
			got, err := LineTaxes(inv)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LineTaxes = %v, want %v", got, tt.want)
			}
			checkLineTaxes(t, inv, got)
		})
	}
}

// TestLineTaxesAddUp holds the shares of many invoices to their VAT, per
// rate and in all.
func TestLineTaxesAddUp(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	rates := []string{"0", "2.6", "3.8", "8.1", "19", "5.5", "20"}
	for n := 0; n < 500; n++ {
		inv := &Invoice{Currency: []string{"EUR", "CHF", "JPY", "BHD"}[n%4]}
		digits := map[string]int{"EUR": 2, "CHF": 2, "JPY": 0, "BHD": 3}[inv.Currency]
		for i := 0; i < 1+rng.IntN(12); i++ {
			price := money.Format(rng.Int64N(100000), digits+rng.IntN(3))
			inv.Lines = append(inv.Lines, Line{Description: "x", Quantity: strconv.Itoa(1 + rng.IntN(7)),
				UnitPrice: price, TaxRate: rates[rng.IntN(len(rates))], DiscountRate: []string{"", "10", "33.3333"}[rng.IntN(3)]})
		}
		if err := Compute(inv); err != nil {
			t.Fatal(err)
		}
		got, err := LineTaxes(inv)
		if err != nil {
			t.Fatal(err)
		}
		checkLineTaxes(t, inv, got)
	}
}

// checkLineTaxes fails t unless shares add up to each rate's VAT and to
// TaxTotal, and each is less than a minor unit from the line's exact share.
func checkLineTaxes(t *testing.T, inv *Invoice, shares []int64) {
	t.Helper()
	cur, _ := money.ParseCurrency(inv.Currency)
	byRate := map[string]int64{}
	var sum int64
	for i, l := range inv.Lines {
		rate, _ := money.ParseDecimal(l.TaxRate, RateScale)
		net, _ := money.ParseAmount(l.Amount, cur)
		exact := new(big.Rat).Quo(new(big.Rat).Mul(big.NewRat(net, 1), rate), big.NewRat(100, 1))
		diff := new(big.Rat).Sub(big.NewRat(shares[i], 1), exact)
		if diff.Abs(diff).Cmp(big.NewRat(1, 1)) >= 0 {
			t.Errorf("%v: line %d's share %d is a minor unit or more from %s", inv.Lines, i, shares[i], exact.FloatString(4))
		}
		byRate[money.FormatRat(rate, RateScale)] += shares[i]
		sum += shares[i]
	}
	for _, tax := range inv.Taxes {
		want, _ := money.ParseAmount(tax.Amount, cur)
		if byRate[tax.Rate] != want {
			t.Errorf("%v: the %s%% lines' shares add up to %d, the rate's VAT is %d", inv.Lines, tax.Rate, byRate[tax.Rate], want)
		}
	}
	if total, _ := money.ParseAmount(inv.TaxTotal, cur); sum != total {
		t.Errorf("%v: the shares add up to %d, taxTotal is %d", inv.Lines, sum, total)
	}
}
