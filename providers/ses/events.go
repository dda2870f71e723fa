package ses

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/invoiced/invoiced/store"
)

// The event types SES publishes, as Event.Kind carries them. Identity
// notifications (the older format) send only Bounce, Complaint and
// Delivery, plus SubscriptionSucceeded once when a topic is attached.
const (
	EventSend                  = "Send"
	EventDelivery              = "Delivery"
	EventBounce                = "Bounce"
	EventComplaint             = "Complaint"
	EventReject                = "Reject"
	EventOpen                  = "Open"
	EventClick                 = "Click"
	EventRenderingFailure      = "Rendering Failure"
	EventDeliveryDelay         = "DeliveryDelay"
	EventSubscription          = "Subscription"
	EventSubscriptionSucceeded = "AmazonSnsSubscriptionSucceeded"
)

var (
	// ErrMalformedEvent is returned by ParseEvent for a message that is
	// not an SES event record: not JSON, no type, no mail.messageId, or a
	// Bounce or Complaint without its details.
	ErrMalformedEvent = errors.New("ses: malformed event")
	// ErrUnknownEvent is returned by ParseEvent for an event type it does
	// not know. SES adds types now and then; a caller acknowledges such
	// a message rather than have SNS retry it.
	ErrUnknownEvent = errors.New("ses: unknown event type")
)

// Event is what one SES event means for the delivery it concerns.
type Event struct {
	// Kind is the event type as SES sent it, e.g. "Bounce" or
	// "Rendering Failure" (see the Event constants).
	Kind string
	// MessageID is SES's mail.messageId, the MessageId SendEmail returned
	// and the delivery stored as its ProviderID. Empty only for
	// AmazonSnsSubscriptionSucceeded, which concerns no message.
	MessageID string
	// Status is the delivery status the event moves to, or "" when it
	// changes none: Send (already recorded as sent), soft bounces,
	// complaints, delays and subscription changes. The caller still
	// applies it through store.CanTransition, since events arrive late
	// and out of order.
	Status store.DeliveryStatus
	// Recipients are the addresses the event names: bounced, complained,
	// delivered or delayed ones. Empty for the other kinds, whose event
	// concerns the whole message.
	Recipients []string
	// Suppress is set for a permanent bounce and for a complaint: the
	// Recipients go on the tenant's suppression list.
	Suppress bool
	// Detail says what happened, for people: the bounce type and each
	// recipient's diagnostic code, the complaint's feedback type, the
	// reject reason, the rendering error, the clicked link, the SMTP
	// answer of a delivery.
	Detail string
	// At is when the event happened: the event's own timestamp, else the
	// time SES accepted the message. Zero when neither parses.
	At time.Time
	// IP and UserAgent are the opener's or clicker's; Link is the
	// clicked URL.
	IP, UserAgent, Link string
}

