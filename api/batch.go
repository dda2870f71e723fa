package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
)

// Limits on a batch.
const (
	// MaxBatchInvoices is how many invoices one POST /api/v1/invoices/batch
	// may carry.
	MaxBatchInvoices = 1000
	// MaxBatchBodyBytes is the batch route's body limit, where it is
	// larger than Config.MaxBodyBytes: room for a thousand invoices of a
	// dozen lines.
	MaxBatchBodyBytes = 16 << 20
	// batchEnqueuers is how many tasks a batch enqueues at once: asynq
	// enqueues one task a round trip.
	batchEnqueuers = 8
)

// Item statuses of a batch answer.
const (
	batchCreated  = "created"
	batchUpdated  = "updated"
	batchExisting = "existing"
	batchError    = "error"
)

// batchRequest is the body of POST /api/v1/invoices/batch.
type batchRequest struct {
	Invoices []json.RawMessage `json:"invoices"`
	// Send is false (or absent), true (the default send), or a canonical
	// send body applied to each invoice.
	Send json.RawMessage `json:"send"`
}

// batchResult is one item of a batch answer, at Index in the request.
type batchResult struct {
	Index   int          `json:"index"`
	ID      string       `json:"id,omitempty"`
	Status  string       `json:"status"`
	Invoice *invoiceView `json:"invoice,omitempty"`
	Send    *sendView    `json:"send,omitempty"`
	Error   *Error       `json:"error,omitempty"`
}

// batchItem is an item on its way through a batch.
type batchItem struct {
	req    invoiceRequest
	inv    *invoice.Invoice
	send   *store.Send
	status string
	err    *Error
}

// stored reports whether the item's invoice is stored: created, updated
// or found as it was.
func (it *batchItem) stored() bool { return it.status != batchError }

