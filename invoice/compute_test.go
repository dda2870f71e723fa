package invoice

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"reflect"
	"sort"
	"strconv"
	"strings"
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
			taxes: []TaxSummary{{Category: "S", Rate: "19", Base: "950.00", Amount: "180.50"}},
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
			taxes: []TaxSummary{{Category: "S", Rate: "19", Base: "0.99", Amount: "0.19"}},
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
				{Category: "S", Rate: "19", Base: "270.00", Amount: "51.30"},
				{Category: "S", Rate: "5", Base: "91.00", Amount: "4.55"},
				{Category: "Z", Rate: "0", Base: "10.00", Amount: "0.00"},
			},
		},
		{
			name:     "half-up at the minor unit",
			currency: "EUR",
			lines:    []Line{{Description: "x", Quantity: "1", UnitPrice: "0.125", TaxRate: "20"}},
			subtotal: "0.13", discount: "0.00", tax: "0.03", total: "0.16",
			taxes: []TaxSummary{{Category: "S", Rate: "20", Base: "0.13", Amount: "0.03"}},
		},
		{
			name:     "JPY has no minor unit",
			currency: "JPY",
			lines:    []Line{{Description: "x", Quantity: "3", UnitPrice: "1999", TaxRate: "10"}},
			subtotal: "5997", discount: "0", tax: "600", total: "6597",
			taxes: []TaxSummary{{Category: "S", Rate: "10", Base: "5997", Amount: "600"}},
		},
		{
			name:     "BHD has three decimals",
			currency: "BHD",
			lines:    []Line{{Description: "x", Quantity: "1", UnitPrice: "10.005", TaxRate: "10"}},
			subtotal: "10.010", discount: "0.000", tax: "1.000", total: "11.010",
			taxes: []TaxSummary{{Category: "S", Rate: "10", Base: "10.010", Amount: "1.000"}},
		},
		{
			name:     "fractional rate",
			currency: "EUR",
			lines:    []Line{{Description: "x", Quantity: "1", UnitPrice: "100", TaxRate: "5.5"}},
			subtotal: "100.00", discount: "0.00", tax: "5.50", total: "105.50",
			taxes: []TaxSummary{{Category: "S", Rate: "5.5", Base: "100.00", Amount: "5.50"}},
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
		{"lines[0].unitPrice", func(i *Invoice) { i.Lines[0].UnitPrice = "10000000000000" }},
		{"lines[0].unitPrice", func(i *Invoice) { i.Lines[0].UnitPrice = "99999999999999.9" }},
		{"amountPaid", func(i *Invoice) { i.AmountPaid = "-1" }},
		{"amountPaid", func(i *Invoice) { i.AmountPaid = "1.001" }},
		{"amountPaid", func(i *Invoice) { i.AmountPaid = "10000000000000" }},
		{"amountPaid", func(i *Invoice) { i.AmountPaid = "ten" }},
		{"lines[0]", func(i *Invoice) { i.Lines[0].Quantity = "9999"; i.Lines[0].UnitPrice = "9999999999999.99" }},
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
// TaxTotal, and each is less than a unit VAT is rounded to (a minor unit,
// or a hundredth for a currency with more digits) from the line's exact
// share.
func checkLineTaxes(t *testing.T, inv *Invoice, shares []int64) {
	t.Helper()
	cur, _ := money.ParseCurrency(inv.Currency)
	unit := pow10(cur.Digits - AmountDigits(cur))
	byRate := map[string]int64{}
	var sum int64
	for i, l := range inv.Lines {
		rate, _ := money.ParseDecimal(l.TaxRate, RateScale)
		net, _ := money.ParseAmount(l.Amount, cur)
		exact := new(big.Rat).Quo(new(big.Rat).Mul(big.NewRat(net, 1), rate), big.NewRat(100, 1))
		diff := new(big.Rat).Sub(big.NewRat(shares[i], 1), exact)
		if diff.Abs(diff).Cmp(big.NewRat(unit, 1)) >= 0 {
			t.Errorf("%v: line %d's share %d is a rounding unit or more from %s", inv.Lines, i, shares[i], exact.FloatString(4))
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

// TestComputeMatchesExactArithmetic holds Compute to an independent exact
// computation over many random invoices: a line's net is quantity × unit
// price less its discount, rounded half-up; a rate's VAT is rounded
// half-up on the sum of that rate's nets. Lines are drawn from tiny to the
// largest amount, so some invoices go over it: Compute must then refuse
// them, naming the line, the lines or the total that is too large, and
// never answer an amount the exact computation does not give.
func TestComputeMatchesExactArithmetic(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(20261121, 7))
	currencies := []string{"EUR", "JPY", "BHD", "KWD", "CHF", "RON", "USD", "KRW", "CLF"}
	// decimal draws a decimal with up to intDigits integer digits and
	// exactly frac fraction digits, mostly short, sometimes at the limit.
	decimal := func(intDigits, frac int) string {
		n := 1 + rng.IntN(intDigits)
		if rng.IntN(4) == 0 {
			n = intDigits
		}
		s := strconv.FormatInt(rng.Int64N(pow10(n)), 10)
		if frac > 0 {
			s += "." + fmt.Sprintf("%0*d", frac, rng.Int64N(pow10(frac)))
		}
		return s
	}
	rate := func() string {
		switch rng.IntN(5) {
		case 0:
			return "0"
		case 1:
			return "100"
		}
		return decimal(2, rng.IntN(RateScale+1))
	}
	var ok, refused int
	for n := 0; n < 3000; n++ {
		code := currencies[n%len(currencies)]
		cur, err := money.ParseCurrency(code)
		if err != nil {
			t.Fatal(err)
		}
		inv := &Invoice{Currency: code}
		size := 15 - cur.Digits // integer digits of the largest amount
		// Two invoices in five have large lines among small ones.
		large := rng.IntN(5) < 2
		for i := 0; i < 1+rng.IntN(8); i++ {
			l := Line{Description: "x", TaxRate: rate()}
			switch k := rng.IntN(6); {
			case large && k == 0: // the largest unit price
				l.Quantity, l.UnitPrice = "1", cur.Max()
			case large && k == 1: // large prices, large quantities
				l.Quantity = decimal(6, rng.IntN(QuantityScale+1))
				l.UnitPrice = decimal(size, rng.IntN(cur.Digits+1))
			default:
				l.Quantity = decimal(4, rng.IntN(QuantityScale+1))
				frac := rng.IntN(cur.Digits + UnitPriceExtra + 1)
				l.UnitPrice = decimal(min(size, 15-frac), frac)
			}
			if l.Quantity == "0" || strings.Trim(l.Quantity, "0.") == "" {
				l.Quantity = "1"
			}
			if rng.IntN(3) == 0 {
				l.DiscountRate = rate()
			}
			inv.Lines = append(inv.Lines, l)
		}
		if fe := validateLines(inv); fe != nil {
			t.Fatalf("%s %+v: the generator drew invalid lines: %v", code, inv.Lines, fe)
		}
		want := exactTotals(inv, cur.Digits)
		err = Compute(inv)
		if want.tooLarge != "" {
			refused++
			var fe FieldErrors
			if !errors.As(err, &fe) || fe[want.tooLarge] == "" {
				t.Fatalf("%s %+v: Compute = %v, want a FieldErrors naming %s (%s)", code, inv.Lines, err, want.tooLarge, want.why)
			}
			if inv.Total != "" {
				t.Fatalf("%s: a refused invoice got a total %s", code, inv.Total)
			}
			continue
		}
		ok++
		if err != nil {
			t.Fatalf("%s %+v: Compute: %v", code, inv.Lines, err)
		}
		got := []string{inv.Subtotal, inv.DiscountTotal, inv.TaxTotal, inv.Total, inv.AmountDue}
		exp := []string{want.subtotal, want.discount, want.tax, want.total, want.total}
		if !reflect.DeepEqual(got, exp) {
			t.Fatalf("%s %+v: subtotal, discount, tax, total, due = %v, want %v", code, inv.Lines, got, exp)
		}
		for i, l := range inv.Lines {
			if l.Amount != want.amounts[i] || l.Discount != want.discounts[i] {
				t.Fatalf("%s line %d %+v: amount %s discount %s, want %s and %s", code, i, l, l.Amount, l.Discount, want.amounts[i], want.discounts[i])
			}
		}
		if !reflect.DeepEqual(inv.Taxes, want.taxes) {
			t.Fatalf("%s %+v: taxes = %+v, want %+v", code, inv.Lines, inv.Taxes, want.taxes)
		}
		sub, _ := new(big.Rat).SetString(inv.Subtotal)
		tax, _ := new(big.Rat).SetString(inv.TaxTotal)
		total, _ := new(big.Rat).SetString(inv.Total)
		if new(big.Rat).Add(sub, tax).Cmp(total) != 0 {
			t.Fatalf("%s: subtotal %s + taxTotal %s != total %s", code, inv.Subtotal, inv.TaxTotal, inv.Total)
		}
	}
	// The draw must cover both outcomes well, or the test proves little.
	if ok < 1000 || refused < 300 {
		t.Fatalf("%d invoices computed, %d refused: the draw is lopsided", ok, refused)
	}
}

// validateLines is Validate for an invoice that has only lines and a
// currency, keeping just the problems with those.
func validateLines(inv *Invoice) FieldErrors {
	full := *inv
	full.Number, full.IssueDate, full.Customer.Name = "INV-1", "2026-11-21", "Ana"
	fe := FieldErrors{}
	for k, v := range Validate(&full) {
		if strings.Contains(k, ".") {
			fe[k] = v
		}
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// exactResult is what exactTotals works out for an invoice.
type exactResult struct {
	amounts, discounts             []string
	subtotal, discount, tax, total string
	taxes                          []TaxSummary
	tooLarge, why                  string // the field over the largest amount
}

// exactTotals computes inv's totals with big.Rat alone, rounding with
// FloatString (halves away from zero, which for these positive amounts is
// half-up), as EN 16931 has them, to the minor unit or, for a currency of
// more digits, to hundredths. It names the first amount over the largest
// one, MaxDigits nines in minor units (to hundredths), in the order
// Compute checks them: a line, the sum of the lines before discounts, the
// total.
func exactTotals(inv *Invoice, digits int) exactResult {
	ad := min(digits, 2)
	rat := func(s string) *big.Rat {
		if s == "" {
			return new(big.Rat)
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			panic("bad decimal " + s)
		}
		return r
	}
	round := func(r *big.Rat) *big.Rat { return rat(r.FloatString(ad)) }
	max := round(new(big.Rat).SetFrac64(999_999_999_999_999/pow10(digits-ad), pow10(ad)))
	hundred := big.NewRat(100, 1)
	var res exactResult
	gross, sub, disc := new(big.Rat), new(big.Rat), new(big.Rat)
	base := map[string]*big.Rat{}
	rates := map[string]*big.Rat{}
	for i, l := range inv.Lines {
		g := round(new(big.Rat).Mul(rat(l.Quantity), rat(l.UnitPrice)))
		if g.Cmp(max) > 0 && res.tooLarge == "" {
			res.tooLarge, res.why = fmt.Sprintf("lines[%d]", i), "quantity × unitPrice is "+g.FloatString(digits)
		}
		keep := new(big.Rat).Sub(big.NewRat(1, 1), new(big.Rat).Quo(rat(l.DiscountRate), hundred))
		net := round(new(big.Rat).Mul(new(big.Rat).Mul(rat(l.Quantity), rat(l.UnitPrice)), keep))
		d := new(big.Rat).Sub(g, net)
		res.amounts = append(res.amounts, net.FloatString(digits))
		res.discounts = append(res.discounts, d.FloatString(digits))
		gross.Add(gross, g)
		sub.Add(sub, net)
		disc.Add(disc, d)
		r := rat(l.TaxRate)
		key := r.FloatString(4)
		key = strings.TrimRight(strings.TrimRight(key, "0"), ".")
		if base[key] == nil {
			base[key] = new(big.Rat)
		}
		base[key].Add(base[key], net)
		rates[key] = r
	}
	if res.tooLarge != "" {
		return res
	}
	if gross.Cmp(max) > 0 {
		res.tooLarge, res.why = "lines", "the lines add up to "+gross.FloatString(digits)
		return res
	}
	keys := make([]string, 0, len(rates))
	for k := range rates {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return rates[keys[i]].Cmp(rates[keys[j]]) > 0 })
	tax := new(big.Rat)
	for _, k := range keys {
		vat := round(new(big.Rat).Quo(new(big.Rat).Mul(base[k], rates[k]), hundred))
		tax.Add(tax, vat)
		cat := "S"
		if rates[k].Sign() == 0 {
			cat = "Z"
		}
		res.taxes = append(res.taxes, TaxSummary{Category: cat, Rate: k, Base: base[k].FloatString(digits), Amount: vat.FloatString(digits)})
	}
	total := new(big.Rat).Add(sub, tax)
	if total.Cmp(max) > 0 {
		res.tooLarge, res.why = "total", "the total is "+total.FloatString(digits)
		return res
	}
	res.subtotal, res.discount = sub.FloatString(digits), disc.FloatString(digits)
	res.tax, res.total = tax.FloatString(digits), total.FloatString(digits)
	return res
}

// TestComputeAtTheLargestAmount: an invoice of the largest amount is
// computed to the minor unit; one minor unit more, anywhere, is refused
// naming what is too large.
func TestComputeAtTheLargestAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		currency string
		lines    []Line
		total    string
		tooLarge string // the field named, or "" when accepted
	}{
		{"EUR at the largest amount", "EUR", []Line{{Quantity: "1", UnitPrice: "9999999999999.99", TaxRate: "0"}}, "9999999999999.99", ""},
		{"JPY at the largest amount", "JPY", []Line{{Quantity: "1", UnitPrice: "999999999999999", TaxRate: "0"}}, "999999999999999", ""},
		{"BHD at the largest amount", "BHD", []Line{{Quantity: "1", UnitPrice: "999999999999.99", TaxRate: "0"}}, "999999999999.990", ""},
		{"BHD rounding over the largest amount", "BHD", []Line{{Quantity: "1", UnitPrice: "999999999999.995", TaxRate: "0"}}, "", "lines[0]"},
		{"EUR with VAT up to the largest amount", "EUR", []Line{{Quantity: "1", UnitPrice: "8403361344537.81", TaxRate: "19"}}, "9999999999999.99", ""},
		{"the largest amount split over lines", "EUR", []Line{
			{Quantity: "2", UnitPrice: "2500000000000", TaxRate: "0"},
			{Quantity: "1", UnitPrice: "4999999999999.99", TaxRate: "0", DiscountRate: "50"},
		}, "7500000000000.00", ""},
		{"9999 × 9999999999999.99", "EUR", []Line{{Quantity: "9999", UnitPrice: "9999999999999.99", TaxRate: "19"}}, "", "lines[0]"},
		{"a fraction over on one line", "EUR", []Line{{Quantity: "1.0001", UnitPrice: "9999999999999.99", TaxRate: "0"}}, "", "lines[0]"},
		{"over before a full discount", "EUR", []Line{{Quantity: "2", UnitPrice: "9999999999999.99", TaxRate: "0", DiscountRate: "100"}}, "", "lines[0]"},
		{"one minor unit over across lines", "EUR", []Line{
			{Quantity: "1", UnitPrice: "9999999999999.99", TaxRate: "0"},
			{Quantity: "1", UnitPrice: "0.01", TaxRate: "0"},
		}, "", "lines"},
		{"JPY one yen over across lines", "JPY", []Line{
			{Quantity: "1", UnitPrice: "999999999999999", TaxRate: "0"},
			{Quantity: "1", UnitPrice: "1", TaxRate: "10"},
		}, "", "lines"},
		{"BHD ten fils over across lines", "BHD", []Line{
			{Quantity: "1", UnitPrice: "999999999999.99", TaxRate: "0"},
			{Quantity: "1", UnitPrice: "0.005", TaxRate: "0"},
		}, "", "lines"},
		{"VAT takes the total over", "EUR", []Line{{Quantity: "1", UnitPrice: "8403361344537.82", TaxRate: "19"}}, "", "total"},
		{"the second line over", "EUR", []Line{
			{Quantity: "1", UnitPrice: "10", TaxRate: "19"},
			{Quantity: "1000", UnitPrice: "9999999999999", TaxRate: "0", DiscountRate: "100"},
		}, "", "lines[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for i := range tt.lines {
				tt.lines[i].Description = "x"
			}
			inv := &Invoice{Number: "INV-1", Currency: tt.currency, IssueDate: "2026-11-21", Customer: Customer{Name: "Ana"}, Lines: tt.lines}
			err := Compute(inv)
			vfe := Validate(inv)
			if tt.tooLarge == "" {
				if err != nil || vfe != nil {
					t.Fatalf("Compute = %v, Validate = %v, want both to accept", err, vfe)
				}
				if inv.Total != tt.total || inv.AmountDue != tt.total {
					t.Fatalf("total %s, due %s, want %s", inv.Total, inv.AmountDue, tt.total)
				}
				return
			}
			var fe FieldErrors
			if !errors.As(err, &fe) || fe[tt.tooLarge] == "" {
				t.Fatalf("Compute = %v, want a FieldErrors naming %s", err, tt.tooLarge)
			}
			cur, _ := money.ParseCurrency(tt.currency)
			if !strings.Contains(fe[tt.tooLarge], LargestAmount(cur)) {
				t.Errorf("%s: %q does not say the largest amount, %s", tt.tooLarge, fe[tt.tooLarge], LargestAmount(cur))
			}
			if vfe[tt.tooLarge] != fe[tt.tooLarge] {
				t.Errorf("Validate = %v, want %s: %s as Compute says", vfe, tt.tooLarge, fe[tt.tooLarge])
			}
			if inv.Total != "" || inv.Lines[0].Amount != "" {
				t.Errorf("a refused invoice was filled in: total %q, lines[0].amount %q", inv.Total, inv.Lines[0].Amount)
			}
		})
	}
}
