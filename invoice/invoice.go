// Package invoice is the invoice as invoiced stores, renders and sends it:
// its parties, lines and totals, and the rules that compute them.
package invoice

import (
	"regexp"
	"strings"
	"time"
)

// Status is an invoice's lifecycle state: draft → open → paid | void.
type Status string

// The invoice statuses.
const (
	StatusDraft Status = "draft"
	StatusOpen  Status = "open"
	StatusPaid  Status = "paid"
	StatusVoid  Status = "void"
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusDraft, StatusOpen, StatusPaid, StatusVoid:
		return true
	}
	return false
}

// Sendable reports whether an invoice in status s may be emailed. A draft is
// finalized before it is sent; a void invoice is never sent.
func (s Status) Sendable() bool {
	return s == StatusDraft || s == StatusOpen || s == StatusPaid
}

// Type says what kind of document an invoice is. An invoice stored before
// types existed has none and is an invoice.
type Type string

// The document types.
const (
	TypeInvoice    Type = "invoice"
	TypeCreditNote Type = "credit_note"
)

// Reference names the invoice a credit note corrects (EN 16931 BG-3).
type Reference struct {
	ID        string `json:"id"`
	Number    string `json:"number"`
	IssueDate string `json:"issueDate"`
}

// Address is a postal address. Country is an ISO 3166-1 alpha-2 code.
type Address struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Region     string `json:"region,omitempty"`
	Country    string `json:"country,omitempty"`
}

// Customer is who the invoice is billed to.
type Customer struct {
	// ExternalID is the billing system's own id for the customer, by
	// which the customer's invoices are listed; invoiced keeps no
	// customers of its own.
	ExternalID string  `json:"externalId,omitempty"`
	Name       string  `json:"name"`
	Email      string  `json:"email,omitempty"`
	Phone      string  `json:"phone,omitempty"`
	VATID      string  `json:"vatId,omitempty"`
	Address    Address `json:"address"`
}

// Seller is who issues the invoice: the tenant's branding.
type Seller struct {
	Name               string  `json:"name,omitempty"`
	VATID              string  `json:"vatId,omitempty"`
	RegistrationNumber string  `json:"registrationNumber,omitempty"`
	Email              string  `json:"email,omitempty"`
	Phone              string  `json:"phone,omitempty"`
	Website            string  `json:"website,omitempty"`
	Address            Address `json:"address"`
}

// BankAccount is where a customer pays by transfer.
type BankAccount struct {
	IBAN     string `json:"iban,omitempty"`
	BIC      string `json:"bic,omitempty"`
	BankName string `json:"bankName,omitempty"`
	Holder   string `json:"holder,omitempty"`
}

// Line is one invoice line. Quantity, UnitPrice, TaxRate and DiscountRate
// are decimal strings as sent; Discount and Amount are computed.
type Line struct {
	Description  string `json:"description"`
	Quantity     string `json:"quantity"`
	Unit         string `json:"unit,omitempty"`
	UnitPrice    string `json:"unitPrice"`
	TaxRate      string `json:"taxRate"`
	DiscountRate string `json:"discountRate,omitempty"`
	// Discount is the amount taken off the line by DiscountRate.
	Discount string `json:"discount"`
	// Amount is the line's net amount: quantity × unit price less discount.
	Amount string `json:"amount"`
}

// TaxSummary is the VAT for one rate: the sum of that rate's line nets and
// the VAT on it.
type TaxSummary struct {
	Rate   string `json:"rate"`
	Base   string `json:"base"`
	Amount string `json:"amount"`
}

