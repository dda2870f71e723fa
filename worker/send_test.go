package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// fakeLinker is a payment gateway that answers with err, or a link.
type fakeLinker struct {
	calls atomic.Int32
	err   error
}

func (f *fakeLinker) CreatePaymentLink(_ context.Context, r *providers.PaymentRequest) (*providers.PaymentLink, error) {
	f.calls.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	return &providers.PaymentLink{URL: "https://pay.example.com/" + r.InvoiceID, ID: "pl_" + r.InvoiceID}, nil
}

// TestSendFinalizesWithLink runs the send task of a draft whose tenant has
// a payment gateway: the invoice is finalized with its link (or the
// gateway's problem) in one write, invoice.finalized is recorded and its
// fan-out to the tenant's endpoint queued, and the delivery is sent by the
// send task itself, with no task of its own.
func TestSendFinalizesWithLink(t *testing.T) {
	t.Parallel()
	// Every reading of the clock is a millisecond later, so a second
	// write of the invoice would show in its UpdatedAt.
	var mu sync.Mutex
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Millisecond)
		return clock
	}
	e := setupDelivery(t, now)
	linker := &fakeLinker{}
	e.w.cfg.PaymentFunc = func(store.PaymentSettings) (PaymentLinker, error) { return linker, nil }
	ctx := context.Background()
	if err := e.st.SaveSettings(ctx, "ten_a", store.Settings{Payments: store.PaymentSettings{Gateway: "fake"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SaveEndpoint(ctx, "ten_a", &store.WebhookEndpoint{ID: "we_1", URL: "https://hooks.example.com", Secret: "whsec_x"}); err != nil {
		t.Fatal(err)
	}
	inspector := asynq.NewInspector(e.redis)
	t.Cleanup(func() { _ = inspector.Close() })

	for i, tt := range []struct {
		name string
		// open: the invoice was finalized before the send, without a link.
		open    bool
		err     error
		problem string
	}{
		{name: "a link"},
		{name: "the gateway fails", err: errors.New("gateway down"), problem: "fake: gateway down"},
		{name: "an open invoice's link", open: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			linker.err = tt.err
			invID := fmt.Sprintf("inv_link_%d", i)
			link := ""
			if tt.err == nil {
				link = "https://pay.example.com/" + invID
			}
			inv := &invoice.Invoice{ID: invID, TenantID: "ten_a", Number: invID, Currency: "EUR", AmountDue: "100.00", Total: "100.00"}
			if _, err := e.st.SaveDraft(ctx, inv, time.Hour); err != nil {
				t.Fatal(err)
			}
			finalizedBy := "send"
			if tt.open {
				finalizedBy = "api"
				if _, _, err := e.st.Finalize(ctx, "ten_a", invID, finalizedBy); err != nil {
					t.Fatal(err)
				}
			}
			send := &store.Send{ID: "snd_" + invID, TenantID: "ten_a", InvoiceID: invID, Channels: []store.Channel{store.ChannelEmail}, Email: "a@b.co"}
			if _, _, err := e.st.CreateSend(ctx, send); err != nil {
				t.Fatal(err)
			}
			task, err := tasks.NewSendTask(tasks.SendPayload{TenantID: "ten_a", InvoiceID: invID, SendID: send.ID}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			before := linker.calls.Load()
			if err := (&SendHandler{w: e.w}).ProcessTask(ctx, task); err != nil {
				t.Fatal(err)
			}
			got, err := e.st.Invoice(ctx, "ten_a", invID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != invoice.StatusOpen || got.FinalizedBy != finalizedBy || got.PaymentLink != link || got.PaymentLinkError != tt.problem {
				t.Fatalf("invoice %s by %q, link %q, problem %q; want open by %s, link %q, problem %q",
					got.Status, got.FinalizedBy, got.PaymentLink, got.PaymentLinkError, finalizedBy, link, tt.problem)
			}
			if calls := linker.calls.Load() - before; calls != 1 {
				t.Errorf("%d gateway calls, want 1", calls)
			}
			if job, ok := e.prepared.Load(send.DeliveryIDs[0]); !ok || job.(deliveryJob).invoice.PaymentLink != link {
				t.Errorf("the email was prepared from an invoice without its link %q (prepared: %v)", link, ok)
			}
			if tt.open {
				return
			}
			if got.FinalizedAt == nil || !got.UpdatedAt.Equal(*got.FinalizedAt) {
				t.Errorf("updated at %v, finalized at %v: the link was written after the finalization", got.UpdatedAt, got.FinalizedAt)
			}
			evID := "evt_" + invID + "_" + store.EventInvoiceFinalized
			if _, err := e.st.Event(ctx, "ten_a", evID); err != nil {
				t.Errorf("invoice.finalized: %v", err)
			}
			if _, err := inspector.GetTaskInfo(tasks.QueueDefault, "webhook-fanout:ten_a:"+evID); err != nil {
				t.Errorf("invoice.finalized's fan-out task: %v", err)
			}
			if _, err := inspector.GetTaskInfo(tasks.QueueCritical, tasks.DeliveryTaskID("ten_a", send.DeliveryIDs[0])); err == nil {
				t.Errorf("a delivery task was queued for a delivery the send task sent")
			}
			d, err := e.st.Delivery(ctx, "ten_a", send.DeliveryIDs[0])
			if err != nil || d.Status != store.DeliverySent || len(d.Attempts) != 1 {
				t.Errorf("delivery %+v, %v; want sent by the send task, in one attempt", d, err)
			}
			_, err = inspector.GetTaskInfo(tasks.QueueCritical, "payment-link:ten_a:"+invID)
			if queued := err == nil; queued != (tt.err != nil) {
				t.Errorf("payment link task queued: %v (%v), want %v", queued, err, tt.err != nil)
			}
		})
	}
}

// TestSendDeliversInPlace runs send tasks whose deliveries' first attempt,
// made by the send task itself, ends each way an attempt can: what is left
// to try again goes to the delivery's own task, queued for later and
// counting the attempt made, and nothing else is queued.
func TestSendDeliversInPlace(t *testing.T) {
	t.Parallel()
	e := setupDelivery(t, nil)
	e.w.cfg.MaxDeliveryRetries = 2
	core, logs := observer.New(zap.DebugLevel)
	e.w.log = zap.New(core)
	ctx := context.Background()
	inspector := asynq.NewInspector(e.redis)
	t.Cleanup(func() { _ = inspector.Close() })

	for i, tt := range []struct {
		name string
		err  error
		want store.DeliveryStatus
		// tried and retries are the queued task's payload Tried and
		// MaxRetry, and wait how long it waits at least; no task when
		// wait is zero.
		tried, retries int
		wait           time.Duration
	}{
		{name: "sent", want: store.DeliverySent},
		{name: "failed for good", err: providers.Permanent("bad_address", errors.New("no such mailbox")), want: store.DeliveryFailed},
		{name: "failed for now", err: errors.New("connection reset"), want: store.DeliveryQueued, tried: 1, retries: 1, wait: 15 * time.Second},
		{name: "throttled", err: providers.RetryAfter(time.Minute, errors.New("slow down")), want: store.DeliveryQueued, retries: 2, wait: 50 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			invID, sendID := fmt.Sprintf("inv_place_%d", i), fmt.Sprintf("snd_place_%d", i)
			inv := &invoice.Invoice{ID: invID, TenantID: "ten_a", Number: invID, Currency: "EUR", AmountDue: "10.00", Total: "10.00"}
			if _, err := e.st.SaveDraft(ctx, inv, time.Hour); err != nil {
				t.Fatal(err)
			}
			send := &store.Send{ID: sendID, TenantID: "ten_a", InvoiceID: invID, Channels: []store.Channel{store.ChannelEmail}, Email: "a@b.co"}
			if _, _, err := e.st.CreateSend(ctx, send); err != nil {
				t.Fatal(err)
			}
			e.sendFunc = func(context.Context, *store.Delivery) (string, error) { return "msg-" + sendID, tt.err }
			task, err := tasks.NewSendTask(tasks.SendPayload{TenantID: "ten_a", InvoiceID: invID, SendID: sendID, DeliveryIDs: send.DeliveryIDs}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			before, started := e.calls.Load(), time.Now()
			if err := (&SendHandler{w: e.w}).ProcessTask(ctx, task); err != nil {
				t.Fatalf("send task: %v", err)
			}
			if n := e.calls.Load() - before; n != 1 {
				t.Errorf("%d provider calls, want 1", n)
			}
			id := send.DeliveryIDs[0]
			if d := e.delivery(t, id); d.Status != tt.want || len(d.Attempts) != 1 {
				t.Errorf("delivery %s with attempts %+v, want %s after one attempt", d.Status, d.Attempts, tt.want)
			}
			info, err := inspector.GetTaskInfo(tasks.QueueCritical, tasks.DeliveryTaskID("ten_a", id))
			if tt.wait == 0 {
				if err == nil {
					t.Fatalf("a delivery task was queued (%s): nothing is left to try", info.State)
				}
				return
			}
			if err != nil {
				t.Fatalf("the delivery's task: %v", err)
			}
			var p tasks.DeliveryPayload
			if err := json.Unmarshal(info.Payload, &p); err != nil || p.SendID != sendID || p.InvoiceID != invID || p.Tried != tt.tried {
				t.Errorf("payload %+v, %v; want its send, invoice and %d attempts made", p, err, tt.tried)
			}
			// A failure is logged as a warning, a wait is not.
			warned := logs.FilterMessage("delivery attempt failed; its task tries again").FilterField(zap.String("delivery_id", id)).Len()
			if want := tt.tried; warned != want {
				t.Errorf("%d warnings of a failed attempt, want %d", warned, want)
			}
			// asynq keeps the time in whole seconds.
			if in := info.NextProcessAt.Sub(started); info.State != asynq.TaskStateScheduled || info.MaxRetry != tt.retries || in < tt.wait-time.Second {
				t.Errorf("task %s, max retry %d, runs %s after the send task started; want scheduled, %d retries, %s or more after",
					info.State, info.MaxRetry, in.Round(time.Second), tt.retries, tt.wait)
			}
		})
	}
}

// TestDeliveryTaskCountsAttemptsInPlace: the task of a delivery whose
// first attempt the send task made counts it, in its backoff and in when
// it gives up.
func TestDeliveryTaskCountsAttemptsInPlace(t *testing.T) {
	t.Parallel()
	task, err := tasks.NewDeliveryEmailTask(tasks.DeliveryPayload{TenantID: "ten_a", DeliveryID: "dlv_1", Tried: 1})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := tasks.NewDeliveryEmailTask(tasks.DeliveryPayload{TenantID: "ten_a", DeliveryID: "dlv_1"})
	if err != nil {
		t.Fatal(err)
	}
	// asynq's backoff after retry n waits n⁴+15 s plus up to 30(n+1) s
	// of jitter: 96–216 s for n = 3, 271–421 s for n = 4.
	for range 20 {
		if d := RetryDelay(3, errors.New("x"), task); d < 271*time.Second {
			t.Fatalf("after 1 attempt in place and 4 by the task: retry in %s, want 271 s or more", d)
		}
		if d := RetryDelay(3, errors.New("x"), fresh); d > 216*time.Second {
			t.Fatalf("after 4 attempts by a task with none in place: retry in %s, want 216 s or less", d)
		}
	}
}
