package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/invoiced/invoiced/internal/wiring"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/worker"
)

// config is everything read from the environment: the configuration
// package wiring builds every role from. Every variable is listed in the
// README.
type config = wiring.Config

// devSecretKey is used by `invoiced dev` when INVOICED_SECRET_KEY is unset.
// It is public, so dev mode says so when it starts.
var devSecretKey = sha256.Sum256([]byte("invoiced development key: not for production"))

// loadConfig reads INVOICED_* variables. dev selects the development
// defaults: outbox email, a built-in secret key, console logs, and no
// separate metrics listener (dev serves /metrics on its API address).
func loadConfig(dev bool) (config, error) {
	c := config{
		Addr:                 env("INVOICED_ADDR", ":8080"),
		MetricsAddr:          os.Getenv("INVOICED_METRICS_ADDR"),
		RedisURL:             os.Getenv("INVOICED_REDIS_URL"),
		AdminToken:           os.Getenv("INVOICED_ADMIN_TOKEN"),
		OutboxDir:            env("INVOICED_OUTBOX_DIR", "./var/outbox"),
		FontDir:              os.Getenv("INVOICED_FONT_DIR"),
		DefaultEmailProvider: os.Getenv("INVOICED_DEFAULT_EMAIL_PROVIDER"),
		DefaultFromEmail:     os.Getenv("INVOICED_DEFAULT_FROM_EMAIL"),
		DefaultSMSProvider:   os.Getenv("INVOICED_DEFAULT_SMS_PROVIDER"),
		SESEndpoint:          os.Getenv("INVOICED_SES_ENDPOINT"),
		TwilioAPIURL:         os.Getenv("INVOICED_TWILIO_API_URL"),
		StripeAPIBase:        os.Getenv("INVOICED_STRIPE_API_BASE"),
		RazorpayAPIURL:       os.Getenv("INVOICED_RAZORPAY_API_URL"),
		PublicURL:            os.Getenv("INVOICED_PUBLIC_URL"),
		LogLevel:             env("INVOICED_LOG_LEVEL", "info"),
		LogFormat:            os.Getenv("INVOICED_LOG_FORMAT"),
	}
	var err error
	if c.Concurrency, err = envInt("INVOICED_WORKER_CONCURRENCY", 20); err != nil {
		return c, err
	}
	if c.PDFCacheSize, err = envInt("INVOICED_PDF_CACHE_SIZE", 256); err != nil {
		return c, err
	}
	if c.EmailMaxPerSecond, err = envInt("INVOICED_EMAIL_MAX_PER_SECOND", 0); err != nil {
		return c, err
	}
	if c.SMSMaxPerSecond, err = envInt("INVOICED_SMS_MAX_PER_SECOND", 0); err != nil {
		return c, err
	}
	if c.MaxEmailsPerHour, err = envInt("INVOICED_MAX_EMAILS_PER_HOUR", store.DefaultMaxEmailsPerHour); err != nil {
		return c, err
	}
	if c.RetentionDays, err = envInt("INVOICED_RETENTION_DAYS", store.DefaultRetentionDays); err != nil {
		return c, err
	}
	if c.RetentionDays < store.MinRetentionDays || c.RetentionDays > store.MaxRetentionDays {
		return c, fmt.Errorf("INVOICED_RETENTION_DAYS: %d is not between %d and %d", c.RetentionDays, store.MinRetentionDays, store.MaxRetentionDays)
	}
	if c.DeliveryMaxRetries, err = envInt("INVOICED_DELIVERY_MAX_RETRIES", 12); err != nil {
		return c, err
	}
	maxBody, err := envInt("INVOICED_MAX_BODY_BYTES", 2<<20)
	if err != nil {
		return c, err
	}
	c.MaxBodyBytes = int64(maxBody)
	if c.SweepInterval, err = envDuration("INVOICED_SWEEP_INTERVAL", time.Minute); err != nil {
		return c, err
	}
	if c.ShutdownTimeout, err = envDuration("INVOICED_SHUTDOWN_TIMEOUT", 30*time.Second); err != nil {
		return c, err
	}
	if c.SendTimeout, err = envDuration("INVOICED_SEND_TIMEOUT", worker.DefaultSendTimeout); err != nil {
		return c, err
	}
	if c.SESSharedCredentials, err = envBool("INVOICED_SES_SHARED_CREDENTIALS"); err != nil {
		return c, err
	}
	if c.RequireDurableRedis, err = envBool("INVOICED_REDIS_REQUIRE_FSYNC"); err != nil {
		return c, err
	}
	if c.WebhookAllowNets, err = parsePrefixes("INVOICED_WEBHOOK_ALLOW_NETS"); err != nil {
		return c, err
	}
	if c.SMTPAllowNets, err = parsePrefixes("INVOICED_SMTP_ALLOW_NETS"); err != nil {
		return c, err
	}
	if c.TrustedProxies, err = parsePrefixes("INVOICED_TRUSTED_PROXIES"); err != nil {
		return c, err
	}
	if c.SecretKey, err = parseKey(os.Getenv("INVOICED_SECRET_KEY")); err != nil {
		return c, err
	}
	if c.SecretKey == nil && dev {
		c.SecretKey = devSecretKey[:]
	}
	if dev {
		if c.DefaultEmailProvider == "" {
			c.DefaultEmailProvider = store.ProviderOutbox
		}
		if c.DefaultSMSProvider == "" {
			c.DefaultSMSProvider = store.SMSProviderOutbox
		}
		if c.LogFormat == "" {
			c.LogFormat = "console"
		}
	}
	if c.LogFormat == "" {
		c.LogFormat = "json"
	}
	switch {
	case c.MetricsAddr == "off":
		c.MetricsAddr = ""
	case c.MetricsAddr == "" && !dev:
		c.MetricsAddr = ":9090"
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + wiring.DisplayAddr(c.Addr)
	}
	if path := os.Getenv("INVOICED_SMTP_CA_FILE"); path != "" {
		if c.SMTPRootCAs, err = loadCAFile(path); err != nil {
			return c, err
		}
	}
	if raw := os.Getenv("INVOICED_DEFAULT_SMTP_URL"); raw != "" {
		if c.DefaultSMTP, err = parseSMTPURL(raw); err != nil {
			return c, err
		}
	}
	switch c.DefaultEmailProvider {
	case "", store.ProviderOutbox:
	case store.ProviderSMTP:
		if c.DefaultSMTP == nil {
			return c, fmt.Errorf("INVOICED_DEFAULT_EMAIL_PROVIDER=smtp needs INVOICED_DEFAULT_SMTP_URL")
		}
	default:
		return c, fmt.Errorf("INVOICED_DEFAULT_EMAIL_PROVIDER=%q: want outbox, smtp or empty", c.DefaultEmailProvider)
	}
	switch c.DefaultSMSProvider {
	case "", store.SMSProviderOutbox:
	default:
		return c, fmt.Errorf("INVOICED_DEFAULT_SMS_PROVIDER=%q: want outbox or empty", c.DefaultSMSProvider)
	}
	return c, nil
}

