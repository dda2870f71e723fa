package qr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SwissAddress is a party of a Swiss QR-bill as a structured address
// (address type S). Street and BuildingNumber may be empty.
type SwissAddress struct {
	Name           string
	Street         string
	BuildingNumber string
	PostalCode     string
	Town           string
	// Country is an ISO 3166-1 alpha-2 code.
	Country string
}

// SwissBill is what a Swiss QR code carries.
type SwissBill struct {
	// IBAN is the creditor's CH or LI account: a QR-IBAN (institution id
	// 30000–31999), which takes a QR reference, or an ordinary IBAN,
	// which takes none.
	IBAN     string
	Creditor SwissAddress
	// Amount is a decimal string; empty leaves the amount to the payer.
	Amount string
	// Currency is "CHF" or "EUR".
	Currency string
	// Debtor is who pays; nil leaves it to the payer.
	Debtor *SwissAddress
	// Reference is the 27-digit QR reference, required with a QR-IBAN and
	// refused without one. Spaces are dropped.
	Reference string
	// Message is the unstructured message, such as the invoice number.
	Message string
}

// ErrInvalidQRReference is returned for a QR reference that is not 27
// digits with a correct check digit.
var ErrInvalidQRReference = errors.New("qr: invalid QR reference")

// SwissSideMM is the printed side of a Swiss QR code, in millimetres, and
// SwissCrossMM that of the Swiss cross in its centre.
const (
	SwissSideMM  = 46.0
	SwissCrossMM = 7.0
)

// SwissQRPayload returns the content of the Swiss QR code of b, as the
// Swiss Implementation Guidelines for the QR-bill (version 2.2 and 2.3,
// QR type SPC version 0200) define it: 31 lines separated by LF, ending
// with the trailer "EPD", without bill information or alternative
// procedures. The ultimate creditor is left empty, as the guidelines
// require. The reference type is QRR with a QR-IBAN and NON otherwise.
//
// It fails for an IBAN that is not a valid CH or LI IBAN, a currency
// other than CHF or EUR, an amount outside 0.01–999999999.99, a party
// without name, postal code, town or country, a field longer than the
// guidelines allow or with characters outside their Latin set, and a
// missing or malformed QR reference with a QR-IBAN or any reference
// without one.
func SwissQRPayload(b SwissBill) (string, error) {
	iban, err := NormalizeIBAN(b.IBAN)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(iban, "CH") && !strings.HasPrefix(iban, "LI") || len(iban) != 21 {
		return "", fmt.Errorf("%w: a Swiss QR-bill needs a CH or LI IBAN", ErrInvalidIBAN)
	}
	if b.Currency != "CHF" && b.Currency != "EUR" {
		return "", fmt.Errorf("qr: a Swiss QR-bill is in CHF or EUR, not %q", b.Currency)
	}
	amount, err := transferAmount(b.Amount)
	if err != nil {
		return "", err
	}
	creditor, err := b.Creditor.lines("creditor")
	if err != nil {
		return "", err
	}
	debtor := make([]string, 7)
	if b.Debtor != nil {
		if debtor, err = b.Debtor.lines("debtor"); err != nil {
			return "", err
		}
	}
	refType, ref := "NON", strings.Join(strings.Fields(b.Reference), "")
	switch {
	case IsQRIBAN(iban):
		if err := checkQRReference(ref); err != nil {
			return "", err
		}
		refType = "QRR"
	case ref != "":
		if err := checkCreditorReference(ref); err != nil {
			return "", fmt.Errorf("%w (an ordinary IBAN takes a creditor reference, RF…, or none)", err)
		}
		refType = "SCOR"
	}
	message := strings.TrimSpace(b.Message)
	if err := checkSwissField("message", message, 140, false); err != nil {
		return "", err
	}

	lines := []string{"SPC", "0200", "1", iban}
	lines = append(lines, creditor...)
	lines = append(lines, make([]string, 7)...) // ultimate creditor, reserved
	lines = append(lines, amount, b.Currency)
	lines = append(lines, debtor...)
	lines = append(lines, refType, ref, message, "EPD")
	return strings.Join(lines, "\n"), nil
}

// lines returns the seven address lines of a, starting with the address
// type S.
func (a SwissAddress) lines(party string) ([]string, error) {
	fields := []struct {
		what     string
		value    string
		max      int
		required bool
	}{
		{"name", a.Name, 70, true},
		{"street", a.Street, 70, false},
		{"building number", a.BuildingNumber, 16, false},
		{"postal code", a.PostalCode, 16, true},
		{"town", a.Town, 35, true},
		{"country", strings.ToUpper(a.Country), 2, true},
	}
	out := []string{"S"}
	for _, f := range fields {
		v := strings.TrimSpace(f.value)
		if err := checkSwissField(party+" "+f.what, v, f.max, f.required); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if c := out[len(out)-1]; len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return nil, fmt.Errorf("qr: %s country %q is not an ISO 3166 alpha-2 code", party, c)
	}
	return out, nil
}

