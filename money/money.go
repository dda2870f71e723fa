// Package money parses, rounds and prints exact decimal amounts. Amounts
// travel as decimal strings in major units ("12.50") and are held as integer
// counts of the currency's minor unit; arithmetic that needs more precision
// (quantity × unit price × rate) is done with big.Rat and rounded once.
package money

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"golang.org/x/text/currency"
)

// Currency is an ISO 4217 currency with the number of digits of its minor
// unit: 2 for EUR, 0 for JPY, 3 for BHD.
type Currency struct {
	Code   string
	Digits int
}

// ErrUnknownCurrency is returned by ParseCurrency for a code that is not an
// active ISO 4217 currency.
var ErrUnknownCurrency = errors.New("unknown currency")

// ParseCurrency looks up an upper-case ISO 4217 code. The codes for "no
// currency" (XXX) and testing (XTS) are refused. The common currencies
// are answered without a search of the ISO table, which every amount
// printed and every invoice computed asks for (TestCommonCurrencies holds
// them to it).
func ParseCurrency(code string) (Currency, error) {
	switch code {
	case "EUR", "USD", "GBP", "RON", "CHF", "PLN", "CZK", "SEK", "NOK", "DKK", "HUF", "BGN", "CAD", "AUD", "INR":
		return Currency{Code: code, Digits: 2}, nil
	case "JPY", "KRW":
		return Currency{Code: code, Digits: 0}, nil
	}
	return parseISO(code)
}

// parseISO is ParseCurrency through the ISO table, for any code.
func parseISO(code string) (Currency, error) {
	if len(code) != 3 || strings.ToUpper(code) != code {
		return Currency{}, fmt.Errorf("%w %q: want a 3-letter upper-case ISO 4217 code", ErrUnknownCurrency, code)
	}
	unit, err := currency.ParseISO(code)
	if err != nil || code == "XXX" || code == "XTS" {
		return Currency{}, fmt.Errorf("%w %q", ErrUnknownCurrency, code)
	}
	scale, _ := currency.Standard.Rounding(unit)
	return Currency{Code: code, Digits: scale}, nil
}

// MaxDigits is the most digits ParseDecimal reads in a number, those after
// the point included, and so the most an amount may have in its
// currency's minor unit: MaxMinor.
const MaxDigits = 15

// MaxMinor is the largest amount, in minor units, that invoiced accepts or
// computes: MaxDigits nines. In major units (Currency.Max) that is
// 9999999999999.99 in a currency with two decimals such as EUR,
// 999999999999999 in JPY and 999999999999.999 in BHD. Amounts this large
// fit an int64 with room for thousands of them to be added up, stay exact
// when a JSON reader takes them as a double (they are below 2^53), and are
// what the UBL and PDF renderers read back with ParseAmount.
const MaxMinor int64 = 999_999_999_999_999

// ErrTooLarge is returned for a number of more than MaxDigits digits and
// an amount beyond MaxMinor.
var ErrTooLarge = errors.New("is too large")

// Max returns the largest amount of c, MaxMinor, in major units as
// Format prints it: "9999999999999.99" for EUR.
func (c Currency) Max() string { return Format(MaxMinor, c.Digits) }

