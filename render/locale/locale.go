// Package locale prints amounts, numbers, percentages and dates the way
// readers of an invoice in English, Romanian, German or French expect them:
// "€1,190.00", "1.190,00 RON", "1.190,00 €", "1 190,00 €".
//
// Inputs are the plain decimal strings invoiced stores ("1190.00", "-3.5",
// "19") and ISO dates ("2026-11-21"). Output spaces are no-break spaces, so
// an amount never breaks across lines: U+00A0 between a number and its
// currency or percent sign, and U+202F (narrow no-break space) between
// French digit groups, as French typography and CLDR ask. Any language
// other than en, ro, de and fr is printed as English.
//
// golang.org/x/text/currency puts the symbol in front in every language,
// which is wrong for German or French invoices, so the symbols and their
// placement come from a small table here instead.
package locale

import (
	"strings"
	"time"

	"github.com/invoiced/invoiced/money"
)

// The spaces used in formatted output.
const (
	// NBSP separates a number from its currency or percent sign.
	NBSP = "\u00a0"
	// NNBSP separates French digit groups.
	NNBSP = "\u202f"
)

// Default is the language used for an empty or unsupported one.
const Default = "en"

// format is how one language writes numbers and amounts.
type format struct {
	group, decimal string
	// symbolFirst puts a currency symbol before the number with no space,
	// as in "€12.00"; otherwise it follows after a no-break space.
	symbolFirst bool
	// percentSpace puts a no-break space before the percent sign.
	percentSpace bool
}

// formatOf returns the number format of lang, a language Lang returns.
func formatOf(lang string) format {
	switch lang {
	case "ro":
		return format{group: ".", decimal: ",", percentSpace: true}
	case "de":
		return format{group: ".", decimal: ",", percentSpace: true}
	case "fr":
		return format{group: NNBSP, decimal: ",", percentSpace: true}
	default:
		return format{group: ",", decimal: ".", symbolFirst: true}
	}
}

// Lang returns the supported language for a language tag: "de-AT" and
// "de_at" give "de"; an empty or unsupported tag gives Default.
func Lang(tag string) string {
	if l, ok := Match(tag); ok {
		return l
	}
	return Default
}

// Match returns the supported language for a language tag, matched by its
// primary subtag in any case ("de-AT", "DE_at" → "de"), and false when the
// tag names none of en, ro, de and fr.
func Match(tag string) (string, bool) {
	l := strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	switch l {
	case "en", "ro", "de", "fr":
		return l, true
	}
	return "", false
}

// symbol returns the sign printed for a currency, and false for a
// currency printed by its ISO code. Only signs that name one currency
// unambiguously to a European reader are listed: "$" is the US dollar,
// "¥" the yen; other dollars, the yuan and the leu print as codes.
func symbol(code string) (string, bool) {
	switch code {
	case "EUR":
		return "€", true
	case "USD":
		return "$", true
	case "GBP":
		return "£", true
	case "JPY":
		return "¥", true
	case "INR":
		return "₹", true
	case "KRW":
		return "₩", true
	case "ILS":
		return "₪", true
	case "UAH":
		return "₴", true
	case "TRY":
		return "₺", true
	case "RUB":
		return "₽", true
	case "KZT":
		return "₸", true
	case "NGN":
		return "₦", true
	case "VND":
		return "₫", true
	case "PHP":
		return "₱", true
	}
	return "", false
}

// digits returns the minor-unit digits of a currency, or -1 for a code
// that is not an ISO 4217 currency.
func digits(currency string) int {
	c, err := money.ParseCurrency(currency)
	if err != nil {
		return -1
	}
	return c.Digits
}