// checkSwissField is checkField with the characters the guidelines
// allow: Basic Latin, Latin-1 Supplement, Latin Extended-A, Ș ș Ț ț and €.
func checkSwissField(what, s string, max int, required bool) error {
	if err := checkField(what, s, max, required); err != nil {
		return err
	}
	for _, c := range s {
		switch {
		case c >= 0x20 && c <= 0x7E, c >= 0xA0 && c <= 0x17F, c >= 0x218 && c <= 0x21B, c == '€':
		default:
			return fmt.Errorf("qr: %s has %q, which a Swiss QR-bill cannot carry", what, c)
		}
	}
	return nil
}

// IsQRIBAN reports whether iban, normalized, is a Swiss or Liechtenstein
// QR-IBAN: its institution id is 30000–31999.
func IsQRIBAN(iban string) bool {
	if len(iban) != 21 || !strings.HasPrefix(iban, "CH") && !strings.HasPrefix(iban, "LI") {
		return false
	}
	iid, err := strconv.Atoi(iban[4:9])
	return err == nil && iid >= 30000 && iid <= 31999
}

// QRReference returns the 27-digit QR reference for a number of at most
// 26 digits: the number padded with zeros on the left and its check
// digit (modulo 10, recursive). It fails for anything but 1–26 digits and
// for zero.
func QRReference(number string) (string, error) {
	if number == "" || len(number) > 26 || strings.Trim(number, "0123456789") != "" {
		return "", fmt.Errorf("%w: %q is not 1–26 digits", ErrInvalidQRReference, number)
	}
	if strings.Trim(number, "0") == "" {
		return "", fmt.Errorf("%w: zero", ErrInvalidQRReference)
	}
	body := strings.Repeat("0", 26-len(number)) + number
	return body + strconv.Itoa(mod10Recursive(body)), nil
}

// checkQRReference refuses a QR reference that is not 27 digits with the
// right check digit.
func checkQRReference(ref string) error {
	if len(ref) != 27 || strings.Trim(ref, "0123456789") != "" {
		return fmt.Errorf("%w: %q is not 27 digits", ErrInvalidQRReference, ref)
	}
	if mod10Recursive(ref[:26]) != int(ref[26]-'0') {
		return fmt.Errorf("%w: check digit of %q does not match", ErrInvalidQRReference, ref)
	}
	return nil
}

// ErrInvalidCreditorReference is returned for a creditor reference that
// is not "RF", two check digits and 1–21 letters and digits, or whose
// check digits do not match.
var ErrInvalidCreditorReference = errors.New("qr: invalid creditor reference")

// CreditorReference returns the ISO 11649 creditor reference ("RF" and
// two check digits before the reference) for the letters and digits of
// s, such as an invoice number: "INV-2026/0042" is "RF73INV20260042". It
// fails when s has none or more than 21 of them.
func CreditorReference(s string) (string, error) {
	var body strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' {
			body.WriteRune(r)
		}
	}
	if body.Len() == 0 || body.Len() > 21 {
		return "", fmt.Errorf("%w: %q has %d letters and digits, not 1–21", ErrInvalidCreditorReference, s, body.Len())
	}
	check := 98 - mod97(body.String()+"RF00")
	return fmt.Sprintf("RF%02d%s", check, body.String()), nil
}

// checkCreditorReference refuses a creditor reference that is malformed
// or whose check digits do not match.
func checkCreditorReference(ref string) error {
	if len(ref) < 5 || len(ref) > 25 || !strings.HasPrefix(ref, "RF") ||
		strings.Trim(ref[2:4], "0123456789") != "" || strings.Trim(ref[4:], "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return fmt.Errorf("%w: %q is not RF, two digits and 1–21 letters and digits", ErrInvalidCreditorReference, ref)
	}
	if mod97(ref[4:]+ref[:4]) != 1 {
		return fmt.Errorf("%w: check digits of %q do not match", ErrInvalidCreditorReference, ref)
	}
	return nil
}

// mod97 is s modulo 97 with each letter read as two digits, A as 10 to
// Z as 35, as ISO 7064 MOD 97-10 does for IBANs and creditor references.
func mod97(s string) int {
	m := 0
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			m = (m*100 + int(r-'A'+10)) % 97
		} else {
			m = (m*10 + int(r-'0')) % 97
		}
	}
	return m
}

// mod10Recursive is the check digit of the digits s, modulo 10 recursive
// as Swiss payment slips have always used.
func mod10Recursive(s string) int {
	table := [10]int{0, 9, 4, 6, 8, 2, 7, 1, 3, 5}
	carry := 0
	for i := range len(s) {
		carry = table[(carry+int(s[i]-'0'))%10]
	}
	return (10 - carry) % 10
}
