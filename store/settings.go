package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/invoice"
)

// Email provider names.
const (
	ProviderOutbox = "outbox"
	ProviderSMTP   = "smtp"
	ProviderSES    = "ses"
)

// SMS provider names.
const (
	SMSProviderOutbox = "outbox"
	SMSProviderTwilio = "twilio"
)

// SMTPSettings is a tenant's SMTP server. Password is write-only through the
// API and encrypted at rest.
type SMTPSettings struct {
	Host     string `json:"host"`
	Port     int    `json:"port,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// TLS is "starttls" (default), "opportunistic", "tls" or "none".
	TLS string `json:"tls,omitempty"`
	// CACert is PEM: the certificates of the authorities the server's
	// certificate may chain to, besides the system's (and the
	// deployment's INVOICED_SMTP_CA_FILE), for a server with a
	// certificate of the tenant's own CA.
	CACert string `json:"caCert,omitempty"`
}

// SESSettings is a tenant's Amazon SES account. Empty credentials borrow
// the deployment's (its default AWS credential chain), which only a
// deployment that lends them allows, and then only for the identities
// the operator granted the tenant (Tenant.SESIdentities).
// SecretAccessKey is write-only and encrypted at rest.
type SESSettings struct {
	Region           string `json:"region"`
	AccessKeyID      string `json:"accessKeyId,omitempty"`
	SecretAccessKey  string `json:"secretAccessKey,omitempty"`
	ConfigurationSet string `json:"configurationSet,omitempty"`
	// EventTopicARNs are the SNS topics whose SES event notifications
	// this tenant accepts at /callbacks/ses.
	EventTopicARNs []string `json:"eventTopicArns,omitempty"`
}

// OwnCredentials reports whether s carries the tenant's own access key,
// so that SES calls are made in the tenant's AWS account rather than the
// deployment's.
func (s SESSettings) OwnCredentials() bool {
	return s.AccessKeyID != "" && s.SecretAccessKey != ""
}

// EmailSettings is how a tenant's email is sent. An empty Provider uses the
// deployment's default provider.
type EmailSettings struct {
	Provider  string        `json:"provider,omitempty"`
	FromEmail string        `json:"fromEmail,omitempty"`
	FromName  string        `json:"fromName,omitempty"`
	ReplyTo   string        `json:"replyTo,omitempty"`
	SMTP      *SMTPSettings `json:"smtp,omitempty"`
	SES       *SESSettings  `json:"ses,omitempty"`
	// MaxPerSecond caps this tenant's sends through its provider across
	// all workers together (SES's maximum send rate, say). Zero uses the
	// deployment's default.
	MaxPerSecond int `json:"maxPerSecond,omitempty"`
	// Tracking adds an open pixel and click redirects to HTML emails.
	Tracking bool `json:"tracking,omitempty"`
}

// AllowsTopic reports whether SES events from SNS topic arn are accepted.
func (e EmailSettings) AllowsTopic(arn string) bool {
	if e.SES == nil {
		return false
	}
	for _, a := range e.SES.EventTopicARNs {
		if a == arn {
			return true
		}
	}
	return false
}

// TwilioSettings is a tenant's Twilio account. AuthToken is write-only and
// encrypted at rest. One of From and MessagingServiceSID is required.
type TwilioSettings struct {
	AccountSID          string `json:"accountSid"`
	AuthToken           string `json:"authToken,omitempty"`
	From                string `json:"from,omitempty"`
	MessagingServiceSID string `json:"messagingServiceSid,omitempty"`
}

// SMSSettings is how a tenant's SMS are sent.
type SMSSettings struct {
	Provider string          `json:"provider,omitempty"`
	Twilio   *TwilioSettings `json:"twilio,omitempty"`
	// MaxSegments refuses an SMS longer than this many segments. Defaults
	// to DefaultMaxSMSSegments.
	MaxSegments int `json:"maxSegments,omitempty"`
	// MaxPerSecond caps this tenant's SMS across all workers. Zero uses
	// the deployment's default.
	MaxPerSecond int `json:"maxPerSecond,omitempty"`
}

// DefaultMaxSMSSegments is the SMS length limit of a tenant that set none.
const DefaultMaxSMSSegments = 3

// Segments returns the SMS length limit in segments.
func (s SMSSettings) Segments() int {
	if s.MaxSegments <= 0 {
		return DefaultMaxSMSSegments
	}
	return s.MaxSegments
}

// Defaults are a tenant's defaults for invoices and sends.
type Defaults struct {
	Language string `json:"language,omitempty"`
	// GracePeriod is how long a draft with autoAdvance waits before it is
	// finalized, as a Go duration ("1h", "30m", "1s").
	GracePeriod string `json:"gracePeriod,omitempty"`
	// AutoEmailOnFinalize emails the customer when the grace period
	// finalizes a draft. A nil value means true.
	AutoEmailOnFinalize *bool `json:"autoEmailOnFinalize,omitempty"`
	// EmailsPerHour caps the emails sent per hour, counting every
	// recipient (to, cc and bcc) of every email: the API's sends and the
	// worker's own (auto-emails, reminders). Defaults to
	// DefaultEmailsPerHour; see EmailLimit for the operator's ceiling.
	EmailsPerHour int `json:"emailsPerHour,omitempty"`
	// RetentionDays is how many days an invoice is kept after it reached a
	// final state (see Store.ExpireInvoices), between MinRetentionDays and
	// MaxRetentionDays. Zero keeps the operator's default.
	RetentionDays int `json:"retentionDays,omitempty"`
	// EinvoiceProfile is the e-invoice profile (one of invoice.Profiles)
	// of an invoice created without one. Empty is
	// invoice.ProfileEN16931.
	EinvoiceProfile string `json:"einvoiceProfile,omitempty"`
}

// Profile returns the e-invoice profile of an invoice created without
// one: EinvoiceProfile, else invoice.ProfileEN16931.
func (d Defaults) Profile() string {
	if d.EinvoiceProfile == "" {
		return invoice.ProfileEN16931
	}
	return d.EinvoiceProfile
}

// Retention returns the days an invoice is kept once final:
// RetentionDays, else operatorDays, else DefaultRetentionDays.
func (d Defaults) Retention(operatorDays int) int {
	switch {
	case d.RetentionDays > 0:
		return d.RetentionDays
	case operatorDays > 0:
		return operatorDays
	}
	return DefaultRetentionDays
}

// Default values of a tenant's settings.
const (
	DefaultGracePeriod   = time.Hour
	DefaultLanguage      = "en"
	DefaultEmailsPerHour = 100
	// DefaultMaxEmailsPerHour is the operator's ceiling on EmailsPerHour
	// when none is configured.
	DefaultMaxEmailsPerHour = 1000
)

// Grace returns the grace period, DefaultGracePeriod when unset.
func (d Defaults) Grace() time.Duration {
	if g, err := time.ParseDuration(d.GracePeriod); err == nil && d.GracePeriod != "" {
		return g
	}
	return DefaultGracePeriod
}

// AutoEmail reports whether a grace-period finalization emails the invoice.
func (d Defaults) AutoEmail() bool { return d.AutoEmailOnFinalize == nil || *d.AutoEmailOnFinalize }

// Lang returns the default language, DefaultLanguage when unset.
func (d Defaults) Lang() string {
	if d.Language == "" {
		return DefaultLanguage
	}
	return d.Language
}

// HourlyEmails returns the emails-per-hour limit.
func (d Defaults) HourlyEmails() int {
	if d.EmailsPerHour <= 0 {
		return DefaultEmailsPerHour
	}
	return d.EmailsPerHour
}

// EmailLimit returns the emails-per-hour limit in force under the
// operator's ceiling: the smaller of HourlyEmails and ceiling, so that a
// tenant that set more before the ceiling was lowered gets the ceiling. A
// ceiling of zero or less is none.
func (d Defaults) EmailLimit(ceiling int) int {
	if ceiling > 0 {
		return min(d.HourlyEmails(), ceiling)
	}
	return d.HourlyEmails()
}

// Reminders are the payment reminders emailed for every open invoice with
// a due date: one per entry of Days, that many days after the due date
// (negative: before it), at Time in TimeZone. They are scheduled sends,
// made when the invoice is finalized, listed and cancelable like any
// other; paying or voiding the invoice cancels those still waiting. Their
// texts are the tenant's templates' reminder and overdue texts for the
// invoice's language, else the built-in ones, chosen when each goes out.
type Reminders struct {
	Days []int `json:"days,omitempty"`
	// Time is the time of day, "HH:MM". Defaults to DefaultReminderTime.
	Time string `json:"time,omitempty"`
	// TimeZone is an IANA zone such as "Europe/Bucharest". Defaults to UTC.
	TimeZone string `json:"timeZone,omitempty"`
}

// Apply reports whether an invoice gets reminders: there are some, and it
// has a due date and a customer email to send them to.
func (r Reminders) Apply(inv *invoice.Invoice) bool {
	return len(r.Days) > 0 && inv.DueDate != "" && inv.Customer.Email != ""
}

// DefaultReminderTime is when reminders go out when Reminders.Time is
// empty.
const DefaultReminderTime = "09:00"

// At returns when the reminder days after due (a "2006-01-02" date) goes
// out. It fails for a due date, time or zone that does not parse.
func (r Reminders) At(due string, days int) (time.Time, error) {
	loc := time.UTC
	if r.TimeZone != "" {
		var err error
		if loc, err = time.LoadLocation(r.TimeZone); err != nil {
			return time.Time{}, err
		}
	}
	clock := r.Time
	if clock == "" {
		clock = DefaultReminderTime
	}
	at, err := time.ParseInLocation("2006-01-02 15:04", due+" "+clock, loc)
	if err != nil {
		return time.Time{}, err
	}
	return at.AddDate(0, 0, days), nil
}

// TemplateText overrides the built-in message texts for one language.
type TemplateText struct {
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body,omitempty"`
	SMS     string `json:"sms,omitempty"`
	// ReminderSubject and ReminderBody are the payment reminder sent
	// before the due date (or on it); OverdueSubject and OverdueBody the
	// one sent after it.
	ReminderSubject string `json:"reminderSubject,omitempty"`
	ReminderBody    string `json:"reminderBody,omitempty"`
	OverdueSubject  string `json:"overdueSubject,omitempty"`
	OverdueBody     string `json:"overdueBody,omitempty"`
}

