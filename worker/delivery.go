package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// errThrottled is wrapped in a RetryAfter when the fleet-wide send rate of
// a tenant's provider is used up: the delivery waits, it does not fail.
var errThrottled = errors.New("fleet-wide send rate reached")

// errHourlyLimit is wrapped in a RetryAfter when an email the worker sends
// of its own accord finds the tenant's hourly budget spent: the delivery
// waits for room, it is neither dropped nor sent over the limit.
var errHourlyLimit = errors.New("the tenant's hourly email limit is reached")

// dispatch is one prepared delivery: the provider's name, its fleet-wide
// rate, the call that hands the message over, and what an email carries,
// recorded on the delivery with the outcome (nil for SMS).
type dispatch struct {
	provider  string
	perSecond int
	send      func(ctx context.Context) (providerID string, err error)
	content   *store.EmailContent
	// emails is how many emails the message takes from the tenant's
	// hourly budget of perHour (one per recipient), when the worker is
	// the one to count them; zero when the API counted them on accepting
	// the send.
	emails, perHour int
}

// deliveryJob is what a channel's handler is given to prepare a dispatch.
type deliveryJob struct {
	delivery *store.Delivery
	send     *store.Send
	invoice  *invoice.Invoice
	settings store.Settings
	// claim, when set, is the claim the attempt took on the delivery
	// ahead of its provider call, with its send's start (see
	// SendHandler.begin).
	claim *aheadClaim
	// suppression, when set, is the suppression list's answer for the
	// delivery's recipients, read with the claim.
	suppression *store.SuppressionLookup
}

// aheadClaim is a claim on a delivery taken before its message was
// prepared, with a TTL claimAhead longer than claimTTL.
type aheadClaim struct {
	token string
	// at is when it was taken; zero when it is not known to be held
	// (the step that took it got no answer).
	at time.Time
}

// claimAhead is how long a claim taken ahead of its provider call holds
// for the preparation of the message: one older than this is taken
// again (renewed under its token) before the call, so the call and its
// recording always have a whole claimTTL.
const claimAhead = time.Second

// held reports whether the claim is known to be held with a whole
// claimTTL left.
func (c *aheadClaim) held() bool {
	return c != nil && !c.at.IsZero() && time.Since(c.at) < claimAhead
}

// token returns the token of the job's claim taken ahead, or "".
func (j deliveryJob) token() string {
	if j.claim == nil {
		return ""
	}
	return j.claim.token
}

// prepareFunc builds the dispatch of one delivery. A configuration error
// should be permanent; a provider name may come back with the error.
type prepareFunc func(ctx context.Context, job deliveryJob) (dispatch, error)

// deliver runs one delivery task: it skips a delivery that is no longer
// queued (a duplicate task) and makes an attempt (see attempt).
func (w *Worker) deliver(ctx context.Context, t *asynq.Task, prepare prepareFunc) error {
	var p tasks.DeliveryPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	job, err := w.loadJob(ctx, p)
	if err != nil {
		return err
	}
	if job.delivery == nil {
		return nil // no longer queued
	}
	if p.Tried > 0 {
		t := tryOf(ctx)
		ctx = withTry(ctx, try{n: p.Tried + t.n, last: p.Tried + t.last})
	}
	return w.attempt(ctx, job, prepare)
}

// attempt makes one attempt at the job's delivery: it prepares the
// message, waits for the fleet-wide rate, and hands it over (see
// handOver): sent with the provider's id, an attempt kept for a transient
// failure (the error asks for another), failed at once for a permanent
// one (the error wraps asynq.SkipRetry).
func (w *Worker) attempt(ctx context.Context, job deliveryJob, prepare prepareFunc) error {
	log := w.logFrom(ctx)
	st := w.cfg.Store
	d := job.delivery
	if !job.invoice.Status.Sendable() {
		return w.fail(ctx, log, d, dispatch{}, job.token(), st.Now(), providers.Permanent("invoice_void",
			fmt.Errorf("invoice %s was voided before this delivery went out", job.invoice.ID)))
	}
	disp, err := prepare(ctx, job)
	if err == nil {
		err = w.takeEmails(ctx, d, disp)
		if errors.Is(err, errHourlyLimit) {
			w.releaseClaim(ctx, job)
			return w.waitForBudget(ctx, log, d, disp, err)
		}
	}
	if err == nil {
		err = w.throttle(ctx, d.TenantID, disp)
		if _, throttled := providers.RetryDelay(err); throttled {
			w.releaseClaim(ctx, job)
			return err // not an attempt: nothing was sent
		}
	}
	if err != nil {
		return w.fail(ctx, log, d, disp, job.token(), st.Now(), err)
	}
	return w.handOver(ctx, log, job, disp)
}

