package pdf

import (
	"strings"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/qr"
)

// transferCode is the kind of bank-transfer QR code an invoice carries.
type transferCode int

const (
	noTransferCode transferCode = iota
	// epcTransfer is the EPC QR code of a SEPA credit transfer, printed
	// in the payment details.
	epcTransfer
	// swissTransfer is the Swiss QR-bill, printed at the foot of the last
	// page.
	swissTransfer
)

// transferCodeFor picks the bank-transfer QR code for an invoice payable
// into bank: none for a paid or void invoice, nothing left to pay or an
// IBAN with wrong check digits; the Swiss QR-bill for CHF into a CH or LI
// account, and for EUR into a Swiss QR-IBAN, which SEPA cannot reach; the
// EPC QR code for any other EUR invoice.
func transferCodeFor(inv *invoice.Invoice, bank invoice.BankAccount) transferCode {
	if inv.Status == invoice.StatusPaid || inv.Status == invoice.StatusVoid ||
		isZero(inv.AmountDue) || strings.HasPrefix(inv.AmountDue, "-") {
		return noTransferCode
	}
	iban, err := qr.NormalizeIBAN(bank.IBAN)
	if err != nil {
		return noTransferCode
	}
	swiss := strings.HasPrefix(iban, "CH") || strings.HasPrefix(iban, "LI")
	switch {
	case swiss && (inv.Currency == "CHF" || inv.Currency == "EUR" && qr.IsQRIBAN(iban)):
		return swissTransfer
	case inv.Currency == "EUR":
		return epcTransfer
	}
	return noTransferCode
}

// beneficiary is who a transfer is paid to: the account holder, else the
// seller, cut to the 70 characters that both QR codes allow.
func (w *writer) beneficiary() string {
	name := strings.TrimSpace(w.doc.Bank.Holder)
	if name == "" {
		name = strings.TrimSpace(w.doc.Seller.Name)
	}
	return truncate(name, 70)
}

// epcCode returns the EPC QR code of the invoice and its content, or nil
// when the invoice takes none. A code that cannot be made, such as for an
// amount over 999,999,999.99, is left out with a warning.
func (w *writer) epcCode() (*qr.Code, string) {
	if transferCodeFor(w.inv, w.doc.Bank) != epcTransfer {
		return nil, ""
	}
	bank := w.doc.Bank
	payload, err := qr.EPCPayload(w.beneficiary(), bank.IBAN, bank.BIC, w.inv.AmountDue, w.inv.Number)
	if err != nil {
		w.r.logger.Warn("pdf: EPC QR code left out", zap.String("invoice_id", w.inv.ID), zap.Error(err))
		return nil, ""
	}
	code, err := qr.Encode(payload)
	if err != nil {
		w.r.logger.Warn("pdf: EPC QR code left out", zap.String("invoice_id", w.inv.ID), zap.Error(err))
		return nil, ""
	}
	return code, payload
}

// swissBill returns what the Swiss QR-bill of the invoice carries, or
// false when the invoice takes none. With a QR-IBAN the QR reference is
// made of the invoice number's digits. A customer whose address does not
// fit the bill is left for the payer to write in; a bill that cannot be
// made at all is left out with a warning.
func (w *writer) swissBill() (qr.SwissBill, bool) {
	if transferCodeFor(w.inv, w.doc.Bank) != swissTransfer {
		return qr.SwissBill{}, false
	}
	warn := func(err error) (qr.SwissBill, bool) {
		w.r.logger.Warn("pdf: Swiss QR-bill left out", zap.String("invoice_id", w.inv.ID), zap.Error(err))
		return qr.SwissBill{}, false
	}
	s, c := w.doc.Seller.Address, w.inv.Customer
	b := qr.SwissBill{
		IBAN: w.doc.Bank.IBAN,
		Creditor: qr.SwissAddress{
			Name: w.beneficiary(), Street: s.Line1, PostalCode: s.PostalCode, Town: s.City, Country: s.Country,
		},
		Amount:   w.inv.AmountDue,
		Currency: w.inv.Currency,
		Debtor: &qr.SwissAddress{
			Name: truncate(c.Name, 70), Street: c.Address.Line1, PostalCode: c.Address.PostalCode,
			Town: c.Address.City, Country: c.Address.Country,
		},
		Message: w.inv.Number,
	}
	if iban, _ := qr.NormalizeIBAN(b.IBAN); qr.IsQRIBAN(iban) {
		ref, err := qr.QRReference(digits(w.inv.Number))
		if err != nil {
			return warn(err)
		}
		b.Reference = ref
	} else if ref, err := qr.CreditorReference(w.inv.Number); err == nil {
		// An ordinary IBAN takes a creditor reference, which the payer's
		// bank passes on so that the payment is matched to the invoice;
		// an invoice number that cannot be one travels as the message.
		b.Reference = ref
	}
	if _, err := qr.SwissQRPayload(b); err != nil {
		b.Debtor = nil
		if _, err2 := qr.SwissQRPayload(b); err2 != nil {
			return warn(err2)
		}
	}
	return b, true
}

// digits returns the decimal digits of s.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// truncate cuts s to at most n characters.
func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n]))
}
