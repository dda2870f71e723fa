package api

// Infinity's invoice routes, in Infinity's request and response shape:
// GET /v1/invoices/{id} and POST /v1/invoices/{id}/send answer with
// Infinity's invoice object.

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/money"
	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/store"
)

// MaxInfinityDescription is the Infinity route's limit on description.
const MaxInfinityDescription = 2000

// infinityRequest is Infinity's send request.
type infinityRequest struct {
	Email       string `json:"email"`
	Description string `json:"description"`
}

// infinityInvoice is Infinity's invoice object. Amounts are integers in
// the currency's minor unit (Rappen, cents); quantities and rates are
// numbers. The fields invoiced keeps nothing for hold the empty value of
// their type, never null.
type infinityInvoice struct {
	ID           string `json:"id"`
	IsDraft      bool   `json:"isDraft"`
	Number       string `json:"number"`
	Organisation string `json:"organisation"`
	Template     string `json:"template"`
	// OpeningDate is the issue date; DueDate the due date, else the issue
	// date (payable on receipt).
	OpeningDate string             `json:"openingDate"`
	DueDate     string             `json:"dueDate"`
	Positions   []infinityPosition `json:"positions"`
	// TotalAmount is the gross total, TotalNetAmount the net total and
	// TotalVatDebt the VAT.
	TotalAmount     int64 `json:"totalAmount"`
	TotalNetAmount  int64 `json:"totalNetAmount"`
	TotalVatDebt    int64 `json:"totalVatDebt"`
	IsQrInvoice     bool  `json:"isQrInvoice"`
	TotalAmountPaid int64 `json:"totalAmountPaid"`
	// TotalRestAmount is what is left to pay: nothing on a void or
	// overpaid invoice.
	TotalRestAmount     int64                   `json:"totalRestAmount"`
	IsPaid              bool                    `json:"isPaid"`
	IsOverpaid          bool                    `json:"isOverpaid"`
	IsAnnulled          bool                    `json:"isAnnulled"`
	Recipient           string                  `json:"recipient"`
	CustomRecipientText string                  `json:"customRecipientText"`
	Title               string                  `json:"title"`
	PayableInDays       int                     `json:"payableInDays"`
	IntroductoryText    string                  `json:"introductoryText"`
	ClosingText         string                  `json:"closingText"`
	OriginalCurrency    string                  `json:"originalCurrency"`
	ExchangeRate        float64                 `json:"exchangeRate"`
	Columns             []string                `json:"columns"`
	EmailDeliveries     []infinityEmailDelivery `json:"emailDeliveries"`
	PublicPDFURL        string                  `json:"publicPdfUrl"`
}

// infinityPosition is one invoice line in Infinity's shape.
type infinityPosition struct {
	Type string `json:"type"`
	Name string `json:"name"`
	// SingleAmount is the unit price, rounded half-up to the minor unit
	// when it has more decimals.
	SingleAmount  int64   `json:"singleAmount"`
	Quantity      float64 `json:"quantity"`
	ContraAccount int     `json:"contraAccount"`
	ID            string  `json:"id"`
	Unit          string  `json:"unit"`
	TaxCode       string  `json:"taxCode"`
	// TaxRate is the line's VAT rate in percent, which Infinity's shape
	// has no field for.
	TaxRate           float64             `json:"taxRate"`
	ArticleNumber     string              `json:"articleNumber"`
	Description       string              `json:"description"`
	Date              string              `json:"date"`
	DiscountRate      float64             `json:"discountRate"`
	CustomTextColumns infinityTextColumns `json:"customTextColumns"`
	// TotalAmount is the line's net amount, after its discount; VatDebt
	// its share of the invoice's VAT (invoice.LineTaxes).
	TotalAmount      int64   `json:"totalAmount"`
	VatDebt          int64   `json:"vatDebt"`
	OriginalCurrency string  `json:"originalCurrency"`
	ExchangeRate     float64 `json:"exchangeRate"`
}

// infinityTextColumns are a position's free text columns; invoiced has
// none, so they are empty.
type infinityTextColumns struct {
	CustomTextColumn1 string `json:"customTextColumn1"`
	CustomTextColumn2 string `json:"customTextColumn2"`
	CustomTextColumn3 string `json:"customTextColumn3"`
}

