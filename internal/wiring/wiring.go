// Package wiring connects the concrete providers to what the API and the
// worker declare they need, from tenants' settings. cmd/invoiced uses it
// to build the production roles and the end-to-end tests to build the same
// thing in one process.
package wiring

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	twilioclient "github.com/twilio/twilio-go/client"

	"github.com/invoiced/invoiced/api"
	"github.com/invoiced/invoiced/internal/netguard"
	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/providers/razorpay"
	"github.com/invoiced/invoiced/providers/ses"
	"github.com/invoiced/invoiced/providers/ses/sns"
	"github.com/invoiced/invoiced/providers/smtp"
	"github.com/invoiced/invoiced/providers/static"
	"github.com/invoiced/invoiced/providers/stripe"
	"github.com/invoiced/invoiced/providers/twilio"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/worker"
)

// maxCachedSMTP bounds the SMTP senders kept; past it the cache starts
// over, closing the idle connections of the senders it drops.
const maxCachedSMTP = 1000

// SMTPSenders keeps one smtp.Sender per distinct server and login, so a
// tenant's messages reuse the connections its earlier messages opened
// (see package smtp). Its EmailSender method is worker.Config.SMTPFunc,
// its DefaultEmailSender worker.Config.DefaultSMTPFunc.
type SMTPSenders struct {
	cfg       SMTPSendersConfig
	guard     *netguard.Dialer
	mu        sync.Mutex
	senders   map[smtpKey]*smtp.Sender
	lastSweep time.Time
}

// smtpKey tells the senders apart: the same settings make another sender
// when they are the deployment's own.
type smtpKey struct {
	store.SMTPSettings
	trusted bool
}

// SMTPSendersConfig configures SMTPSenders.
type SMTPSendersConfig struct {
	// RootCAs are the authorities servers' certificates may chain to.
	// Nil uses the system's. A tenant's email.smtp.caCert adds to them.
	RootCAs *x509.CertPool
	// DefaultMaxIdle is how many connections to the deployment's own
	// server wait between messages (smtp.Config.MaxIdle): the worker sets
	// its concurrency, so that a busy worker does not close connections
	// only to dial them again a moment later. Zero keeps smtp's default,
	// which tenants' servers get.
	DefaultMaxIdle int
	// AllowNets are the internal networks tenants' servers may be on;
	// every other address that is not public is refused when dialled
	// (see package netguard). The deployment's own server is not held to
	// this.
	AllowNets []netip.Prefix
}

// smtpSweepInterval is how often EmailSender closes the connections that
// senders left idle too long, such as those of a tenant whose SMTP
// settings changed.
const smtpSweepInterval = 30 * time.Second

// NewSMTPSenders returns an empty cache.
func NewSMTPSenders(cfg SMTPSendersConfig) *SMTPSenders {
	return &SMTPSenders{
		cfg:     cfg,
		guard:   netguard.NewDialer(net.Dialer{KeepAlive: 30 * time.Second}, cfg.AllowNets, nil),
		senders: map[smtpKey]*smtp.Sender{},
	}
}

// EmailSender returns the sender of a tenant's server, made on first use.
// It dials only public addresses and cfg.AllowNets, and trusts the
// tenant's CA besides cfg.RootCAs.
func (c *SMTPSenders) EmailSender(s store.SMTPSettings) (worker.EmailSender, error) {
	return c.get(smtpKey{SMTPSettings: s})
}

// DefaultEmailSender returns the sender of the deployment's own server,
// which the operator configured: it may be on any address.
func (c *SMTPSenders) DefaultEmailSender(s store.SMTPSettings) (worker.EmailSender, error) {
	return c.get(smtpKey{SMTPSettings: s, trusted: true})
}

func (c *SMTPSenders) get(key smtpKey) (*smtp.Sender, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.lastSweep) > smtpSweepInterval {
		c.lastSweep = now
		for _, sender := range c.senders {
			sender.CloseIdle()
		}
	}
	if sender, ok := c.senders[key]; ok {
		return sender, nil
	}
	s := key.SMTPSettings
	cfg := smtp.Config{Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password, TLS: smtp.TLSMode(s.TLS)}
	roots := c.cfg.RootCAs
	if s.CACert != "" {
		if roots == nil {
			var err error
			if roots, err = x509.SystemCertPool(); err != nil {
				roots = x509.NewCertPool()
			}
		}
		roots = roots.Clone()
		if !roots.AppendCertsFromPEM([]byte(s.CACert)) {
			return nil, errors.New("smtp: caCert holds no PEM certificate")
		}
	}
	if roots != nil {
		cfg.TLSConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	if key.trusted {
		cfg.MaxIdle = c.cfg.DefaultMaxIdle
	} else {
		cfg.DialFunc = c.guard.DialContext
	}
	sender, err := smtp.New(cfg)
	if err != nil {
		return nil, err
	}
	if len(c.senders) >= maxCachedSMTP {
		c.closeLocked()
	}
	c.senders[key] = sender
	return sender, nil
}

