package wiring

import (
	"crypto/x509"
	"net/netip"
	"time"

	"github.com/hibiken/asynq"

	"github.com/invoiced/invoiced/providers/ses/sns"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/worker"
)

// Config is the configuration every role is built from. cmd/invoiced
// reads it from INVOICED_* environment variables (the README lists them);
// the end-to-end tests fill it in themselves and build the same roles
// with the same constructors. Zero fields get the defaults WithDefaults
// documents.
type Config struct {
	// Addr is the API's listen address. Defaults to ":8080".
	Addr string
	// MetricsAddr is where every role serves /metrics, /healthz and
	// /readyz; empty serves none.
	MetricsAddr string
	// RedisURL is INVOICED_REDIS_URL; the roles connect through the
	// connection option cmd/invoiced parses from it.
	RedisURL string
	// RequireDurableRedis refuses a Redis that may lose acknowledged
	// writes in a machine crash (store.CheckDurable: appendonly yes and
	// appendfsync always, on every master): Connect fails when Redis
	// answers with another configuration, and /readyz answers 503 while
	// it has one. Off, Connect only warns.
	RequireDurableRedis bool
	// AdminToken protects the admin API, /metrics and /monitoring/;
	// empty leaves them off.
	AdminToken string
	// SecretKey encrypts tenants' secrets at rest and signs public links.
	SecretKey []byte
	// OutboxDir is the outbox folder. Defaults to "./var/outbox".
	OutboxDir string
	// DefaultEmailProvider is what tenants without an email provider use:
	// outbox, smtp (with DefaultSMTP) or empty for none.
	DefaultEmailProvider string
	DefaultSMTP          *store.SMTPSettings
	DefaultFromEmail     string
	// DefaultSMSProvider is outbox or empty.
	DefaultSMSProvider string
	// EmailMaxPerSecond and SMSMaxPerSecond cap each tenant's sends per
	// provider across the fleet; 0 is no cap.
	EmailMaxPerSecond int
	SMSMaxPerSecond   int
	// MaxEmailsPerHour is the ceiling on every tenant's hourly email
	// limit (defaults.emailsPerHour). Defaults to
	// store.DefaultMaxEmailsPerHour.
	MaxEmailsPerHour int
	// RetentionDays is how many days an invoice is kept after it reached
	// a final state, for tenants that set no defaults.retentionDays.
	// Defaults to store.DefaultRetentionDays.
	RetentionDays int
	// DeliveryMaxRetries bounds a delivery's transient failures; zero
	// keeps the worker's default.
	DeliveryMaxRetries int
	// SESEndpoint, TwilioAPIURL, StripeAPIBase and RazorpayAPIURL
	// override the providers' API base URLs (stand-ins, emulators).
	SESEndpoint    string
	TwilioAPIURL   string
	StripeAPIBase  string
	RazorpayAPIURL string
	// SESSharedCredentials lends the deployment's AWS credentials (the
	// SDK's default chain: environment, shared files, web identity, ECS or
	// EC2 role) to tenants whose ses settings carry no access key of their
	// own, for the identities the operator granted each
	// (store.Tenant.SESIdentities) and no others. Off, such settings are
	// refused and no SES client is ever built with the deployment's
	// credentials.
	SESSharedCredentials bool
	// WebhookAllowNets are internal networks webhook endpoints may reach.
	WebhookAllowNets []netip.Prefix
	// SMTPAllowNets are internal networks tenants' SMTP servers may be
	// on. The deployment's own SMTP server (DefaultSMTP) may be anywhere.
	SMTPAllowNets []netip.Prefix
	// WebhookTimeout bounds one webhook request. Defaults to 15s.
	WebhookTimeout time.Duration
	// TrustedProxies are the proxies whose X-Forwarded-For the API
	// believes when it records a client's address.
	TrustedProxies []netip.Prefix
	// SMTPRootCAs, when set, are the certificate authorities SMTP servers'
	// certificates must chain to, instead of the system's.
	SMTPRootCAs *x509.CertPool
	// SNS configures the verification of SES event notifications; the
	// zero value trusts Amazon's signing certificates through the
	// system's roots.
	SNS sns.Config
	// PublicURL is the externally visible base URL of the API, used in
	// links. Defaults to http://localhost plus Addr's port.
	PublicURL string
	// Concurrency is a worker's number of concurrent tasks. Defaults to 20.
	Concurrency int
	// RetryDelayFunc decides when a failed task runs again. Defaults to
	// worker.RetryDelay.
	RetryDelayFunc asynq.RetryDelayFunc
	// SweepInterval is how often the scheduler queues the sweeps.
	// Defaults to 1m.
	SweepInterval time.Duration
	// ShutdownTimeout is how long a stopping role waits for work under
	// way. Defaults to 30s.
	ShutdownTimeout time.Duration
	// SendTimeout bounds one provider call. Defaults to
	// worker.DefaultSendTimeout.
	SendTimeout time.Duration
	// MaxBodyBytes limits request bodies. Defaults to 2 MiB.
	MaxBodyBytes int64
	// PDFCacheSize is how many rendered PDFs a process keeps. Defaults
	// to 256.
	PDFCacheSize int
	// FontDir is a folder of fonts the PDFs fall back to for characters
	// the embedded fonts lack, such as Chinese and Japanese (see
	// pdf.WithFontDir). Empty means none: an invoice with such a
	// character is not rendered.
	FontDir string
	// LogLevel and LogFormat configure the logger cmd/invoiced builds.
	LogLevel  string
	LogFormat string
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.OutboxDir == "" {
		c.OutboxDir = "./var/outbox"
	}
	if c.WebhookTimeout == 0 {
		c.WebhookTimeout = 15 * time.Second
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + DisplayAddr(c.Addr)
	}
	if c.Concurrency == 0 {
		c.Concurrency = 20
	}
	if c.RetryDelayFunc == nil {
		c.RetryDelayFunc = worker.RetryDelay
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = time.Minute
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.SendTimeout == 0 {
		c.SendTimeout = worker.DefaultSendTimeout
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 2 << 20
	}
	if c.PDFCacheSize == 0 {
		c.PDFCacheSize = 256
	}
	if c.MaxEmailsPerHour == 0 {
		c.MaxEmailsPerHour = store.DefaultMaxEmailsPerHour
	}
	if c.RetentionDays == 0 {
		c.RetentionDays = store.DefaultRetentionDays
	}
	return c
}

// DisplayAddr turns a listen address into one a person can curl:
// ":8080" becomes "localhost:8080".
func DisplayAddr(addr string) string {
	if len(addr) > 0 && addr[0] == ':' {
		return "localhost" + addr
	}
	if len(addr) > 8 && addr[:8] == "0.0.0.0:" {
		return "localhost" + addr[7:]
	}
	return addr
}
