package worker

import (
	"context"
	"errors"
	"testing"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestLogMiddleware runs a task through logMiddleware: the logger the
// handler gets carries the task's ids, in a fixed order, and a failed
// attempt is logged with them; a task's other payload fields are not.
func TestLogMiddleware(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zap.DebugLevel)
	w := &Worker{log: zap.New(core)}
	payload := []byte(`{"tenantId":"ten_a","invoiceId":"inv_1","sendId":"snd_1","to":"ana@example.com"}`)
	h := w.logMiddleware(asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
		w.logFrom(ctx).Info("inside")
		return errors.New("boom")
	}))
	if err := h.ProcessTask(context.Background(), asynq.NewTask("invoice:send", payload)); err == nil {
		t.Fatal("the handler's error was lost")
	}
	want := []string{"task_id", "task_type", "attempt", "tenant_id", "invoice_id", "send_id"}
	entries := logs.All()
	if len(entries) != 2 || entries[0].Message != "inside" || entries[1].Message != "task failed" {
		t.Fatalf("logged %+v, want inside and task failed", entries)
	}
	for _, e := range entries {
		var keys []string
		for _, f := range e.Context {
			if f.Type == zapcore.StringType || f.Type == zapcore.Int64Type {
				keys = append(keys, f.Key)
			}
			if f.String == "ana@example.com" {
				t.Errorf("%q logs the recipient", e.Message)
			}
		}
		if len(keys) < len(want) {
			t.Fatalf("%q has fields %v, want %v first", e.Message, keys, want)
		}
		for i, k := range want {
			if keys[i] != k {
				t.Errorf("%q has fields %v, want %v first", e.Message, keys, want)
				break
			}
		}
	}
	if got := entries[1].ContextMap()["send_id"]; got != "snd_1" {
		t.Errorf("send_id = %v, want snd_1", got)
	}
}
