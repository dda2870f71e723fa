package invoice

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"

	"github.com/invoiced/invoiced/money"
)

// Precision limits for line inputs.
const (
	QuantityScale  = 4 // quantities have up to 4 decimals
	UnitPriceExtra = 4 // unit prices have up to the currency's digits + 4
	RateScale      = 4 // tax and discount rates (percent) have up to 4 decimals
)

// Compute fills the computed fields of inv: every line's discount and net
// amount, the document level allowances and charges, the VAT breakdown and
// the totals. A line's net is quantity × unit price less its discount,
// rounded half-up. VAT is computed per category and rate on the sum of its
// line nets, less its allowances and plus its charges, and rounded half-up
// (EN 16931 BR-CO-17), so the invoice's VAT never drifts from the sum of
// per-line roundings. Inputs are expected to have passed Validate; a parse
// error is still returned rather than ignored.
//
// Amounts are rounded to the currency's minor unit, or to hundredths for a
// currency with more digits (BHD, KWD, OMR, TND…): EN 16931 allows two
// decimals in an amount, so the PDF and the e-invoice of a BHD invoice
// agree to the fils only if every computed amount is a whole number of
// tens of fils. Unit prices keep the digits they were given.
//
// No amount may be larger than the currency's largest, money.MaxMinor in
// minor units: a line whose quantity × unit price is, lines whose amounts
// before discount add up to more, and a total that VAT takes over it are
// refused with a FieldErrors naming "lines[i]", "lines" or "total", and
// inv is left as it was.
func Compute(inv *Invoice) error {
	t, err := compute(inv)
	if err != nil {
		return err
	}
	d := t.cur.Digits
	for i := range inv.Lines {
		inv.Lines[i].Amount = money.Format(t.nets[i], d)
		inv.Lines[i].Discount = money.Format(t.discounts[i], d)
	}
	for i := range inv.Allowances {
		inv.Allowances[i].Amount = money.Format(t.allowances[i], d)
		if inv.Allowances[i].Rate != "" {
			inv.Allowances[i].Base = money.Format(t.allowanceBases[i], d)
		}
	}
	for i := range inv.Charges {
		inv.Charges[i].Amount = money.Format(t.charges[i], d)
		if inv.Charges[i].Rate != "" {
			inv.Charges[i].Base = money.Format(t.chargeBases[i], d)
		}
	}
	inv.Taxes = t.taxes
	inv.Subtotal = money.Format(t.subtotal, d)
	inv.DiscountTotal = money.Format(t.discountTotal, d)
	inv.AllowanceTotal, inv.ChargeTotal = "", ""
	if len(inv.Allowances) > 0 {
		inv.AllowanceTotal = money.Format(t.allowanceTotal, d)
	}
	if len(inv.Charges) > 0 {
		inv.ChargeTotal = money.Format(t.chargeTotal, d)
	}
	inv.NetTotal = money.Format(t.net, d)
	inv.TaxTotal = money.Format(t.taxTotal, d)
	inv.TaxTotalInTaxCurrency = t.taxInTaxCurrency
	inv.Total = money.Format(t.total, d)
	inv.AmountPaid = money.Format(t.paid, d)
	if inv.AmountCredited != "" {
		inv.AmountCredited = money.Format(t.credited, d)
	}
	due := t.total - t.paid - t.credited
	if t.credited > 0 && due < 0 {
		// Credited after it was paid: the credit is the seller's to
		// refund, not a negative amount the customer owes.
		due = 0
	}
	inv.AmountDue = money.Format(due, d)
	return nil
}

// AmountDigits is how many decimals the computed amounts of an invoice in
// cur have: its minor unit's, at most two (see Compute).
func AmountDigits(cur money.Currency) int { return min(cur.Digits, 2) }

// LargestAmount is the largest amount an invoice in cur may add up to:
// cur.Max(), rounded down to hundredths for a currency with more digits.
func LargestAmount(cur money.Currency) string {
	step := pow10(cur.Digits - AmountDigits(cur))
	return money.Format(money.MaxMinor/step*step, cur.Digits)
}