// Money prints a decimal amount with its currency for lang: en
// "€1,190.00", "RON 1,190.00", "-€5.00"; ro "1.190,00 RON"; de
// "1.190,00 €"; fr "1 190,00 €". The fraction is padded to the currency's
// minor unit (0 digits for JPY, 3 for BHD) and never rounded: digits
// beyond it, as in a unit price of "0.3333", are kept. A currency without
// a symbol in the table, or an unknown code, is printed as its code. Text
// that is not a decimal number is returned unchanged.
func Money(amount, currency, lang string) string {
	f := formatOf(Lang(lang))
	var numBuf, outBuf [64]byte
	num, neg, ok := appendNumber(numBuf[:0], amount, digits(currency), f)
	if !ok {
		return amount
	}
	out := outBuf[:0]
	if neg {
		out = append(out, '-')
	}
	sym, hasSymbol := symbol(currency)
	if !hasSymbol {
		sym = currency
	}
	switch {
	case sym == "":
		out = append(out, num...)
	case f.symbolFirst && hasSymbol:
		out = append(append(out, sym...), num...)
	case f.symbolFirst:
		out = append(append(append(out, sym...), NBSP...), num...)
	default:
		out = append(append(append(out, num...), NBSP...), sym...)
	}
	return string(out)
}

// Amount prints a decimal amount like Money without the currency, for
// columns whose heading names it: "1,190.00", "1.190,00", "1 190,00".
func Amount(amount, currency, lang string) string {
	var buf [64]byte
	out, ok := appendSigned(buf[:0], amount, digits(currency), formatOf(Lang(lang)))
	if !ok {
		return amount
	}
	return string(out)
}

// Number prints a decimal number with as many fraction digits as it has,
// such as a quantity: "1.5" is "1.5" in en and "1,5" in ro, de and fr;
// "12500" is "12,500", "12.500" or "12 500".
func Number(decimal, lang string) string {
	var buf [64]byte
	out, ok := appendSigned(buf[:0], decimal, -1, formatOf(Lang(lang)))
	if !ok {
		return decimal
	}
	return string(out)
}

// Percent prints a rate given in percent: "19%" in en, "19 %" (no-break
// space) in ro, de and fr, "5,5 %" in French.
func Percent(rate, lang string) string {
	f := formatOf(Lang(lang))
	var buf [64]byte
	out, ok := appendSigned(buf[:0], rate, -1, f)
	if !ok {
		out = append(out, rate...) // printed as it is, as Number does
	}
	if f.percentSpace {
		out = append(out, NBSP...)
	}
	return string(append(out, '%'))
}

// appendSigned appends s printed as appendNumber prints it, after a "-"
// when it is negative.
func appendSigned(dst []byte, s string, minDigits int, f format) ([]byte, bool) {
	var buf [64]byte
	num, neg, ok := appendNumber(buf[:0], s, minDigits, f)
	if !ok {
		return dst, false
	}
	if neg {
		dst = append(dst, '-')
	}
	return append(dst, num...), true
}

// appendNumber splits a plain decimal string ("-1190.5") and appends its
// absolute value in format f to dst, padding the fraction to minDigits
// (when not negative). ok is false for text that is not such a decimal,
// and dst is then returned as it is.
func appendNumber(dst []byte, s string, minDigits int, f format) (out []byte, neg, ok bool) {
	s = strings.TrimSpace(s)
	neg = strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") || !allDigits(whole) || !allDigits(frac) {
		return dst, false, false
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	pad := max(minDigits-len(frac), 0)
	if neg && strings.Trim(whole, "0") == "" && strings.Trim(frac, "0") == "" {
		neg = false // no "-0.00"
	}
	out = dst
	for i := range len(whole) {
		if i > 0 && (len(whole)-i)%3 == 0 {
			out = append(out, f.group...)
		}
		out = append(out, whole[i])
	}
	if frac != "" || pad > 0 {
		out = append(out, f.decimal...)
		out = append(out, frac...)
		for range pad {
			out = append(out, '0')
		}
	}
	return out, neg, true
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// monthsEN are the abbreviated English month names.
const monthsEN = "JanFebMarAprMayJunJulAugSepOctNovDec"

// Date prints an ISO date ("2026-11-21") for lang: en "21 Nov 2026", ro
// and de "21.11.2026", fr "21/11/2026". English uses day, abbreviated
// month and year so that readers on both sides of the Atlantic read it the
// same way. Text that is not an ISO date is returned unchanged.
func Date(isoDate, lang string) string {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(isoDate))
	if err != nil {
		return isoDate
	}
	switch Lang(lang) {
	case "ro", "de":
		return t.Format("02.01.2006")
	case "fr":
		return t.Format("02/01/2006")
	default:
		m := int(t.Month()) - 1
		return t.Format("2 ") + monthsEN[3*m:3*m+3] + t.Format(" 2006")
	}
}