// createInvoices handles POST /api/v1/invoices/batch: up to
// MaxBatchInvoices invoices, each created (or its draft updated) as POST
// /api/v1/invoices does, and, with send, sent as POST …/send does. Each
// item is validated and stored on its own, and answered at its index: one
// bad item fails only itself. An item whose id names an invoice that is
// no longer a draft, with the same content, is answered as it is stored
// (existing), so a batch retried without its Idempotency-Key duplicates
// nothing; with other content it is a conflict. A batch sends an invoice
// once: its send's id is derived from the invoice's, so a retry answers
// the send made before. An invoice stored whose send is refused (no
// recipient, over the hourly email limit) keeps its status and carries
// the send's error.
func (a *API) createInvoices(w http.ResponseWriter, r *http.Request) *Error {
	ctx := r.Context()
	tenant := tenantFrom(ctx)
	var req batchRequest
	if err := decodeJSON(bodyOf(r), &req, false); err != nil {
		return err
	}
	switch n := len(req.Invoices); {
	case req.Invoices == nil:
		return errField("invoices", "is required: an array of 1 to 1000 invoices")
	case n == 0 || n > MaxBatchInvoices:
		return errField("invoices", fmt.Sprintf("has %d invoices; a batch has 1 to %d", n, MaxBatchInvoices))
	}
	for i, raw := range req.Invoices {
		if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' {
			return errField(fmt.Sprintf("invoices[%d]", i), "must be an invoice object, as POST /api/v1/invoices takes")
		}
	}
	sendReq, apiErr := parseBatchSend(req.Send, a.st.Now())
	if apiErr != nil {
		return apiErr
	}
	settings, err := a.st.Settings(ctx, tenant.ID)
	if err != nil {
		return errInternal(err)
	}
	if sendReq != nil && !sendReq.TestMode {
		limit := settings.Defaults.EmailLimit(a.cfg.MaxEmailsPerHour)
		emails := len(sendReq.SendVia) == 0 || slices.Contains(sendReq.SendVia, string(store.ChannelEmail))
		if emails {
			if apiErr := tooManyRecipients("each send", "send.", len(sendReq.Cc), len(sendReq.Bcc), limit); apiErr != nil {
				return apiErr
			}
		}
	}

	items := make([]*batchItem, len(req.Invoices))
	seen := make(map[string]int, len(items))
	var invs []*invoice.Invoice
	for i, raw := range req.Invoices {
		it := &batchItem{status: batchError}
		items[i] = it
		if apiErr := decodeJSON(raw, &it.req, false); apiErr != nil {
			it.err = prefixError(fmt.Sprintf("invoices[%d].", i), apiErr)
			continue
		}
		inv, apiErr := newInvoice(tenant.ID, &it.req, settings)
		if apiErr != nil {
			it.err = prefixError(fmt.Sprintf("invoices[%d].", i), apiErr)
			continue
		}
		if first, ok := seen[inv.ID]; ok {
			it.err = errField(fmt.Sprintf("invoices[%d].id", i), fmt.Sprintf("repeats invoices[%d].id; a batch names an invoice once", first))
			continue
		}
		seen[inv.ID] = i
		it.inv = inv
		invs = append(invs, inv)
	}

	saved, err := a.st.SaveDrafts(ctx, tenant.ID, invs, settings.Defaults.Grace())
	if err != nil {
		return errInternal(err)
	}
	var finalize []*invoice.Invoice
	k := 0
	for i, it := range items {
		if it.inv == nil {
			continue
		}
		res := saved[k]
		k++
		switch {
		case res.Existing != nil && sameInvoice(res.Existing, it.inv, it.req.IssueDate != ""):
			it.inv, it.status = res.Existing, batchExisting
		case res.Existing != nil:
			it.err = &Error{Status: http.StatusConflict, Code: CodeConflict, Fields: map[string]string{fmt.Sprintf("invoices[%d].id", i): "names an invoice that is no longer a draft"},
				Message: fmt.Sprintf("invoice %s is %s and differs from invoices[%d]; only drafts can be changed", it.inv.ID, res.Existing.Status, i)}
			it.inv = nil
		case res.Created:
			it.status = batchCreated
		default:
			it.status = batchUpdated
		}
		if (it.status == batchCreated || it.status == batchUpdated) && it.inv.FinalizeAt != nil {
			finalize = append(finalize, it.inv)
		}
	}
	each(len(finalize), func(i int) { a.enqueueFinalize(ctx, finalize[i]) })
	if sendReq != nil {
		a.sendBatch(r, items, sendReq, settings)
	}

	results := make([]batchResult, len(items))
	for i, it := range items {
		res := batchResult{Index: i, Status: it.status, Error: it.err}
		if it.inv != nil {
			v := a.view(r, it.inv, nil)
			res.ID, res.Invoice = it.inv.ID, &v
		} else if invoice.ValidID(it.req.ID) {
			res.ID = it.req.ID
		}
		if it.send != nil {
			v := newSendView(it.send)
			res.Send = &v
		}
		results[i] = res
	}
	writeData(w, http.StatusOK, map[string]any{"results": results})
	return nil
}

// parseBatchSend reads a batch's send: nil for none. Problems that every
// item would share (a malformed address in cc, a scheduledAt in the
// past) refuse the whole batch, naming send.<field>; those that depend on
// the invoice (no recipient) are the item's.
func parseBatchSend(raw json.RawMessage, now time.Time) (*sendRequest, *Error) {
	raw = bytes.TrimSpace(raw)
	switch string(raw) {
	case "", "null", "false":
		return nil, nil
	case "true":
		return &sendRequest{}, nil
	}
	if raw[0] != '{' {
		return nil, errField("send", "must be true, false or a send body as POST /api/v1/invoices/{id}/send takes")
	}
	var req sendRequest
	if apiErr := decodeJSON(raw, &req, false); apiErr != nil {
		return nil, prefixError("send.", apiErr)
	}
	// An invoice with every recipient: what is left is the send's own.
	probe := &invoice.Invoice{ID: "inv_probe", Status: invoice.StatusDraft,
		Customer: invoice.Customer{Email: "probe@example.com", Phone: "+40712345678"}}
	if _, apiErr := buildSend(&req, probe, store.SendKindSend, now); apiErr != nil {
		delete(apiErr.Fields, "phone") // a national number reads by the customer's country
		if len(apiErr.Fields) > 0 {
			return nil, prefixError("send.", apiErr)
		}
	}
	return &req, nil
}

