//go:build dev

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"

	"github.com/invoiced/invoiced/internal/wiring"
	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
)

// runDev runs API, worker and scheduler in one process. Without
// INVOICED_REDIS_URL it starts an embedded Redis (miniredis), so nothing
// survives a restart. It creates a demo tenant, writes its token to
// var/dev-token, and prints how to send a first invoice.
func runDev(ctx context.Context, stdout io.Writer) error {
	cfg, err := loadConfig(true)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	// Listen before anything else: a second invoiced dev on a taken
	// address stops here, before it writes over the first one's tokens.
	ln, err := wiring.Listen(cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()

	var opt asynq.RedisConnOpt
	if cfg.RedisURL == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return fmt.Errorf("embedded redis: %w", err)
		}
		defer mr.Close()
		go advanceClock(ctx, mr)
		opt = asynq.RedisClientOpt{Addr: mr.Addr()}
		log.Info("using embedded redis (miniredis): data is lost when invoiced dev stops")
	}
	if os.Getenv("INVOICED_SECRET_KEY") == "" {
		log.Warn("INVOICED_SECRET_KEY is unset: using the public development key; never do this in production")
	}
	d, err := connect(cfg, log, opt)
	if err != nil {
		return err
	}
	defer d.Close()

	token, err := createDemoTenant(ctx, d.Store)
	if err != nil {
		return err
	}
	tokenFile := filepath.Join("var", "dev-token")
	adminFile := filepath.Join("var", "dev-admin-token")
	if err := os.MkdirAll("var", 0o755); err == nil {
		_ = os.WriteFile(tokenFile, []byte(token+"\n"), 0o600)
	}
	// The queue dashboard and /metrics need the admin token; dev makes one
	// up rather than leave them off.
	adminToken := "from INVOICED_ADMIN_TOKEN"
	if cfg.AdminToken == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		cfg.AdminToken = hex.EncodeToString(b)
		adminToken = cfg.AdminToken + "   (also in " + adminFile + ")"
		_ = os.WriteFile(adminFile, []byte(cfg.AdminToken+"\n"), 0o600)
	}

	errc := make(chan error, 1)
	go func() { errc <- wiring.ServeDev(ctx, cfg, d, ln) }()
	printWelcome(stdout, cfg, token, tokenFile, adminToken)
	return <-errc
}

// advanceClock makes the embedded Redis expire keys in real time;
// miniredis only moves its clock when told to.
func advanceClock(ctx context.Context, mr *miniredis.Miniredis) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			mr.FastForward(time.Second)
		}
	}
}

func createDemoTenant(ctx context.Context, st *store.Store) (string, error) {
	t, token, err := st.CreateTenant(ctx, "Demo Company SRL")
	if err != nil {
		return "", fmt.Errorf("create demo tenant: %w", err)
	}
	err = st.SaveSettings(ctx, t.ID, store.Settings{
		Branding: store.Branding{Seller: invoice.Seller{
			Name: "Demo Company SRL", VATID: "RO18547290", Email: "billing@demo.invoiced.test",
			Address: invoice.Address{Line1: "Str. Memorandumului 28", City: "Cluj-Napoca", PostalCode: "400114", Country: "RO"},
		}},
		Bank:     invoice.BankAccount{IBAN: "RO49AAAA1B31007593840000", BIC: "AAAARO22", BankName: "Banca Demo", Holder: "Demo Company SRL"},
		Email:    store.EmailSettings{Provider: store.ProviderOutbox, FromEmail: "billing@demo.invoiced.test", FromName: "Demo Company Billing"},
		Defaults: store.Defaults{Language: "en", GracePeriod: "1h"},
	})
	return token, err
}

func printWelcome(w io.Writer, cfg config, token, tokenFile, adminToken string) {
	base := cfg.PublicURL
	fmt.Fprintf(w, `
invoiced dev is running on %[1]s
  demo tenant token: %[2]s   (also in %[3]s)
  outbox:            %[4]s/email/*.eml
  admin token:       %[5]s
  queue dashboard:   %[1]s/monitoring/   (any user name, the admin token as password)
  metrics:           %[1]s/metrics

Send a first invoice:

  curl -s -X POST %[1]s/api/v1/invoices -H "Authorization: Bearer %[2]s" \
    -H 'Content-Type: application/json' -d '{"id":"inv_1001","number":"INV-1001","currency":"EUR",
    "customer":{"name":"Ana Popescu","email":"ana@example.com"},
    "lines":[{"description":"Consulting","quantity":"10","unit":"h","unitPrice":"95.00","taxRate":"19"}]}'

  curl -s -X POST %[1]s/api/v1/invoices/inv_1001/send -H "Authorization: Bearer %[2]s"

  curl -s %[1]s/api/v1/invoices/inv_1001/delivery-status -H "Authorization: Bearer %[2]s"

then open the .eml in %[4]s/email/. Stop with Ctrl-C.

`, base, token, tokenFile, cfg.OutboxDir, adminToken)
}