// Close closes every sender's idle connections and empties the cache.
func (c *SMTPSenders) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked()
}

func (c *SMTPSenders) closeLocked() {
	for _, sender := range c.senders {
		sender.Close()
	}
	c.senders = map[smtpKey]*smtp.Sender{}
}

// maxCachedSES bounds the SES clients kept; past it the cache starts over.
const maxCachedSES = 1000

// SESSenders keeps one SES client per distinct tenant account, so the AWS
// configuration is loaded once and SES identity checks stay cached.
type SESSenders struct {
	endpoint string
	shared   bool
	mu       sync.Mutex
	senders  map[sesAccount]*ses.Sender
}

// sesAccount is what makes two tenants' SES clients the same.
type sesAccount struct{ region, keyID, secret, configSet string }

// ErrSESCredentialsNotLent is the error of SES settings without the
// tenant's own access key on a deployment that does not lend its AWS
// credentials.
var ErrSESCredentialsNotLent = errors.New("this deployment does not lend its AWS credentials; set settings.email.ses.accessKeyId and secretAccessKey")

// NewSESSenders returns an empty cache; endpoint, when set, overrides the
// SES API endpoint for every tenant. Unless shared, settings without the
// tenant's own access key get ErrSESCredentialsNotLent rather than a
// client on the deployment's AWS credentials. Shared, which identities a
// tenant may send as is for the caller to check.
func NewSESSenders(endpoint string, shared bool) *SESSenders {
	return &SESSenders{endpoint: endpoint, shared: shared, senders: map[sesAccount]*ses.Sender{}}
}

