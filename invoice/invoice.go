// Package invoice is the invoice as invoiced stores, renders and sends it:
// its parties, lines and totals, and the rules that compute them.
package invoice

import (
	"regexp"
	"strings"
	"time"
	"unicode"
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
	// Endpoint is the buyer's electronic address (BT-49); without one,
	// the email with scheme EM where a profile allows it.
	Endpoint *Endpoint `json:"endpoint,omitempty"`
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
	// ContactName is the seller's contact point (BT-41), a person or a
	// department, with Phone and Email.
	ContactName string `json:"contactName,omitempty"`
	// Endpoint is the seller's electronic address (BT-34).
	Endpoint *Endpoint `json:"endpoint,omitempty"`
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
	// TaxCategory is the line's VAT category (one of Categories); empty
	// is S above 0 % and Z at 0 %.
	TaxCategory string `json:"taxCategory,omitempty"`
	// TaxExemptionReason and TaxExemptionCode (a VATEX code such as
	// VATEX-EU-AE) say why a line of category E, AE, K, G or O carries
	// no VAT; the lines of one category share them.
	TaxExemptionReason string `json:"taxExemptionReason,omitempty"`
	TaxExemptionCode   string `json:"taxExemptionCode,omitempty"`
	// Discount is the amount taken off the line by DiscountRate.
	Discount string `json:"discount"`
	// Amount is the line's net amount: quantity × unit price less discount.
	Amount string `json:"amount"`
}

// TaxSummary is the VAT for one category and rate (BG-23): the sum of its
// line nets, less its allowances and plus its charges, and the VAT on it.
type TaxSummary struct {
	Category string `json:"category"`
	Rate     string `json:"rate"`
	Base     string `json:"base"`
	Amount   string `json:"amount"`
	// ExemptionReason and ExemptionCode are those of the category's lines.
	ExemptionReason string `json:"exemptionReason,omitempty"`
	ExemptionCode   string `json:"exemptionCode,omitempty"`
}

// Invoice is an invoice with its computed totals.
type Invoice struct {
	ID       string `json:"id"`
	TenantID string `json:"-"`
	// Type is TypeInvoice or TypeCreditNote; empty reads as TypeInvoice.
	Type      Type   `json:"type"`
	Number    string `json:"number"`
	Status    Status `json:"status"`
	Currency  string `json:"currency"`
	IssueDate string `json:"issueDate"`
	DueDate   string `json:"dueDate,omitempty"`
	Language  string `json:"language,omitempty"`
	// Reference is the buyer's reference (BT-10), e.g. a German Leitweg-ID.
	Reference   string   `json:"reference,omitempty"`
	AutoAdvance bool     `json:"autoAdvance"`
	Customer    Customer `json:"customer"`
	Lines       []Line   `json:"lines"`
	Notes       string   `json:"notes,omitempty"`
	// Terms are the payment terms (BT-20).
	Terms string `json:"terms,omitempty"`

	// Profile is the e-invoice profile of the invoice's XML (one of
	// Profiles); set when the invoice is created, from the request or the
	// tenant's default, else ProfileEN16931.
	Profile string `json:"profile,omitempty"`
	// OrderReference (BT-13) and ContractReference (BT-12) are the
	// buyer's purchase order and the contract the invoice bills.
	OrderReference    string `json:"orderReference,omitempty"`
	ContractReference string `json:"contractReference,omitempty"`
	// Delivery and Period say when, and where, what is billed was
	// supplied: an intra-community supply needs one of them.
	Delivery *Delivery `json:"delivery,omitempty"`
	Period   *Period   `json:"period,omitempty"`
	// Allowances and Charges are document level: off or on the sum of the
	// lines.
	Allowances []AllowanceCharge `json:"allowances,omitempty"`
	Charges    []AllowanceCharge `json:"charges,omitempty"`
	// TaxCurrency is the currency VAT is accounted in (BT-6) when it is
	// not Currency, as a Romanian seller's RON for an invoice in EUR;
	// TaxExchangeRate is how many TaxCurrency one Currency is.
	TaxCurrency     string `json:"taxCurrency,omitempty"`
	TaxExchangeRate string `json:"taxExchangeRate,omitempty"`

	// Subtotal is the sum of the line net amounts (BT-106).
	Subtotal      string `json:"subtotal"`
	DiscountTotal string `json:"discountTotal"`
	// AllowanceTotal and ChargeTotal sum the document level allowances
	// and charges; empty when there are none.
	AllowanceTotal string `json:"allowanceTotal,omitempty"`
	ChargeTotal    string `json:"chargeTotal,omitempty"`
	// NetTotal is the total without VAT (BT-109): Subtotal less
	// AllowanceTotal plus ChargeTotal.
	NetTotal string `json:"netTotal"`
	TaxTotal string `json:"taxTotal"`
	// TaxTotalInTaxCurrency is TaxTotal in TaxCurrency (BT-111), the VAT
	// the seller declares; empty without a TaxCurrency.
	TaxTotalInTaxCurrency string `json:"taxTotalInTaxCurrency,omitempty"`
	Total                 string `json:"total"`
	AmountPaid            string `json:"amountPaid"`
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
	s := number
	// Most numbers have nothing to replace: the expression, which
	// allocates as it replaces, is asked only for those that do.
	if strings.IndexFunc(number, unsafeFileRune) >= 0 {
		s = unsafeFileChars.ReplaceAllString(number, "-")
	}
	s = strings.Trim(s, "-.")
	if s == "" {
		return "invoice"
	}
	return s
}

