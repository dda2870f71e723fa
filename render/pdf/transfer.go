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
// into bank: none for a paid or void invoice, a credit note, nothing left to pay or an
// IBAN with wrong check digits; the Swiss QR-bill for CHF into a CH or LI
// account, and for EUR into a Swiss QR-IBAN, which SEPA cannot reach; the
// EPC QR code for any other EUR invoice.
func transferCodeFor(inv *invoice.Invoice, bank invoice.BankAccount) transferCode {
	if inv.Status == invoice.StatusPaid || inv.Status == invoice.StatusVoid || inv.IsCreditNote() ||
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
func beneficiary(doc Document) string {
	name := strings.TrimSpace(doc.Bank.Holder)
	if name == "" {
		name = strings.TrimSpace(doc.Seller.Name)
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
	payload, err := qr.EPCPayload(beneficiary(w.doc), bank.IBAN, bank.BIC, w.inv.AmountDue, w.inv.Number)
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

// HasSwissQRBill reports whether Render prints a Swiss QR-bill at the
// foot of doc's invoice: an invoice in CHF payable into a Swiss or
// Liechtenstein account (or in EUR into a Swiss QR-IBAN) with an amount
// due, unless the bill cannot be made from the seller's and the bank's
// details (Render then leaves it out with a warning). Paid and void
// invoices carry none.
func HasSwissQRBill(doc Document) bool {
	_, code, err := swissBill(doc)
	return err == nil && code != nil
}

// swissBill returns what the Swiss QR-bill of doc's invoice carries and
// its QR code, or a nil code when the invoice takes none. With a QR-IBAN
// the QR reference is made of the invoice number's digits. A customer
// whose address does not fit the bill is left for the payer to write in;
// the error says why a bill that the invoice takes cannot be made at all.
func swissBill(doc Document) (qr.SwissBill, *qr.Code, error) {
	inv := doc.Invoice
	if transferCodeFor(inv, doc.Bank) != swissTransfer {
		return qr.SwissBill{}, nil, nil
	}
	s, c := doc.Seller.Address, inv.Customer
	b := qr.SwissBill{
		IBAN: doc.Bank.IBAN,
		Creditor: qr.SwissAddress{
			Name: beneficiary(doc), Street: s.Line1, PostalCode: s.PostalCode, Town: s.City, Country: s.Country,
		},
		Amount:   inv.AmountDue,
		Currency: inv.Currency,
		Debtor: &qr.SwissAddress{
			Name: truncate(c.Name, 70), Street: c.Address.Line1, PostalCode: c.Address.PostalCode,
			Town: c.Address.City, Country: c.Address.Country,
		},
		Message: inv.Number,
	}
	if iban, _ := qr.NormalizeIBAN(b.IBAN); qr.IsQRIBAN(iban) {
		ref, err := qr.QRReference(digits(inv.Number))
		if err != nil {
			return qr.SwissBill{}, nil, err
		}
		b.Reference = ref
	} else if ref, err := qr.CreditorReference(inv.Number); err == nil {
		// An ordinary IBAN takes a creditor reference, which the payer's
		// bank passes on so that the payment is matched to the invoice;
		// an invoice number that cannot be one travels as the message.
		b.Reference = ref
	}
	payload, err := qr.SwissQRPayload(b)
	if err != nil {
		b.Debtor = nil
		if payload, err = qr.SwissQRPayload(b); err != nil {
			return qr.SwissBill{}, nil, err
		}
	}
	code, err := qr.Encode(payload)
	if err != nil {
		return qr.SwissBill{}, nil, err
	}
	return b, code, nil
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