// eventRecord is an SES event record (event publishing, eventType) or
// notification (identity notifications, notificationType), as far as
// ParseEvent reads it.
type eventRecord struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Mail             *struct {
		Timestamp   string   `json:"timestamp"`
		MessageID   string   `json:"messageId"`
		Source      string   `json:"source"`
		Destination []string `json:"destination"`
	} `json:"mail"`
	Bounce *struct {
		BounceType        string           `json:"bounceType"`
		BounceSubType     string           `json:"bounceSubType"`
		BouncedRecipients []eventRecipient `json:"bouncedRecipients"`
		Timestamp         string           `json:"timestamp"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients  []eventRecipient `json:"complainedRecipients"`
		ComplaintFeedbackType string           `json:"complaintFeedbackType"`
		ComplaintSubType      string           `json:"complaintSubType"`
		Timestamp             string           `json:"timestamp"`
	} `json:"complaint"`
	Delivery *struct {
		Recipients   []string `json:"recipients"`
		SMTPResponse string   `json:"smtpResponse"`
		Timestamp    string   `json:"timestamp"`
	} `json:"delivery"`
	Reject *struct {
		Reason string `json:"reason"`
	} `json:"reject"`
	Open *struct {
		IPAddress string `json:"ipAddress"`
		UserAgent string `json:"userAgent"`
		Timestamp string `json:"timestamp"`
	} `json:"open"`
	Click *struct {
		IPAddress string `json:"ipAddress"`
		UserAgent string `json:"userAgent"`
		Link      string `json:"link"`
		Timestamp string `json:"timestamp"`
	} `json:"click"`
	Failure *struct {
		ErrorMessage string `json:"errorMessage"`
		TemplateName string `json:"templateName"`
	} `json:"failure"`
	DeliveryDelay *struct {
		DelayType         string           `json:"delayType"`
		ExpirationTime    string           `json:"expirationTime"`
		DelayedRecipients []eventRecipient `json:"delayedRecipients"`
		Timestamp         string           `json:"timestamp"`
	} `json:"deliveryDelay"`
	Subscription *struct {
		Timestamp string `json:"timestamp"`
	} `json:"subscription"`
	// Message is AmazonSnsSubscriptionSucceeded's text.
	Message string `json:"message"`
}

type eventRecipient struct {
	EmailAddress   string `json:"emailAddress"`
	Status         string `json:"status"`
	DiagnosticCode string `json:"diagnosticCode"`
}

// ParseEvent reads the SES event record in message, the Message of an SNS
// Notification, in either format: event publishing through a
// configuration set ("eventType") or the older identity notifications
// ("notificationType"). It maps the event to a delivery status:
//
//   - Send: none; the worker recorded sent when SES accepted the message.
//   - Delivery: delivered.
//   - Bounce: bounced and Suppress when Permanent; none when Transient or
//     Undetermined (a soft bounce: SES retries, and a later event
//     settles it), with the bounce in Detail either way.
//   - Complaint: none (the message was delivered), Suppress.
//   - Reject, Rendering Failure: failed; SES sent nothing.
//   - Open: opened. Click: clicked.
//   - DeliveryDelay, Subscription, AmazonSnsSubscriptionSucceeded: none.
//
// An unknown type is ErrUnknownEvent; a record without the fields its
// type needs is ErrMalformedEvent.
func ParseEvent(message string) (*Event, error) {
	var r eventRecord
	if err := json.Unmarshal([]byte(message), &r); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %v", ErrMalformedEvent, err)
	}
	kind := r.EventType
	if kind == "" {
		kind = r.NotificationType
	}
	if kind == "" {
		return nil, fmt.Errorf("%w: neither eventType nor notificationType", ErrMalformedEvent)
	}
	if kind == EventSubscriptionSucceeded {
		return &Event{Kind: kind, Detail: r.Message}, nil
	}
	if r.Mail == nil || r.Mail.MessageID == "" {
		return nil, fmt.Errorf("%w: %s event without mail.messageId", ErrMalformedEvent, kind)
	}
	e := &Event{Kind: kind, MessageID: r.Mail.MessageID}
	at := ""
	switch kind {
	case EventSend:
	case EventDelivery:
		e.Status = store.DeliveryDelivered
		if d := r.Delivery; d != nil {
			e.Recipients = d.Recipients
			e.Detail = d.SMTPResponse
			at = d.Timestamp
		}
	case EventBounce:
		b := r.Bounce
		if b == nil {
			return nil, fmt.Errorf("%w: Bounce %s without bounce", ErrMalformedEvent, e.MessageID)
		}
		if b.BounceType == "Permanent" {
			e.Status = store.DeliveryBounced
			e.Suppress = true
		}
		e.Recipients = addressesOf(b.BouncedRecipients)
		e.Detail = describe(b.BounceType+" bounce", b.BounceSubType, "", b.BouncedRecipients)
		at = b.Timestamp
	case EventComplaint:
		c := r.Complaint
		if c == nil {
			return nil, fmt.Errorf("%w: Complaint %s without complaint", ErrMalformedEvent, e.MessageID)
		}
		e.Suppress = true
		e.Recipients = addressesOf(c.ComplainedRecipients)
		e.Detail = "complaint"
		if sub := strings.TrimSpace(strings.Join([]string{c.ComplaintFeedbackType, c.ComplaintSubType}, " ")); sub != "" {
			e.Detail += " (" + sub + ")"
		}
		at = c.Timestamp
	case EventReject:
		e.Status = store.DeliveryFailed
		e.Detail = "rejected by SES"
		if r.Reject != nil && r.Reject.Reason != "" {
			e.Detail += ": " + r.Reject.Reason
		}
	case EventRenderingFailure:
		e.Status = store.DeliveryFailed
		e.Detail = "rendering failure"
		if f := r.Failure; f != nil {
			if f.TemplateName != "" {
				e.Detail += " of template " + f.TemplateName
			}
			if f.ErrorMessage != "" {
				e.Detail += ": " + f.ErrorMessage
			}
		}
	case EventOpen:
		e.Status = store.DeliveryOpened
		if o := r.Open; o != nil {
			e.IP, e.UserAgent, at = o.IPAddress, o.UserAgent, o.Timestamp
		}
	case EventClick:
		e.Status = store.DeliveryClicked
		if c := r.Click; c != nil {
			e.IP, e.UserAgent, e.Link, at = c.IPAddress, c.UserAgent, c.Link, c.Timestamp
			e.Detail = c.Link
		}
	case EventDeliveryDelay:
		if d := r.DeliveryDelay; d != nil {
			e.Recipients = addressesOf(d.DelayedRecipients)
			until := ""
			if d.ExpirationTime != "" {
				until = "SES retries until " + d.ExpirationTime
			}
			e.Detail = describe("delivery delayed", d.DelayType, until, d.DelayedRecipients)
			at = d.Timestamp
		} else {
			e.Detail = "delivery delayed"
		}
	case EventSubscription:
		if s := r.Subscription; s != nil {
			at = s.Timestamp
		}
	default:
		return nil, fmt.Errorf("%w: %q (message %s)", ErrUnknownEvent, kind, e.MessageID)
	}
	e.At = parseEventTime(at, r.Mail.Timestamp)
	return e, nil
}

// describe writes what, its subtype in parentheses, a note, and each
// recipient with its status and diagnostic code:
// "Permanent bounce (General): ana@example.com: 5.1.1 smtp; 550 5.1.1 user unknown".
func describe(what, subtype, note string, rcpts []eventRecipient) string {
	var b strings.Builder
	b.WriteString(what)
	if subtype != "" {
		b.WriteString(" (" + subtype + ")")
	}
	if note != "" {
		b.WriteString(", " + note)
	}
	for i, r := range rcpts {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(r.EmailAddress)
		if why := strings.TrimSpace(r.Status + " " + r.DiagnosticCode); why != "" {
			b.WriteString(": " + why)
		}
	}
	return b.String()
}

func addressesOf(rcpts []eventRecipient) []string {
	if len(rcpts) == 0 {
		return nil
	}
	out := make([]string, 0, len(rcpts))
	for _, r := range rcpts {
		out = append(out, r.EmailAddress)
	}
	return out
}

// parseEventTime returns the first of the ISO 8601 timestamps that parses.
func parseEventTime(stamps ...string) time.Time {
	for _, s := range stamps {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