// Invoice is an invoice with its computed totals.
type Invoice struct {
	ID       string `json:"id"`
	TenantID string `json:"-"`
	// Type is TypeInvoice or TypeCreditNote; empty reads as TypeInvoice.
	Type        Type     `json:"type"`
	Number      string   `json:"number"`
	Status      Status   `json:"status"`
	Currency    string   `json:"currency"`
	IssueDate   string   `json:"issueDate"`
	DueDate     string   `json:"dueDate,omitempty"`
	Language    string   `json:"language,omitempty"`
	Reference   string   `json:"reference,omitempty"`
	AutoAdvance bool     `json:"autoAdvance"`
	Customer    Customer `json:"customer"`
	Lines       []Line   `json:"lines"`
	Notes       string   `json:"notes,omitempty"`
	Terms       string   `json:"terms,omitempty"`

	Subtotal      string `json:"subtotal"`
	DiscountTotal string `json:"discountTotal"`
	TaxTotal      string `json:"taxTotal"`
	Total         string `json:"total"`
	AmountPaid    string `json:"amountPaid"`
	// AmountCredited is the sum of the totals of the credit notes that
	// correct an invoice; empty when none does.
	AmountCredited string       `json:"amountCredited,omitempty"`
	AmountDue      string       `json:"amountDue"`
	Taxes          []TaxSummary `json:"taxes"`

	// Corrects is the invoice a credit note corrects; nil for an invoice.
	Corrects *Reference `json:"corrects,omitempty"`
	// CreditNotes are the ids of the credit notes that correct an
	// invoice, oldest first.
	CreditNotes []string `json:"creditNotes,omitempty"`

	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// FinalizeAt is when a draft with AutoAdvance is finalized by the worker.
	FinalizeAt  *time.Time `json:"finalizeAt,omitempty"`
	FinalizedAt *time.Time `json:"finalizedAt,omitempty"`
	// FinalizedBy says what finalized the invoice: "api", "grace", "send".
	FinalizedBy string `json:"finalizedBy,omitempty"`
	PaymentLink string `json:"paymentLink,omitempty"`
	// PaymentLinkID is the gateway's id for the link.
	PaymentLinkID        string     `json:"paymentLinkId,omitempty"`
	PaymentLinkExpiresAt *time.Time `json:"paymentLinkExpiresAt,omitempty"`
	// PaymentLinkError says why the gateway has not given a link yet; it
	// is retried.
	PaymentLinkError string `json:"paymentLinkError,omitempty"`
	// PaymentLinkDeactivatedAt is when the gateway switched the link off
	// after the invoice was paid another way or voided; until then a paid
	// or void invoice's link may still take a payment.
	PaymentLinkDeactivatedAt *time.Time `json:"paymentLinkDeactivatedAt,omitempty"`
	PaidAt                   *time.Time `json:"paidAt,omitempty"`
	// PaidBy says what marked it paid: "api", "stripe".
	PaidBy   string     `json:"paidBy,omitempty"`
	VoidedAt *time.Time `json:"voidedAt,omitempty"`
}

// IsCreditNote reports whether inv is a credit note.
func (inv *Invoice) IsCreditNote() bool { return inv.Type == TypeCreditNote }

// Payable reports whether inv asks its customer for money: an open
// invoice (not a credit note) with an amount due above zero. Only a
// payable invoice gets a payment link, a Pay button and a transfer QR
// code; a fully credited invoice stays open but is not payable.
func (inv *Invoice) Payable() bool {
	if inv.Status != StatusOpen || inv.IsCreditNote() {
		return false
	}
	due := strings.TrimSpace(inv.AmountDue)
	return due != "" && !strings.HasPrefix(due, "-") && strings.Trim(due, "0.") != ""
}

var unsafeFileChars = regexp.MustCompile(`[^\p{L}\p{N}._-]+`)

// FileStem turns an invoice number into a safe file name stem for its
// attachments: "INV/2026 01" → "INV-2026-01".
func FileStem(number string) string {
	s := strings.Trim(unsafeFileChars.ReplaceAllString(number, "-"), "-.")
	if s == "" {
		return "invoice"
	}
	return s
}

// CreditNoteFor returns a credit note, not yet computed nor validated,
// that corrects inv: inv's currency, customer, language and reference,
// issued on issueDate, with lines, or, when lines is empty, all of inv's
// lines, a full credit. Its lines are in positive figures, as EN 16931
// wants a credit note's: what is credited, not its negation. It has no due
// date and no payment terms, since the customer has nothing to pay.
func CreditNoteFor(inv *Invoice, id, number, issueDate string, lines []Line) *Invoice {
	if len(lines) == 0 {
		for _, l := range inv.Lines {
			lines = append(lines, Line{Description: l.Description, Quantity: l.Quantity, Unit: l.Unit,
				UnitPrice: l.UnitPrice, TaxRate: l.TaxRate, DiscountRate: l.DiscountRate})
		}
	}
	return &Invoice{
		ID: id, TenantID: inv.TenantID, Type: TypeCreditNote, Number: number,
		Currency: inv.Currency, IssueDate: issueDate, Language: inv.Language,
		Reference: inv.Reference, Customer: inv.Customer, Lines: lines,
		Corrects: &Reference{ID: inv.ID, Number: inv.Number, IssueDate: inv.IssueDate},
	}
}