// Reminder returns the subject and body of the reminder before the due
// date, or of the overdue one.
func (t TemplateText) Reminder(overdue bool) (subject, body string) {
	if overdue {
		return t.OverdueSubject, t.OverdueBody
	}
	return t.ReminderSubject, t.ReminderBody
}

// Branding is the seller as printed on invoices, and how the PDF looks.
type Branding struct {
	invoice.Seller
	// Logo is a PNG or JPEG image.
	Logo []byte `json:"logo,omitempty"`
	// AccentColor is "#RRGGBB".
	AccentColor string `json:"accentColor,omitempty"`
	// PaperSize is "A4" (default) or "Letter".
	PaperSize string `json:"paperSize,omitempty"`
}

// Payment gateways.
const (
	GatewayStripe   = "stripe"
	GatewayRazorpay = "razorpay"
	GatewayStatic   = "static"
)

// PaymentSettings is how a tenant's invoices get payment links.
type PaymentSettings struct {
	// Gateway is "stripe", "razorpay", "static" or empty for none.
	Gateway  string            `json:"gateway,omitempty"`
	Stripe   *StripeSettings   `json:"stripe,omitempty"`
	Razorpay *RazorpaySettings `json:"razorpay,omitempty"`
	Static   *StaticSettings   `json:"static,omitempty"`
}