// requireProduction checks what the production roles cannot do without.
func requireProduction(c config) error {
	if c.RedisURL == "" {
		return fmt.Errorf("INVOICED_REDIS_URL is required (redis://, rediss://, redis-sentinel:// or redis-cluster://); `invoiced dev` (make run) runs without one")
	}
	if c.SecretKey == nil {
		return fmt.Errorf("INVOICED_SECRET_KEY is required: 32 random bytes, hex or base64 (openssl rand -hex 32)")
	}
	return nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// envInt reads a whole number; a default of 0 allows 0 ("no limit"),
// otherwise the value must be positive.
func envInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || (n == 0 && def != 0) {
		return 0, fmt.Errorf("%s=%q: want a positive whole number", name, v)
	}
	return n, nil
}

// envBool reads a switch that is off unless set: true or false (also 1
// or 0).
func envBool(name string) (bool, error) {
	v := os.Getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", name, v)
	}
	return b, nil
}

func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a duration like 30s or 5m", name, v)
	}
	return d, nil
}

// parsePrefixes reads a comma-separated list of CIDR prefixes.
func parsePrefixes(name string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(os.Getenv(name), ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a prefix like 10.0.0.0/8", name, part)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseKey accepts 32 bytes as 64 hex digits or base64.
func parseKey(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, fmt.Errorf("INVOICED_SECRET_KEY must be 32 bytes as 64 hex digits or base64")
}

// parseSMTPURL reads smtp://user:pass@host:port?tls=starttls.
func parseSMTPURL(raw string) (*store.SMTPSettings, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return nil, fmt.Errorf("INVOICED_DEFAULT_SMTP_URL must look like smtp://user:pass@host:587?tls=starttls")
	}
	s := &store.SMTPSettings{Host: u.Hostname(), TLS: u.Query().Get("tls")}
	if p := u.Port(); p != "" {
		if s.Port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("INVOICED_DEFAULT_SMTP_URL: bad port %q", p)
		}
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	return s, nil
}

// loadCAFile returns the system's certificate authorities and those of
// the PEM file at path, which SMTP servers' certificates may chain to: a
// relay inside the company with a certificate of its own CA.
func loadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("INVOICED_SMTP_CA_FILE: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("INVOICED_SMTP_CA_FILE=%s holds no PEM certificate", path)
	}
	return pool, nil
}