// totals are an invoice's computed amounts in minor units of cur.
type totals struct {
	cur                                      money.Currency
	nets, discounts                          []int64
	allowances, allowanceBases               []int64
	charges, chargeBases                     []int64
	taxes                                    []TaxSummary
	subtotal, discountTotal, taxTotal, total int64
	allowanceTotal, chargeTotal, net         int64
	paid, credited                           int64
	taxInTaxCurrency                         string
}

// taxKey is a VAT breakdown's: a category and a rate.
type taxKey struct{ category, rate string }

// compute works out inv's totals without changing it; see Compute.
func compute(inv *Invoice) (*totals, error) {
	cur, err := money.ParseCurrency(inv.Currency)
	if err != nil {
		return nil, err
	}
	t := &totals{cur: cur, nets: make([]int64, len(inv.Lines)), discounts: make([]int64, len(inv.Lines))}
	// An amount is rounded to hundredths and counted in minor units: step
	// minor units a hundredth (1 but for currencies of 3 or 4 digits).
	ad := AmountDigits(cur)
	step := pow10(cur.Digits - ad)
	roundAmount := func(r *big.Rat) int64 { return money.RoundHalfUp(r, ad) * step }
	largest, largestText := money.MaxMinor/step*step, LargestAmount(cur)
	minorRat := func(n int64) *big.Rat {
		return new(big.Rat).SetFrac(big.NewInt(n), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(cur.Digits)), nil))
	}
	hundred := big.NewRat(100, 1)
	tooLarge := FieldErrors{}
	// Every line's gross is at most MaxMinor, but enough of them add up
	// to more than an int64 holds.
	gross := new(big.Int)
	bases := map[taxKey]int64{}
	rates := map[taxKey]*big.Rat{}
	reasons := map[string][2]string{}
	use := func(category, rateText string) (taxKey, error) {
		rate, err := money.ParseDecimal(rateText, RateScale)
		if err != nil {
			return taxKey{}, err
		}
		k := taxKey{Category(category, rateText), money.FormatRat(rate, RateScale)}
		rates[k] = rate
		return k, nil
	}
	for i := range inv.Lines {
		l := &inv.Lines[i]
		qty, err := money.ParseDecimal(l.Quantity, QuantityScale)
		if err != nil {
			return nil, fmt.Errorf("lines[%d].quantity: %w", i, err)
		}
		price, err := money.ParseDecimal(l.UnitPrice, cur.Digits+UnitPriceExtra)
		if err != nil {
			return nil, fmt.Errorf("lines[%d].unitPrice: %w", i, err)
		}
		disc := new(big.Rat)
		if l.DiscountRate != "" {
			if disc, err = money.ParseDecimal(l.DiscountRate, RateScale); err != nil {
				return nil, fmt.Errorf("lines[%d].discountRate: %w", i, err)
			}
		}
		k, err := use(l.TaxCategory, l.TaxRate)
		if err != nil {
			return nil, fmt.Errorf("lines[%d].taxRate: %w", i, err)
		}
		exact := new(big.Rat).Mul(qty, price)
		if _, err := money.Minor(exact, cur); err != nil || roundAmount(exact) > largest {
			tooLarge[fmt.Sprintf("lines[%d]", i)] = fmt.Sprintf("quantity × unitPrice is %s, more than the largest amount, %s",
				exact.FloatString(ad), largestText)
			continue
		}
		lineGross := roundAmount(exact)
		gross.Add(gross, big.NewInt(lineGross))
		// A discount of 0–100 % keeps the net within the gross.
		keep := new(big.Rat).Sub(hundred, disc)
		net := roundAmount(new(big.Rat).Quo(new(big.Rat).Mul(exact, keep), hundred))
		t.nets[i], t.discounts[i] = net, lineGross-net
		bases[k] += net
		if r := reasons[k.category]; r[0] == "" && r[1] == "" {
			reasons[k.category] = [2]string{l.TaxExemptionReason, l.TaxExemptionCode}
		}
	}
	if len(tooLarge) > 0 {
		return nil, tooLarge
	}
	if gross.CmpAbs(big.NewInt(largest)) > 0 {
		return nil, FieldErrors{"lines": fmt.Sprintf("the lines add up to %s (quantity × unitPrice, before discounts), more than the largest amount, %s",
			formatBig(gross, cur.Digits), largestText)}
	}
	// From here on every line sum is at most the lines' gross: none comes
	// near the end of an int64.
	for i := range inv.Lines {
		t.subtotal += t.nets[i]
		t.discountTotal += t.discounts[i]
	}

	// Document level allowances and charges, each at most the largest
	// amount: their sums stay far from the end of an int64 too.
	docLevel := func(field string, acs []AllowanceCharge, sign int64) (amounts, bases_ []int64, sum int64, err error) {
		amounts, bases_ = make([]int64, len(acs)), make([]int64, len(acs))
		for i, ac := range acs {
			p := fmt.Sprintf("%s[%d].", field, i)
			k, err := use(ac.TaxCategory, ac.TaxRate)
			if err != nil {
				return nil, nil, 0, fmt.Errorf("%staxRate: %w", p, err)
			}
			var amount int64
			if ac.Rate != "" {
				rate, err := money.ParseDecimal(ac.Rate, RateScale)
				if err != nil {
					return nil, nil, 0, fmt.Errorf("%srate: %w", p, err)
				}
				base := t.subtotal
				if ac.Base != "" {
					if base, err = money.ParseAmount(ac.Base, cur); err != nil {
						return nil, nil, 0, FieldErrors{p + "base": err.Error()}
					}
				}
				bases_[i] = base
				amount = roundAmount(new(big.Rat).Quo(new(big.Rat).Mul(minorRat(base), rate), hundred))
			} else {
				a, err := money.ParseAmount(ac.Amount, cur)
				if err != nil {
					return nil, nil, 0, FieldErrors{p + "amount": err.Error()}
				}
				amount = roundAmount(minorRat(a))
			}
			amounts[i] = amount
			sum += amount
			bases[k] += sign * amount
			if sum > largest {
				return nil, nil, 0, FieldErrors{field: fmt.Sprintf("add up to more than the largest amount, %s", largestText)}
			}
		}
		return amounts, bases_, sum, nil
	}
	if t.allowances, t.allowanceBases, t.allowanceTotal, err = docLevel("allowances", inv.Allowances, -1); err != nil {
		return nil, err
	}
	if t.charges, t.chargeBases, t.chargeTotal, err = docLevel("charges", inv.Charges, 1); err != nil {
		return nil, err
	}
	t.net = t.subtotal - t.allowanceTotal + t.chargeTotal
	if len(inv.Allowances) > 0 && t.net < 0 {
		return nil, FieldErrors{"allowances": fmt.Sprintf("take %s off lines that add up to %s: the total without VAT would be negative; issue a credit note instead",
			money.Format(t.allowanceTotal, cur.Digits), money.Format(t.subtotal+t.chargeTotal, cur.Digits))}
	}

	keys := make([]taxKey, 0, len(rates))
	for k := range rates {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if c := rates[keys[i]].Cmp(rates[keys[j]]); c != 0 {
			return c > 0
		}
		return slices.Index(Categories, keys[i].category) < slices.Index(Categories, keys[j].category)
	})

	t.taxes = []TaxSummary{}
	for _, k := range keys {
		base := bases[k]
		tax := roundAmount(new(big.Rat).Quo(new(big.Rat).Mul(minorRat(base), rates[k]), hundred))
		t.taxTotal += tax
		r := reasons[k.category]
		t.taxes = append(t.taxes, TaxSummary{
			Category: k.category, Rate: k.rate,
			Base:            money.Format(base, cur.Digits),
			Amount:          money.Format(tax, cur.Digits),
			ExemptionReason: r[0], ExemptionCode: r[1],
		})
	}
	t.total = t.net + t.taxTotal
	if t.total > largest || t.total < -largest {
		return nil, FieldErrors{"total": fmt.Sprintf("is %s with VAT, more than the largest amount, %s",
			money.Format(t.total, cur.Digits), largestText)}
	}

	if inv.TaxCurrency != "" && inv.TaxCurrency != inv.Currency {
		tc, err := money.ParseCurrency(inv.TaxCurrency)
		if err != nil {
			return nil, FieldErrors{"taxCurrency": err.Error()}
		}
		rate, err := money.ParseDecimal(inv.TaxExchangeRate, ExchangeRateScale)
		if err != nil {
			return nil, FieldErrors{"taxExchangeRate": err.Error()}
		}
		tad := AmountDigits(tc)
		inTC := money.RoundHalfUp(new(big.Rat).Mul(minorRat(t.taxTotal), rate), tad)
		t.taxInTaxCurrency = money.Format(inTC*pow10(tc.Digits-tad), tc.Digits)
	}

	if inv.AmountPaid != "" {
		if t.paid, err = money.ParseAmount(inv.AmountPaid, cur); err != nil {
			return nil, FieldErrors{"amountPaid": err.Error()}
		}
	}
	if inv.AmountCredited != "" {
		if t.credited, err = money.ParseAmount(inv.AmountCredited, cur); err != nil {
			return nil, fmt.Errorf("amountCredited: %w", err)
		}
	}
	return t, nil
}