func (c *SESSenders) get(s store.SESSettings) (*ses.Sender, error) {
	if !s.OwnCredentials() && !c.shared {
		return nil, ErrSESCredentialsNotLent
	}
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

// EmailSender is worker.Config.SESFunc.
func (c *SESSenders) EmailSender(s store.SESSettings) (worker.EmailSender, error) {
	return c.get(s)
}

// Verified is api.Config.SESVerified.
func (c *SESSenders) Verified(ctx context.Context, s store.SESSettings, identity string) (bool, error) {
	sender, err := c.get(s)
	if err != nil {
		return false, err
	}
	return sender.IdentityVerified(ctx, identity)
}

// TwilioSenders builds the twilio provider for a tenant's settings, with
// status callbacks to this deployment.
type TwilioSenders struct {
	// APIURL overrides Twilio's API base URL (tests, stand-ins).
	APIURL string
	// CallbackURL is where Twilio posts status updates.
	CallbackURL string
}

// SMSSender is worker.Config.TwilioFunc.
func (c TwilioSenders) SMSSender(s store.TwilioSettings) (worker.SMSSender, error) {
	return twilio.New(twilio.Config{
		AccountSID: s.AccountSID, AuthToken: s.AuthToken, From: s.From,
		MessagingServiceSID: s.MessagingServiceSID, StatusCallback: c.CallbackURL, BaseURL: c.APIURL,
	})
}

// ValidTwilioSignature is api.Config.TwilioValidator: twilio-go's own
// check of X-Twilio-Signature.
func ValidTwilioSignature(authToken, fullURL string, params map[string]string, signature string) bool {
	v := twilioclient.NewRequestValidator(authToken)
	return v.Validate(fullURL, params, signature)
}

// SESCallbacks is api.Config.SES: SNS verification and SES event parsing.
type SESCallbacks struct{ Verifier *sns.Verifier }

// errRetryable marks a failure SNS should retry (a certificate fetch that
// failed), as opposed to a forgery.
type errRetryable struct{ error }

func (e errRetryable) Unwrap() error   { return e.error }
func (e errRetryable) Temporary() bool { return true }

// Verify parses body, verifies its signature and, for a notification,
// parses the SES event it carries. An event type we do not know comes back
// without an Event, to be acknowledged.
func (c SESCallbacks) Verify(ctx context.Context, body []byte) (*api.SNSMessage, error) {
	m, err := sns.Parse(body)
	if err != nil {
		return nil, err
	}
	if err := c.Verifier.Verify(ctx, m); err != nil {
		if errors.Is(err, sns.ErrCertFetch) {
			return nil, errRetryable{err}
		}
		return nil, err
	}
	out := &api.SNSMessage{Type: m.Type, TopicARN: m.TopicArn, Raw: m}
	if m.Type != sns.TypeNotification {
		return out, nil
	}
	ev, err := ses.ParseEvent(m.Message)
	switch {
	case errors.Is(err, ses.ErrUnknownEvent):
		return out, nil
	case err != nil:
		return nil, err
	}
	out.Event = &api.SESEvent{
		Kind: ev.Kind, MessageID: ev.MessageID, Status: ev.Status, Recipients: ev.Recipients,
		Suppress: ev.Suppress, Detail: ev.Detail, IP: ev.IP,
	}
	return out, nil
}

// Confirm confirms a verified subscription.
func (c SESCallbacks) Confirm(ctx context.Context, m *api.SNSMessage) error {
	raw, ok := m.Raw.(*sns.Message)
	if !ok {
		return errors.New("not an SNS message")
	}
	return c.Verifier.Confirm(ctx, raw)
}

// PaymentLinkers builds a tenant's payment gateway from its settings; its
// Linker method is worker.Config.PaymentFunc.
type PaymentLinkers struct {
	// StripeAPIBase and RazorpayURL override the gateways' API base URLs
	// (tests, stand-ins such as stripe-mock).
	StripeAPIBase string
	RazorpayURL   string
	// ReturnURL is where a payer lands after paying when the request names
	// no page.
	ReturnURL string
	// Static keeps the static linkers built, by template. Nil builds one
	// for each call.
	Static *StaticLinkers
}

// maxStaticLinkers bounds a StaticLinkers; past it, it starts empty again.
const maxStaticLinkers = 1024

// StaticLinkers keeps the static linkers built, by their template, so a
// send does not split and check its tenant's template again. A template
// that is refused is not kept. Its zero value is ready; it is safe for
// concurrent use.
type StaticLinkers struct {
	mu      sync.RWMutex
	linkers map[string]*static.Linker
}

// Linker returns the linker of template, built the first time it is
// asked for.
func (c *StaticLinkers) Linker(template string) (*static.Linker, error) {
	c.mu.RLock()
	l, ok := c.linkers[template]
	c.mu.RUnlock()
	if ok {
		return l, nil
	}
	l, err := static.New(static.Config{Template: template})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.linkers == nil || len(c.linkers) >= maxStaticLinkers {
		c.linkers = make(map[string]*static.Linker)
	}
	if kept, ok := c.linkers[template]; ok {
		return kept, nil
	}
	c.linkers[template] = l
	return l, nil
}

// NewWorkerPaymentLinkers returns the payment gateways of a worker of cfg.
func NewWorkerPaymentLinkers(cfg Config) PaymentLinkers {
	return PaymentLinkers{StripeAPIBase: cfg.StripeAPIBase, RazorpayURL: cfg.RazorpayAPIURL, ReturnURL: cfg.PublicURL,
		Static: &StaticLinkers{}}
}

// The gateways whose links can be switched off once an invoice is paid
// another way or voided; a static link template has nothing to switch off.
var (
	_ worker.PaymentLinkDeactivator = (*stripe.Linker)(nil)
	_ worker.PaymentLinkDeactivator = (*razorpay.Linker)(nil)
)

// Linker returns the gateway of p; configuration errors are permanent.
func (c PaymentLinkers) Linker(p store.PaymentSettings) (worker.PaymentLinker, error) {
	switch p.Gateway {
	case store.GatewayStripe:
		if p.Stripe == nil {
			return nil, providers.Permanent("not_configured", errors.New("payments.stripe is not set"))
		}
		return stripe.New(stripe.Config{SecretKey: p.Stripe.SecretKey, APIBase: c.StripeAPIBase, ReturnURL: c.ReturnURL})
	case store.GatewayRazorpay:
		if p.Razorpay == nil {
			return nil, providers.Permanent("not_configured", errors.New("payments.razorpay is not set"))
		}
		return razorpay.New(razorpay.Config{KeyID: p.Razorpay.KeyID, KeySecret: p.Razorpay.KeySecret, BaseURL: c.RazorpayURL})
	case store.GatewayStatic:
		if p.Static == nil {
			return nil, providers.Permanent("not_configured", errors.New("payments.static is not set"))
		}
		if c.Static != nil {
			return c.Static.Linker(p.Static.URLTemplate)
		}
		return static.New(static.Config{Template: p.Static.URLTemplate})
	}
	return nil, providers.Permanent("not_configured", fmt.Errorf("payment gateway %q is not available", p.Gateway))
}

// StripeEvents is api.Config.StripeEvents: Stripe's signature check and
// the checkout events that mark an invoice paid.
func StripeEvents(payload []byte, signature, secret string, now time.Time) (*api.StripeCheckout, error) {
	ev, err := stripe.ParseWebhook(payload, signature, secret, now)
	if errors.Is(err, stripe.ErrIgnoredEvent) {
		return nil, api.ErrIgnoredStripeEvent
	}
	if err != nil {
		return nil, err
	}
	return &api.StripeCheckout{EventID: ev.EventID, SessionID: ev.SessionID, TenantID: ev.TenantID,
		InvoiceID: ev.InvoiceID, PaymentStatus: ev.PaymentStatus}, nil
}