// sendBatch sends each stored item's invoice as POST …/send would,
// setting the item's send or its error. The checks that are the same for
// every item (provider, verified sender) run once, the hourly email
// budget is taken item by item in one round trip, and the sends are
// stored in a few transactions.
func (a *API) sendBatch(r *http.Request, items []*batchItem, req *sendRequest, settings store.Settings) {
	ctx := r.Context()
	now := a.st.Now()
	var todo []*batchItem
	for i, it := range items {
		if !it.stored() {
			continue
		}
		if !it.inv.Status.Sendable() {
			it.err = &Error{Status: http.StatusUnprocessableEntity, Code: CodeNotSendable,
				Message: fmt.Sprintf("invoice %s is %s and cannot be sent", it.inv.ID, it.inv.Status)}
			continue
		}
		send, apiErr := buildSend(req, it.inv, store.SendKindSend, now)
		if apiErr != nil {
			it.err = prefixError(fmt.Sprintf("invoices[%d].send.", i), apiErr)
			continue
		}
		send.ID = batchSendID(it.inv.ID)
		it.send = send
		todo = append(todo, it)
	}
	if len(todo) == 0 {
		return
	}
	ids := make([]string, len(todo))
	for i, it := range todo {
		ids[i] = it.send.ID
	}
	existing, err := a.st.SendsByID(ctx, todo[0].inv.TenantID, ids)
	if err != nil {
		a.failSends(todo, err)
		return
	}
	var fresh []*batchItem
	for _, it := range todo {
		if old, ok := existing[it.send.ID]; ok {
			it.send = old
			continue
		}
		fresh = append(fresh, it)
	}
	if len(fresh) > 0 {
		if apiErr := a.checkChannels(r, fresh[0].inv, fresh[0].send, settings); apiErr != nil {
			for _, it := range fresh {
				if apiErr.Code == CodeEmailNotConfigured && it != fresh[0] {
					_, _ = a.finalize(ctx, it.inv, "send")
				}
				it.send, it.err = nil, apiErr
			}
			fresh = nil
		}
	}
	if len(fresh) > 0 && containsChannel(fresh[0].send.Channels, store.ChannelEmail) && !fresh[0].send.TestMode {
		fresh = a.takeBatchEmails(ctx, fresh, settings.Defaults.EmailLimit(a.cfg.MaxEmailsPerHour))
	}
	sends := make([]*store.Send, len(fresh))
	for i, it := range fresh {
		sends[i] = it.send
	}
	stored, _, err := a.st.CreateSends(ctx, todo[0].inv.TenantID, sends)
	if err != nil {
		a.failSends(fresh, err)
		return
	}
	for i, it := range fresh {
		it.send = stored[i]
	}
	// A send stored before but not started gets its task again, in case
	// the batch that stored it stopped short of enqueuing; its task id
	// makes that harmless otherwise.
	var queue []*batchItem
	for _, it := range todo {
		if it.send != nil && (it.send.Status == store.SendQueued || it.send.Status == store.SendScheduled) {
			queue = append(queue, it)
		}
	}
	each(len(queue), func(i int) {
		it := queue[i]
		if apiErr := a.enqueueSendTask(ctx, it.send); apiErr != nil {
			a.log.Warn("batch send not queued", zap.String("tenant_id", it.send.TenantID),
				zap.String("invoice_id", it.send.InvoiceID), zap.Error(apiErr.cause))
			it.send, it.err = nil, apiErr
		}
	})
}

// takeBatchEmails takes each item's email from the tenant's hourly budget
// of limit, in order, and returns the items that got theirs; the others
// get rate_limited and no send.
func (a *API) takeBatchEmails(ctx context.Context, items []*batchItem, limit int) []*batchItem {
	ns := make([]int, len(items))
	for i, it := range items {
		ns[i] = 1 + len(it.send.Cc) + len(it.send.Bcc)
	}
	took, err := a.st.TakeEmailsEach(ctx, items[0].inv.TenantID, ns, limit)
	if err != nil {
		for _, it := range items {
			it.send, it.err = nil, &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
				Message: "rate limiter unavailable; send the invoice with POST /api/v1/invoices/{id}/send", cause: err}
		}
		a.log.Warn("batch sends refused: rate limiter unavailable", zap.String("tenant_id", items[0].inv.TenantID), zap.Error(err))
		return nil
	}
	var ok []*batchItem
	for i, it := range items {
		if took[i].OK {
			ok = append(ok, it)
			continue
		}
		retry := max(took[i].RetryAfter.Truncate(time.Second)+time.Second, time.Second)
		it.send, it.err = nil, &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, RetryAfter: retry,
			Message: fmt.Sprintf("this tenant may send %d emails per hour and has %d left; this send has %d recipients; retry in %s; the invoice is stored",
				limit, took[i].Left, ns[i], retry)}
	}
	return ok
}