// ExchangeRateScale is the most decimals a tax exchange rate may have.
const ExchangeRateScale = 6

// pow10 is 10^n for a small n ≥ 0.
func pow10(n int) int64 {
	p := int64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

// formatBig prints n minor units with digits fraction digits, however
// large n is.
func formatBig(n *big.Int, digits int) string {
	return new(big.Rat).SetFrac(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)).FloatString(digits)
}

// PayInFull records inv's amount due as paid, leaving nothing due, and
// computes it again.
func PayInFull(inv *Invoice) error {
	cur, err := money.ParseCurrency(inv.Currency)
	if err != nil {
		return err
	}
	paid, due := int64(0), int64(0)
	if inv.AmountPaid != "" {
		if paid, err = money.ParseAmount(inv.AmountPaid, cur); err != nil {
			return fmt.Errorf("amountPaid: %w", err)
		}
	}
	if inv.AmountDue != "" {
		if due, err = money.ParseAmount(inv.AmountDue, cur); err != nil {
			return fmt.Errorf("amountDue: %w", err)
		}
	}
	inv.AmountPaid = money.Format(paid+max(due, 0), cur.Digits)
	return Compute(inv)
}

// ErrOverCredit is returned by Credit when a credit note's total is more
// than what is left uncredited on the invoice.
var ErrOverCredit = errors.New("the credit is more than the invoice's uncredited total")

