package qr

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/invoiced/invoiced/money"
)

// EPCMaxBytes is the most an EPC QR code may hold: what a version 13 code
// at error-correction level M carries.
const EPCMaxBytes = 331

// ErrInvalidIBAN is returned for an IBAN that is malformed or whose check
// digits do not match.
var ErrInvalidIBAN = errors.New("qr: invalid IBAN")

// eur is the currency of EPC and, with CHF, of Swiss QR-bill amounts.
var eur = money.Currency{Code: "EUR", Digits: 2}

// maxTransferAmount is the largest amount, in cents, that both EPC and
// Swiss QR codes accept: 999,999,999.99.
const maxTransferAmount = 99999999999

// EPCPayload returns the content of an EPC QR code (European Payments
// Council, EPC069-12 version 002, UTF-8) for a SEPA credit transfer in
// euros of amountDue, a decimal string such as "1190.5", to the account
// iban of name, with remittance as the unstructured remittance
// information. bic may be empty, as version 002 allows. Spaces in iban
// and bic are dropped and both are upper-cased.
//
// It fails for an empty or too long name (70 characters) or remittance
// (140), an IBAN whose check digits are wrong, a BIC that is not 8 or 11
// letters and digits, an amount outside 0.01–999999999.99 or with more
// than two decimals, a field with a line break, and a payload over
// EPCMaxBytes.
func EPCPayload(name, iban, bic, amountDue, remittance string) (string, error) {
	name = strings.TrimSpace(name)
	remittance = strings.TrimSpace(remittance)
	if err := checkField("beneficiary name", name, 70, true); err != nil {
		return "", err
	}
	if err := checkField("remittance information", remittance, 140, false); err != nil {
		return "", err
	}
	iban, err := NormalizeIBAN(iban)
	if err != nil {
		return "", err
	}
	bic = compact(bic)
	if bic != "" && !validBIC(bic) {
		return "", fmt.Errorf("qr: BIC %q is not 8 or 11 letters and digits", bic)
	}
	amount, err := transferAmount(amountDue)
	if err != nil {
		return "", err
	}
	if amount == "" {
		return "", errors.New("qr: an EPC QR code needs an amount")
	}
	lines := []string{
		"BCD", "002", "1", "SCT", bic, name, iban, "EUR" + amount,
		"", // purpose
		"", // structured creditor reference
		remittance,
	}
	payload := strings.Join(lines, "\n")
	if len(payload) > EPCMaxBytes {
		return "", fmt.Errorf("qr: EPC payload is %d bytes, more than %d", len(payload), EPCMaxBytes)
	}
	return payload, nil
}

// transferAmount formats a decimal string with two decimals for a payment
// code, or returns "" for an empty one. Zero, negative and too large
// amounts are refused.
func transferAmount(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	cents, err := money.ParseAmount(s, eur)
	if err != nil {
		return "", fmt.Errorf("qr: amount: %w", err)
	}
	if cents <= 0 || cents > maxTransferAmount {
		return "", fmt.Errorf("qr: amount %s is outside 0.01–999999999.99", s)
	}
	return money.Format(cents, eur.Digits), nil
}

// checkField refuses a field longer than max characters, with a line
// break, or empty when required.
func checkField(what, s string, max int, required bool) error {
	switch {
	case required && s == "":
		return fmt.Errorf("qr: %s is empty", what)
	case utf8.RuneCountInString(s) > max:
		return fmt.Errorf("qr: %s is longer than %d characters", what, max)
	case strings.ContainsAny(s, "\r\n"):
		return fmt.Errorf("qr: %s has a line break", what)
	}
	return nil
}

// compact drops the spaces from s and upper-cases it. An IBAN or BIC
// already in that form, as most are stored, is returned as it is.
func compact(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7F || ('a' <= c && c <= 'z') {
			return strings.ToUpper(strings.Join(strings.Fields(s), ""))
		}
	}
	return s
}

// NormalizeIBAN drops the spaces from iban, upper-cases it and returns it
// when its check digits are right (ISO 13616, mod 97); otherwise it
// returns an error wrapping ErrInvalidIBAN. It does not know each
// country's length, only the 15–34 characters every IBAN has.
func NormalizeIBAN(iban string) (string, error) {
	iban = compact(iban)
	if len(iban) < 15 || len(iban) > 34 {
		return "", fmt.Errorf("%w: %d characters", ErrInvalidIBAN, len(iban))
	}
	// The remainder mod 97 of the number the IBAN spells, its first four
	// characters moved to the end and each letter written as two digits
	// (A = 10 … Z = 35), taken a digit or a letter at a time.
	rem := 0
	for i, c := range iban[4:] + iban[:4] {
		pos := (i + 4) % len(iban)
		switch {
		case c >= '0' && c <= '9' && !(pos < 2):
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z' && !(pos >= 2 && pos < 4):
			rem = (rem*100 + int(c-'A'+10)) % 97
		default:
			return "", fmt.Errorf("%w: unexpected %q", ErrInvalidIBAN, c)
		}
	}
	if rem != 1 {
		return "", fmt.Errorf("%w: check digits do not match", ErrInvalidIBAN)
	}
	return iban, nil
}

// validBIC reports whether bic is 8 or 11 letters and digits with letters
// where the bank and country codes go.
func validBIC(bic string) bool {
	if len(bic) != 8 && len(bic) != 11 {
		return false
	}
	for i, c := range bic {
		letter := c >= 'A' && c <= 'Z'
		if !letter && !(c >= '0' && c <= '9') || i < 6 && !letter {
			return false
		}
	}
	return true
}
