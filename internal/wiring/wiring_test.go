package wiring

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/store"
)

// TestSESSendersLendOnlyWhenShared: no SES client on the deployment's AWS
// credentials is built unless the deployment lends them, for sending and
// for identity checks alike.
func TestSESSendersLendOnlyWhenShared(t *testing.T) {
	t.Parallel()
	regionOnly := store.SESSettings{Region: "eu-west-1"}
	own := store.SESSettings{Region: "eu-west-1", AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "example-secret"}

	notLent := NewSESSenders("http://127.0.0.1:1", false)
	if _, err := notLent.EmailSender(regionOnly); !errors.Is(err, ErrSESCredentialsNotLent) {
		t.Errorf("EmailSender(region only) err = %v, want ErrSESCredentialsNotLent", err)
	}
	if _, err := notLent.Verified(context.Background(), regionOnly, "billing@acme.test"); !errors.Is(err, ErrSESCredentialsNotLent) {
		t.Errorf("Verified(region only) err = %v, want ErrSESCredentialsNotLent", err)
	}
	if s, err := notLent.EmailSender(own); err != nil || s == nil {
		t.Errorf("EmailSender(own credentials) = %v, %v", s, err)
	}

	lent := NewSESSenders("http://127.0.0.1:1", true)
	if s, err := lent.EmailSender(regionOnly); err != nil || s == nil {
		t.Errorf("lent: EmailSender(region only) = %v, %v", s, err)
	}
}

// TestConnectRefusesBadFontDir: a fallback font folder that cannot be
// used stops a role at startup, rather than its invoices failing later.
func TestConnectRefusesBadFontDir(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	cfg := Config{SecretKey: bytes.Repeat([]byte{7}, 32), FontDir: filepath.Join(t.TempDir(), "missing")}
	d, err := Connect(cfg, zap.NewNop(), asynq.RedisClientOpt{Addr: srv.Addr})
	if err == nil {
		_ = d.Redis.Close()
	}
	if !errors.Is(err, pdf.ErrFontDir) {
		t.Fatalf("Connect with a missing INVOICED_FONT_DIR = %v, want pdf.ErrFontDir", err)
	}
}
