package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

var sendCount atomic.Int32

// newSend stores a draft and a send of it on channels (to a@b.co and
// +40700000000), and returns the send and its task.
func (e *deliveryEnv) newSend(t *testing.T, channels ...store.Channel) (*store.Send, *asynq.Task) {
	t.Helper()
	ctx := context.Background()
	n := sendCount.Add(1)
	inv := &invoice.Invoice{ID: fmt.Sprintf("inv_s%d", n), TenantID: "ten_a", Number: fmt.Sprint("S-", n), Currency: "EUR", AmountDue: "10.00", Total: "10.00"}
	if _, err := e.st.SaveDraft(ctx, inv, time.Hour); err != nil {
		t.Fatal(err)
	}
	send := &store.Send{ID: fmt.Sprintf("snd_s%d", n), TenantID: "ten_a", InvoiceID: inv.ID, Channels: channels, Email: "a@b.co", Phone: "+40700000000"}
	if _, _, err := e.st.CreateSend(ctx, send); err != nil {
		t.Fatal(err)
	}
	task, err := tasks.NewSendTask(tasks.SendPayload{TenantID: "ten_a", InvoiceID: inv.ID, SendID: send.ID, DeliveryIDs: send.DeliveryIDs}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return send, task
}

// TestSendRoundTrips counts what the send task of a draft with one email
// delivery asks of Redis through the store, with the email prepared as it
// is in production (the suppression list, the PDF) and written to the
// outbox: the job's read, one script that starts the send, finalizes the
// draft and claims the delivery (the suppression list read beside it),
// and the script that records it sent.
func TestSendRoundTrips(t *testing.T) {
	t.Parallel()
	e, ctx := setupOutboxEmail(t)
	c := &redistest.Counter{}
	e.rdb.AddHook(c)
	var sms int32
	for _, tt := range []struct {
		name     string
		channels []store.Channel
		// trips and scripts are what the send takes; zero: not counted.
		trips, scripts int64
	}{
		{name: "warm-up (loads the scripts)", channels: []store.Channel{store.ChannelEmail}},
		{name: "email", channels: []store.Channel{store.ChannelEmail}, trips: 3, scripts: 2},
		{name: "email and sms", channels: []store.Channel{store.ChannelEmail, store.ChannelSMS}},
	} {
		send, task := e.newSend(t, tt.channels...)
		trips, scripts := c.Trips.Load(), c.Scripts.Load()
		if err := (&SendHandler{w: e.w}).ProcessTask(ctx, task); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		trips, scripts = c.Trips.Load()-trips, c.Scripts.Load()-scripts
		if tt.trips > 0 && (trips != tt.trips || scripts != tt.scripts) {
			t.Errorf("%s: %d round trips and %d scripts, want %d and %d", tt.name, trips, scripts, tt.trips, tt.scripts)
		}
		for _, id := range send.DeliveryIDs {
			if d := e.delivery(t, id); d.Status != store.DeliverySent || d.Claim != nil || len(d.Attempts) != 1 {
				t.Errorf("%s: delivery %s %s, claim %+v, attempts %+v; want sent in one attempt", tt.name, d.Channel, d.Status, d.Claim, d.Attempts)
			}
		}
		inv, err := e.st.Invoice(ctx, "ten_a", send.InvoiceID)
		if err != nil || inv.Status != invoice.StatusOpen || inv.FinalizedBy != "send" {
			t.Errorf("%s: invoice %+v, %v; want finalized by the send", tt.name, inv, err)
		}
		if got, err := e.st.Send(ctx, "ten_a", send.ID); err != nil || got.Status != store.SendStarted {
			t.Errorf("%s: send %+v, %v; want started", tt.name, got, err)
		}
		if _, err := e.st.Event(ctx, "ten_a", "evt_"+send.InvoiceID+"_"+store.EventInvoiceFinalized); err != nil {
			t.Errorf("%s: invoice.finalized: %v", tt.name, err)
		}
		if len(tt.channels) == 2 {
			sms++
		}
		if n := e.calls.Load(); n != sms {
			t.Errorf("%s: the test's provider sent %d, want the sms only (%d)", tt.name, n, sms)
		}
	}
	files, _ := filepath.Glob(filepath.Join(e.outbox, "email", "*.eml"))
	if len(files) != 3 {
		t.Errorf("%d emails in the outbox, want 3", len(files))
	}
}

// setupOutboxEmail is setupDelivery with tenant ten_a's email through the
// outbox, prepared by the EmailHandler.
func setupOutboxEmail(t *testing.T) (*deliveryEnv, context.Context) {
	t.Helper()
	e := setupDelivery(t, nil)
	email := &EmailHandler{w: e.w}
	e.w.prepares[store.ChannelEmail] = email.prepare
	ctx := context.Background()
	if err := e.st.SaveSettings(ctx, "ten_a", store.Settings{Email: store.EmailSettings{Provider: store.ProviderOutbox, FromEmail: "billing@acme.test"}}); err != nil {
		t.Fatal(err)
	}
	return e, ctx
}

// TestSendSuppressedRecipient: a send to an address on the suppression
// list fails its delivery for good, with the claim taken with the send's
// start released, and sends nothing.
func TestSendSuppressedRecipient(t *testing.T) {
	t.Parallel()
	e, ctx := setupOutboxEmail(t)
	if err := e.st.Suppress(ctx, "ten_a", "A@b.co", "hard bounce"); err != nil {
		t.Fatal(err)
	}
	send, task := e.newSend(t, store.ChannelEmail)
	if err := (&SendHandler{w: e.w}).ProcessTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	d := e.delivery(t, send.DeliveryIDs[0])
	if d.Status != store.DeliveryFailed || d.Claim != nil || len(d.Attempts) != 1 || d.Attempts[0].Code != "suppressed" {
		t.Errorf("delivery %s, claim %+v, attempts %+v; want failed as suppressed", d.Status, d.Claim, d.Attempts)
	}
	if files, _ := os.ReadDir(filepath.Join(e.outbox, "email")); len(files) != 0 {
		t.Errorf("%d emails sent to a suppressed address", len(files))
	}
}

// TestSendTwoWorkers runs each send's task on two workers at once, each
// with its own store: the delivery goes out once.
func TestSendTwoWorkers(t *testing.T) {
	t.Parallel()
	e := setupDelivery(t, nil)
	other, _, _, _ := e.newWorker(t, nil)
	ctx := context.Background()
	for range 10 {
		send, task := e.newSend(t, store.ChannelEmail)
		before := e.calls.Load()
		var wg sync.WaitGroup
		for _, w := range []*Worker{e.w, other} {
			wg.Go(func() {
				if err := (&SendHandler{w: w}).ProcessTask(ctx, task); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := e.calls.Load() - before; n != 1 {
			t.Errorf("%s: %d provider calls, want 1", send.ID, n)
		}
		if d := e.delivery(t, send.DeliveryIDs[0]); d.Status != store.DeliverySent || successes(d) != 1 {
			t.Errorf("%s: delivery %s with attempts %+v, want sent once", send.ID, d.Status, d.Attempts)
		}
		inv, err := e.st.Invoice(ctx, "ten_a", send.InvoiceID)
		if err != nil || inv.Status != invoice.StatusOpen {
			t.Errorf("%s: invoice %+v, %v; want open", send.ID, inv, err)
		}
	}
}

// TestSendCancelRace cancels scheduled sends while their tasks run: a
// send is either canceled and sends nothing, or started and sends once.
func TestSendCancelRace(t *testing.T) {
	t.Parallel()
	e := setupDelivery(t, nil)
	_, cst, _, _ := e.newWorker(t, nil)
	ctx := context.Background()
	canceled := 0
	for i := range 10 {
		inv := &invoice.Invoice{ID: fmt.Sprintf("inv_cancel_%d", i), TenantID: "ten_a", Number: fmt.Sprint("C-", i), Currency: "EUR", AmountDue: "10.00", Total: "10.00"}
		if _, err := e.st.SaveDraft(ctx, inv, time.Hour); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(-time.Second)
		send := &store.Send{ID: fmt.Sprintf("snd_cancel_%d", i), TenantID: "ten_a", InvoiceID: inv.ID, Channels: []store.Channel{store.ChannelEmail}, Email: "a@b.co", ScheduledAt: &at}
		if _, _, err := e.st.CreateSend(ctx, send); err != nil {
			t.Fatal(err)
		}
		task, err := tasks.NewSendTask(tasks.SendPayload{TenantID: "ten_a", InvoiceID: inv.ID, SendID: send.ID, DeliveryIDs: send.DeliveryIDs}, at)
		if err != nil {
			t.Fatal(err)
		}
		before := e.calls.Load()
		var cancelErr error
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := (&SendHandler{w: e.w}).ProcessTask(ctx, task); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() { _, cancelErr = cst.CancelSend(ctx, "ten_a", inv.ID, send.ID) })
		wg.Wait()
		calls := e.calls.Load() - before
		d := e.delivery(t, send.DeliveryIDs[0])
		switch {
		case cancelErr == nil:
			canceled++
			if calls != 0 || d.Status != store.DeliveryCanceled {
				t.Errorf("%s canceled: %d provider calls, delivery %s; want none, canceled", send.ID, calls, d.Status)
			}
		case errors.Is(cancelErr, store.ErrConflict):
			if calls != 1 || d.Status != store.DeliverySent {
				t.Errorf("%s started: %d provider calls, delivery %s; want 1, sent", send.ID, calls, d.Status)
			}
		default:
			t.Fatalf("CancelSend: %v", cancelErr)
		}
	}
	t.Logf("%d of 10 sends canceled", canceled)
}

// TestSendVoidedWhileLinking voids the draft while the gateway makes its
// link, after the send task read it: the send writes nothing from what it
// read, and fails its delivery without sending it; the link is stored and
// switched off, and the gateway is asked once.
func TestSendVoidedWhileLinking(t *testing.T) {
	t.Parallel()
	e := setupDelivery(t, nil)
	_, ost, _, _ := e.newWorker(t, nil)
	ctx := context.Background()
	if err := e.st.SaveSettings(ctx, "ten_a", store.Settings{Payments: store.PaymentSettings{Gateway: "fake"}}); err != nil {
		t.Fatal(err)
	}
	send, task := e.newSend(t, store.ChannelEmail)
	linker := &voidingLinker{void: func() error { _, _, err := ost.Void(ctx, "ten_a", send.InvoiceID); return err }}
	e.w.cfg.PaymentFunc = func(store.PaymentSettings) (PaymentLinker, error) { return linker, nil }
	if err := (&SendHandler{w: e.w}).ProcessTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	if n := linker.calls.Load(); n != 1 {
		t.Errorf("%d gateway calls, want 1", n)
	}
	if n := e.calls.Load(); n != 0 {
		t.Errorf("%d provider calls for a voided invoice, want 0", n)
	}
	if d := e.delivery(t, send.DeliveryIDs[0]); d.Status != store.DeliveryFailed || d.Claim != nil {
		t.Errorf("delivery %s, claim %+v; want failed", d.Status, d.Claim)
	}
	inv, err := e.st.Invoice(ctx, "ten_a", send.InvoiceID)
	if err != nil || inv.Status != invoice.StatusVoid || inv.PaymentLinkID == "" {
		t.Errorf("invoice %+v, %v; want void with the link made for it", inv, err)
	}
	if got, err := e.st.Send(ctx, "ten_a", send.ID); err != nil || got.Status != store.SendStarted {
		t.Errorf("send %+v, %v; want started", got, err)
	}
	inspector := asynq.NewInspector(e.redis)
	t.Cleanup(func() { _ = inspector.Close() })
	if _, err := inspector.GetTaskInfo(tasks.QueueCritical, tasks.DeactivateLinkTaskID("ten_a", send.InvoiceID, "")); err != nil {
		t.Errorf("the link's deactivation task: %v", err)
	}
}

// voidingLinker is a gateway that runs void before it answers with a link.
type voidingLinker struct {
	calls atomic.Int32
	void  func() error
}

func (l *voidingLinker) CreatePaymentLink(_ context.Context, r *providers.PaymentRequest) (*providers.PaymentLink, error) {
	l.calls.Add(1)
	if err := l.void(); err != nil {
		return nil, err
	}
	return &providers.PaymentLink{URL: "https://pay.example.com/" + r.InvoiceID, ID: "pl_" + r.InvoiceID}, nil
}

// TestSendStoppingReleasesClaim: a send task that reaches its provider
// call after the worker began to stop gives back the claim it took with
// the send's start, and leaves the delivery to its own task.
func TestSendStoppingReleasesClaim(t *testing.T) {
	t.Parallel()
	e := setupDelivery(t, nil)
	ctx := context.Background()
	if err := e.w.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	send, task := e.newSend(t, store.ChannelEmail)
	if err := (&SendHandler{w: e.w}).ProcessTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	if d := e.delivery(t, send.DeliveryIDs[0]); d.Status != store.DeliveryQueued || d.Claim != nil || e.calls.Load() != 0 {
		t.Errorf("delivery %s, claim %+v, %d provider calls; want queued, unclaimed, none", d.Status, d.Claim, e.calls.Load())
	}
	inspector := asynq.NewInspector(e.redis)
	t.Cleanup(func() { _ = inspector.Close() })
	if _, err := inspector.GetTaskInfo(tasks.QueueCritical, tasks.DeliveryTaskID("ten_a", send.DeliveryIDs[0])); err != nil {
		t.Errorf("the delivery's task: %v", err)
	}
}

// TestSendRenewsAnOldClaim: a message whose preparation outlasts
// claimAhead has its claim, taken with the send's start, taken again
// before the provider call, and is sent once.
func TestSendRenewsAnOldClaim(t *testing.T) {
	t.Parallel()
	e := setupDelivery(t, nil)
	e.w.prepares[store.ChannelEmail] = func(ctx context.Context, job deliveryJob) (dispatch, error) {
		time.Sleep(claimAhead + 100*time.Millisecond)
		return e.prepare(ctx, job)
	}
	send, task := e.newSend(t, store.ChannelEmail)
	id := send.DeliveryIDs[0]
	var claims []store.Claim
	e.sendFunc = func(ctx context.Context, _ *store.Delivery) (string, error) {
		d := e.delivery(t, id)
		if d.Claim != nil {
			claims = append(claims, *d.Claim)
		}
		return "msg-1", nil
	}
	if err := (&SendHandler{w: e.w}).ProcessTask(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	if d := e.delivery(t, id); d.Status != store.DeliverySent || e.calls.Load() != 1 {
		t.Fatalf("delivery %s after %d provider calls, want sent after 1", d.Status, e.calls.Load())
	}
	// Taken again after the preparation: at most a few hundred
	// milliseconds before the call, with claimTTL from then.
	if len(claims) != 1 || time.Since(claims[0].At) > claimAhead/2 || claims[0].Until.Sub(claims[0].At) != e.w.claimTTL() {
		t.Errorf("claims at the provider call %+v, want one taken after the preparation, for claimTTL (%s)", claims, e.w.claimTTL())
	}
}

// lostReply is a go-redis hook that runs the first pipeline holding an
// HMGET (BeginSend's) and then answers it with err, as when Redis wrote
// and the connection broke before its reply came back.
type lostReply struct {
	err   error
	fired atomic.Bool
}

func (l *lostReply) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (l *lostReply) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (l *lostReply) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if cmds[len(cmds)-1].Name() != "hmget" || !l.fired.CompareAndSwap(false, true) {
			return err
		}
		for _, cmd := range cmds {
			cmd.SetErr(l.err)
		}
		return l.err
	}
}

// TestSendBeginReplyLost: a send whose one-step write was made but whose
// reply was lost goes on step by step, takes its own claim again under
// the same token, and sends once, at once.
func TestSendBeginReplyLost(t *testing.T) {
	t.Parallel()
	e := setupDelivery(t, nil)
	ctx := context.Background()
	// A send first, for Redis to know the scripts: a reply lost to a
	// NOSCRIPT would not have written anything.
	if _, warm := e.newSend(t, store.ChannelEmail); (&SendHandler{w: e.w}).ProcessTask(ctx, warm) != nil {
		t.Fatal("the first send failed")
	}
	lost := &lostReply{err: errors.New("connection reset by peer")}
	e.rdb.AddHook(lost)
	send, task := e.newSend(t, store.ChannelEmail)
	calls := e.calls.Load()
	if err := (&SendHandler{w: e.w}).ProcessTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	if !lost.fired.Load() {
		t.Fatal("no reply was lost")
	}
	id := send.DeliveryIDs[0]
	if d, n := e.delivery(t, id), e.calls.Load()-calls; d.Status != store.DeliverySent || n != 1 || successes(d) != 1 {
		t.Errorf("delivery %s with attempts %+v after %d provider calls; want sent once", d.Status, d.Attempts, n)
	}
	inv, err := e.st.Invoice(ctx, "ten_a", send.InvoiceID)
	if err != nil || inv.Status != invoice.StatusOpen || inv.FinalizedBy != "send" {
		t.Errorf("invoice %+v, %v; want finalized by the send", inv, err)
	}
	inspector := asynq.NewInspector(e.redis)
	t.Cleanup(func() { _ = inspector.Close() })
	if info, err := inspector.GetTaskInfo(tasks.QueueCritical, tasks.DeliveryTaskID("ten_a", id)); err == nil {
		t.Errorf("a delivery task was queued (%s): the send's own claim held it back", info.State)
	}
}