// infinityEmailDelivery is one entry of Infinity's emailDeliveries: one
// email delivery of the invoice, every send's, with its current status.
type infinityEmailDelivery struct {
	ID             string `json:"id"`
	RecipientEmail string `json:"recipientEmail"`
	Status         string `json:"status"`
	// Timestamp is when the delivery reached its current status, in UTC
	// to the second.
	Timestamp string `json:"timestamp"`
	Error     string `json:"error,omitempty"`
}

// infinityGetInvoice handles GET /v1/invoices/{id}.
func (a *API) infinityGetInvoice(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	return a.writeInfinityInvoice(w, r, inv, nil)
}

// infinitySend handles POST /v1/invoices/{id}/send. Once the send is
// known to be possible, a draft is finalized (as POST …/finalize does)
// before the send is queued, so the answer shows the invoice as the send
// leaves it: finalized, with the new delivery among its emailDeliveries.
func (a *API) infinitySend(w http.ResponseWriter, r *http.Request) *Error {
	inv, settings, apiErr := a.loadInvoiceForSend(r)
	if apiErr != nil {
		return apiErr
	}
	var req infinityRequest
	if err := decodeJSON(bodyOf(r), &req, true); err != nil {
		return err
	}
	if err := invoice.CheckText(req.Description, MaxInfinityDescription, true); err != nil {
		return errField("description", err.Error())
	}
	// Infinity includes the description in the email body: it is a note
	// in the template's body, which keeps the invoice's details.
	canonical := &sendRequest{Email: req.Email, Note: req.Description}
	send, apiErr := buildSend(canonical, inv, store.SendKindSend, a.st.Now())
	if apiErr != nil {
		return apiErr
	}
	if apiErr := a.checkSend(r, inv, send, &settings); apiErr != nil {
		return apiErr
	}
	if inv.Status == invoice.StatusDraft {
		if inv, apiErr = a.finalize(r.Context(), inv, "send"); apiErr != nil {
			return apiErr
		}
	}
	if apiErr := a.enqueueSend(r, send, nil); apiErr != nil {
		return apiErr
	}
	return a.writeInfinityInvoice(w, r, inv, &settings)
}

// writeInfinityInvoice answers {"invoice": …} with inv in Infinity's
// shape. settings are the tenant's, or nil to read them.
func (a *API) writeInfinityInvoice(w http.ResponseWriter, r *http.Request, inv *invoice.Invoice, settings *store.Settings) *Error {
	ctx := r.Context()
	if settings == nil {
		st, err := a.st.Settings(ctx, inv.TenantID)
		if err != nil {
			return errInternal(err)
		}
		settings = &st
	}
	ds, err := a.st.InvoiceDeliveries(ctx, inv.TenantID, inv.ID)
	if err != nil {
		return errInternal(err)
	}
	v, err := newInfinityInvoice(inv, ds)
	if err != nil {
		return errInternal(err)
	}
	v.IsQrInvoice = pdf.HasSwissQRBill(pdf.Document{Invoice: inv, Seller: settings.Branding.Seller, Bank: settings.Bank})
	v.PublicPDFURL = a.publicPDFURL(inv)
	writeJSON(w, http.StatusOK, map[string]any{"invoice": v})
	return nil
}