// deliverInPlace makes the first attempt at a delivery within the task
// that started its send, which saves a trip through the queue per
// delivery. What the attempt leaves to try again (a transient failure, a
// provider's or the fleet-wide rate's wait, a claim held elsewhere, a
// stopping worker) is handed to the delivery's own task, queued for when
// asynq would have retried it and counting the attempt made here, so the
// delivery is tried as often, and as late, as if its task had made it.
func (w *Worker) deliverInPlace(ctx context.Context, job deliveryJob) error {
	d := job.delivery
	prepare := w.prepares[d.Channel]
	if prepare == nil {
		return fmt.Errorf("delivery %s: unknown channel %q: %w", d.ID, d.Channel, asynq.SkipRetry)
	}
	ctx = context.WithValue(ctx, loggerKey{}, w.logFrom(ctx).WithLazy(zap.String("delivery_id", d.ID)))
	first := try{n: 0, last: w.cfg.MaxDeliveryRetries}
	attemptErr := w.attempt(withTry(ctx, first), job, prepare)
	if attemptErr == nil || errors.Is(attemptErr, asynq.SkipRetry) {
		return nil // sent, no longer queued, or failed for good
	}
	tried := 0
	if IsFailure(attemptErr) {
		tried = 1
	}
	payload := tasks.DeliveryPayload{TenantID: d.TenantID, DeliveryID: d.ID, SendID: d.SendID, InvoiceID: d.InvoiceID, Tried: tried}
	task, err := deliveryTask(d.Channel, payload, asynq.MaxRetry(w.cfg.MaxDeliveryRetries-tried))
	if err != nil {
		return err
	}
	// The delay of a first retry: the task's own Tried would count the
	// attempt twice.
	delay := w.cfg.RetryDelay(0, attemptErr, nil)
	// Logged as a delivery task's attempt is (see logMiddleware).
	if log := w.logFrom(ctx); tried > 0 {
		log.Warn("delivery attempt failed; its task tries again", zap.Duration("in", delay), zap.Error(attemptErr))
	} else {
		log.Debug("delivery throttled; its task tries again", zap.Duration("in", delay), zap.Error(attemptErr))
	}
	_, err = w.cfg.Enqueuer.EnqueueContext(context.WithoutCancel(ctx), task, asynq.ProcessIn(delay))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue %s: %w", task.Type(), err)
	}
	return nil
}

// deliveryTask returns the task of a delivery by channel with payload p.
func deliveryTask(channel store.Channel, p tasks.DeliveryPayload, opts ...asynq.Option) (*asynq.Task, error) {
	if channel == store.ChannelSMS {
		return tasks.NewDeliverySMSTask(p, opts...)
	}
	return tasks.NewDeliveryEmailTask(p, opts...)
}

// try is which attempt at its delivery a task makes: n counts the
// attempts before it, and the one numbered last is the last.
type try struct{ n, last int }

type tryKey struct{}

func withTry(ctx context.Context, t try) context.Context {
	return context.WithValue(ctx, tryKey{}, t)
}