// failSends gives items whose sends could not be stored an error that
// says how to send them, and logs why once.
func (a *API) failSends(items []*batchItem, cause error) {
	if len(items) > 0 {
		a.log.Warn("batch sends not stored", zap.String("tenant_id", items[0].inv.TenantID), zap.Int("sends", len(items)), zap.Error(cause))
	}
	for _, it := range items {
		it.send, it.err = nil, &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Message: "the send could not be stored; the invoice is; send it with POST /api/v1/invoices/{id}/send", cause: cause}
	}
}

// batchSendID is the id of the send a batch makes of invoice id, the same
// for every batch, so that a retried batch finds it rather than sending
// again.
func batchSendID(invoiceID string) string {
	sum := sha256.Sum256([]byte("batch send\x00" + invoiceID))
	return "snd_b" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15]))
}

// sameInvoice reports whether inv, from a request, describes the stored
// invoice old: the same number, currency, dates, customer, lines, VAT
// currency, document level allowances and charges. An issue date is
// compared only when the request set one (withIssueDate), since it
// defaults to the day of the request.
func sameInvoice(old, inv *invoice.Invoice, withIssueDate bool) bool {
	if old.Number != inv.Number || old.Currency != inv.Currency || old.DueDate != inv.DueDate ||
		!reflect.DeepEqual(old.Customer, inv.Customer) || len(old.Lines) != len(inv.Lines) ||
		(withIssueDate && old.IssueDate != inv.IssueDate) ||
		old.TaxCurrency != inv.TaxCurrency || old.TaxExchangeRate != inv.TaxExchangeRate ||
		!sameAllowanceCharges(old.Allowances, inv.Allowances) || !sameAllowanceCharges(old.Charges, inv.Charges) {
		return false
	}
	for i, l := range old.Lines {
		m := inv.Lines[i]
		if l.Description != m.Description || l.Quantity != m.Quantity || l.Unit != m.Unit ||
			l.UnitPrice != m.UnitPrice || l.TaxRate != m.TaxRate || l.DiscountRate != m.DiscountRate ||
			l.TaxCategory != m.TaxCategory || l.TaxExemptionReason != m.TaxExemptionReason || l.TaxExemptionCode != m.TaxExemptionCode {
			return false
		}
	}
	return true
}

// sameAllowanceCharges reports whether a and b, both computed, are the
// same allowances or charges.
func sameAllowanceCharges(a, b []invoice.AllowanceCharge) bool {
	if len(a) != len(b) {
		return false
	}
	for i, x := range a {
		y := b[i]
		if x.Reason != y.Reason || x.ReasonCode != y.ReasonCode || x.Rate != y.Rate || x.Base != y.Base ||
			x.TaxRate != y.TaxRate || x.TaxCategory != y.TaxCategory || x.Amount != y.Amount {
			return false
		}
	}
	return true
}

// prefixError returns err with prefix before each field it names, and
// before its message when that starts with the field.
func prefixError(prefix string, err *Error) *Error {
	out := *err
	if len(err.Fields) > 0 {
		out.Fields = make(map[string]string, len(err.Fields))
		for k, v := range err.Fields {
			out.Fields[prefix+k] = v
			if strings.HasPrefix(err.Message, k+" ") {
				out.Message = prefix + err.Message
			}
		}
	}
	return &out
}

// each runs f(0) … f(n-1) on up to batchEnqueuers goroutines and waits.
func each(n int, f func(i int)) {
	var g errgroup.Group
	g.SetLimit(max(batchEnqueuers, 1))
	for i := range n {
		g.Go(func() error { f(i); return nil })
	}
	_ = g.Wait()
}
