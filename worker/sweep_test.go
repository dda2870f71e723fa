package worker

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

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
	if queued := sweep(); len(queued) != 0 {
		t.Fatalf("the sweep queued %d tasks for an event already fanned out", len(queued))
	}
}
