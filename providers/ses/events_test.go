package ses

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers/ses/sns"
	"github.com/invoiced/invoiced/providers/ses/sns/snstest"
	"github.com/invoiced/invoiced/store"
)

// sampleMessageID is the mail.messageId of every record in
// testdata/events: what SendEmail returned and the delivery stored.
const sampleMessageID = "0102019a4f6c2e1b-5b8e2f44-7d1c-4a8e-9f3b-2c6d8e1a0b7f-000000"

func readEvent(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseEvent(t *testing.T) {
	t.Parallel()
	ana := []string{"ana@example.com"}
	tests := []struct {
		file string
		want Event
	}{
		{"send.json", Event{Kind: EventSend, At: at("2026-11-21T09:00:01.312Z")}},
		{"delivery.json", Event{
			Kind: EventDelivery, Status: store.DeliveryDelivered, Recipients: ana,
			Detail: "250 2.0.0 OK  1763715602 a640c23a62f3a-b76e3f1d2c5si1234567a.88 - gsmtp",
			At:     at("2026-11-21T09:00:02.771Z"),
		}},
		{"bounce-permanent.json", Event{
			Kind: EventBounce, Status: store.DeliveryBounced, Recipients: ana, Suppress: true,
			Detail: "Permanent bounce (General): ana@example.com: 5.1.1 smtp; 550 5.1.1 <ana@example.com>: Recipient address rejected: User unknown in virtual mailbox table",
			At:     at("2026-11-21T09:00:03.104Z"),
		}},
		{"bounce-suppressed.json", Event{
			Kind: EventBounce, Status: store.DeliveryBounced, Recipients: ana, Suppress: true,
			Detail: "Permanent bounce (OnAccountSuppressionList): ana@example.com: 5.1.1 Amazon SES did not send the message to this address because it is on the suppression list for your account. For more information about removing addresses from the suppression list, see the Amazon SES Developer Guide at https://docs.aws.amazon.com/ses/latest/DeveloperGuide/sending-email-suppression-list.html",
			At:     at("2026-11-21T09:00:01.460Z"),
		}},
		{"bounce-transient.json", Event{
			Kind: EventBounce, Recipients: ana,
			Detail: "Transient bounce (MailboxFull): ana@example.com: 4.2.2 smtp; 452 4.2.2 The email account that you tried to reach is over quota.",
			At:     at("2026-11-21T09:05:40.225Z"),
		}},
		{"bounce-undetermined.json", Event{
			Kind: EventBounce, Recipients: ana,
			Detail: "Undetermined bounce (Undetermined): ana@example.com",
			At:     at("2026-11-21T09:12:09.930Z"),
		}},
		{"complaint.json", Event{
			Kind: EventComplaint, Recipients: ana, Suppress: true, Detail: "complaint (abuse)",
			At: at("2026-11-22T07:45:12Z"),
		}},
		{"reject.json", Event{
			Kind: EventReject, Status: store.DeliveryFailed, Detail: "rejected by SES: Bad content",
			At: at("2026-11-21T09:00:01.312Z"),
		}},
		{"rendering-failure.json", Event{
			Kind: EventRenderingFailure, Status: store.DeliveryFailed,
			Detail: "rendering failure of template InvoiceEmail: Attribute 'invoiceNumber' is not present in the rendering data.",
			At:     at("2026-11-21T09:00:01.312Z"),
		}},
		{"open.json", Event{
			Kind: EventOpen, Status: store.DeliveryOpened, At: at("2026-11-21T10:17:45Z"), IP: "192.0.2.1",
			UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		}},
		{"click.json", Event{
			Kind: EventClick, Status: store.DeliveryClicked, At: at("2026-11-21T10:18:03.5Z"), IP: "192.0.2.1",
			Detail:    "https://pay.acme.test/i/tok_7Q2fXb9k?utm_source=invoice",
			Link:      "https://pay.acme.test/i/tok_7Q2fXb9k?utm_source=invoice",
			UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		}},
		{"delivery-delay.json", Event{
			Kind: EventDeliveryDelay, Recipients: ana,
			Detail: "delivery delayed (TransientCommunicationFailure), SES retries until 2026-11-21T09:25:40.914Z: ana@example.com: 4.4.1 smtp; 421 4.4.1 Unable to connect to remote host",
			At:     at("2026-11-21T09:15:40.641Z"),
		}},
		{"subscription.json", Event{Kind: EventSubscription, At: at("2026-11-23T12:00:00Z")}},

		// The older identity notifications.
		{"notification-delivery.json", Event{
			Kind: EventDelivery, Status: store.DeliveryDelivered, Recipients: ana,
			Detail: "250 2.6.0 Message received", At: at("2026-11-21T09:00:02.771Z"),
		}},
		{"notification-bounce.json", Event{
			Kind: EventBounce, Status: store.DeliveryBounced, Suppress: true,
			Recipients: []string{"ana@example.com", "ap@example.com"},
			Detail:     "Permanent bounce (NoEmail): ana@example.com: 5.1.1 smtp; 550 5.1.1 user unknown; ap@example.com: 5.1.1 smtp; 550 5.1.1 user unknown",
			At:         at("2026-11-21T09:00:03.104Z"),
		}},
		{"notification-complaint.json", Event{
			Kind: EventComplaint, Recipients: ana, Suppress: true, Detail: "complaint (abuse)",
			At: at("2026-11-22T07:45:12Z"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, err := ParseEvent(readEvent(t, tt.file))
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			tt.want.MessageID = sampleMessageID
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("ParseEvent =\n%+v\nwant\n%+v", *got, tt.want)
			}
		})
	}
}

func TestParseEventSubscriptionSucceeded(t *testing.T) {
	t.Parallel()
	got, err := ParseEvent(readEvent(t, "notification-subscription-succeeded.json"))
	if err != nil {
		t.Fatalf("ParseEvent: %v", err)
	}
	want := Event{
		Kind:   EventSubscriptionSucceeded,
		Detail: "You have successfully subscribed your Amazon SNS topic 'arn:aws:sns:eu-west-1:123456789012:invoiced-ses-events' to receive 'Bounce' notifications from Amazon SES for identity 'acme.test'.",
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("ParseEvent = %+v, want %+v", *got, want)
	}
}

func TestParseEventRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, message string
		want          error
	}{
		{"empty", ``, ErrMalformedEvent},
		{"not an object", `"Delivery"`, ErrMalformedEvent},
		{"no type", `{"mail":{"messageId":"m"}}`, ErrMalformedEvent},
		{"no mail", `{"eventType":"Delivery","delivery":{}}`, ErrMalformedEvent},
		{"no messageId", `{"eventType":"Open","mail":{"timestamp":"2026-11-21T09:00:01.312Z"}}`, ErrMalformedEvent},
		{"bounce without bounce", `{"eventType":"Bounce","mail":{"messageId":"m"}}`, ErrMalformedEvent},
		{"complaint without complaint", `{"notificationType":"Complaint","mail":{"messageId":"m"}}`, ErrMalformedEvent},
		{"unknown type", `{"eventType":"Teleport","mail":{"messageId":"m"}}`, ErrUnknownEvent},
		{"type in the wrong case", `{"eventType":"delivery","mail":{"messageId":"m"}}`, ErrUnknownEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, err := ParseEvent(tt.message); !errors.Is(err, tt.want) {
				t.Errorf("ParseEvent = %+v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// TestParseEventStatusesFollowSent: every status an event maps to is one
// a sent delivery may move to, and none moves a clicked one backwards.
func TestParseEventStatusesFollowSent(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, f := range files {
		e, err := ParseEvent(readEvent(t, filepath.Base(f)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if e.Status == "" {
			continue
		}
		if !store.CanTransition(store.DeliverySent, e.Status) {
			t.Errorf("%s: %s cannot follow sent", f, e.Status)
		}
		if e.Status != store.DeliveryBounced && e.Status != store.DeliveryFailed &&
			store.CanTransition(store.DeliveryClicked, e.Status) {
			t.Errorf("%s: %s would move a clicked delivery backwards", f, e.Status)
		}
	}
}

// TestEventThroughSNS follows an event the way the callback receives it:
// an SNS Notification whose Message is the SES record, verified, then
// parsed.
func TestEventThroughSNS(t *testing.T) {
	t.Parallel()
	srv := snstest.NewServer(t)
	v, err := sns.NewVerifier(sns.Config{HTTPClient: srv.Client(), Roots: srv.Roots()})
	if err != nil {
		t.Fatal(err)
	}
	sent := srv.Sign(srv.Notification("arn:aws:sns:eu-west-1:123456789012:invoiced-ses-events", "", readEvent(t, "bounce-permanent.json")), "2")

	m, err := sns.Parse(snstest.Body(sent))
	if err != nil {
		t.Fatalf("sns.Parse: %v", err)
	}
	if err := v.Verify(context.Background(), m); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	e, err := ParseEvent(m.Message)
	if err != nil {
		t.Fatalf("ParseEvent: %v", err)
	}
	if e.MessageID != sampleMessageID || e.Status != store.DeliveryBounced || !e.Suppress {
		t.Errorf("event = %+v, want a suppressing bounce of %s", e, sampleMessageID)
	}
}