// StripeSettings is a tenant's Stripe account. Both keys are write-only
// and encrypted at rest.
type StripeSettings struct {
	SecretKey string `json:"secretKey,omitempty"`
	// WebhookSecret ("whsec_…") verifies Stripe's events at
	// /callbacks/stripe/{tenant}.
	WebhookSecret string `json:"webhookSecret,omitempty"`
}

// RazorpaySettings is a tenant's Razorpay account; KeySecret is
// write-only and encrypted at rest.
type RazorpaySettings struct {
	KeyID     string `json:"keyId"`
	KeySecret string `json:"keySecret,omitempty"`
}

// StaticSettings builds the payment link from a template with
// {invoiceId}, {number}, {amount}, {currency} and {tenantId}.
type StaticSettings struct {
	URLTemplate string `json:"urlTemplate"`
}

// Settings is a tenant's configuration.
type Settings struct {
	Branding  Branding                `json:"branding"`
	Bank      invoice.BankAccount     `json:"bank"`
	Email     EmailSettings           `json:"email"`
	SMS       SMSSettings             `json:"sms"`
	Payments  PaymentSettings         `json:"payments"`
	Defaults  Defaults                `json:"defaults"`
	Reminders Reminders               `json:"reminders"`
	Templates map[string]TemplateText `json:"templates,omitempty"`
	UpdatedAt *time.Time              `json:"updatedAt,omitempty"`
}

// CompanyName is the tenant's name as its messages sign them: the branding
// name, else the email from-name when no branding name is set.
func (st Settings) CompanyName() string {
	if name := strings.TrimSpace(st.Branding.Name); name != "" {
		return name
	}
	return strings.TrimSpace(st.Email.FromName)
}

