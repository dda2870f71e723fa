package tasks

import (
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

func TestTaskContract(t *testing.T) {
	t.Parallel()
	at := time.Now().Add(time.Hour)
	fin, err := NewFinalizeTask(FinalizePayload{TenantID: "ten_a", InvoiceID: "inv_1", Reason: ReasonGrace}, at)
	if err != nil {
		t.Fatal(err)
	}
	if fin.Type() != "invoice:finalize" {
		t.Fatalf("type = %s", fin.Type())
	}
	var p FinalizePayload
	if err := Decode(fin, &p); err != nil || p.InvoiceID != "inv_1" || p.Reason != ReasonGrace {
		t.Fatalf("Decode = %+v, %v", p, err)
	}
	// Type names are stored data: they must never change.
	for typ, want := range map[string]string{
		TypeFinalize: "invoice:finalize", TypeSend: "invoice:send",
		TypeDeliveryEmail: "delivery:email", TypeDeliverySMS: "delivery:sms",
		TypeSweepFinalize: "sweep:finalize", TypeVerifySender: "sender:verify",
		TypeWebhookFanout: "webhook:dispatch", TypeWebhook: "webhook:deliver",
		TypePaymentLink: "invoice:payment-link", TypeSweepEvents: "sweep:events",
		TypeSweepDeliveries: "sweep:deliveries", TypeDeactivateLink: "invoice:payment-link-deactivate",
		TypeReminders: "invoice:reminders",
	} {
		if typ != want {
			t.Errorf("task type %q renamed from %q", typ, want)
		}
	}
	if got := FinalizeTaskID("ten_a", "inv_1"); got != "finalize:ten_a:inv_1" {
		t.Errorf("FinalizeTaskID = %s", got)
	}
	bad := asynq.NewTask(TypeSend, []byte("{"))
	if err := Decode(bad, &SendPayload{}); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("Decode(bad) = %v, want SkipRetry", err)
	}
}
