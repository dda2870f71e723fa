package invoice

import (
	"errors"
	"fmt"
	"math/big"
	"net/mail"
	"regexp"
	"slices"
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
		checkPercent(fe, p+"taxRate", l.TaxRate)
		if l.DiscountRate != "" {
			checkPercent(fe, p+"discountRate", l.DiscountRate)
		}
	}
	checkEInvoice(fe, inv, cur, curErr == nil)
	if inv.AmountPaid != "" && curErr == nil {
		if v, err := money.ParseAmount(inv.AmountPaid, cur); err != nil {
			fe["amountPaid"] = err.Error()
		} else if v < 0 {
			fe["amountPaid"] = "must not be negative"
		} else if step := pow10(cur.Digits - AmountDigits(cur)); v%step != 0 {
			fe["amountPaid"] = fmt.Sprintf("must be in hundredths, as every amount of a %s invoice is computed (EN 16931 allows two decimals)", cur.Code)
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

// checkEInvoice checks what EN 16931 adds to an invoice: VAT categories
// and their exemption reasons, document level allowances and charges,
// references, delivery, the VAT accounting currency, electronic addresses
// and the profile.
func checkEInvoice(fe FieldErrors, inv *Invoice, cur money.Currency, curOK bool) {
	text := func(field, s string, max int) {
		if err := CheckText(s, max, false); err != nil {
			fe[field] = err.Error()
		}
	}
	date := func(field, s string) (time.Time, bool) {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			fe[field] = "must be a date like 2026-11-21"
			return d, false
		}
		return d, true
	}
	if inv.Profile != "" && !ValidProfile(inv.Profile) {
		fe["profile"] = "must be one of " + strings.Join(Profiles, ", ")
	}
	text("orderReference", inv.OrderReference, maxShortLen)
	text("contractReference", inv.ContractReference, maxShortLen)
	if p := inv.Period; p != nil {
		start, okS := date("period.start", p.Start)
		end, okE := date("period.end", p.End)
		if okS && okE && end.Before(start) {
			fe["period.end"] = "must not be before period.start"
		}
	}
	if d := inv.Delivery; d != nil {
		if d.Date != "" {
			date("delivery.date", d.Date)
		}
		text("delivery.partyName", d.PartyName, maxShortLen)
		if d.Address != nil {
			checkAddress(fe, "delivery.address", *d.Address)
		}
	}
	checkEndpoint(fe, "customer.endpoint", inv.Customer.Endpoint)
	if inv.TaxCurrency != "" {
		if _, err := money.ParseCurrency(inv.TaxCurrency); err != nil {
			fe["taxCurrency"] = fmt.Sprintf("%q is not a known ISO 4217 currency code", inv.TaxCurrency)
		} else if inv.TaxCurrency == inv.Currency {
			fe["taxCurrency"] = "is the invoice's currency: leave it out"
		}
		if r, err := money.ParseDecimal(inv.TaxExchangeRate, ExchangeRateScale); err != nil {
			fe["taxExchangeRate"] = "is required with taxCurrency: how many " + inv.TaxCurrency + " one " + inv.Currency + " is, e.g. 4.9746"
		} else if r.Sign() <= 0 {
			fe["taxExchangeRate"] = "must be greater than 0"
		}
	} else if inv.TaxExchangeRate != "" {
		fe["taxExchangeRate"] = "is only for an invoice with a taxCurrency"
	}

	// VAT categories: what each needs, and one exemption reason per
	// category.
	type origin struct{ field, reason, code string }
	first := map[string]origin{}
	var outOfScope, other string
	category := func(p, given, rate, reason, code string) {
		if given != "" && !validCategory(given) {
			fe[p+"taxCategory"] = "must be one of " + strings.Join(Categories, ", ")
			return
		}
		cat := Category(given, rate)
		if cat == CategoryOutOfScope {
			outOfScope = p
		} else {
			other = p
		}
		if r, err := money.ParseDecimal(rate, RateScale); err == nil {
			switch {
			case cat == CategoryStandard && r.Sign() == 0:
				fe[p+"taxRate"] = "must be above 0 for category S (standard rate); use Z, E, AE, K, G or O for a line without VAT"
			case ZeroRated(cat) && r.Sign() != 0:
				fe[p+"taxRate"] = fmt.Sprintf("must be 0 for category %s, which charges no VAT", cat)
			}
		}
		text(p+"taxExemptionReason", reason, 500)
		if code != "" && !vatexPattern.MatchString(code) {
			fe[p+"taxExemptionCode"] = "must be a VATEX code such as VATEX-EU-AE or VATEX-EU-132-1A"
		}
		if !NeedsExemptionReason(cat) {
			if reason != "" || code != "" {
				fe[p+"taxExemptionReason"] = "is only for categories E, AE, K, G and O, which charge no VAT"
			}
			return
		}
		if strings.TrimSpace(reason) == "" && code == "" {
			fe[p+"taxExemptionReason"] = fmt.Sprintf("is required for category %s (%s): say why no VAT is charged, or give taxExemptionCode", cat, categoryNames[cat])
			return
		}
		if o, ok := first[cat]; ok && (o.reason != reason || o.code != code) {
			fe[p+"taxExemptionReason"] = fmt.Sprintf("differs from %staxExemptionReason/taxExemptionCode: the lines of category %s share one reason", o.field, cat)
			return
		} else if !ok {
			first[cat] = origin{p, reason, code}
		}
	}
	for i, l := range inv.Lines {
		category(fmt.Sprintf("lines[%d].", i), l.TaxCategory, l.TaxRate, l.TaxExemptionReason, l.TaxExemptionCode)
	}
	for _, side := range []struct {
		field string
		acs   []AllowanceCharge
	}{{"allowances", inv.Allowances}, {"charges", inv.Charges}} {
		if len(side.acs) > 100 {
			fe[side.field] = fmt.Sprintf("has %d entries, the limit is 100", len(side.acs))
			continue
		}
		for i, ac := range side.acs {
			p := fmt.Sprintf("%s[%d].", side.field, i)
			text(p+"reason", ac.Reason, maxShortLen)
			switch {
			case strings.TrimSpace(ac.Reason) == "" && ac.ReasonCode == "":
				fe[p+"reason"] = "is required, or reasonCode"
			case ac.ReasonCode != "" && side.field == "allowances" && !allowanceCodePattern.MatchString(ac.ReasonCode):
				fe[p+"reasonCode"] = "must be an UNTDID 5189 allowance code such as 95 (discount)"
			case ac.ReasonCode != "" && side.field == "charges" && !chargeCodePattern.MatchString(ac.ReasonCode):
				fe[p+"reasonCode"] = "must be an UNTDID 7161 charge code such as FC (freight)"
			}
			switch {
			case ac.Amount != "" && ac.Rate != "":
				fe[p+"amount"] = "give amount or rate, not both"
			case ac.Rate != "":
				if r, err := money.ParseDecimal(ac.Rate, RateScale); err != nil {
					fe[p+"rate"] = err.Error()
				} else if r.Sign() <= 0 || r.Cmp(big.NewRat(100, 1)) > 0 {
					fe[p+"rate"] = "must be a percentage above 0, at most 100"
				}
				if ac.Base != "" && curOK {
					if v, err := money.ParseAmount(ac.Base, cur); err != nil {
						fe[p+"base"] = err.Error()
					} else if v <= 0 {
						fe[p+"base"] = "must be greater than 0"
					}
				}
			case ac.Amount == "":
				fe[p+"amount"] = "is required, or rate"
			case curOK:
				if v, err := money.ParseAmount(ac.Amount, cur); err != nil {
					fe[p+"amount"] = err.Error()
				} else if v <= 0 {
					fe[p+"amount"] = "must be greater than 0"
				}
			}
			if ac.Rate == "" && ac.Base != "" {
				fe[p+"base"] = "is only for an allowance or charge given as a rate"
			}
			if ac.TaxRate == "" {
				fe[p+"taxRate"] = "is required"
			} else if checkPercent(fe, p+"taxRate", ac.TaxRate) {
				category(p, ac.TaxCategory, ac.TaxRate, "", "")
				// An allowance or charge takes its category's
				// exemption reason from the lines.
				if cat := Category(ac.TaxCategory, ac.TaxRate); NeedsExemptionReason(cat) {
					delete(fe, p+"taxExemptionReason")
					if _, ok := first[cat]; !ok {
						fe[p+"taxCategory"] = fmt.Sprintf("no line has category %s: an allowance or charge takes its exemption reason from the lines of its category", cat)
					}
				}
			}
		}
	}
	if outOfScope != "" && other != "" {
		fe[other+"taxCategory"] = fmt.Sprintf("an invoice with category O (not subject to VAT), as %staxCategory, has no other category", outOfScope)
	}
	if _, ok := first[CategoryReverseCharge]; ok && strings.TrimSpace(inv.Customer.VATID) == "" {
		fe["customer.vatId"] = "is required for reverse charge (category AE): the buyer accounts for the VAT"
	}
	if _, ok := first[CategoryIntraCommunity]; ok {
		if strings.TrimSpace(inv.Customer.VATID) == "" {
			fe["customer.vatId"] = "is required for an intra-community supply (category K)"
		}
		if (inv.Delivery == nil || inv.Delivery.Date == "") && inv.Period == nil {
			fe["delivery.date"] = "is required for an intra-community supply (category K), or period"
		}
	}
}

// checkPercent records in fe under field what is wrong with s as a
// percentage from 0 to 100, and reports whether it is one.
func checkPercent(fe FieldErrors, field, s string) bool {
	v, err := money.ParseDecimal(s, RateScale)
	switch {
	case err != nil:
		fe[field] = err.Error()
	case v.Sign() < 0 || v.Cmp(big.NewRat(100, 1)) > 0:
		fe[field] = "must be a percentage between 0 and 100"
	default:
		return true
	}
	return false
}

// checkEndpoint checks an electronic address: a scheme of the EAS code
// list and an id.
func checkEndpoint(fe FieldErrors, field string, e *Endpoint) {
	if e == nil {
		return
	}
	if !ValidEndpointScheme(e.Scheme) {
		fe[field+".scheme"] = "must be a code of the Electronic Address Scheme list, such as 0088 (GLN), 0208 (Belgian enterprise number), 9930 (German VAT number) or EM (email)"
	}
	switch {
	case strings.TrimSpace(e.ID) == "":
		fe[field+".id"] = "is required"
	case e.Scheme == "EM":
		if err := CheckEmail(e.ID); err != nil {
			fe[field+".id"] = err.Error()
		}
	default:
		if err := CheckText(e.ID, 100, false); err != nil {
			fe[field+".id"] = err.Error()
		} else if strings.ContainsAny(e.ID, " ") {
			fe[field+".id"] = "must not contain spaces"
		}
	}
}

// CheckEndpoint returns what is wrong with e, keyed by field ("scheme",
// "id"), or nil; for the seller's electronic address in the tenant's
// settings.
func CheckEndpoint(e *Endpoint) FieldErrors {
	fe := FieldErrors{}
	checkEndpoint(fe, "endpoint", e)
	if len(fe) == 0 {
		return nil
	}
	out := FieldErrors{}
	for k, v := range fe {
		out[strings.TrimPrefix(k, "endpoint.")] = v
	}
	return out
}

// easSchemes are the codes of the CEF Electronic Address Scheme code list
// (the ones Peppol BIS 3.0 accepts), and EM.
var easSchemes = strings.Fields(`0002 0007 0009 0060 0088 0096 0097 0106 0130 0135 0142 0151 0158 0183 0184
	0188 0190 0191 0192 0195 0196 0198 0199 0200 0201 0204 0208 0209 0210 0211 0216 0218 0221 0225 0230 0235
	0240 0242 0244 0245 0246 0248 9910 9913 9914 9915 9918 9919 9920 9922 9923 9924 9925 9926 9927 9928 9929
	9930 9931 9932 9933 9934 9935 9936 9937 9938 9939 9940 9941 9942 9943 9944 9945 9946 9947 9948 9949 9950
	9951 9952 9953 9957 9959 EM`)

// ValidEndpointScheme reports whether s is an Electronic Address Scheme
// code.
func ValidEndpointScheme(s string) bool { return slices.Contains(easSchemes, s) }

var (
	vatexPattern         = regexp.MustCompile(`^VATEX-[A-Z]{2}(-[A-Z0-9]+)+$`)
	allowanceCodePattern = regexp.MustCompile(`^[0-9]{2,3}$`)
	chargeCodePattern    = regexp.MustCompile(`^[A-Z]{1,3}$`)
	categoryNames        = map[string]string{
		CategoryExempt: "exempt", CategoryReverseCharge: "reverse charge",
		CategoryIntraCommunity: "intra-community supply", CategoryExport: "export outside the EU",
		CategoryOutOfScope: "not subject to VAT",
	}
)

func validCategory(c string) bool { return slices.Contains(Categories, c) }

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
