package invoice

import (
	"errors"
	"fmt"
	"math/big"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/invoiced/invoiced/money"
)

// FieldErrors maps a JSON field path ("lines[2].quantity") to what is wrong
// with it.
type FieldErrors map[string]string

func (fe FieldErrors) Error() string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + fe[k]
	}
	return "invalid invoice: " + strings.Join(parts, "; ")
}

// Limits on invoice content, enforced by Validate.
const (
	MaxLines          = 5000
	MaxDescriptionLen = 2000
	MaxNotesLen       = 10000
	maxShortLen       = 200
)

var (
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	languagePattern = regexp.MustCompile(`^[a-z]{2}(-[A-Z]{2})?$`)
	countryPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
)

// ValidID reports whether id may name an invoice, send or delivery: 1 to 64
// letters, digits, '_', '.', '-', starting with a letter or digit.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// ValidLanguage reports whether lang looks like "en" or "pt-BR".
func ValidLanguage(lang string) bool { return languagePattern.MatchString(lang) }

// CheckEmail returns an error unless s is one bare address such as
// "ana@example.com" (no display name, no list, no CR/LF).
func CheckEmail(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	if strings.ContainsAny(s, "\r\n") {
		return errors.New("must not contain line breaks")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return errors.New("not a valid email address")
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return errors.New("not a valid email address")
	}
	return nil
}

// MaxExternalIDLen is the longest external id a customer may have.
const MaxExternalIDLen = 64

// CheckExternalID returns an error unless s may be a customer's external
// id, the billing system's own: 1 to MaxExternalIDLen characters, no
// control characters, no spaces at either end (which would make two ids
// that look alike differ). It is compared exactly, case included.
func CheckExternalID(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	if strings.TrimSpace(s) != s {
		return errors.New("must not begin or end with spaces")
	}
	return CheckText(s, MaxExternalIDLen, false)
}

// CheckText returns an error if s is longer than max runes or holds control
// characters; multiline allows line breaks and tabs.
func CheckText(s string, max int, multiline bool) error {
	if n := len([]rune(s)); n > max {
		return fmt.Errorf("is %d characters long, the limit is %d", n, max)
	}
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\t' {
			if !multiline {
				return errors.New("must not contain line breaks or tabs")
			}
			continue
		}
		if unicode.IsControl(r) {
			return fmt.Errorf("must not contain control character %U", r)
		}
	}
	return nil
}

