package main

import (
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/store"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		dev     bool
		wantErr string
		check   func(t *testing.T, c config)
	}{
		{name: "dev defaults", dev: true, check: func(t *testing.T, c config) {
			if c.DefaultEmailProvider != "outbox" || c.SecretKey == nil || c.LogFormat != "console" || c.Addr != ":8080" {
				t.Fatalf("dev config = %+v", c)
			}
			if c.PublicURL != "http://localhost:8080" || c.OutboxDir != "./var/outbox" {
				t.Fatalf("dev urls = %s %s", c.PublicURL, c.OutboxDir)
			}
			if c.MetricsAddr != "" {
				t.Fatalf("dev metrics listener = %q, want none (dev serves /metrics on its API address)", c.MetricsAddr)
			}
		}},
		{name: "dev metrics listener", dev: true, env: map[string]string{"INVOICED_METRICS_ADDR": "127.0.0.1:9191"}, check: func(t *testing.T, c config) {
			if c.MetricsAddr != "127.0.0.1:9191" {
				t.Fatalf("metrics addr = %q", c.MetricsAddr)
			}
		}},
		{name: "metrics listener off", env: map[string]string{"INVOICED_METRICS_ADDR": "off"}, check: func(t *testing.T, c config) {
			if c.MetricsAddr != "" {
				t.Fatalf("metrics addr = %q, want none", c.MetricsAddr)
			}
		}},
		{name: "production defaults", check: func(t *testing.T, c config) {
			if c.DefaultEmailProvider != "" || c.SecretKey != nil || c.LogFormat != "json" || c.MetricsAddr != ":9090" {
				t.Fatalf("production config = %+v", c)
			}
			if c.MaxEmailsPerHour != store.DefaultMaxEmailsPerHour {
				t.Fatalf("MaxEmailsPerHour = %d, want the default %d", c.MaxEmailsPerHour, store.DefaultMaxEmailsPerHour)
			}
			if err := requireProduction(c); err == nil || !strings.Contains(err.Error(), "INVOICED_REDIS_URL") {
				t.Fatalf("requireProduction = %v", err)
			}
		}},
		{name: "hex key", env: map[string]string{"INVOICED_SECRET_KEY": strings.Repeat("ab", 32)}, check: func(t *testing.T, c config) {
			if len(c.SecretKey) != 32 || c.SecretKey[0] != 0xab {
				t.Fatalf("key = %x", c.SecretKey)
			}
		}},
		{name: "short key", env: map[string]string{"INVOICED_SECRET_KEY": "abcd"}, wantErr: "INVOICED_SECRET_KEY"},
		{name: "bad concurrency", env: map[string]string{"INVOICED_WORKER_CONCURRENCY": "-1"}, wantErr: "INVOICED_WORKER_CONCURRENCY"},
		{name: "bad interval", env: map[string]string{"INVOICED_SWEEP_INTERVAL": "often"}, wantErr: "INVOICED_SWEEP_INTERVAL"},
		{name: "bad provider", env: map[string]string{"INVOICED_DEFAULT_EMAIL_PROVIDER": "fax"}, wantErr: "INVOICED_DEFAULT_EMAIL_PROVIDER"},
		{name: "smtp allow-list", env: map[string]string{"INVOICED_SMTP_ALLOW_NETS": "10.20.0.0/16, 127.0.0.1/32"}, check: func(t *testing.T, c config) {
			if len(c.SMTPAllowNets) != 2 || c.SMTPAllowNets[0].String() != "10.20.0.0/16" || c.SMTPAllowNets[1].String() != "127.0.0.1/32" {
				t.Fatalf("SMTP allow-list = %v", c.SMTPAllowNets)
			}
			if len(c.WebhookAllowNets) != 0 {
				t.Fatalf("webhook allow-list = %v, want it apart from SMTP's", c.WebhookAllowNets)
			}
		}},
		{name: "bad smtp allow-list", env: map[string]string{"INVOICED_SMTP_ALLOW_NETS": "10.20.0.0"}, wantErr: "INVOICED_SMTP_ALLOW_NETS"},
		{name: "smtp without url", env: map[string]string{"INVOICED_DEFAULT_EMAIL_PROVIDER": "smtp"}, wantErr: "INVOICED_DEFAULT_SMTP_URL"},
		{name: "smtp url", env: map[string]string{
			"INVOICED_DEFAULT_EMAIL_PROVIDER": "smtp",
			"INVOICED_DEFAULT_SMTP_URL":       "smtp://user:p%40ss@mail.example.com:465?tls=tls",
			"INVOICED_SWEEP_INTERVAL":         "30s",
		}, check: func(t *testing.T, c config) {
			s := c.DefaultSMTP
			if s.Host != "mail.example.com" || s.Port != 465 || s.Username != "user" || s.Password != "p@ss" || s.TLS != "tls" {
				t.Fatalf("smtp = %+v", s)
			}
			if c.SweepInterval != 30*time.Second {
				t.Fatalf("sweep = %s", c.SweepInterval)
			}
		}},
		{name: "hourly email ceiling", env: map[string]string{"INVOICED_MAX_EMAILS_PER_HOUR": "250"}, check: func(t *testing.T, c config) {
			if c.MaxEmailsPerHour != 250 {
				t.Fatalf("MaxEmailsPerHour = %d, want 250", c.MaxEmailsPerHour)
			}
		}},
		{name: "retention default", check: func(t *testing.T, c config) {
			if c.RetentionDays != 90 {
				t.Fatalf("retention = %d days, want 90", c.RetentionDays)
			}
		}},
		{name: "retention", env: map[string]string{"INVOICED_RETENTION_DAYS": "365"}, check: func(t *testing.T, c config) {
			if c.RetentionDays != 365 {
				t.Fatalf("retention = %d days, want 365", c.RetentionDays)
			}
		}},
		{name: "retention too short", env: map[string]string{"INVOICED_RETENTION_DAYS": "3"}, wantErr: "INVOICED_RETENTION_DAYS"},
		{name: "retention not a number", env: map[string]string{"INVOICED_RETENTION_DAYS": "forever"}, wantErr: "INVOICED_RETENTION_DAYS"},
		{name: "bad hourly email ceiling", env: map[string]string{"INVOICED_MAX_EMAILS_PER_HOUR": "0"}, wantErr: "INVOICED_MAX_EMAILS_PER_HOUR"},
		{name: "bad smtp url", env: map[string]string{"INVOICED_DEFAULT_SMTP_URL": "mail.example.com"}, wantErr: "smtp://"},
		{name: "ses credentials not lent by default", check: func(t *testing.T, c config) {
			if c.SESSharedCredentials {
				t.Fatal("the deployment lends its AWS credentials without being told to")
			}
		}},
		{name: "ses credentials lent", env: map[string]string{"INVOICED_SES_SHARED_CREDENTIALS": "true"}, check: func(t *testing.T, c config) {
			if !c.SESSharedCredentials {
				t.Fatal("INVOICED_SES_SHARED_CREDENTIALS=true did not lend the deployment's AWS credentials")
			}
		}},
		{name: "ses credentials off", env: map[string]string{"INVOICED_SES_SHARED_CREDENTIALS": "false"}, check: func(t *testing.T, c config) {
			if c.SESSharedCredentials {
				t.Fatal("INVOICED_SES_SHARED_CREDENTIALS=false lent the deployment's AWS credentials")
			}
		}},
		{name: "bad ses credentials switch", env: map[string]string{"INVOICED_SES_SHARED_CREDENTIALS": "sometimes"}, wantErr: "INVOICED_SES_SHARED_CREDENTIALS"},
		{name: "durable redis only warned about by default", check: func(t *testing.T, c config) {
			if c.RequireDurableRedis {
				t.Fatal("a Redis without appendfsync always is refused without being told to")
			}
		}},
		{name: "durable redis required", env: map[string]string{"INVOICED_REDIS_REQUIRE_FSYNC": "true"}, check: func(t *testing.T, c config) {
			if !c.RequireDurableRedis {
				t.Fatal("INVOICED_REDIS_REQUIRE_FSYNC=true did not require a durable Redis")
			}
		}},
		{name: "fallback fonts", env: map[string]string{"INVOICED_FONT_DIR": "/usr/share/fonts/opentype/ipafont-gothic"}, check: func(t *testing.T, c config) {
			if c.FontDir != "/usr/share/fonts/opentype/ipafont-gothic" {
				t.Fatalf("FontDir = %q, want INVOICED_FONT_DIR", c.FontDir)
			}
		}},
		{name: "bad durable redis switch", env: map[string]string{"INVOICED_REDIS_REQUIRE_FSYNC": "yes please"}, wantErr: "INVOICED_REDIS_REQUIRE_FSYNC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"INVOICED_SECRET_KEY", "INVOICED_REDIS_URL", "INVOICED_DEFAULT_EMAIL_PROVIDER", "INVOICED_ADDR",
				"INVOICED_PUBLIC_URL", "INVOICED_OUTBOX_DIR", "INVOICED_LOG_FORMAT", "INVOICED_DEFAULT_SMTP_URL", "INVOICED_METRICS_ADDR",
				"INVOICED_SES_SHARED_CREDENTIALS", "INVOICED_MAX_EMAILS_PER_HOUR", "INVOICED_RETENTION_DAYS", "INVOICED_REDIS_REQUIRE_FSYNC"} {
				t.Setenv(k, "")
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := loadConfig(tt.dev)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
