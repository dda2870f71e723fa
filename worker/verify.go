package worker

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// VerifySenderHandler mails a fresh verification code to a tenant's from
// address through its own SMTP server: receiving it proves the tenant
// controls the address and that the server accepts mail from it.
type VerifySenderHandler struct{ w *Worker }

// ProcessTask handles tasks.TypeVerifySender.
func (h *VerifySenderHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.VerifySenderPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	st := h.w.cfg.Store
	settings, err := st.Settings(ctx, p.TenantID)
	if err != nil {
		return err
	}
	if store.SenderIdentity(settings.Email) != p.Identity {
		h.w.logFrom(ctx).Info("sender settings changed since verification was asked; nothing sent")
		return nil
	}
	_, sender, err := h.w.emailSender(settings.Email, false)
	if err != nil {
		return fmt.Errorf("verify sender: %w: %w", err, asynq.SkipRetry)
	}
	code := newVerificationCode()
	if err := st.StartVerification(ctx, p.TenantID, p.Identity, code); err != nil {
		return err
	}
	from := settings.Email.FromEmail
	_, err = sender.SendEmail(ctx, &providers.Email{
		MessageID: store.NewID("verify") + "." + p.TenantID + "@invoiced",
		FromEmail: from,
		FromName:  "invoiced",
		To:        []string{from},
		Subject:   "Your invoiced sender verification code: " + code,
		Text: fmt.Sprintf("Enter this code to confirm that invoiced may send invoices from %s:\n\n    %s\n\n"+
			"It expires in %s. If you did not ask for it, ignore this message.\n", from, code, store.VerificationTTL),
	})
	if err != nil {
		if providers.IsPermanent(err) {
			return fmt.Errorf("verify sender: %w: %w", err, asynq.SkipRetry)
		}
		return fmt.Errorf("verify sender: %w", err)
	}
	h.w.logFrom(ctx).Info("sender verification code mailed", zap.String("provider", settings.Email.Provider))
	return st.ExpireVerification(ctx, p.TenantID)
}

// newVerificationCode returns six random digits.
func newVerificationCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return fmt.Sprintf("%06d", n.Int64())
}