// Validate checks everything a client sent, and returns every problem found
// at once, keyed by field path. It does not check ID and status, which the
// caller owns. A unit price or amountPaid larger than the currency's
// largest amount (money.MaxMinor in minor units) is refused by name; once
// every field reads, what the lines add up to is held to the same limit
// as Compute holds it, naming "lines[i]", "lines" or "total".
func Validate(inv *Invoice) FieldErrors {
	fe := FieldErrors{}
	text := func(field, s string, max int, required, multiline bool) {
		if required && strings.TrimSpace(s) == "" {
			fe[field] = "is required"
			return
		}
		if err := CheckText(s, max, multiline); err != nil {
			fe[field] = err.Error()
		}
	}

	text("number", inv.Number, 64, true, false)
	cur, curErr := money.ParseCurrency(inv.Currency)
	if inv.Currency == "" {
		fe["currency"] = "is required"
	} else if curErr != nil {
		fe["currency"] = fmt.Sprintf("%q is not a known ISO 4217 currency code", inv.Currency)
	}
	issue, err := time.Parse(time.DateOnly, inv.IssueDate)
	if err != nil {
		fe["issueDate"] = "must be a date like 2026-11-21"
	}
	if inv.DueDate != "" {
		due, err := time.Parse(time.DateOnly, inv.DueDate)
		switch {
		case err != nil:
			fe["dueDate"] = "must be a date like 2026-12-21"
		case fe["issueDate"] == "" && due.Before(issue):
			fe["dueDate"] = "must not be before issueDate"
		}
	}
	if inv.Language != "" && !ValidLanguage(inv.Language) {
		fe["language"] = "must be a language code like en or ro"
	}
	text("reference", inv.Reference, maxShortLen, false, false)
	text("notes", inv.Notes, MaxNotesLen, false, true)
	text("terms", inv.Terms, MaxNotesLen, false, true)

	c := inv.Customer
	if c.ExternalID != "" {
		if err := CheckExternalID(c.ExternalID); err != nil {
			fe["customer.externalId"] = err.Error()
		}
	}
	text("customer.name", c.Name, maxShortLen, true, false)
	if c.Email != "" {
		if err := CheckEmail(c.Email); err != nil {
			fe["customer.email"] = err.Error()
		}
	}
	if c.Phone != "" {
		if _, err := NormalizePhone(c.Phone, c.Address.Country); err != nil {
			fe["customer.phone"] = err.Error()
		}
	}
	text("customer.vatId", c.VATID, 64, false, false)
	checkAddress(fe, "customer.address", c.Address)

	switch {
	case len(inv.Lines) == 0:
		fe["lines"] = "at least one line is required"
	case len(inv.Lines) > MaxLines:
		fe["lines"] = fmt.Sprintf("has %d lines, the limit is %d", len(inv.Lines), MaxLines)
	}
	hundred := big.NewRat(100, 1)
	for i, l := range inv.Lines {
		p := fmt.Sprintf("lines[%d].", i)
		text(p+"description", l.Description, MaxDescriptionLen, true, true)
		text(p+"unit", l.Unit, 32, false, false)
		if q, err := money.ParseDecimal(l.Quantity, QuantityScale); err != nil {
			fe[p+"quantity"] = err.Error()
		} else if q.Sign() <= 0 {
			fe[p+"quantity"] = "must be greater than 0"
		}
		if curErr == nil {
			if v, err := money.ParseDecimal(l.UnitPrice, cur.Digits+UnitPriceExtra); err != nil {
				fe[p+"unitPrice"] = err.Error()
			} else if v.Sign() < 0 {
				fe[p+"unitPrice"] = "must not be negative; use discountRate for discounts"
			} else if _, err := money.Minor(v, cur); err != nil {
				fe[p+"unitPrice"] = "is more than the largest amount, " + cur.Max()
			}
		}
		checkRate := func(field, s string, required bool) {
			if s == "" && !required {
				return
			}
			v, err := money.ParseDecimal(s, RateScale)
			switch {
			case err != nil:
				fe[field] = err.Error()
			case v.Sign() < 0 || v.Cmp(hundred) > 0:
				fe[field] = "must be a percentage between 0 and 100"
			}
		}
		checkRate(p+"taxRate", l.TaxRate, true)
		checkRate(p+"discountRate", l.DiscountRate, false)
	}
	if inv.AmountPaid != "" && curErr == nil {
		if v, err := money.ParseAmount(inv.AmountPaid, cur); err != nil {
			fe["amountPaid"] = err.Error()
		} else if v < 0 {
			fe["amountPaid"] = "must not be negative"
		}
	}
	if len(fe) == 0 {
		// Every amount reads: what they add up to must be in range too.
		if _, err := compute(inv); err != nil {
			var tooLarge FieldErrors
			if !errors.As(err, &tooLarge) {
				tooLarge = FieldErrors{"lines": err.Error()}
			}
			return tooLarge
		}
		return nil
	}
	return fe
}

func checkAddress(fe FieldErrors, prefix string, a Address) {
	for field, v := range map[string]string{
		"line1": a.Line1, "line2": a.Line2, "city": a.City,
		"postalCode": a.PostalCode, "region": a.Region,
	} {
		if err := CheckText(v, maxShortLen, false); err != nil {
			fe[prefix+"."+field] = err.Error()
		}
	}
	if a.Country != "" && !countryPattern.MatchString(a.Country) {
		fe[prefix+".country"] = "must be an ISO 3166-1 alpha-2 code like RO"
	}
}