// Credit records on inv the credit note cn, which must have been through
// Compute and be in inv's currency: its id joins inv.CreditNotes, its
// total inv.AmountCredited, and the amount due goes down by it. A credit
// that would take the credited sum beyond inv's total is ErrOverCredit,
// with inv unchanged.
func Credit(inv, cn *Invoice) error {
	cur, err := money.ParseCurrency(inv.Currency)
	if err != nil {
		return err
	}
	if cn.Currency != inv.Currency {
		return fmt.Errorf("credit note in %s for an invoice in %s", cn.Currency, inv.Currency)
	}
	remaining, err := Uncredited(inv)
	if err != nil {
		return err
	}
	amount, err := money.ParseAmount(cn.Total, cur)
	if err != nil {
		return fmt.Errorf("credit note total: %w", err)
	}
	if amount > remaining {
		return fmt.Errorf("%w: %s left, the credit note is %s", ErrOverCredit,
			money.Format(remaining, cur.Digits), money.Format(amount, cur.Digits))
	}
	total, _ := money.ParseAmount(inv.Total, cur)
	inv.AmountCredited = money.Format(total-remaining+amount, cur.Digits)
	inv.CreditNotes = append(inv.CreditNotes, cn.ID)
	return Compute(inv)
}

// Uncredited returns, in minor units, how much of inv's total credit notes
// may still credit. inv must have been through Compute.
func Uncredited(inv *Invoice) (int64, error) {
	cur, err := money.ParseCurrency(inv.Currency)
	if err != nil {
		return 0, err
	}
	total, err := money.ParseAmount(inv.Total, cur)
	if err != nil {
		return 0, fmt.Errorf("total: %w", err)
	}
	credited := int64(0)
	if inv.AmountCredited != "" {
		if credited, err = money.ParseAmount(inv.AmountCredited, cur); err != nil {
			return 0, fmt.Errorf("amountCredited: %w", err)
		}
	}
	return total - credited, nil
}