// ParseDecimal parses a plain decimal string such as "10", "-3.5" or
// "0.0125" with at most maxScale fraction digits. Exponents, thousands
// separators, a leading "+" and surrounding spaces are refused.
func ParseDecimal(s string, maxScale int) (*big.Rat, error) {
	if s == "" {
		return nil, errors.New("is empty")
	}
	body := strings.TrimPrefix(s, "-")
	intPart, frac, hasDot := strings.Cut(body, ".")
	if intPart == "" || (hasDot && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		return nil, fmt.Errorf("%q is not a decimal number like 12.50", s)
	}
	if len(frac) > maxScale {
		return nil, fmt.Errorf("%q has more than %d decimal places", s, maxScale)
	}
	if len(strings.TrimLeft(intPart, "0"))+len(frac) > MaxDigits {
		return nil, fmt.Errorf("%q %w: more than %d digits", s, ErrTooLarge, MaxDigits)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%q is not a decimal number", s)
	}
	return r, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseAmount parses a major-unit decimal string into minor units of c. It
// refuses more fraction digits than the currency has, and an amount beyond
// c.Max() with an error wrapping ErrTooLarge.
func ParseAmount(s string, c Currency) (int64, error) {
	if n, ok := parseMinor(s, c.Digits); ok && -MaxMinor <= n && n <= MaxMinor {
		return n, nil
	}
	return parseAmountRat(s, c)
}

// parseAmountRat is ParseAmount through a big.Rat, for any string.
func parseAmountRat(s string, c Currency) (int64, error) {
	r, err := ParseDecimal(s, c.Digits)
	if err != nil {
		return 0, err
	}
	n := round(r, c.Digits)
	if n.CmpAbs(big.NewInt(MaxMinor)) > 0 {
		return 0, fmt.Errorf("%q %w: the largest amount is %s", s, ErrTooLarge, c.Max())
	}
	return n.Int64(), nil
}

// parseMinor is ParseAmount for a plain decimal string whose fraction
// has at most digits digits and whose minor units fit in 18 digits,
// which is exact in an int64 and needs no rounding; ok is false for any
// other string, which ParseAmount parses, or refuses, the long way.
func parseMinor(s string, digits int) (n int64, ok bool) {
	body := strings.TrimPrefix(s, "-")
	intPart, frac, hasDot := strings.Cut(body, ".")
	intPart = strings.TrimLeft(intPart, "0")
	if body == "" || body[0] == '.' || (hasDot && frac == "") || len(frac) > digits ||
		len(intPart)+digits > 18 || !allDigits(intPart) || !allDigits(frac) {
		return 0, false
	}
	for i := range len(intPart) {
		n = n*10 + int64(intPart[i]-'0')
	}
	for i := range digits {
		n *= 10
		if i < len(frac) {
			n += int64(frac[i] - '0')
		}
	}
	if len(body) < len(s) {
		n = -n
	}
	return n, true
}

// Minor rounds r half-up to the minor unit of c, as RoundHalfUp does, and
// fails with an error wrapping ErrTooLarge when the result is beyond
// c.Max(), either way. The error shows r rounded, however large.
func Minor(r *big.Rat, c Currency) (int64, error) {
	n := round(r, c.Digits)
	if n.CmpAbs(big.NewInt(MaxMinor)) > 0 {
		return 0, fmt.Errorf("%s %w: the largest amount is %s", r.FloatString(c.Digits), ErrTooLarge, c.Max())
	}
	return n.Int64(), nil
}

// RoundHalfUp rounds r to digits fraction digits, halves away from zero,
// and returns the result as an integer count of 10^-digits units. It
// panics when the result does not fit an int64 rather than return a
// wrapped amount: callers keep r in range (ParseDecimal bounds its inputs,
// Minor the amounts it computes).
func RoundHalfUp(r *big.Rat, digits int) int64 {
	n := round(r, digits)
	if !n.IsInt64() {
		panic(fmt.Sprintf("money: %s does not fit an int64 in units of 10^-%d", r.FloatString(digits), digits))
	}
	return n.Int64()
}

// round rounds r to digits fraction digits, halves away from zero, as an
// integer count of 10^-digits units.
func round(r *big.Rat, digits int) *big.Int {
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(pow10(digits)))
	num := new(big.Int).Abs(scaled.Num())
	q, rem := new(big.Int).QuoRem(num, scaled.Denom(), new(big.Int))
	if rem.Lsh(rem, 1).Cmp(scaled.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if scaled.Sign() < 0 {
		q.Neg(q)
	}
	return q
}

// Format prints minor units as a major-unit decimal string: 113050 with 2
// digits is "1130.50", with 0 digits "113050", with 3 digits "113.050".
func Format(minor int64, digits int) string {
	// The magnitude as a uint64, MinInt64's included, formed on the
	// stack with its zeros and point; the string is the one allocation.
	u := uint64(minor)
	if minor < 0 {
		u = -u
	}
	var num [20]byte
	d := strconv.AppendUint(num[:0], u, 10)
	var stack [48]byte
	b := stack[:0]
	if n := max(len(d), digits+1) + 2; n > len(stack) {
		b = make([]byte, 0, n)
	}
	if minor < 0 {
		b = append(b, '-')
	}
	if digits <= 0 {
		return string(append(b, d...))
	}
	if len(d) > digits {
		b = append(b, d[:len(d)-digits]...)
		d = d[len(d)-digits:]
	} else {
		b = append(b, '0')
	}
	b = append(b, '.')
	for range digits - len(d) {
		b = append(b, '0')
	}
	return string(append(b, d...))
}

// FormatRat prints r with the fewest fraction digits that show it exactly,
// up to maxScale (then rounded half-up): "19", "5.5", "0.0125".
func FormatRat(r *big.Rat, maxScale int) string {
	s := Format(RoundHalfUp(r, maxScale), maxScale)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}
