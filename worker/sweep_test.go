package worker

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// TestEventSweep records an event whose fan-out was never queued, as when
// Redis goes away between the two: a minute later the sweep queues it, and
// once it has run the sweep leaves it alone.
func TestEventSweep(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	clock.Store(time.Now().UnixMilli())
	e := setupDelivery(t, func() time.Time { return time.UnixMilli(clock.Load()) })
	ctx := context.Background()
	ten, _, err := e.st.CreateTenant(ctx, "Sweep SRL")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SaveEndpoint(ctx, ten.ID, &store.WebhookEndpoint{ID: "we_1", URL: "https://hooks.example.com/x", Secret: "whsec_x"}); err != nil {
		t.Fatal(err)
	}
	ids, err := e.st.RecordEvents(ctx, ten.ID, "dlv_1", []string{store.EventInvoiceSent}, nil)
	if err != nil || len(ids) != 1 {
		t.Fatalf("RecordEvents = %v, %v", ids, err)
	}
	inspector := asynq.NewInspector(e.redis)
	t.Cleanup(func() { _ = inspector.Close() })
	sweep := func() []*asynq.TaskInfo {
		t.Helper()
		if err := (&EventSweepHandler{w: e.w}).ProcessTask(ctx, tasks.NewSweepEventsTask()); err != nil {
			t.Fatal(err)
		}
		queued, _ := inspector.ListPendingTasks(tasks.QueueDefault)
		return queued
	}

	if queued := sweep(); len(queued) != 0 {
		t.Fatalf("the sweep queued %d tasks for an event a moment old", len(queued))
	}
	clock.Add((fanoutGrace + time.Second).Milliseconds())
	queued := sweep()
	want := "webhook-fanout:" + ten.ID + ":" + ids[0]
	if len(queued) != 1 || queued[0].ID != want {
		t.Fatalf("the sweep queued %v, want the fan-out %s", queued, want)
	}
	if err := (&WebhookFanoutHandler{w: e.w}).ProcessTask(ctx, asynq.NewTask(queued[0].Type, queued[0].Payload)); err != nil {
		t.Fatal(err)
	}
	if err := inspector.DeleteTask(tasks.QueueDefault, want); err != nil {
		t.Fatal(err)
	}
	// What waits now is the endpoint's first attempt, not another fan-out.
	if queued := sweep(); len(queued) != 1 || queued[0].Type != tasks.TypeWebhook {
		t.Fatalf("after the fan-out the queue holds %v; want only the endpoint's first attempt", queued)
	}
}

// sweepEnv is a worker on a real Redis with a clock the test moves, and a
// tenant with a draft invoice to send.
type sweepEnv struct {
	*deliveryEnv
	clock     *atomic.Int64
	tenantID  string
	inspector *asynq.Inspector
	rdb       *redis.Client
}