// LineTaxes returns each line's share of the invoice's VAT, in minor units
// and in line order. Compute taxes the sum of a category and rate's lines,
// so the shares of its lines add up to exactly its VAT, and all of them to
// TaxTotal (for an invoice without document level allowances or charges,
// which change a breakdown's VAT but belong to no line): each line gets
// its exact share (net × rate) rounded down, and the units left over go
// one each to the lines with the largest remainders, the earlier line
// first on a tie. A share is never a whole unit away from the exact one.
// inv must have been through Compute.
func LineTaxes(inv *Invoice) ([]int64, error) {
	cur, err := money.ParseCurrency(inv.Currency)
	if err != nil {
		return nil, err
	}
	// Shares are in the units Compute rounds VAT to: step minor units.
	step := pow10(cur.Digits - AmountDigits(cur))
	type share struct {
		line  int
		floor int64
		rest  *big.Rat // exact share less floor, in [0, 1)
	}
	hundred := big.NewRat(100, 1)
	byKey := map[taxKey][]share{}
	exactByKey := map[taxKey]*big.Rat{}
	var order []taxKey
	for i, l := range inv.Lines {
		net, err := money.ParseAmount(l.Amount, cur)
		if err != nil {
			return nil, fmt.Errorf("lines[%d].amount: %w", i, err)
		}
		rate, err := money.ParseDecimal(l.TaxRate, RateScale)
		if err != nil {
			return nil, fmt.Errorf("lines[%d].taxRate: %w", i, err)
		}
		exact := new(big.Rat).Quo(new(big.Rat).Mul(big.NewRat(net, step), rate), hundred)
		// big.Int.Div is Euclidean: with a positive denominator it rounds
		// down, negative shares included.
		floor := new(big.Int).Div(exact.Num(), exact.Denom())
		rest := new(big.Rat).Sub(exact, new(big.Rat).SetInt(floor))
		key := taxKey{Category(l.TaxCategory, l.TaxRate), money.FormatRat(rate, RateScale)}
		if _, ok := exactByKey[key]; !ok {
			exactByKey[key] = new(big.Rat)
			order = append(order, key)
		}
		exactByKey[key].Add(exactByKey[key], exact)
		byKey[key] = append(byKey[key], share{line: i, floor: floor.Int64(), rest: rest})
	}
	out := make([]int64, len(inv.Lines))
	for _, key := range order {
		shares := byKey[key]
		left := money.RoundHalfUp(exactByKey[key], 0)
		for _, s := range shares {
			out[s.line] = s.floor
			left -= s.floor
		}
		sort.SliceStable(shares, func(i, j int) bool { return shares[i].rest.Cmp(shares[j].rest) > 0 })
		for i := 0; i < len(shares) && left > 0; i++ {
			out[shares[i].line]++
			left--
		}
	}
	for i := range out {
		out[i] *= step
	}
	return out, nil
}
