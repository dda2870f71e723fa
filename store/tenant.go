package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/invoice"
)

// Tenant is one customer of invoiced: a billing system with its own token,
// settings and invoices.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

// tenantsKey is the set of all tenant ids; the finalize sweep walks it.
const tenantsKey = keyPrefix + "tenants"

func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return keyPrefix + "token:" + hex.EncodeToString(sum[:])
}

// CreateTenant creates a tenant and its API token. The token is returned
// once and only its SHA-256 is stored: tokens are 256 random bits, so a fast
// hash is enough to make a leaked database useless for authentication.
func (s *Store) CreateTenant(ctx context.Context, name string) (Tenant, string, error) {
	t := Tenant{ID: NewID("ten"), Name: name, CreatedAt: s.Now()}
	token, err := newToken()
	if err != nil {
		return Tenant{}, "", err
	}
	b, _ := json.Marshal(t)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, tenantKey(t.ID, "tenant"), b, 0)
		p.SAdd(ctx, tenantsKey, t.ID)
		return nil
	})
	if err != nil {
		return Tenant{}, "", fmt.Errorf("create tenant: %w", err)
	}
	if err := s.rdb.Set(ctx, tokenKey(token), t.ID, 0).Err(); err != nil {
		return Tenant{}, "", fmt.Errorf("store token: %w", err)
	}
	return t, token, nil
}

func newToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "ivd_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// TenantByToken returns the tenant an API token belongs to, or ErrNotFound.
func (s *Store) TenantByToken(ctx context.Context, token string) (Tenant, error) {
	if token == "" {
		return Tenant{}, ErrNotFound
	}
	id, err := s.rdb.Get(ctx, tokenKey(token)).Result()
	if errors.Is(err, redis.Nil) {
		return Tenant{}, ErrNotFound
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("look up token: %w", err)
	}
	return s.Tenant(ctx, id)
}

// Tenant returns a tenant by id.
func (s *Store) Tenant(ctx context.Context, id string) (Tenant, error) {
	var t Tenant
	err := getJSON(ctx, s.rdb, tenantKey(id, "tenant"), &t)
	return t, err
}

// TenantIDs returns every tenant's id.
func (s *Store) TenantIDs(ctx context.Context) ([]string, error) {
	return s.rdb.SMembers(ctx, tenantsKey).Result()
}

// Email provider names.
const (
	ProviderOutbox = "outbox"
	ProviderSMTP   = "smtp"
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
}

// EmailSettings is how a tenant's email is sent. An empty Provider uses the
// deployment's default provider.
type EmailSettings struct {
	Provider  string        `json:"provider,omitempty"`
	FromEmail string        `json:"fromEmail,omitempty"`
	FromName  string        `json:"fromName,omitempty"`
	ReplyTo   string        `json:"replyTo,omitempty"`
	SMTP      *SMTPSettings `json:"smtp,omitempty"`
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
	EmailsPerHour       int   `json:"emailsPerHour,omitempty"`
}

// Default values of a tenant's settings.
const (
	DefaultGracePeriod   = time.Hour
	DefaultLanguage      = "en"
	DefaultEmailsPerHour = 100
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

// TemplateText overrides the built-in message texts for one language.
type TemplateText struct {
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body,omitempty"`
	SMS     string `json:"sms,omitempty"`
}

// Settings is a tenant's configuration.
type Settings struct {
	Branding  invoice.Seller          `json:"branding"`
	Bank      invoice.BankAccount     `json:"bank"`
	Email     EmailSettings           `json:"email"`
	Defaults  Defaults                `json:"defaults"`
	Templates map[string]TemplateText `json:"templates,omitempty"`
	UpdatedAt *time.Time              `json:"updatedAt,omitempty"`
}

// Settings returns tenant's settings with secrets decrypted; a tenant that
// never saved any gets the zero Settings.
func (s *Store) Settings(ctx context.Context, tenantID string) (Settings, error) {
	var st Settings
	err := getJSON(ctx, s.rdb, tenantKey(tenantID, "settings"), &st)
	if errors.Is(err, ErrNotFound) {
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, err
	}
	if st.Email.SMTP != nil {
		if st.Email.SMTP.Password, err = s.sealer.open(st.Email.SMTP.Password); err != nil {
			return Settings{}, fmt.Errorf("settings of %s: smtp password: %w", tenantID, err)
		}
	}
	return st, nil
}

// SaveSettings replaces tenant's settings, encrypting secrets.
func (s *Store) SaveSettings(ctx context.Context, tenantID string, st Settings) error {
	now := s.Now()
	st.UpdatedAt = &now
	if st.Email.SMTP != nil {
		smtp := *st.Email.SMTP
		smtp.Password = s.sealer.seal(smtp.Password)
		st.Email.SMTP = &smtp
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, tenantKey(tenantID, "settings"), b, 0).Err()
}