// secrets returns pointers to every secret in st, so they can be sealed,
// opened or carried over as one list.
func (st *Settings) secrets() map[string]*string {
	out := map[string]*string{}
	if st.Email.SMTP != nil {
		out["email.smtp.password"] = &st.Email.SMTP.Password
	}
	if st.Email.SES != nil {
		out["email.ses.secretAccessKey"] = &st.Email.SES.SecretAccessKey
	}
	if st.SMS.Twilio != nil {
		out["sms.twilio.authToken"] = &st.SMS.Twilio.AuthToken
	}
	if p := st.Payments.Stripe; p != nil {
		out["payments.stripe.secretKey"] = &p.SecretKey
		out["payments.stripe.webhookSecret"] = &p.WebhookSecret
	}
	if p := st.Payments.Razorpay; p != nil {
		out["payments.razorpay.keySecret"] = &p.KeySecret
	}
	return out
}

// KeepSecrets copies each secret of old into st where st leaves it empty,
// so a client can send back what GET returned (secrets omitted) without
// erasing them.
func (st *Settings) KeepSecrets(old Settings) {
	prev := old.secrets()
	for name, p := range st.secrets() {
		if *p == "" && prev[name] != nil {
			*p = *prev[name]
		}
	}
}

// Clone returns a deep copy of st: every pointer, slice and map of the
// copy is its own, so changing either changes nothing in the other.
// Time zones (*time.Location) are shared, as time.Time copies share them.
//
// A field added to Settings, or to a struct it holds, that is a pointer,
// slice or map must be copied here too (TestSettingsClone fails until it
// is).
func (st Settings) Clone() Settings {
	st.Branding.Endpoint = cloneValue(st.Branding.Endpoint)
	st.Branding.Logo = slices.Clone(st.Branding.Logo)
	st.Email.SMTP = cloneValue(st.Email.SMTP)
	if st.Email.SES != nil {
		c := *st.Email.SES
		c.EventTopicARNs = slices.Clone(c.EventTopicARNs)
		st.Email.SES = &c
	}
	st.SMS.Twilio = cloneValue(st.SMS.Twilio)
	st.Payments.Stripe = cloneValue(st.Payments.Stripe)
	st.Payments.Razorpay = cloneValue(st.Payments.Razorpay)
	st.Payments.Static = cloneValue(st.Payments.Static)
	st.Defaults.AutoEmailOnFinalize = cloneValue(st.Defaults.AutoEmailOnFinalize)
	st.Reminders.Days = slices.Clone(st.Reminders.Days)
	st.Templates = maps.Clone(st.Templates)
	st.UpdatedAt = cloneValue(st.UpdatedAt)
	return st
}

// cloneValue returns a pointer to a copy of what p points to, or nil.
func cloneValue[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// Settings returns tenant's settings with secrets decrypted; a tenant that
// never saved any gets the zero Settings.
//
// Settings read again as stored bytes already decoded are copied from
// the store's cache instead of decoded again (see settingsCache).
func (s *Store) Settings(ctx context.Context, tenantID string) (Settings, error) {
	key := tenantKey(tenantID, "settings")
	raw, err := s.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("get %s: %w", key, err)
	}
	return s.decodeSettings(tenantID, raw)
}

// decodeSettings returns tenant's settings stored as raw, with secrets
// decrypted.
func (s *Store) decodeSettings(tenantID string, raw []byte) (Settings, error) {
	if st, ok := s.settings.get(tenantID, raw); ok {
		return st, nil
	}
	var st Settings
	if err := decodeRecord(raw, &st); err != nil {
		return Settings{}, fmt.Errorf("decode %s: %w", tenantKey(tenantID, "settings"), err)
	}
	for name, p := range st.secrets() {
		var err error
		if *p, err = s.sealer.open(*p); err != nil {
			return Settings{}, fmt.Errorf("settings of %s: %s: %w", tenantID, name, err)
		}
	}
	s.settings.put(tenantID, raw, st)
	return st, nil
}

// SaveSettings replaces tenant's settings, encrypting secrets. The
// caller's value is not changed.
func (s *Store) SaveSettings(ctx context.Context, tenantID string, st Settings) error {
	now := s.Now()
	st = st.Clone()
	st.UpdatedAt = &now
	for _, p := range st.secrets() {
		*p = s.sealer.seal(*p)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if st.Email.SES != nil {
		if err := s.indexTopics(ctx, tenantID, st.Email.SES.EventTopicARNs); err != nil {
			return err
		}
	}
	return s.rdb.Set(ctx, tenantKey(tenantID, "settings"), b, 0).Err()
}
