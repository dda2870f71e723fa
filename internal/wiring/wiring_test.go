package wiring

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/providers/smtp/smtptest"
	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/worker"
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

// TestDefaultSMTPKeepsConcurrencyIdle: connections to the deployment's
// own server are kept for the next messages up to DefaultMaxIdle, those
// to a tenant's server up to smtp's default of 4, so that a second burst
// as large as the first dials the deployment's server no more.
func TestDefaultSMTPKeepsConcurrencyIdle(t *testing.T) {
	t.Parallel()
	const burst = 8
	tests := []struct {
		name      string
		sender    func(*SMTPSenders, store.SMTPSettings) (worker.EmailSender, error)
		wantConns int
	}{
		{"deployment's server", (*SMTPSenders).DefaultEmailSender, burst},
		{"tenant's server", (*SMTPSenders).EmailSender, burst + burst - 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Each answer is held so that a burst's messages are all on
			// connections of their own at once.
			srv := smtptest.Start(t, smtptest.Options{NoSTARTTLS: true, ReplyDelay: 100 * time.Millisecond})
			senders := NewSMTPSenders(SMTPSendersConfig{DefaultMaxIdle: burst,
				AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
			defer senders.Close()
			s, err := tt.sender(senders, store.SMTPSettings{Host: srv.Host(), Port: srv.Port(), TLS: "none"})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				var g errgroup.Group
				for i := range burst {
					g.Go(func() error {
						_, err := s.SendEmail(context.Background(), &providers.Email{
							MessageID: fmt.Sprintf("m%d@invoiced.test", i), FromEmail: "billing@acme.test",
							To: []string{"ann@customer.test"}, Subject: "Invoice", Text: "Attached.",
						})
						return err
					})
				}
				if err := g.Wait(); err != nil {
					t.Fatal(err)
				}
			}
			if got := srv.Connections(); got != tt.wantConns {
				t.Errorf("%d connections for two bursts of %d messages, want %d", got, burst, tt.wantConns)
			}
		})
	}
}

// poolGoroutines counts the goroutines of worker pools in this process.
func poolGoroutines() int {
	buf := make([]byte, 4<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "worker.(*Pool).run(")
}

// TestWorkerRolePool: the worker role runs its tasks on as many
// goroutines as its concurrency, started with it and gone after its
// shutdown.
func TestWorkerRolePool(t *testing.T) {
	srv := redistest.Start(t)
	cfg := Config{SecretKey: bytes.Repeat([]byte{7}, 32), OutboxDir: t.TempDir(), Concurrency: 3, ShutdownTimeout: 5 * time.Second}
	d, err := Connect(cfg, zap.NewNop(), asynq.RedisClientOpt{Addr: srv.Addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	role, err := NewWorker(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	before := poolGoroutines()
	if err := role.Start(); err != nil {
		t.Fatal(err)
	}
	if n := poolGoroutines() - before; n != cfg.Concurrency {
		t.Errorf("%d goroutines in the pool of a started worker, want its concurrency %d", n, cfg.Concurrency)
	}
	if err := role.Shutdown(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for poolGoroutines() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := poolGoroutines() - before; n != 0 {
		t.Errorf("%d goroutines of the pool left after Shutdown", n)
	}
}

// TestStaticLinkersKeptByTemplate: the worker's payment gateways build a
// tenant's static linker once for its template and hand the same one to
// each send; a changed template gets its own, and a bad one is refused
// each time and not kept.
func TestStaticLinkersKeptByTemplate(t *testing.T) {
	t.Parallel()
	linkers := NewWorkerPaymentLinkers(Config{PublicURL: "https://invoiced.test"})
	settings := func(tmpl string) store.PaymentSettings {
		return store.PaymentSettings{Gateway: store.GatewayStatic, Static: &store.StaticSettings{URLTemplate: tmpl}}
	}
	first, err := linkers.Linker(settings("https://pay.acme.test/{invoiceId}"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := linkers.Linker(settings("https://pay.acme.test/{invoiceId}"))
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Error("the same template's linker was built again")
	}
	other, err := linkers.Linker(settings("https://pay.acme.test/{number}"))
	if err != nil {
		t.Fatal(err)
	}
	if other == first {
		t.Error("another template was given the first one's linker")
	}
	link, err := other.CreatePaymentLink(context.Background(), &providers.PaymentRequest{
		TenantID: "ten_1", InvoiceID: "inv_1", Number: "INV-1", Amount: 100, Currency: "EUR"})
	if err != nil || link.URL != "https://pay.acme.test/INV-1" {
		t.Errorf("link %+v, %v; want https://pay.acme.test/INV-1", link, err)
	}
	for range 2 {
		if l, err := linkers.Linker(settings("https://pay.acme.test/{invoiceID}")); err == nil {
			t.Errorf("a bad template gave %v", l)
		}
	}
}

// BenchmarkStaticLinker asks a worker's payment gateways for a tenant's
// static linker, as each send with a static payment link does.
func BenchmarkStaticLinker(b *testing.B) {
	linkers := NewWorkerPaymentLinkers(Config{})
	p := store.PaymentSettings{Gateway: store.GatewayStatic,
		Static: &store.StaticSettings{URLTemplate: "https://pay.acme.test/{invoiceId}?amount={amount}&currency={currency}"}}
	for b.Loop() {
		if _, err := linkers.Linker(p); err != nil {
			b.Fatal(err)
		}
	}
}
