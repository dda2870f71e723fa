package tasks

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
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

// TestDecode decodes task payloads as encoding/json does, with go-json,
// whose decoding of a send's payload allocates about half as much
// (encoding/json: 11 allocations): the fields by their names, in any
// case; a payload that is not JSON of the type is an error that names the
// task type and skips retries.
func TestDecode(t *testing.T) {
	payloads := []string{
		`{"tenantId":"ten_a","invoiceId":"inv_1","sendId":"snd_1","deliveryIds":["dlv_1","dlv_2"]}`,
		`{"TENANTID":"ten_a","sendId":"snd_1","extra":{"a":[1,2]}}`,
		`{}`,
	}
	for _, raw := range payloads {
		task := asynq.NewTask(TypeSend, []byte(raw))
		var got, want SendPayload
		if err := Decode(task, &got); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded %+v, want %+v", raw, got, want)
		}
	}
	for _, raw := range []string{`{"tenantId":`, `[1]`, `{"deliveryIds":"dlv_1"}`} {
		var p SendPayload
		err := Decode(asynq.NewTask(TypeSend, []byte(raw)), &p)
		if !errors.Is(err, asynq.SkipRetry) || !strings.Contains(err.Error(), TypeSend) {
			t.Errorf("%s: %v, want an error naming %s that skips retries", raw, err, TypeSend)
		}
	}
	task := asynq.NewTask(TypeSend, []byte(payloads[0]))
	if n := testing.AllocsPerRun(100, func() {
		var p SendPayload
		_ = Decode(task, &p)
	}); n > 7 {
		t.Errorf("%.0f allocations per payload, want at most 7", n)
	}
}