// newInfinityInvoice maps inv and its deliveries ds to Infinity's
// invoice object, all but isQrInvoice and publicPdfUrl, which need the
// tenant's settings and the API's base URL. An error means a stored
// amount does not parse.
func newInfinityInvoice(inv *invoice.Invoice, ds []*store.Delivery) (*infinityInvoice, error) {
	cur, err := money.ParseCurrency(inv.Currency)
	if err != nil {
		return nil, err
	}
	minor := func(field, s string) (int64, error) {
		n, err := money.ParseAmount(s, cur)
		if err != nil {
			return 0, fmt.Errorf("invoice %s %s: %w", inv.ID, field, err)
		}
		return n, nil
	}
	v := &infinityInvoice{
		ID: inv.ID, IsDraft: inv.Status == invoice.StatusDraft, Number: inv.Number,
		Organisation: inv.TenantID, OpeningDate: inv.IssueDate, DueDate: firstNonEmpty(inv.DueDate, inv.IssueDate),
		IsPaid: inv.Status == invoice.StatusPaid, IsAnnulled: inv.Status == invoice.StatusVoid,
		Recipient: inv.Customer.Name, Title: inv.Number, PayableInDays: payableInDays(inv.IssueDate, inv.DueDate),
		ClosingText:      closingText(inv),
		OriginalCurrency: inv.Currency, ExchangeRate: 1,
		Positions: []infinityPosition{}, Columns: []string{}, EmailDeliveries: []infinityEmailDelivery{},
	}
	if v.TotalAmount, err = minor("total", inv.Total); err != nil {
		return nil, err
	}
	// The net total is after document level allowances and charges, so
	// that net and VAT add up to the total; an invoice stored before
	// those existed has only its subtotal.
	if v.TotalNetAmount, err = minor("netTotal", firstNonEmpty(inv.NetTotal, inv.Subtotal)); err != nil {
		return nil, err
	}
	if v.TotalVatDebt, err = minor("taxTotal", inv.TaxTotal); err != nil {
		return nil, err
	}
	if v.TotalAmountPaid, err = minor("amountPaid", inv.AmountPaid); err != nil {
		return nil, err
	}
	due, err := minor("amountDue", inv.AmountDue)
	if err != nil {
		return nil, err
	}
	v.IsOverpaid = v.TotalAmountPaid > v.TotalAmount
	if due > 0 && !v.IsAnnulled {
		v.TotalRestAmount = due
	}

	shares, err := invoice.LineTaxes(inv)
	if err != nil {
		return nil, fmt.Errorf("invoice %s: %w", inv.ID, err)
	}
	for i, l := range inv.Lines {
		p := infinityPosition{
			Type: "product", Name: l.Description, ID: inv.ID + "-" + strconv.Itoa(i+1), Unit: l.Unit,
			VatDebt: shares[i], OriginalCurrency: inv.Currency, ExchangeRate: 1,
		}
		price, err := money.ParseDecimal(l.UnitPrice, cur.Digits+invoice.UnitPriceExtra)
		if err != nil {
			return nil, fmt.Errorf("invoice %s lines[%d].unitPrice: %w", inv.ID, i, err)
		}
		p.SingleAmount = money.RoundHalfUp(price, cur.Digits)
		if p.TotalAmount, err = minor(fmt.Sprintf("lines[%d].amount", i), l.Amount); err != nil {
			return nil, err
		}
		if p.Quantity, err = decimalFloat(l.Quantity, invoice.QuantityScale); err != nil {
			return nil, fmt.Errorf("invoice %s lines[%d].quantity: %w", inv.ID, i, err)
		}
		if p.TaxRate, err = decimalFloat(l.TaxRate, invoice.RateScale); err != nil {
			return nil, fmt.Errorf("invoice %s lines[%d].taxRate: %w", inv.ID, i, err)
		}
		if l.DiscountRate != "" {
			if p.DiscountRate, err = decimalFloat(l.DiscountRate, invoice.RateScale); err != nil {
				return nil, fmt.Errorf("invoice %s lines[%d].discountRate: %w", inv.ID, i, err)
			}
		}
		v.Positions = append(v.Positions, p)
	}

	for _, d := range ds {
		if d.Channel != store.ChannelEmail {
			continue
		}
		v.EmailDeliveries = append(v.EmailDeliveries, infinityEmailDelivery{
			ID: d.ID, RecipientEmail: d.To, Status: string(d.Status),
			Timestamp: statusSince(d).UTC().Format(time.RFC3339), Error: d.Error,
		})
	}
	return v, nil
}

// statusSince is when d reached its current status: the first entry of
// its history with that status (later ones with it are repeats, such as
// a second open), else when d was created.
func statusSince(d *store.Delivery) time.Time {
	for _, t := range d.History {
		if t.Status == d.Status {
			return t.At
		}
	}
	return d.CreatedAt
}

// decimalFloat parses a decimal string with up to scale fraction digits
// as a JSON number.
func decimalFloat(s string, scale int) (float64, error) {
	r, err := money.ParseDecimal(s, scale)
	if err != nil {
		return 0, err
	}
	f, _ := r.Float64()
	return f, nil
}

// payableInDays is how many days after the ISO date issued the ISO date
// due falls: 0 when either is missing or due is not later.
func payableInDays(issued, due string) int {
	from, err1 := time.Parse(time.DateOnly, issued)
	to, err2 := time.Parse(time.DateOnly, due)
	if err1 != nil || err2 != nil || !to.After(from) {
		return 0
	}
	return int(to.Sub(from).Hours() / 24)
}

// closingText is the text printed below the invoice's lines: its notes
// and its terms, a blank line between them.
func closingText(inv *invoice.Invoice) string {
	var parts []string
	for _, s := range []string{inv.Notes, inv.Terms} {
		if strings.TrimSpace(s) != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n")
}