// unsafeFileRune reports whether unsafeFileChars matches r: a rune that
// is not a letter, a number, ".", "_" or "-" (an invalid byte decodes as
// U+FFFD, which is neither).
func unsafeFileRune(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '.' && r != '_' && r != '-'
}

// CreditNoteFor returns a credit note, not yet computed nor validated,
// that corrects inv: inv's currency, customer, language and reference,
// issued on issueDate, with lines, or, when lines is empty, all of inv's
// lines, a full credit, with its allowances and charges. It keeps inv's
// profile, references, delivery and VAT currency. Its lines are in
// positive figures, as EN 16931 wants a credit note's: what is credited,
// not its negation. It has no due date and no payment terms, since the
// customer has nothing to pay.
func CreditNoteFor(inv *Invoice, id, number, issueDate string, lines []Line) *Invoice {
	full := len(lines) == 0
	if full {
		for _, l := range inv.Lines {
			lines = append(lines, Line{Description: l.Description, Quantity: l.Quantity, Unit: l.Unit,
				UnitPrice: l.UnitPrice, TaxRate: l.TaxRate, DiscountRate: l.DiscountRate,
				TaxCategory: l.TaxCategory, TaxExemptionReason: l.TaxExemptionReason, TaxExemptionCode: l.TaxExemptionCode})
		}
	}
	cn := &Invoice{
		ID: id, TenantID: inv.TenantID, Type: TypeCreditNote, Number: number,
		Currency: inv.Currency, IssueDate: issueDate, Language: inv.Language,
		Reference: inv.Reference, Customer: inv.Customer, Lines: lines,
		Corrects: &Reference{ID: inv.ID, Number: inv.Number, IssueDate: inv.IssueDate},
		Profile:  inv.Profile, OrderReference: inv.OrderReference, ContractReference: inv.ContractReference,
		Delivery: inv.Delivery, Period: inv.Period,
		TaxCurrency: inv.TaxCurrency, TaxExchangeRate: inv.TaxExchangeRate,
	}
	if full {
		// A full credit takes back the allowances and charges too, as
		// they were given: one given as a rate is computed again.
		cn.Allowances = asGiven(inv.Allowances)
		cn.Charges = asGiven(inv.Charges)
	}
	return cn
}

// asGiven copies acs without the amounts Compute filled in for those given
// as a rate, so that the copy passes Validate.
func asGiven(acs []AllowanceCharge) []AllowanceCharge {
	out := append([]AllowanceCharge(nil), acs...)
	for i := range out {
		if out[i].Rate != "" {
			out[i].Amount = ""
		}
	}
	return out
}
