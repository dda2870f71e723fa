// Package sns verifies the messages Amazon SNS posts to an HTTP(S)
// subscription, such as the topic SES publishes its delivery events to,
// and confirms new subscriptions.
//
// A message is trusted only after Verifier.Verify has checked, in this
// order: that the message has the fields its Type signs, a known
// SignatureVersion, and a Timestamp that is neither too old nor in the
// future; that SigningCertURL is an https URL on an SNS host; that the
// certificate found there chains to trusted roots, is valid now and names
// an SNS signing identity; and that the signature over AWS's canonical
// string is good. Each failed check has its own sentinel error, so a
// caller can tell a forgery (answer 4xx, never retried usefully) from a
// certificate it could not fetch (answer 5xx, SNS retries).
//
// Nothing here reads the environment or keeps global state: the HTTP
// client, trust roots and clock are injected through Config, which is how
// tests verify messages signed by the snstest package.
package sns

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The message types SNS posts to HTTP(S) endpoints, the value of
// Message.Type and of the x-amz-sns-message-type header.
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
	TypeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// Message is the JSON document SNS posts to an HTTP(S) endpoint. Fields a
// type does not carry are empty: Subject and UnsubscribeURL only in a
// Notification, Token and SubscribeURL only in the two confirmations.
type Message struct {
	Type             string `json:"Type"`
	MessageId        string `json:"MessageId"`
	Token            string `json:"Token,omitempty"`
	TopicArn         string `json:"TopicArn"`
	Subject          string `json:"Subject,omitempty"`
	Message          string `json:"Message"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
	SubscribeURL     string `json:"SubscribeURL,omitempty"`
	UnsubscribeURL   string `json:"UnsubscribeURL,omitempty"`
}

// Parse decodes an SNS HTTP(S) request body. It checks only the shape: a
// JSON object whose Type is one of the three SNS sends. Nothing in the
// result is trustworthy until Verifier.Verify accepts it. Unknown fields
// (MessageAttributes, for one) are ignored. The caller bounds the size of
// body.
func Parse(body []byte) (*Message, error) {
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: not an SNS JSON message: %v", ErrMalformed, err)
	}
	switch m.Type {
	case TypeNotification, TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation:
		return &m, nil
	case "":
		return nil, fmt.Errorf("%w: no Type", ErrMalformed)
	default:
		return nil, fmt.Errorf("%w: unknown Type %q", ErrMalformed, m.Type)
	}
}

// stringToSign builds the canonical form SNS signs: for each signed field,
// in byte order of the names, the name, a newline, the value, a newline.
// A Notification signs Message, MessageId, Subject (only when it has one),
// Timestamp, TopicArn and Type; the two confirmations sign Message,
// MessageId, SubscribeURL, Timestamp, Token, TopicArn and Type. Values are
// used as JSON decoding left them, so escaped newlines in Message are real
// newlines here, as SNS signed them.
//
// It refuses a message of another type or one missing a signed field
// other than Message and Subject (SNS signs an empty Message as such).
func stringToSign(m *Message) ([]byte, error) {
	type field struct{ name, value string }
	var fields []field
	switch m.Type {
	case TypeNotification:
		fields = []field{{"Message", m.Message}, {"MessageId", m.MessageId}}
		if m.Subject != "" {
			fields = append(fields, field{"Subject", m.Subject})
		}
		fields = append(fields, field{"Timestamp", m.Timestamp}, field{"TopicArn", m.TopicArn}, field{"Type", m.Type})
	case TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation:
		fields = []field{
			{"Message", m.Message}, {"MessageId", m.MessageId}, {"SubscribeURL", m.SubscribeURL},
			{"Timestamp", m.Timestamp}, {"Token", m.Token}, {"TopicArn", m.TopicArn}, {"Type", m.Type},
		}
	case "":
		return nil, fmt.Errorf("%w: no Type", ErrMalformed)
	default:
		return nil, fmt.Errorf("%w: unknown Type %q", ErrMalformed, m.Type)
	}
	var missing []string
	n := 0
	for _, f := range fields {
		if f.value == "" && f.name != "Message" {
			missing = append(missing, f.name)
		}
		n += len(f.name) + len(f.value) + 2
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s without %v", ErrMalformed, m.Type, missing)
	}
	b := make([]byte, 0, n)
	for _, f := range fields {
		b = append(b, f.name...)
		b = append(b, '\n')
		b = append(b, f.value...)
		b = append(b, '\n')
	}
	return b, nil
}

// The errors Verify and Confirm return, each wrapped with the detail of
// what failed; match them with errors.Is.
var (
	// ErrMalformed: the body is not an SNS message, its Type is unknown,
	// a signed field is missing, or the Timestamp does not parse.
	ErrMalformed = errors.New("sns: malformed message")
	// ErrSignatureVersion: SignatureVersion is neither "1" nor "2".
	ErrSignatureVersion = errors.New("sns: unsupported signature version")
	// ErrExpired: the Timestamp is older than Config.MaxAge or further in
	// the future than the clock skew allowed (a replay, or a bad clock).
	ErrExpired = errors.New("sns: message timestamp out of range")
	// ErrCertURL: SigningCertURL is not an https URL of a .pem file on an
	// SNS host. Nothing was fetched.
	ErrCertURL = errors.New("sns: signing certificate URL refused")
	// ErrCertFetch: the certificate (or its issuer) could not be fetched.
	// The only failure that may go away by itself: answer so SNS retries.
	ErrCertFetch = errors.New("sns: signing certificate not fetched")
	// ErrCertificate: the certificate does not parse, is not RSA, does not
	// chain to the trusted roots, or is not valid now.
	ErrCertificate = errors.New("sns: signing certificate untrusted")
	// ErrCertName: the certificate chains but names no SNS signing
	// identity (see Config.CertNamePattern).
	ErrCertName = errors.New("sns: signing certificate is not SNS's")
	// ErrSignature: the signature is not base64 or does not match the
	// message: it was altered, or signed by someone else.
	ErrSignature = errors.New("sns: bad signature")
	// ErrSubscribeURL: Confirm refused a SubscribeURL that is not an https
	// ConfirmSubscription call on an SNS host. Nothing was fetched.
	ErrSubscribeURL = errors.New("sns: subscribe URL refused")
	// ErrConfirm: the ConfirmSubscription request failed or SNS did not
	// answer 2xx.
	ErrConfirm = errors.New("sns: subscription not confirmed")
)
