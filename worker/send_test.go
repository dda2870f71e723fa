package worker

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

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
// gateway's problem) in one write, invoice.finalized is recorded, and the
// delivery's task is queued naming its send and invoice.
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
	inspector := asynq.NewInspector(e.redis)
	t.Cleanup(func() { _ = inspector.Close() })

	for _, tt := range []struct {
		name    string
		err     error
		link    string
		problem string
	}{
		{"a link", nil, "https://pay.example.com/inv_link_0", ""},
		{"the gateway fails", errors.New("gateway down"), "", "fake: gateway down"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			linker.err = tt.err
			invID := "inv_link_0"
			if tt.err != nil {
				invID = "inv_link_1"
			}
			inv := &invoice.Invoice{ID: invID, TenantID: "ten_a", Number: invID, Currency: "EUR", AmountDue: "100.00", Total: "100.00"}
			if _, err := e.st.SaveDraft(ctx, inv, time.Hour); err != nil {
				t.Fatal(err)
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
			if got.Status != invoice.StatusOpen || got.FinalizedBy != "send" || got.PaymentLink != tt.link || got.PaymentLinkError != tt.problem {
				t.Fatalf("invoice %s by %q, link %q, problem %q; want open by send, link %q, problem %q",
					got.Status, got.FinalizedBy, got.PaymentLink, got.PaymentLinkError, tt.link, tt.problem)
			}
			if calls := linker.calls.Load() - before; calls != 1 {
				t.Errorf("%d gateway calls, want 1", calls)
			}
			if got.FinalizedAt == nil || !got.UpdatedAt.Equal(*got.FinalizedAt) {
				t.Errorf("updated at %v, finalized at %v: the link was written after the finalization", got.UpdatedAt, got.FinalizedAt)
			}
			if _, err := e.st.Event(ctx, "ten_a", "evt_"+invID+"_"+store.EventInvoiceFinalized); err != nil {
				t.Errorf("invoice.finalized: %v", err)
			}
			info, err := inspector.GetTaskInfo(tasks.QueueCritical, tasks.DeliveryTaskID("ten_a", send.DeliveryIDs[0]))
			if err != nil {
				t.Fatalf("delivery task: %v", err)
			}
			var p tasks.DeliveryPayload
			if err := json.Unmarshal(info.Payload, &p); err != nil || p.SendID != send.ID || p.InvoiceID != invID {
				t.Errorf("delivery task payload %+v, %v", p, err)
			}
			if d, err := e.st.Delivery(ctx, "ten_a", send.DeliveryIDs[0]); err != nil || d.Status != store.DeliveryQueued || len(d.History) != 1 {
				t.Errorf("delivery %+v, %v; want queued as the API made it", d, err)
			}
			_, err = inspector.GetTaskInfo(tasks.QueueCritical, "payment-link:ten_a:"+invID)
			if queued := err == nil; queued != (tt.err != nil) {
				t.Errorf("payment link task queued: %v (%v), want %v", queued, err, tt.err != nil)
			}
		})
	}
}