func setupSweep(t *testing.T) *sweepEnv {
	t.Helper()
	clock := new(atomic.Int64)
	clock.Store(time.Now().UnixMilli())
	e := setupDelivery(t, func() time.Time { return time.UnixMilli(clock.Load()) })
	ten, _, err := e.st.CreateTenant(context.Background(), "Sweep SRL")
	if err != nil {
		t.Fatal(err)
	}
	inv := &invoice.Invoice{ID: "inv_1", TenantID: ten.ID, Number: "1", Currency: "EUR"}
	if _, err := e.st.SaveDraft(context.Background(), inv, time.Hour); err != nil {
		t.Fatal(err)
	}
	inspector := asynq.NewInspector(e.redis)
	t.Cleanup(func() { _ = inspector.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: e.redis.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	return &sweepEnv{deliveryEnv: e, clock: clock, tenantID: ten.ID, inspector: inspector, rdb: rdb}
}

func (e *sweepEnv) advance(d time.Duration) { e.clock.Add(d.Milliseconds()) }

// newSend stores a send of inv_1 by email and SMS, scheduled for at (zero:
// now), without queuing its task.
func (e *sweepEnv) newSend(t *testing.T, id string, at time.Time) *store.Send {
	t.Helper()
	send := &store.Send{ID: id, TenantID: e.tenantID, InvoiceID: "inv_1", Email: "a@b.co", Phone: "+40712345678",
		Channels: []store.Channel{store.ChannelEmail, store.ChannelSMS}}
	if !at.IsZero() {
		send.ScheduledAt = &at
	}
	if _, _, err := e.st.CreateSend(context.Background(), send); err != nil {
		t.Fatal(err)
	}
	return send
}

// sweep runs the delivery sweep and returns the ids of the tasks waiting in
// the critical queue, sorted.
func (e *sweepEnv) sweep(t *testing.T) []string {
	t.Helper()
	if err := (&DeliverySweepHandler{w: e.w}).ProcessTask(context.Background(), tasks.NewSweepDeliveriesTask()); err != nil {
		t.Fatal(err)
	}
	pending, err := e.inspector.ListPendingTasks(tasks.QueueCritical)
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range pending {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	return ids
}

// run runs the waiting task id with its handler and removes it from the
// queue, as a worker would.
func (e *sweepEnv) run(t *testing.T, id string) {
	t.Helper()
	info, err := e.inspector.GetTaskInfo(tasks.QueueCritical, id)
	if err != nil {
		t.Fatal(err)
	}
	task := asynq.NewTask(info.Type, info.Payload)
	switch info.Type {
	case tasks.TypeSend:
		err = (&SendHandler{w: e.w}).ProcessTask(context.Background(), task)
	default:
		err = e.deliver(context.Background(), task)
	}
	if err != nil {
		t.Fatalf("run %s: %v", id, err)
	}
	if err := e.inspector.DeleteTask(tasks.QueueCritical, id); err != nil {
		t.Fatal(err)
	}
}

func (e *sweepEnv) status(t *testing.T, id string) store.DeliveryStatus {
	t.Helper()
	d, err := e.st.Delivery(context.Background(), e.tenantID, id)
	if err != nil {
		t.Fatal(err)
	}
	return d.Status
}

// TestDeliverySweep loses the tasks of sends and deliveries, as a Redis
// failover or restore can, and checks that the sweep queues each again
// once it is overdue, never doubles a task still waiting, and forgets a
// delivery once it has moved on.
func TestDeliverySweep(t *testing.T) {
	t.Parallel()

	t.Run("lost send task, then lost delivery task", func(t *testing.T) {
		t.Parallel()
		e := setupSweep(t)
		send := e.newSend(t, "snd_lost", time.Time{})
		sendTask := tasks.SendTaskID(e.tenantID, send.ID)

		e.advance(time.Minute)
		if got := e.sweep(t); len(got) != 0 {
			t.Fatalf("a send a minute old was queued again: %v", got)
		}
		e.advance(deliveryGrace)
		if got := e.sweep(t); !slices.Equal(got, []string{sendTask}) {
			t.Fatalf("after the grace the sweep queued %v, want the send task %s", got, sendTask)
		}
		// A task still waiting is not doubled, however often the sweep runs.
		e.advance(deliveryGrace + time.Second)
		if got := e.sweep(t); !slices.Equal(got, []string{sendTask}) {
			t.Fatalf("second sweep: %v", got)
		}

		// The send task makes each delivery's first attempt: the SMS goes
		// out, the email fails for now and its own task is queued to try
		// again later.
		e.sendFunc = func(_ context.Context, d *store.Delivery) (string, error) {
			if d.Channel == store.ChannelEmail {
				return "", errors.New("connection reset")
			}
			return "msg-1", nil
		}
		e.run(t, sendTask)
		e.sendFunc = nil
		emailTask := tasks.DeliveryTaskID(e.tenantID, send.DeliveryIDs[0])
		if s := e.status(t, send.DeliveryIDs[1]); s != store.DeliverySent {
			t.Fatalf("SMS delivery is %s after the send ran, want sent", s)
		}
		if got := e.sweep(t); len(got) != 0 {
			t.Fatalf("after the send ran: %v queued, want none (the email's retry waits, scheduled)", got)
		}
		// Redis loses the email's task.
		if err := e.inspector.DeleteTask(tasks.QueueCritical, emailTask); err != nil {
			t.Fatal(err)
		}
		if got := e.sweep(t); len(got) != 0 {
			t.Fatalf("a delivery tried a moment ago was queued again: %v", got)
		}
		e.advance(deliveryGrace + time.Second)
		if got := e.sweep(t); !slices.Equal(got, []string{emailTask}) {
			t.Fatalf("the lost email's task: got %v, want %s", got, emailTask)
		}
		e.run(t, emailTask)
		if s := e.status(t, send.DeliveryIDs[0]); s != store.DeliverySent {
			t.Fatalf("email delivery is %s, want sent", s)
		}
		if n := e.calls.Load(); n != 3 {
			t.Fatalf("provider called %d times, want 3 (the SMS, the email's failed attempt, the email)", n)
		}
		e.advance(24 * time.Hour)
		if got := e.sweep(t); len(got) != 0 {
			t.Fatalf("sent deliveries were queued again: %v", got)
		}
		ids, err := e.st.OverdueDeliveries(context.Background(), e.tenantID, e.st.Now(), 100)
		if err != nil || len(ids) != 0 {
			t.Fatalf("the overdue index still holds %v, %v", ids, err)
		}
	})

	t.Run("scheduled send", func(t *testing.T) {
		t.Parallel()
		e := setupSweep(t)
		send := e.newSend(t, "snd_later", e.st.Now().Add(time.Hour))
		e.advance(time.Hour - time.Minute)
		if got := e.sweep(t); len(got) != 0 {
			t.Fatalf("a send due in a minute was queued: %v", got)
		}
		e.advance(time.Minute + deliveryGrace/2)
		if got := e.sweep(t); len(got) != 0 {
			t.Fatalf("a scheduled send just past its time was queued again: %v", got)
		}
		e.advance(deliveryGrace)
		sendTask := tasks.SendTaskID(e.tenantID, send.ID)
		if got := e.sweep(t); !slices.Equal(got, []string{sendTask}) {
			t.Fatalf("a scheduled send long past its time: got %v, want %s", got, sendTask)
		}
	})

	t.Run("half-started send", func(t *testing.T) {
		t.Parallel()
		e := setupSweep(t)
		send := e.newSend(t, "snd_half", e.st.Now().Add(time.Minute))
		// The send's worker died after starting it, before its
		// deliveries' attempts.
		if _, err := e.st.StartSend(context.Background(), e.tenantID, send.ID); err != nil {
			t.Fatal(err)
		}
		e.advance(time.Minute + deliveryGrace + time.Second)
		sendTask := tasks.SendTaskID(e.tenantID, send.ID)
		if got := e.sweep(t); !slices.Equal(got, []string{sendTask}) {
			t.Fatalf("got %v, want the send task %s, which resumes it", got, sendTask)
		}
		e.run(t, sendTask)
		for _, id := range send.DeliveryIDs {
			if s := e.status(t, id); s != store.DeliverySent {
				t.Fatalf("delivery %s is %s after the send resumed, want sent", id, s)
			}
		}
	})

	t.Run("half-canceled send", func(t *testing.T) {
		t.Parallel()
		e := setupSweep(t)
		send := e.newSend(t, "snd_cancel", e.st.Now().Add(time.Minute))
		// DELETE …/sends/{id} stored the send canceled and stopped before
		// canceling its deliveries.
		key := "ivd:{" + e.tenantID + "}:send:" + send.ID
		stored, err := e.st.Send(context.Background(), e.tenantID, send.ID)
		if err != nil {
			t.Fatalf("read the stored send: %v", err)
		}
		stored.Status = store.SendCanceled
		b, _ := json.Marshal(stored)
		if err := e.rdb.Set(context.Background(), key, b, 0).Err(); err != nil {
			t.Fatal(err)
		}
		e.advance(time.Minute + deliveryGrace + time.Second)
		if got := e.sweep(t); len(got) != 0 {
			t.Fatalf("a canceled send's tasks were queued: %v", got)
		}
		for _, id := range send.DeliveryIDs {
			if s := e.status(t, id); s != store.DeliveryCanceled {
				t.Fatalf("delivery %s is %s, want canceled", id, s)
			}
		}
		if ids, _ := e.st.OverdueDeliveries(context.Background(), e.tenantID, e.st.Now(), 100); len(ids) != 0 {
			t.Fatalf("canceled deliveries stay in the overdue index: %v", ids)
		}
	})
}

// TestRetentionSweep: the finalize sweep deletes an invoice once it has
// been paid for longer than its tenant's defaults.retentionDays, or the
// operator's default (90 days) for a tenant that sets none.
func TestRetentionSweep(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	clock.Store(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).UnixMilli())
	e := setupDelivery(t, func() time.Time { return time.UnixMilli(clock.Load()) })
	ctx := context.Background()
	paid := func(name string, days int) string {
		t.Helper()
		ten, _, err := e.st.CreateTenant(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if days > 0 {
			var st store.Settings
			st.Defaults.RetentionDays = days
			if err := e.st.SaveSettings(ctx, ten.ID, st); err != nil {
				t.Fatal(err)
			}
		}
		inv := &invoice.Invoice{ID: "inv_1", TenantID: ten.ID, Number: "N-1", Currency: "EUR"}
		if _, err := e.st.SaveDraft(ctx, inv, time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.st.Finalize(ctx, ten.ID, "inv_1", "api"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.st.MarkPaid(ctx, ten.ID, "inv_1", "api"); err != nil {
			t.Fatal(err)
		}
		return ten.ID
	}
	operator, month := paid("Default SRL", 0), paid("Month SRL", 30)
	kept := func(tenantID string) bool {
		t.Helper()
		_, err := e.st.Invoice(ctx, tenantID, "inv_1")
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	for _, step := range []struct {
		days              int
		operator, monthly bool
	}{
		{29, true, true},
		{31, true, false},
		{89, true, false},
		{91, false, false},
	} {
		clock.Store(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).AddDate(0, 0, step.days).UnixMilli())
		if err := (&SweepHandler{w: e.w}).ProcessTask(ctx, tasks.NewSweepFinalizeTask()); err != nil {
			t.Fatal(err)
		}
		if kept(operator) != step.operator || kept(month) != step.monthly {
			t.Errorf("%d days after payment: kept with the operator's 90 days %v, with 30 days %v; want %v, %v",
				step.days, kept(operator), kept(month), step.operator, step.monthly)
		}
	}
}
