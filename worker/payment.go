package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/money"
	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// PaymentLinker asks a gateway for an invoice's payment link.
type PaymentLinker interface {
	CreatePaymentLink(ctx context.Context, r *providers.PaymentRequest) (*providers.PaymentLink, error)
}

// linkWaitBeforeSend bounds how long a send waits for a payment link
// before it goes out without one.
const linkWaitBeforeSend = 15 * time.Second

// PaymentLinkHandler gets an open invoice its payment link from the
// tenant's gateway. A gateway error never blocks the invoice: it is
// recorded on the invoice and retried with backoff.
type PaymentLinkHandler struct{ w *Worker }

// ProcessTask handles tasks.TypePaymentLink.
func (h *PaymentLinkHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.PaymentLinkPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	inv, err := h.w.cfg.Store.Invoice(ctx, p.TenantID, p.InvoiceID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = h.w.ensurePaymentLink(ctx, inv, nil)
	if providers.IsPermanent(err) {
		return fmt.Errorf("payment link: %w: %w", err, asynq.SkipRetry)
	}
	return err
}

// ensurePaymentLink creates the invoice's payment link unless it has a
// live one, the invoice is not payable (not open, a credit note, or
// nothing left due once credit notes are taken off), or the tenant has no
// gateway. The outcome, link or error, is stored on the invoice, which it
// returns as stored (inv when nothing was). settings are the tenant's, or
// nil to read them.
func (w *Worker) ensurePaymentLink(ctx context.Context, inv *invoice.Invoice, settings *store.Settings) (*invoice.Invoice, error) {
	o, err := w.newPaymentLink(ctx, inv, settings)
	if o == nil {
		return inv, err
	}
	st := w.cfg.Store
	if o.link != nil {
		stored, err := st.SetPaymentLink(ctx, inv.TenantID, inv.ID, o.link.URL, o.link.ID, o.link.ExpiresAt, "")
		if err != nil {
			return inv, err
		}
		w.logFrom(ctx).Info("payment link created", zap.String("gateway", o.gateway))
		if stored.Status != invoice.StatusOpen {
			// Paid or voided while the gateway made the link.
			w.queueDeactivateLink(ctx, stored)
		}
		return stored, nil
	}
	stored, serr := st.SetPaymentLink(ctx, inv.TenantID, inv.ID, "", "", nil, o.problem)
	if serr != nil {
		return inv, serr
	}
	return stored, o.err
}

// linkOutcome is what a gateway answered when asked for an invoice's
// payment link: the link, or the problem to store on the invoice and the
// error it came from.
type linkOutcome struct {
	gateway string
	link    *providers.PaymentLink
	problem string
	err     error
}

// newPaymentLink asks the tenant's gateway for inv's payment link when
// inv needs one (see ensurePaymentLink), and returns its answer, stored
// nowhere yet. It returns nil when inv needs no link, and with an error
// when the gateway could not be asked (the settings could not be read, the
// invoice makes no payment request).
func (w *Worker) newPaymentLink(ctx context.Context, inv *invoice.Invoice, settings *store.Settings) (*linkOutcome, error) {
	st := w.cfg.Store
	if !inv.Payable() {
		return nil, nil
	}
	if inv.PaymentLink != "" && (inv.PaymentLinkExpiresAt == nil || inv.PaymentLinkExpiresAt.After(st.Now().Add(time.Hour))) {
		return nil, nil
	}
	if settings == nil {
		read, err := st.Settings(ctx, inv.TenantID)
		if err != nil {
			return nil, err
		}
		settings = &read
	}
	if settings.Payments.Gateway == "" || w.cfg.PaymentFunc == nil {
		return nil, nil
	}
	req, err := paymentRequest(inv, w.publicURL(inv))
	if err != nil {
		return nil, err
	}
	o := &linkOutcome{gateway: settings.Payments.Gateway}
	linker, err := w.cfg.PaymentFunc(settings.Payments)
	if err == nil {
		if o.link, err = linker.CreatePaymentLink(ctx, req); err == nil {
			return o, nil
		}
	}
	o.link, o.problem, o.err = nil, fmt.Sprintf("%s: %v", o.gateway, err), err
	return o, nil
}

// paymentRequest asks for the invoice's amount due, with an idempotency
// key per invoice and amount so a retry returns the first link.
func paymentRequest(inv *invoice.Invoice, returnURL string) (*providers.PaymentRequest, error) {
	cur, err := money.ParseCurrency(inv.Currency)
	if err != nil {
		return nil, providers.Permanent("invalid_invoice", err)
	}
	due, err := money.ParseAmount(inv.AmountDue, cur)
	if err != nil {
		return nil, providers.Permanent("invalid_invoice", err)
	}
	if due <= 0 {
		return nil, providers.Permanent("nothing_due", fmt.Errorf("invoice %s has nothing due", inv.ID))
	}
	return &providers.PaymentRequest{
		TenantID: inv.TenantID, InvoiceID: inv.ID, Number: inv.Number, Amount: due, Currency: inv.Currency,
		CustomerName: inv.Customer.Name, CustomerEmail: inv.Customer.Email,
		Description:    "Invoice " + inv.Number,
		IdempotencyKey: linkKey(inv),
		SuccessURL:     returnURL, CancelURL: returnURL,
	}, nil
}

// linkKey makes a repeated request return the first link, while a changed
// amount, or the replacement of a link about to expire, gets a new one.
func linkKey(inv *invoice.Invoice) string {
	key := "invoiced-" + inv.TenantID + "-" + inv.ID + "-" + inv.AmountDue
	if inv.PaymentLinkExpiresAt != nil {
		key += "-after-" + strconv.FormatInt(inv.PaymentLinkExpiresAt.Unix(), 10)
	}
	return key
}

// linkBeforeSending gives a just-finalized invoice its payment link before
// the email that carries it goes out, and returns the invoice as it is
// then; if the gateway is slow or failing, the email goes without it and
// the link is retried by its own task.
func (w *Worker) linkBeforeSending(ctx context.Context, inv *invoice.Invoice, settings *store.Settings) *invoice.Invoice {
	linkCtx, cancel := context.WithTimeout(ctx, linkWaitBeforeSend)
	defer cancel()
	inv, err := w.ensurePaymentLink(linkCtx, inv, settings)
	if err != nil {
		w.logFrom(ctx).Warn("payment link not created before sending", zap.Error(err))
		w.queuePaymentLink(ctx, inv)
	}
	return inv
}

// queuePaymentLink enqueues the invoice's payment-link task.
func (w *Worker) queuePaymentLink(ctx context.Context, inv *invoice.Invoice) {
	err := enqueue(ctx, w.cfg.Enqueuer, func() (*asynq.Task, error) {
		return tasks.NewPaymentLinkTask(tasks.PaymentLinkPayload{TenantID: inv.TenantID, InvoiceID: inv.ID})
	})
	if err != nil {
		w.logFrom(ctx).Error("payment link task not queued", zap.Error(err))
	}
}

// PaymentLinkDeactivator is a PaymentLinker that can switch a link off.
// A gateway without one (a static link template) has nothing to switch
// off.
type PaymentLinkDeactivator interface {
	DeactivatePaymentLink(ctx context.Context, linkID string) error
}

// DeactivateLinkHandler switches off the payment link of an invoice that
// was paid another way or voided, so it cannot take a second payment.
// An invoice that is open again, has no link, or whose link is already
// off, is left alone. A permanent gateway error is shown on the invoice
// (paymentLinkError) and not retried; a transient one is.
type DeactivateLinkHandler struct{ w *Worker }

// ProcessTask handles tasks.TypeDeactivateLink.
func (h *DeactivateLinkHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.DeactivateLinkPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	st := h.w.cfg.Store
	inv, err := st.Invoice(ctx, p.TenantID, p.InvoiceID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if p.LinkID != "" {
		return h.deactivateReplaced(ctx, inv, p.LinkID)
	}
	if inv.Status == invoice.StatusOpen || inv.PaymentLinkID == "" || inv.PaymentLinkDeactivatedAt != nil || h.w.cfg.PaymentFunc == nil {
		return nil
	}
	gateway, done, err := h.deactivate(ctx, inv.TenantID, inv.PaymentLinkID)
	if done {
		return err
	}
	if err == nil {
		_, err = st.PaymentLinkDeactivated(ctx, inv.TenantID, inv.ID, inv.PaymentLinkID)
		if err == nil {
			h.w.logFrom(ctx).Info("payment link deactivated", zap.String("gateway", gateway),
				zap.String("invoice_status", string(inv.Status)))
		}
		return err
	}
	problem := fmt.Sprintf("%s: the link could not be deactivated: %v", gateway, err)
	if _, serr := st.SetPaymentLink(ctx, inv.TenantID, inv.ID, "", "", nil, problem); serr != nil {
		return serr
	}
	if providers.IsPermanent(err) {
		return fmt.Errorf("deactivate payment link: %w: %w", err, asynq.SkipRetry)
	}
	return fmt.Errorf("deactivate payment link: %w", err)
}

// deactivateReplaced switches off linkID, a link inv had until a credit
// note lowered its amount due. The invoice no longer shows the link, so a
// gateway error is not recorded on it: a permanent one ends the task, a
// transient one is retried.
func (h *DeactivateLinkHandler) deactivateReplaced(ctx context.Context, inv *invoice.Invoice, linkID string) error {
	if linkID == inv.PaymentLinkID || h.w.cfg.PaymentFunc == nil {
		return nil
	}
	gateway, done, err := h.deactivate(ctx, inv.TenantID, linkID)
	if done {
		return err
	}
	if err == nil {
		h.w.logFrom(ctx).Info("replaced payment link deactivated", zap.String("gateway", gateway))
		return nil
	}
	if providers.IsPermanent(err) {
		return fmt.Errorf("deactivate replaced payment link: %w: %w", err, asynq.SkipRetry)
	}
	return fmt.Errorf("deactivate replaced payment link: %w", err)
}

// deactivate asks the tenant's gateway to switch off linkID and returns
// the gateway's name and its answer. done is true when there was nothing
// to ask: settings unreadable (err), no gateway, or one that cannot switch
// links off.
func (h *DeactivateLinkHandler) deactivate(ctx context.Context, tenantID, linkID string) (gateway string, done bool, err error) {
	settings, err := h.w.cfg.Store.Settings(ctx, tenantID)
	if err != nil {
		return "", true, err
	}
	gateway = settings.Payments.Gateway
	if gateway == "" {
		return "", true, nil
	}
	linker, err := h.w.cfg.PaymentFunc(settings.Payments)
	if err != nil {
		return gateway, false, err
	}
	d, ok := linker.(PaymentLinkDeactivator)
	if !ok {
		return gateway, true, nil
	}
	return gateway, false, d.DeactivatePaymentLink(ctx, linkID)
}

// queueDeactivateLink enqueues the task that switches off inv's payment
// link; an invoice without one has nothing to switch off.
func (w *Worker) queueDeactivateLink(ctx context.Context, inv *invoice.Invoice) {
	if inv.PaymentLinkID == "" {
		return
	}
	err := enqueue(ctx, w.cfg.Enqueuer, func() (*asynq.Task, error) {
		return tasks.NewDeactivateLinkTask(tasks.DeactivateLinkPayload{TenantID: inv.TenantID, InvoiceID: inv.ID})
	})
	if err != nil {
		w.logFrom(ctx).Error("payment link deactivation not queued", zap.Error(err))
	}
}
