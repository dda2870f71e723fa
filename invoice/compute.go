package invoice

import (
	"errors"
	"fmt"
	"math/big"
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
// amount, the VAT breakdown and the totals. A line's net is quantity × unit
// price less its discount, rounded half-up to the minor unit. VAT is computed
// per rate on the sum of that rate's line nets and rounded half-up
// (EN 16931 BR-CO-17), so the invoice's VAT never drifts from the sum of
// per-line roundings. Inputs are expected to have passed Validate; a parse
// error is still returned rather than ignored.
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
	for i := range inv.Lines {
		inv.Lines[i].Amount = money.Format(t.nets[i], t.cur.Digits)
		inv.Lines[i].Discount = money.Format(t.discounts[i], t.cur.Digits)
	}
	inv.Taxes = t.taxes
	inv.Subtotal = money.Format(t.subtotal, t.cur.Digits)
	inv.DiscountTotal = money.Format(t.discountTotal, t.cur.Digits)
	inv.TaxTotal = money.Format(t.taxTotal, t.cur.Digits)
	inv.Total = money.Format(t.total, t.cur.Digits)
	inv.AmountPaid = money.Format(t.paid, t.cur.Digits)
	if inv.AmountCredited != "" {
		inv.AmountCredited = money.Format(t.credited, t.cur.Digits)
	}
	due := t.total - t.paid - t.credited
	if t.credited > 0 && due < 0 {
		// Credited after it was paid: the credit is the seller's to
		// refund, not a negative amount the customer owes.
		due = 0
	}
	inv.AmountDue = money.Format(due, t.cur.Digits)
	return nil
}

// totals are an invoice's computed amounts in minor units of cur.
type totals struct {
	cur                                      money.Currency
	nets, discounts                          []int64
	taxes                                    []TaxSummary
	subtotal, discountTotal, taxTotal, total int64
	paid, credited                           int64
}

// compute works out inv's totals without changing it; see Compute.
func compute(inv *Invoice) (*totals, error) {
	cur, err := money.ParseCurrency(inv.Currency)
	if err != nil {
		return nil, err
	}
	t := &totals{cur: cur, nets: make([]int64, len(inv.Lines)), discounts: make([]int64, len(inv.Lines))}
	hundred := big.NewRat(100, 1)
	tooLarge := FieldErrors{}
	// Every line's gross is at most MaxMinor, but enough of them add up
	// to more than an int64 holds.
	gross := new(big.Int)
	baseByRate := map[string]int64{}
	rates := map[string]*big.Rat{}
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
		rate, err := money.ParseDecimal(l.TaxRate, RateScale)
		if err != nil {
			return nil, fmt.Errorf("lines[%d].taxRate: %w", i, err)
		}
		exact := new(big.Rat).Mul(qty, price)
		lineGross, err := money.Minor(exact, cur)
		if err != nil {
			tooLarge[fmt.Sprintf("lines[%d]", i)] = fmt.Sprintf("quantity × unitPrice is %s, more than the largest amount, %s",
				exact.FloatString(cur.Digits), cur.Max())
			continue
		}
		gross.Add(gross, big.NewInt(lineGross))
		// A discount of 0–100 % keeps the net within the gross.
		keep := new(big.Rat).Sub(hundred, disc)
		net := money.RoundHalfUp(new(big.Rat).Quo(new(big.Rat).Mul(exact, keep), hundred), cur.Digits)
		t.nets[i], t.discounts[i] = net, lineGross-net
		key := money.FormatRat(rate, RateScale)
		baseByRate[key] += net
		rates[key] = rate
	}
	if len(tooLarge) > 0 {
		return nil, tooLarge
	}
	if gross.CmpAbs(big.NewInt(money.MaxMinor)) > 0 {
		return nil, FieldErrors{"lines": fmt.Sprintf("the lines add up to %s (quantity × unitPrice, before discounts), more than the largest amount, %s",
			formatBig(gross, cur.Digits), cur.Max())}
	}
	// From here on every sum is at most the lines' gross, and the total
	// at most twice it: none comes near the end of an int64.
	for i := range inv.Lines {
		t.subtotal += t.nets[i]
		t.discountTotal += t.discounts[i]
	}

	keys := make([]string, 0, len(rates))
	for k := range rates {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return rates[keys[i]].Cmp(rates[keys[j]]) > 0 })

	t.taxes = []TaxSummary{}
	for _, k := range keys {
		base := baseByRate[k]
		baseRat := new(big.Rat).SetFrac(big.NewInt(base), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(cur.Digits)), nil))
		tax := money.RoundHalfUp(new(big.Rat).Quo(new(big.Rat).Mul(baseRat, rates[k]), hundred), cur.Digits)
		t.taxTotal += tax
		t.taxes = append(t.taxes, TaxSummary{
			Rate:   k,
			Base:   money.Format(base, cur.Digits),
			Amount: money.Format(tax, cur.Digits),
		})
	}
	t.total = t.subtotal + t.taxTotal
	if t.total > money.MaxMinor || t.total < -money.MaxMinor {
		return nil, FieldErrors{"total": fmt.Sprintf("is %s with VAT, more than the largest amount, %s",
			money.Format(t.total, cur.Digits), cur.Max())}
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
// and in line order. Compute taxes the sum of a rate's lines, so the shares
// of a rate's lines add up to exactly that rate's VAT, and all of them to
// TaxTotal: each line gets its exact share (net × rate) rounded down, and
// the minor units left over go one each to the lines with the largest
// remainders, the earlier line first on a tie. A share is never a whole
// minor unit away from the exact one. inv must have been through Compute.
func LineTaxes(inv *Invoice) ([]int64, error) {
	cur, err := money.ParseCurrency(inv.Currency)
	if err != nil {
		return nil, err
	}
	type share struct {
		line  int
		floor int64
		rest  *big.Rat // exact share less floor, in [0, 1)
	}
	hundred := big.NewRat(100, 1)
	byRate := map[string][]share{}
	exactByRate := map[string]*big.Rat{}
	var order []string
	for i, l := range inv.Lines {
		net, err := money.ParseAmount(l.Amount, cur)
		if err != nil {
			return nil, fmt.Errorf("lines[%d].amount: %w", i, err)
		}
		rate, err := money.ParseDecimal(l.TaxRate, RateScale)
		if err != nil {
			return nil, fmt.Errorf("lines[%d].taxRate: %w", i, err)
		}
		exact := new(big.Rat).Quo(new(big.Rat).Mul(big.NewRat(net, 1), rate), hundred)
		// big.Int.Div is Euclidean: with a positive denominator it rounds
		// down, negative shares included.
		floor := new(big.Int).Div(exact.Num(), exact.Denom())
		rest := new(big.Rat).Sub(exact, new(big.Rat).SetInt(floor))
		key := money.FormatRat(rate, RateScale)
		if _, ok := exactByRate[key]; !ok {
			exactByRate[key] = new(big.Rat)
			order = append(order, key)
		}
		exactByRate[key].Add(exactByRate[key], exact)
		byRate[key] = append(byRate[key], share{line: i, floor: floor.Int64(), rest: rest})
	}
	out := make([]int64, len(inv.Lines))
	for _, key := range order {
		shares := byRate[key]
		left := money.RoundHalfUp(exactByRate[key], 0)
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
	return out, nil
}
