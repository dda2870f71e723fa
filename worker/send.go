package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

var zeroTime time.Time

// SendHandler starts a send: it finalizes a draft first, then queues the
// send's deliveries. A canceled send does nothing; a retried one resumes
// where it stopped, since each delivery is queued under its own task id.
type SendHandler struct{ w *Worker }

// ProcessTask handles tasks.TypeSend.
func (h *SendHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.SendPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	log := h.w.logFrom(ctx)
	st := h.w.cfg.Store
	// The send, its invoice, its deliveries and the settings are read in
	// one round trip first; the send's start, the invoice's finalization
	// and the first delivery's claim are then written from what was read,
	// in one step when the send is in its common case (begin), else one
	// by one (a change made in between makes them read again).
	var inv *invoice.Invoice
	var settings *store.Settings
	read := map[string]*store.Delivery{}
	var began *begun
	var link *draftLink
	var ahead *aheadClaim
	if p.InvoiceID != "" {
		if jobSend, jobInv, ds, jobSettings, err := st.StartJob(ctx, p.TenantID, p.SendID, p.InvoiceID, p.DeliveryIDs); err == nil {
			inv, settings = jobInv, &jobSettings
			for _, d := range ds {
				read[d.ID] = d
			}
			began, link, ahead = h.begin(ctx, jobSend, inv, read, settings)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	var send *store.Send
	linked := false
	if began != nil {
		send, inv, linked = began.send, began.invoice, began.linked
		read[began.delivery.ID] = began.delivery
	} else {
		var err error
		send, err = st.StartSend(ctx, p.TenantID, p.SendID)
		switch {
		case errors.Is(err, store.ErrConflict):
			log.Info("send canceled before it started")
			return nil
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("send %s: %w: %w", p.SendID, err, asynq.SkipRetry)
		case err != nil:
			return err
		}
		if inv == nil || inv.ID != send.InvoiceID {
			if inv, err = st.Invoice(ctx, p.TenantID, send.InvoiceID); err != nil {
				return fmt.Errorf("load invoice: %w", err)
			}
		}
		if skipped, err := h.skipReminder(ctx, send, inv); skipped || err != nil {
			return err
		}
		if inv.Status == invoice.StatusDraft {
			var finalized bool
			inv, finalized, linked, err = h.finalize(ctx, inv, settings, link)
			if err != nil && !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("finalize before send: %w", err)
			}
			if finalized {
				h.w.emitFinalized(ctx, inv, settings)
			}
		}
		if inv == nil || !inv.Status.Sendable() {
			return h.failAll(ctx, send, "the invoice is void and cannot be sent")
		}
	}
	if !linked {
		inv = h.w.linkBeforeSending(ctx, inv, settings)
	}

	// A send never scheduled made its deliveries queued: they need no
	// transition, and one no longer queued (sent by an earlier run of
	// this task) is left be. Each queued one gets its first attempt here
	// (see deliverInPlace).
	made := send.MadeQueued()
	for i, id := range send.DeliveryIDs {
		var d *store.Delivery
		var err error
		if made {
			if d = read[id]; d == nil || d.SendID != send.ID {
				if d, err = st.Delivery(ctx, p.TenantID, id); err != nil {
					return err
				}
			}
		} else if d, _, err = st.Transition(ctx, p.TenantID, id, store.DeliveryQueued, "worker", "", nil); err != nil {
			return err
		}
		if d.Status != store.DeliveryQueued {
			continue // canceled, or already delivered by an earlier run
		}
		if settings == nil {
			s, err := st.Settings(ctx, p.TenantID)
			if err != nil {
				return err
			}
			settings = &s
		}
		job := deliveryJob{delivery: d, send: send, invoice: inv, settings: *settings}
		if i == 0 {
			job.claim = ahead
			if began != nil {
				job.suppression = began.suppression
			}
		}
		if err := h.w.deliverInPlace(ctx, job); err != nil {
			return err
		}
	}
	log.Debug("send started", zap.Int("deliveries", len(send.DeliveryIDs)))
	return nil
}

// begun is a send begun in one step (see begin): the send started, its
// invoice open, its first delivery claimed.
type begun struct {
	send     *store.Send
	invoice  *invoice.Invoice
	delivery *store.Delivery
	// linked reports whether the invoice got its payment link (or the
	// gateway's problem) with its finalization.
	linked bool
	// suppression is the answer for the delivery's recipients.
	suppression *store.SuppressionLookup
}

// begin starts the send read, finalizes its draft invoice with its
// payment link and claims its first delivery in one step
// (store.BeginSend), from the records as read, when the send is in its
// common case: never scheduled, not a reminder, its first delivery an
// email. It returns nil when it did not, and the caller goes on step by
// step, with the draft's link if one was made (the gateway is asked once
// a send) and, when the step's outcome is unknown (Redis did not answer),
// the claim it may have taken, to take again under the same token.
//
// The gateway is asked before the send is marked started: a send never
// scheduled cannot be canceled.
func (h *SendHandler) begin(ctx context.Context, read *store.Send, inv *invoice.Invoice, ds map[string]*store.Delivery, settings *store.Settings) (*begun, *draftLink, *aheadClaim) {
	if read.Kind == store.SendKindReminder || read.Status != store.SendQueued || len(read.DeliveryIDs) == 0 || inv.ID != read.InvoiceID {
		return nil, nil, nil
	}
	w := h.w
	d := ds[read.DeliveryIDs[0]]
	if d == nil || d.Channel != store.ChannelEmail || d.Status != store.DeliveryQueued || d.Claim != nil {
		return nil, nil, nil
	}
	var link *draftLink
	linked := false
	var finalized func(*invoice.Invoice)
	if inv.Status == invoice.StatusDraft {
		link = w.newDraftLink(ctx, inv, settings)
		finalized = link.into(&linked)
	}
	claim := &aheadClaim{token: store.NewID("clm")}
	b, err := w.cfg.Store.BeginSend(ctx, store.SendStart{
		TenantID: read.TenantID, SendID: read.ID, DeliveryID: d.ID, Finalized: finalized,
		Token: claim.token, Provider: w.emailProvider(settings.Email, d.TestMode), TTL: w.claimTTL() + claimAhead,
		Recipients: emailRecipients(d),
	})
	switch {
	case err != nil:
		w.logFrom(ctx).Warn("send not begun in one step; going on step by step", zap.Error(err))
		return nil, link, claim
	case !b.Begun:
		return nil, link, nil
	}
	claim.at = time.Now()
	w.fanOut(ctx, read.TenantID, b.Fanout)
	if b.Finalized {
		if linked {
			w.linkedWith(ctx, b.Invoice, link.o)
		}
		w.emitFinalized(ctx, b.Invoice, settings)
	}
	return &begun{send: b.Send, invoice: b.Invoice, delivery: b.Delivery, linked: linked && b.Finalized, suppression: b.Suppression}, link, claim
}

// draftLink is a payment link asked of the gateway for a draft, as
// finalizing makes it (open), before the write that finalizes it:
// o is the gateway's answer, nil when the invoice needs none.
type draftLink struct {
	open invoice.Invoice
	o    *linkOutcome
}

// newDraftLink asks the gateway for the link of draft as finalizing makes
// it, waiting for it at most linkWaitBeforeSend.
func (w *Worker) newDraftLink(ctx context.Context, draft *invoice.Invoice, settings *store.Settings) *draftLink {
	l := &draftLink{open: *draft}
	l.open.Status = invoice.StatusOpen
	linkCtx, cancel := context.WithTimeout(ctx, linkWaitBeforeSend)
	l.o, _ = w.newPaymentLink(linkCtx, &l.open, settings)
	cancel()
	return l
}

// into returns the change that stores the link (or why there is none) on
// the invoice being finalized, when the invoice still asks for the link
// that was made; it reports in *linked whether it did. It may run more
// than once.
func (l *draftLink) into(linked *bool) func(inv *invoice.Invoice) {
	return func(inv *invoice.Invoice) {
		*linked = false
		o := l.o
		if o == nil || !inv.Payable() || !sameLinkRequest(inv, &l.open) {
			return // the invoice changed since the gateway was asked
		}
		if o.link != nil {
			inv.PaymentLink, inv.PaymentLinkID, inv.PaymentLinkExpiresAt = o.link.URL, o.link.ID, o.link.ExpiresAt
		}
		inv.PaymentLinkError = o.problem
		*linked = true
	}
}

// linkedWith logs the link o that went with inv's finalization, and
// queues the link's own task when the gateway failed.
func (w *Worker) linkedWith(ctx context.Context, inv *invoice.Invoice, o *linkOutcome) {
	switch {
	case o.err != nil:
		w.logFrom(ctx).Warn("payment link not created before sending", zap.Error(o.err))
		w.queuePaymentLink(ctx, inv)
	case o.link != nil:
		w.logFrom(ctx).Info("payment link created", zap.String("gateway", o.gateway))
	}
}

// finalize finalizes the draft inv and stores its payment link (or why
// there is none) in the same write: the gateway is asked first, for the
// invoice as finalizing makes it, unless link is the gateway's answer for
// it already. It reports whether the link went with the finalization; it
// did not when another finalized the invoice first, or changed what the
// link was asked for while the gateway answered, and then the caller
// gives it its link as any open invoice (linkBeforeSending). A link made
// for an invoice voided meanwhile is stored and switched off, as
// ensurePaymentLink does.
func (h *SendHandler) finalize(ctx context.Context, draft *invoice.Invoice, settings *store.Settings, link *draftLink) (inv *invoice.Invoice, finalized, linked bool, err error) {
	w := h.w
	if link == nil || link.open.ID != draft.ID {
		link = w.newDraftLink(ctx, draft, settings)
	}
	o := link.o
	var fanout []string
	inv, finalized, fanout, err = w.cfg.Store.FinalizeWith(ctx, draft.TenantID, draft.ID, "send", link.into(&linked))
	if errors.Is(err, store.ErrConflict) && o != nil && o.link != nil {
		if stored, serr := w.cfg.Store.SetPaymentLink(ctx, draft.TenantID, draft.ID, o.link.URL, o.link.ID, o.link.ExpiresAt, ""); serr == nil {
			w.queueDeactivateLink(ctx, stored)
		}
	}
	w.fanOut(ctx, draft.TenantID, fanout)
	linked = linked && finalized && err == nil
	if linked {
		w.linkedWith(ctx, inv, o)
	}
	return inv, finalized, linked, err
}

// sameLinkRequest reports whether a and b ask a gateway for the same
// payment link: what paymentRequest, publicURL and linkKey read of them
// is the same.
func sameLinkRequest(a, b *invoice.Invoice) bool {
	return a.ID == b.ID && a.AmountDue == b.AmountDue && a.Currency == b.Currency && a.Number == b.Number &&
		a.Customer.Name == b.Customer.Name && a.Customer.Email == b.Customer.Email &&
		a.DueDate == b.DueDate && a.IssueDate == b.IssueDate && a.CreatedAt.Equal(b.CreatedAt) &&
		a.PaymentLink == b.PaymentLink && sameTime(a.PaymentLinkExpiresAt, b.PaymentLinkExpiresAt)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func (h *SendHandler) failAll(ctx context.Context, send *store.Send, reason string) error {
	for _, id := range send.DeliveryIDs {
		d, changed, err := h.w.cfg.Store.Transition(ctx, send.TenantID, id, store.DeliveryFailed, "worker", reason, nil)
		if err != nil {
			return err
		}
		if changed {
			h.w.emitDelivery(ctx, d)
		}
	}
	return nil
}
