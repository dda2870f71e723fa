package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/providers/outbox"
	"github.com/invoiced/invoiced/providers/webhook"
	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// deliveryEnv is a worker on a real Redis whose provider is a function the
// test controls.
type deliveryEnv struct {
	w     *Worker
	st    *store.Store
	redis asynq.RedisClientOpt
	// rdb is the store's client.
	rdb *redis.Client
	// outbox is the folder of the worker's outbox.
	outbox string
	calls  atomic.Int32
	// sendFunc, when set, is the provider call for delivery d; it
	// defaults to accepting.
	sendFunc func(ctx context.Context, d *store.Delivery) (string, error)
	// prepared holds, by delivery id, the last job the test's provider
	// was given.
	prepared sync.Map
}

// setupDelivery starts the worker; now, when set, is the store's clock.
func setupDelivery(t *testing.T, now func() time.Time) *deliveryEnv {
	t.Helper()
	srv := redistest.Start(t)
	e := &deliveryEnv{redis: asynq.RedisClientOpt{Addr: srv.Addr}}
	e.w, e.st, e.rdb, e.outbox = e.newWorker(t, now)
	return e
}

// newWorker starts a worker, with its own store and clients, on the
// env's Redis, whose provider is the test's; it returns the worker, its
// store, the store's client and the folder of its outbox.
func (e *deliveryEnv) newWorker(t *testing.T, now func() time.Time) (*Worker, *store.Store, *redis.Client, string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: e.redis.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	st, err := store.New(rdb, store.Config{SecretKey: bytes.Repeat([]byte{5}, 32), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(e.redis)
	t.Cleanup(func() { _ = client.Close() })
	dir := t.TempDir()
	box, err := outbox.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := pdf.New()
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(Config{Store: st, Enqueuer: client, PDF: pdf.NewCache(renderer, 1), Outbox: box, SMSOutbox: box,
		Webhooks: webhook.NewSender(webhook.NewClient(webhook.ClientConfig{}), "test"), SendTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// The first attempt a send task makes goes to the same provider.
	w.prepares = map[store.Channel]prepareFunc{store.ChannelEmail: e.prepare, store.ChannelSMS: e.prepare}
	return w, st, rdb, dir
}

var deliveryCount atomic.Int32

// newDelivery stores an invoice with one queued email delivery and returns
// the delivery's task.
func (e *deliveryEnv) newDelivery(t *testing.T) (string, *asynq.Task) {
	t.Helper()
	ctx := context.Background()
	n := deliveryCount.Add(1)
	inv := &invoice.Invoice{ID: fmt.Sprintf("inv_%d", n), TenantID: "ten_a", Number: fmt.Sprint(n), Currency: "EUR"}
	if _, err := e.st.SaveDraft(ctx, inv, time.Hour); err != nil {
		t.Fatal(err)
	}
	send := &store.Send{ID: fmt.Sprintf("snd_%d", n), TenantID: "ten_a", InvoiceID: inv.ID, Channels: []store.Channel{store.ChannelEmail}, Email: "a@b.co"}
	if _, _, err := e.st.CreateSend(ctx, send); err != nil {
		t.Fatal(err)
	}
	id := send.DeliveryIDs[0]
	if _, _, err := e.st.Transition(ctx, "ten_a", id, store.DeliveryQueued, "worker", "", nil); err != nil {
		t.Fatal(err)
	}
	task, err := tasks.NewDeliveryEmailTask(tasks.DeliveryPayload{TenantID: "ten_a", DeliveryID: id})
	if err != nil {
		t.Fatal(err)
	}
	return id, task
}

func (e *deliveryEnv) deliver(ctx context.Context, task *asynq.Task) error {
	return e.w.deliver(ctx, task, e.prepare)
}

// prepare hands every delivery to the test's provider.
func (e *deliveryEnv) prepare(_ context.Context, job deliveryJob) (dispatch, error) {
	e.prepared.Store(job.delivery.ID, job)
	return dispatch{provider: "test", send: func(ctx context.Context) (string, error) {
		e.calls.Add(1)
		if e.sendFunc != nil {
			return e.sendFunc(ctx, job.delivery)
		}
		return "msg-1", nil
	}}, nil
}

func (e *deliveryEnv) delivery(t *testing.T, id string) *store.Delivery {
	t.Helper()
	d, err := e.st.Delivery(context.Background(), "ten_a", id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func successes(d *store.Delivery) int {
	n := 0
	for _, a := range d.Attempts {
		if a.Error == "" {
			n++
		}
	}
	return n
}

func TestDeliverClaims(t *testing.T) {
	t.Parallel()
	e := setupDelivery(t, nil)
	ctx := context.Background()

	t.Run("sends once", func(t *testing.T) {
		id, task := e.newDelivery(t)
		before := e.calls.Load()
		for range 2 { // the second run is a duplicate task
			if err := e.deliver(ctx, task); err != nil {
				t.Fatal(err)
			}
		}
		d := e.delivery(t, id)
		if got := e.calls.Load() - before; got != 1 || d.Status != store.DeliverySent || d.Claim != nil || successes(d) != 1 {
			t.Fatalf("%d provider calls; delivery %s, claim %+v, %d successful attempts", got, d.Status, d.Claim, successes(d))
		}
	})

	t.Run("another attempt's fresh claim", func(t *testing.T) {
		id, task := e.newDelivery(t)
		if _, _, err := e.st.ClaimSend(ctx, "ten_a", id, "clm_other", "test", time.Minute); err != nil {
			t.Fatal(err)
		}
		before := e.calls.Load()
		err := e.deliver(ctx, task)
		wait, throttled := providers.RetryDelay(err)
		if !throttled || wait <= 0 || wait > claimRecheck || IsFailure(err) {
			t.Fatalf("deliver = %v (retry after %s); want a retry within %s that uses up no attempt", err, wait, claimRecheck)
		}
		if got := e.calls.Load() - before; got != 0 {
			t.Fatalf("%d provider calls while another attempt held the claim", got)
		}
		if d := e.delivery(t, id); d.Status != store.DeliveryQueued || d.Claim.Token != "clm_other" {
			t.Fatalf("delivery %s, claim %+v", d.Status, d.Claim)
		}
	})

	t.Run("a stale claim is sent again", func(t *testing.T) {
		id, task := e.newDelivery(t)
		if _, _, err := e.st.ClaimSend(ctx, "ten_a", id, "clm_dead", "test", time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if err := e.deliver(ctx, task); err != nil {
			t.Fatal(err)
		}
		d := e.delivery(t, id)
		if d.Status != store.DeliverySent || len(d.Attempts) != 2 || d.Attempts[0].Code != store.CodeOutcomeUnknown || successes(d) != 1 {
			t.Fatalf("delivery %s with attempts %+v; want the lost attempt, then a successful one", d.Status, d.Attempts)
		}
	})

	t.Run("the invoice was voided", func(t *testing.T) {
		id, task := e.newDelivery(t)
		d := e.delivery(t, id)
		if _, _, err := e.st.Void(ctx, "ten_a", d.InvoiceID); err != nil {
			t.Fatal(err)
		}
		before := e.calls.Load()
		if err := e.deliver(ctx, task); !errors.Is(err, asynq.SkipRetry) {
			t.Fatalf("deliver = %v, want a failure that is not retried", err)
		}
		if got := e.calls.Load() - before; got != 0 {
			t.Fatalf("%d provider calls for a void invoice", got)
		}
		d = e.delivery(t, id)
		if d.Status != store.DeliveryFailed || len(d.Attempts) != 1 || d.Attempts[0].Code != "invoice_void" {
			t.Fatalf("delivery %s with attempts %+v; want failed with code invoice_void", d.Status, d.Attempts)
		}
	})
}

// TestDeliverShutdown cancels a delivery's context while its provider call
// is under way, as a stopping worker does: the call completes and is
// recorded, Stop waits for it, and after Stop no provider call starts.
func TestDeliverShutdown(t *testing.T) {
	t.Parallel()
	e := setupDelivery(t, nil)
	id, task := e.newDelivery(t)
	inCall, release := make(chan struct{}), make(chan struct{})
	e.sendFunc = func(ctx context.Context, _ *store.Delivery) (string, error) {
		close(inCall)
		<-release
		return "msg-1", ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	delivered := make(chan error, 1)
	go func() { delivered <- e.deliver(ctx, task) }()
	<-inCall
	cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- e.w.Stop(context.Background()) }()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while a provider call was under way", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-delivered; err != nil {
		t.Fatalf("deliver = %v, want the send recorded despite the canceled context", err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if d := e.delivery(t, id); d.Status != store.DeliverySent || successes(d) != 1 {
		t.Fatalf("delivery %s with attempts %+v", d.Status, d.Attempts)
	}

	e.sendFunc = nil
	id, task = e.newDelivery(t)
	before := e.calls.Load()
	if err := e.deliver(context.Background(), task); !errors.Is(err, errStopping) {
		t.Fatalf("deliver after Stop = %v, want errStopping", err)
	}
	if d := e.delivery(t, id); e.calls.Load() != before || d.Status != store.DeliveryQueued || d.Claim != nil {
		t.Fatalf("after Stop: %d provider calls, delivery %s, claim %+v", e.calls.Load()-before, d.Status, d.Claim)
	}
}

// TestDeliverTaskPayloads runs a delivery task as the send task queues it
// now (naming the delivery's send and invoice, read with it in one round
// trip), as it was queued before (the delivery alone), and naming another
// send: each sends once, indexes the provider's message id, records
// invoice.sent and queues its fan-out to the tenant's endpoint.
func TestDeliverTaskPayloads(t *testing.T) {
	t.Parallel()
	e := setupDelivery(t, nil)
	ctx := context.Background()
	if err := e.st.SaveEndpoint(ctx, "ten_a", &store.WebhookEndpoint{ID: "we_1", URL: "https://hooks.example.com", Secret: "whsec_x"}); err != nil {
		t.Fatal(err)
	}
	inspector := asynq.NewInspector(e.redis)
	t.Cleanup(func() { _ = inspector.Close() })
	tests := []struct {
		name              string
		sendID, invoiceID func(d *store.Delivery) string
	}{
		{"the delivery alone", func(*store.Delivery) string { return "" }, func(*store.Delivery) string { return "" }},
		{"its send and invoice", func(d *store.Delivery) string { return d.SendID }, func(d *store.Delivery) string { return d.InvoiceID }},
		{"another send", func(*store.Delivery) string { return "snd_other" }, func(d *store.Delivery) string { return d.InvoiceID }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, _ := e.newDelivery(t)
			d := e.delivery(t, id)
			task, err := tasks.NewDeliveryEmailTask(tasks.DeliveryPayload{TenantID: "ten_a", DeliveryID: id,
				SendID: tt.sendID(d), InvoiceID: tt.invoiceID(d)})
			if err != nil {
				t.Fatal(err)
			}
			e.sendFunc = func(context.Context, *store.Delivery) (string, error) { return "msg-" + id, nil }
			before := e.calls.Load()
			for range 2 { // the second run is a duplicate task
				if err := e.deliver(ctx, task); err != nil {
					t.Fatal(err)
				}
			}
			d = e.delivery(t, id)
			if got := e.calls.Load() - before; got != 1 || d.Status != store.DeliverySent || successes(d) != 1 {
				t.Fatalf("%d provider calls; delivery %s, %d successful attempts", got, d.Status, successes(d))
			}
			if found, err := e.st.DeliveryByProviderMessage(ctx, "test", "msg-"+id); err != nil || found.ID != id {
				t.Errorf("provider message index: %+v, %v", found, err)
			}
			ev, err := e.st.Event(ctx, "ten_a", "evt_"+d.SendID+"_"+store.EventInvoiceSent)
			if err != nil || ev.Data["sendId"] != d.SendID {
				t.Errorf("invoice.sent: %+v, %v", ev, err)
			}
			if _, err := inspector.GetTaskInfo(tasks.QueueDefault, "webhook-fanout:ten_a:"+ev.ID); err != nil {
				t.Errorf("invoice.sent's fan-out task: %v", err)
			}
		})
	}
}
