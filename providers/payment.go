package providers

import "time"

// PaymentRequest asks a payment gateway for a link that collects an
// invoice's amount due.
type PaymentRequest struct {
	TenantID  string
	InvoiceID string
	// Number is the invoice number, shown to the payer.
	Number string
	// Amount is the amount due in the currency's minor unit (cents; yen
	// for JPY; fils for BHD).
	Amount int64
	// Currency is the ISO 4217 code, upper case.
	Currency      string
	CustomerName  string
	CustomerEmail string
	// Description is a short line for the payment page.
	Description string
	// ExpiresAt is when the link should stop working; zero lets the
	// gateway choose.
	ExpiresAt time.Time
	// IdempotencyKey makes a repeated request return the first link.
	IdempotencyKey string
	// SuccessURL and CancelURL are where the payer returns to.
	SuccessURL string
	CancelURL  string
}

// PaymentLink is a gateway's link for paying one invoice.
type PaymentLink struct {
	URL string
	// ID is the gateway's id for the link or session.
	ID string
	// ExpiresAt is when the link stops working, if it does.
	ExpiresAt *time.Time
}