// tryOf returns the attempt ctx makes: as withTry set it, else as asynq
// counts its task's retries.
func tryOf(ctx context.Context) try {
	if t, ok := ctx.Value(tryKey{}).(try); ok {
		return t
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	return try{n: retried, last: maxRetry}
}

// Timeouts of the part of a delivery that runs to its end once started.
const (
	// recordTimeout bounds taking a claim, and recording a provider's
	// answer, each retried through a short Redis outage (a restart, a
	// Sentinel failover).
	recordTimeout = 30 * time.Second
	// claimMargin lengthens every claim for clock differences between
	// workers.
	claimMargin = 5 * time.Second
	// claimRecheck is how soon a delivery claimed by another attempt is
	// looked at again.
	claimRecheck = 5 * time.Second
)

// errStopping is returned by a delivery that reaches its provider call
// after the worker began to stop; the task runs again elsewhere.
var errStopping = errors.New("worker is stopping")

// handOver claims the delivery for this attempt, hands it to the provider
// and records the answer. Once the claim is taken the work is not canceled
// with ctx (a worker shutting down): the provider call has its own
// SendTimeout and the recording its own timeout, so a message the provider
// took is recorded as sent, and the task asynq puts back on the queue finds
// it sent and does nothing. Another attempt's fresh claim makes this one
// look again shortly; a stale one means its worker died mid-send, and the
// delivery is sent again (at least once; same Message-ID). A claim the
// job's attempt took ahead, with its send's start, is not taken again
// unless it is older than claimAhead; it is given back if the attempt
// does not reach its provider call.
func (w *Worker) handOver(ctx context.Context, log *zap.Logger, job deliveryJob, disp dispatch) error {
	d := job.delivery
	if !w.sending.enter() {
		w.releaseClaim(ctx, job)
		return fmt.Errorf("deliver: %w", errStopping)
	}
	defer w.sending.leave()
	if err := ctx.Err(); err != nil {
		w.releaseClaim(ctx, job)
		return err
	}
	st := w.cfg.Store
	detached := context.WithoutCancel(ctx)
	token := job.token()
	if token == "" {
		token = store.NewID("clm")
	}
	if !job.claim.held() {
		var stale *store.Claim
		err := w.untilRecorded(detached, func(ctx context.Context) (err error) {
			_, stale, err = st.ClaimSend(ctx, d.TenantID, d.ID, token, disp.provider, w.claimTTL())
			return err
		})
		var claimed *store.ClaimedError
		switch {
		case errors.Is(err, store.ErrNotQueued):
			log.Debug("delivery is no longer queued")
			return nil
		case errors.As(err, &claimed):
			return providers.RetryAfter(min(claimed.Until.Sub(st.Now()), claimRecheck), err)
		case err != nil:
			return fmt.Errorf("claim delivery: %w", err)
		}
		if stale != nil {
			log.Warn("sending again: the attempt that claimed this delivery stopped before recording the provider's answer",
				zap.String("provider", stale.Provider), zap.Time("claimed_at", stale.At))
		}
	}

	// An attempt is stamped when it is handed to the provider.
	started := st.Now()
	sendCtx, cancel := context.WithTimeout(detached, w.cfg.SendTimeout)
	callStart := time.Now()
	providerID, err := disp.send(sendCtx)
	w.cfg.Metrics.ProviderCall(d.Channel, disp.provider, outcome(err), time.Since(callStart))
	cancel()
	if err != nil {
		return w.fail(detached, log, d, disp, token, started, err)
	}
	return w.recordSent(detached, log, job, disp, providerID, started)
}

// recordSent records that the dispatch's provider took the job's delivery
// under providerID, with what the message carried.
func (w *Worker) recordSent(ctx context.Context, log *zap.Logger, job deliveryJob, disp dispatch, providerID string, started time.Time) error {
	d := job.delivery
	st := w.cfg.Store
	provider := disp.provider
	var sent store.Moved
	var indexErr error
	err := w.untilRecorded(ctx, func(ctx context.Context) (err error) {
		sent, indexErr, err = st.RecordSent(ctx, d.TenantID, d.ID, provider, providerID, job.send, func(d *store.Delivery) {
			d.Provider, d.ProviderID = provider, providerID
			d.Attempts = append(d.Attempts, store.Attempt{At: started, Provider: provider})
			d.Content = disp.content
		})
		return err
	})
	if err != nil {
		log.Error("the provider took the message but it could not be recorded as sent; it is sent again once its claim expires",
			zap.String("provider", provider), zap.Error(err))
		return fmt.Errorf("record sent: %w", err)
	}
	if indexErr != nil {
		log.Warn("provider message id not indexed; its status callbacks will be ignored", zap.Error(indexErr))
	}
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	w.emitMoved(ctx, sent, job.send)
	log.Info("delivery sent", zap.String("channel", string(d.Channel)), zap.String("provider", provider))
	return nil
}

// releaseClaim gives back the claim the job's attempt took ahead of its
// provider call, when it does not make the call; one it cannot give back
// expires.
func (w *Worker) releaseClaim(ctx context.Context, job deliveryJob) {
	if job.claim == nil {
		return
	}
	d := job.delivery
	err := w.untilRecorded(context.WithoutCancel(ctx), func(ctx context.Context) error {
		return w.cfg.Store.ReleaseClaim(ctx, d.TenantID, d.ID, job.claim.token)
	})
	if err != nil {
		w.logFrom(ctx).Warn("claim not released; the delivery waits for it to expire", zap.Error(err))
	}
}

// claimTTL is how long a claim holds: one provider call and its recording.
// Past it, the attempt that took the claim is presumed dead.
func (w *Worker) claimTTL() time.Duration {
	return w.cfg.SendTimeout + recordTimeout + claimMargin
}

// untilRecorded runs one store change, trying again for up to recordTimeout
// while Redis is unreachable, so what a provider did outlives a Redis
// restart or failover. Answers from the store (not found, a conflict, a
// claim held by another attempt) are returned at once.
func (w *Worker) untilRecorded(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	wait := 100 * time.Millisecond
	for {
		err := fn(ctx)
		var claimed *store.ClaimedError
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrNotQueued) || errors.As(err, &claimed) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// sendGate counts the deliveries between their claim and the recording of
// the provider's answer, so a stopping worker can wait for them, and turns
// new ones away once it stops.
type sendGate struct {
	mu      sync.RWMutex
	stopped bool
	n       atomic.Int64
	wg      sync.WaitGroup
}

func (g *sendGate) enter() bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.stopped {
		return false
	}
	g.wg.Add(1)
	g.n.Add(1)
	return true
}

func (g *sendGate) leave() {
	g.n.Add(-1)
	g.wg.Done()
}

// Stop turns away deliveries that have not reached their provider call yet
// (their tasks run again, here or on another worker) and waits until the
// ones under way have recorded the provider's answer, or ctx ends. Each is
// bounded by SendTimeout and the recording's own timeout. Call it when the
// asynq server has shut down.
func (w *Worker) Stop(ctx context.Context) error {
	g := &w.sending
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
	if n := g.n.Load(); n > 0 {
		w.log.Info("waiting for sends under way to be recorded", zap.Int64("sends", n))
	}
	if err := waitCtx(ctx, &g.wg); err != nil {
		return fmt.Errorf("%d sends under way were not recorded: %w", g.n.Load(), err)
	}
	return nil
}

// loadJob reads the task's delivery with its send, invoice and settings:
// in one round trip when the task names the send and invoice, else in
// two. A delivery that is no longer queued (a duplicate task) is left out
// of the job, and the rest not read. A missing delivery is permanent.
func (w *Worker) loadJob(ctx context.Context, p tasks.DeliveryPayload) (deliveryJob, error) {
	st := w.cfg.Store
	var d *store.Delivery
	var job deliveryJob
	var err error
	if p.SendID != "" && p.InvoiceID != "" {
		d, job.send, job.invoice, job.settings, err = st.DeliveryJob(ctx, p.TenantID, p.DeliveryID, p.SendID, p.InvoiceID)
		if errors.Is(err, store.ErrNotFound) {
			d, err = nil, nil // which one is missing: read them one by one
		}
	}
	if d == nil && err == nil {
		d, err = st.Delivery(ctx, p.TenantID, p.DeliveryID)
		if errors.Is(err, store.ErrNotFound) {
			return deliveryJob{}, fmt.Errorf("delivery %s: %w: %w", p.DeliveryID, err, asynq.SkipRetry)
		}
		if err == nil && d.Status == store.DeliveryQueued {
			job.send, job.invoice, job.settings, err = st.SendJob(ctx, d.TenantID, d.SendID, d.InvoiceID)
		}
	}
	if err != nil {
		return deliveryJob{}, fmt.Errorf("load delivery, send, invoice and settings: %w", err)
	}
	if d.Status != store.DeliveryQueued {
		w.logFrom(ctx).Debug("delivery is no longer queued", zap.String("status", string(d.Status)))
		return deliveryJob{}, nil
	}
	job.delivery = d
	return job, nil
}

// maxInlineWait is how long a delivery waits in place for its turn under
// the fleet-wide rate before it gives its worker slot back and is retried
// later: short waits keep the rate smooth, long ones keep slots free.
const maxInlineWait = 2 * time.Second

// throttle takes one send from the tenant's fleet-wide budget at the
// provider, waiting briefly for a turn, or returns a RetryAfter for when
// one frees up.
func (w *Worker) throttle(ctx context.Context, tenantID string, disp dispatch) error {
	if disp.perSecond <= 0 {
		return nil
	}
	deadline := time.Now().Add(maxInlineWait)
	for {
		ok, wait, err := w.cfg.Store.AllowSend(ctx, tenantID, disp.provider, disp.perSecond)
		if err != nil || ok {
			return err
		}
		if time.Now().Add(wait).After(deadline) {
			return providers.RetryAfter(wait, errThrottled)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// takeEmails takes the dispatch's emails from the tenant's hourly budget,
// once for the delivery however often it is tried, or returns a RetryAfter
// wrapping errHourlyLimit for when the budget has room.
func (w *Worker) takeEmails(ctx context.Context, d *store.Delivery, disp dispatch) error {
	if disp.emails == 0 {
		return nil
	}
	took, err := w.cfg.Store.TakeDeliveryEmails(ctx, d.TenantID, d.ID, disp.emails, disp.perHour)
	switch {
	case errors.Is(err, store.ErrOverHourlyLimit):
		return providers.Permanent(store.CodeRateLimited, err)
	case err != nil:
		return err
	case took.OK:
		return nil
	}
	// Whole seconds, rounded up: a retry on time finds room.
	wait := took.RetryAfter.Truncate(time.Second) + time.Second
	return providers.RetryAfter(wait, fmt.Errorf("%w: %d of %d emails per hour left, this email needs %d",
		errHourlyLimit, took.Left, disp.perHour, disp.emails))
}

// waitForBudget keeps a delivery whose email found the hourly budget spent
// queued, says why with a rate_limited attempt (one, however many times it
// is tried while it waits), and returns err, whose RetryAfter runs the task
// again when the budget has room without using up a retry.
func (w *Worker) waitForBudget(ctx context.Context, log *zap.Logger, d *store.Delivery, disp dispatch, err error) error {
	if n := len(d.Attempts); n > 0 && d.Attempts[n-1].Code == store.CodeRateLimited {
		return err
	}
	st := w.cfg.Store
	attempt := store.Attempt{At: st.Now(), Provider: disp.provider, Error: err.Error(), Code: store.CodeRateLimited}
	if rerr := st.RecordAttempt(ctx, d.TenantID, d.ID, "", attempt); rerr != nil {
		return rerr
	}
	wait, _ := providers.RetryDelay(err)
	log.Info("email waits for the tenant's hourly limit", zap.Int("emails", disp.emails), zap.Duration("wait", wait))
	return err
}

// fail records a failed attempt, releasing the claim of token, and decides
// what happens next. A delivery that fails for good keeps what its message
// carried, when it was composed.
func (w *Worker) fail(ctx context.Context, log *zap.Logger, d *store.Delivery, disp dispatch, token string, started time.Time, sendErr error) error {
	st := w.cfg.Store
	provider := disp.provider
	permanent := providers.IsPermanent(sendErr)
	code := providers.Code(sendErr)
	attempt := store.Attempt{At: started, Provider: provider, Error: sendErr.Error(), Code: code, Permanent: permanent}
	err := w.untilRecorded(ctx, func(ctx context.Context) error {
		return st.RecordAttempt(ctx, d.TenantID, d.ID, token, attempt)
	})
	if err != nil {
		return err
	}
	tried := tryOf(ctx)
	_, throttled := providers.RetryDelay(sendErr)
	lastTry := tried.n >= tried.last && !throttled
	if !permanent && !lastTry {
		return fmt.Errorf("deliver (will retry): %w", sendErr)
	}
	reason := sendErr.Error()
	if !permanent {
		reason = fmt.Sprintf("gave up after %d attempts: %s", tried.n+1, reason)
	}
	var failed store.Moved
	err = w.untilRecorded(ctx, func(ctx context.Context) (err error) {
		failed, err = st.TransitionRecorded(ctx, d.TenantID, d.ID, store.DeliveryFailed, "worker", reason, nil, func(d *store.Delivery) {
			if disp.content != nil {
				d.Content = disp.content
			}
		})
		return err
	})
	if err != nil {
		return err
	}
	w.emitMoved(ctx, failed, nil)
	log.Warn("delivery failed", zap.String("channel", string(d.Channel)), zap.String("provider", provider),
		zap.Bool("permanent", permanent), zap.String("code", code))
	return fmt.Errorf("deliver: %w: %w", sendErr, asynq.SkipRetry)
}

// notConfigured is the permanent error of a delivery whose tenant has no
// usable provider: retrying will not fix it.
func notConfigured(format string, args ...any) error {
	return providers.Permanent("not_configured", fmt.Errorf(format, args...))
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
