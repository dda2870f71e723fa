package main

import (
	"context"
	"sync"

	twilioclient "github.com/twilio/twilio-go/client"

	"github.com/invoiced/invoiced/providers/ses"
	"github.com/invoiced/invoiced/providers/smtp"
	"github.com/invoiced/invoiced/providers/twilio"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/worker"
)

// This file wires the concrete providers to tenants' settings: the worker
// and the API know them only through small interfaces.

// newSMTPSender builds the smtp provider for a tenant's settings.
func newSMTPSender(s store.SMTPSettings) (worker.EmailSender, error) {
	return smtp.New(smtp.Config{
		Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password,
		TLS: smtp.TLSMode(s.TLS),
	})
}

// maxCachedSES bounds the SES clients kept; past it the cache starts over.
const maxCachedSES = 1000

// sesSenders keeps one SES client per distinct tenant account, so the AWS
// configuration is loaded once and SES identity checks stay cached.
type sesSenders struct {
	endpoint string
	mu       sync.Mutex
	senders  map[sesAccount]*ses.Sender
}

// sesAccount is what makes two tenants' SES clients the same.
type sesAccount struct{ region, keyID, secret, configSet string }

func newSESSenders(endpoint string) *sesSenders {
	return &sesSenders{endpoint: endpoint, senders: map[sesAccount]*ses.Sender{}}
}

func (c *sesSenders) get(s store.SESSettings) (*ses.Sender, error) {
	key := sesAccount{s.Region, s.AccessKeyID, s.SecretAccessKey, s.ConfigurationSet}
	c.mu.Lock()
	defer c.mu.Unlock()
	if sender, ok := c.senders[key]; ok {
		return sender, nil
	}
	sender, err := ses.New(context.Background(), ses.Config{
		Region: s.Region, AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey,
		ConfigurationSet: s.ConfigurationSet, Endpoint: c.endpoint,
	})
	if err != nil {
		return nil, err
	}
	if len(c.senders) >= maxCachedSES {
		c.senders = map[sesAccount]*ses.Sender{}
	}
	c.senders[key] = sender
	return sender, nil
}

// emailSender is worker.Config.SESFunc.
func (c *sesSenders) emailSender(s store.SESSettings) (worker.EmailSender, error) {
	return c.get(s)
}

// verified is api.Config.SESVerified.
func (c *sesSenders) verified(ctx context.Context, s store.SESSettings, identity string) (bool, error) {
	sender, err := c.get(s)
	if err != nil {
		return false, err
	}
	return sender.IdentityVerified(ctx, identity)
}

// twilioSenders builds the twilio provider for a tenant's settings, with
// status callbacks to this deployment.
type twilioSenders struct {
	apiURL      string
	callbackURL string
}

func (c twilioSenders) smsSender(s store.TwilioSettings) (worker.SMSSender, error) {
	return twilio.New(twilio.Config{
		AccountSID: s.AccountSID, AuthToken: s.AuthToken, From: s.From,
		MessagingServiceSID: s.MessagingServiceSID, StatusCallback: c.callbackURL, BaseURL: c.apiURL,
	})
}

// validTwilioSignature is api.Config.TwilioValidator: twilio-go's own
// check of X-Twilio-Signature.
func validTwilioSignature(authToken, fullURL string, params map[string]string, signature string) bool {
	v := twilioclient.NewRequestValidator(authToken)
	return v.Validate(fullURL, params, signature)
}
