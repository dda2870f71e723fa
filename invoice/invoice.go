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
	Name    string  `json:"name"`
	Email   string  `json:"email,omitempty"`
	Phone   string  `json:"phone,omitempty"`
	VATID   string  `json:"vatId,omitempty"`
	Address Address `json:"address"`
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
	ID          string   `json:"id"`
	TenantID    string   `json:"-"`
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

	Subtotal      string       `json:"subtotal"`
	DiscountTotal string       `json:"discountTotal"`
	TaxTotal      string       `json:"taxTotal"`
	Total         string       `json:"total"`
	AmountPaid    string       `json:"amountPaid"`
	AmountDue     string       `json:"amountDue"`
	Taxes         []TaxSummary `json:"taxes"`

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
