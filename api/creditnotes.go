package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/money"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// creditNoteRequest is what a client may send for a credit note. Lines,
// when given, are what is credited, in positive figures; without them the
// credit note credits every line of the invoice.
type creditNoteRequest struct {
	ID        string        `json:"id"`
	Number    string        `json:"number"`
	IssueDate string        `json:"issueDate"`
	Reason    string        `json:"reason"`
	Currency  string        `json:"currency"`
	Language  string        `json:"language"`
	Lines     []lineRequest `json:"lines"`
}

// createCreditNote handles POST …/invoices/{id}/credit-notes: a credit
// note of its own number that corrects the invoice, issued at once. Bad
// fields are 400; a draft is 422 invoice_not_issued; a credit note, a
// currency other than the invoice's, or a credit beyond what is left
// uncredited are 422 naming the field; a void invoice, a taken id or
// number are 409.
func (a *API) createCreditNote(w http.ResponseWriter, r *http.Request) *Error {
	ctx := r.Context()
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	var req creditNoteRequest
	if err := decodeJSON(bodyOf(r), &req, false); err != nil {
		return err
	}
	id := req.ID
	if id == "" {
		id = store.NewID("inv")
	} else if !invoice.ValidID(id) {
		return errField("id", "must be 1-64 letters, digits, '_', '.' or '-'")
	}
	issueDate := req.IssueDate
	if issueDate == "" {
		issueDate = time.Now().UTC().Format(time.DateOnly)
	}
	var lines []invoice.Line
	for _, l := range req.Lines {
		lines = append(lines, l.line())
	}
	cn := invoice.CreditNoteFor(inv, id, req.Number, issueDate, lines)
	cn.Notes = req.Reason
	if req.Language != "" {
		cn.Language = req.Language
	}
	if fe := creditNoteFieldErrors(cn, inv); fe != nil {
		return errValidation("the credit note has invalid fields", fe)
	}
	switch {
	case inv.Status == invoice.StatusDraft:
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeNotIssued,
			Message: fmt.Sprintf("invoice %s is a draft; finalize it before crediting it", inv.ID)}
	case inv.IsCreditNote():
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeValidation,
			Message: fmt.Sprintf("%s is a credit note; only an invoice is credited", inv.ID)}
	case req.Currency != "" && req.Currency != inv.Currency:
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeValidation,
			Message: "the credit note's currency is not the invoice's",
			Fields:  map[string]string{"currency": fmt.Sprintf("must be %s, the currency of invoice %s", inv.Currency, inv.Number)}}
	}
	if err := invoice.Compute(cn); err != nil {
		return errValidation(err.Error(), nil)
	}
	orig, oldLinkID, err := a.st.CreateCreditNote(ctx, cn)
	switch {
	case errors.Is(err, invoice.ErrOverCredit):
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeValidation,
			Message: "the credit note credits more than is left uncredited on the invoice",
			Fields: map[string]string{"lines": fmt.Sprintf("credit %s %s in all, more than the %s %s left uncredited on invoice %s",
				cn.Total, cn.Currency, uncredited(inv), inv.Currency, inv.Number)}}
	case errors.Is(err, store.ErrNotCreditable):
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeNotIssued, Message: err.Error()}
	case err != nil:
		return asError(err, "invoice")
	}
	a.afterCredit(ctx, orig, oldLinkID)
	a.emit(ctx, cn.TenantID, cn.ID, []string{store.EventCreditNoteCreated}, map[string]any{
		"creditNoteId": cn.ID, "number": cn.Number, "total": cn.Total, "currency": cn.Currency,
		"invoiceId": orig.ID, "invoiceNumber": orig.Number, "amountDue": orig.AmountDue,
	})
	writeData(w, http.StatusCreated, a.view(r, cn, nil))
	return nil
}

// creditNoteFieldErrors validates cn as an invoice, with the reason under
// its own name, and requires its issue date not to come before the
// corrected invoice's.
func creditNoteFieldErrors(cn, inv *invoice.Invoice) invoice.FieldErrors {
	fe := invoice.Validate(cn)
	if fe == nil {
		fe = invoice.FieldErrors{}
	}
	if msg, ok := fe["notes"]; ok {
		delete(fe, "notes")
		fe["reason"] = msg
	}
	if _, bad := fe["issueDate"]; !bad && cn.IssueDate < inv.IssueDate {
		fe["issueDate"] = fmt.Sprintf("must not be before %s, the issue date of invoice %s", inv.IssueDate, inv.Number)
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// uncredited is what credit notes may still credit on inv, for messages.
func uncredited(inv *invoice.Invoice) string {
	cur, err := money.ParseCurrency(inv.Currency)
	if err != nil {
		return inv.Total
	}
	left, err := invoice.Uncredited(inv)
	if err != nil {
		return inv.Total
	}
	return money.Format(left, cur.Digits)
}

// afterCredit switches off the payment link a credit made stale and asks
// for a new one for what is left to pay. Failures are logged: the credit
// note is stored, and a send or GET …/payment-link asks for the link again.
func (a *API) afterCredit(ctx context.Context, orig *invoice.Invoice, oldLinkID string) {
	if oldLinkID != "" {
		task, err := tasks.NewDeactivateLinkTask(tasks.DeactivateLinkPayload{TenantID: orig.TenantID, InvoiceID: orig.ID, LinkID: oldLinkID})
		if err == nil {
			_, err = a.cfg.Enqueuer.EnqueueContext(ctx, task)
		}
		if err != nil && !isTaskConflict(err) {
			a.log.Error("replaced payment link deactivation not queued", zap.String("tenant_id", orig.TenantID),
				zap.String("invoice_id", orig.ID), zap.Error(err))
		}
	}
	if orig.Payable() {
		if err := a.queuePaymentLink(ctx, orig); err != nil {
			a.log.Warn("payment link not requested", zap.String("invoice_id", orig.ID), zap.Error(err))
		}
	}
}
