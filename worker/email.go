package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/render/message"
	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// EmailHandler delivers one email delivery through the tenant's provider and
// records the outcome: sent with the provider's id, an attempt kept for a
// transient failure (the task is retried), or failed at once for a
// permanent one.
type EmailHandler struct{ w *Worker }

// ProcessTask handles tasks.TypeDeliveryEmail.
func (h *EmailHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.DeliveryPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	log := h.w.logFrom(ctx)
	st := h.w.cfg.Store
	d, err := st.Delivery(ctx, p.TenantID, p.DeliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delivery %s: %w: %w", p.DeliveryID, err, asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	if d.Status != store.DeliveryQueued {
		// Already sent, failed or canceled: a duplicate task does nothing.
		log.Debug("delivery is no longer queued", zap.String("status", string(d.Status)))
		return nil
	}

	providerName, sender, email, err := h.prepare(ctx, d)
	if err == nil {
		var providerID string
		providerID, err = sender.SendEmail(ctx, email)
		if err == nil {
			_, _, err = st.Transition(ctx, d.TenantID, d.ID, store.DeliverySent, "worker", "accepted by "+providerName, func(d *store.Delivery) {
				d.Provider, d.ProviderID = providerName, providerID
				d.Attempts = append(d.Attempts, store.Attempt{At: st.Now(), Provider: providerName})
			})
			if err != nil {
				return fmt.Errorf("record sent: %w", err)
			}
			log.Info("email sent", zap.String("provider", providerName))
			return nil
		}
	}
	return h.fail(ctx, log, d, providerName, err)
}

// fail records a failed attempt and decides what happens next.
func (h *EmailHandler) fail(ctx context.Context, log *zap.Logger, d *store.Delivery, providerName string, sendErr error) error {
	st := h.w.cfg.Store
	permanent := providers.IsPermanent(sendErr)
	var pe *providers.PermanentError
	code := ""
	if errors.As(sendErr, &pe) {
		code = pe.Code
	}
	attempt := store.Attempt{At: st.Now(), Provider: providerName, Error: sendErr.Error(), Code: code, Permanent: permanent}
	if err := st.RecordAttempt(ctx, d.TenantID, d.ID, attempt); err != nil {
		return err
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	_, throttled := providers.RetryDelay(sendErr)
	lastTry := retried >= maxRetry && !throttled
	if !permanent && !lastTry {
		return fmt.Errorf("send email (will retry): %w", sendErr)
	}
	reason := sendErr.Error()
	if !permanent {
		reason = fmt.Sprintf("gave up after %d attempts: %s", retried+1, reason)
	}
	if _, _, err := st.Transition(ctx, d.TenantID, d.ID, store.DeliveryFailed, "worker", reason, nil); err != nil {
		return err
	}
	log.Warn("email delivery failed", zap.String("provider", providerName), zap.Bool("permanent", permanent), zap.String("code", code))
	return fmt.Errorf("send email: %w: %w", sendErr, asynq.SkipRetry)
}

// prepare picks the tenant's provider and builds the message.
func (h *EmailHandler) prepare(ctx context.Context, d *store.Delivery) (string, EmailSender, *providers.Email, error) {
	st := h.w.cfg.Store
	send, err := st.Send(ctx, d.TenantID, d.SendID)
	if err != nil {
		return "", nil, nil, fmt.Errorf("load send: %w", err)
	}
	inv, err := st.Invoice(ctx, d.TenantID, d.InvoiceID)
	if err != nil {
		return "", nil, nil, fmt.Errorf("load invoice: %w", err)
	}
	settings, err := st.Settings(ctx, d.TenantID)
	if err != nil {
		return "", nil, nil, err
	}
	name, sender, err := h.sender(settings, d.TestMode)
	if err != nil {
		return name, nil, nil, err
	}
	email, err := h.compose(d, send, inv, settings)
	return name, sender, email, err
}

// sender resolves the provider for a tenant. Configuration problems are
// permanent: retrying will not fix them.
func (h *EmailHandler) sender(settings store.Settings, testMode bool) (string, EmailSender, error) {
	cfg := h.w.cfg
	provider := settings.Email.Provider
	smtpSettings := settings.Email.SMTP
	if provider == "" {
		provider, smtpSettings = cfg.DefaultEmailProvider, cfg.DefaultSMTP
	}
	if testMode {
		provider = store.ProviderOutbox
	}
	switch provider {
	case store.ProviderOutbox:
		return provider, cfg.Outbox, nil
	case store.ProviderSMTP:
		if smtpSettings == nil || cfg.SMTPFunc == nil {
			return provider, nil, providers.Permanent("not_configured", errors.New("smtp is selected but settings.email.smtp is not set"))
		}
		s, err := cfg.SMTPFunc(*smtpSettings)
		if err != nil {
			return provider, nil, providers.Permanent("not_configured", fmt.Errorf("smtp settings: %w", err))
		}
		return provider, s, nil
	case "":
		return "", nil, providers.Permanent("not_configured", errors.New("no email provider is configured for this tenant; set settings.email.provider"))
	}
	return provider, nil, providers.Permanent("not_configured", fmt.Errorf("email provider %q is not available", provider))
}

// compose renders the subject, body and attachments of one delivery.
func (h *EmailHandler) compose(d *store.Delivery, send *store.Send, inv *invoice.Invoice, settings store.Settings) (*providers.Email, error) {
	lang := firstNonEmpty(send.Language, inv.Language, settings.Defaults.Lang())
	tenantTemplates := make(map[string]message.Template, len(settings.Templates))
	for l, tt := range settings.Templates {
		tenantTemplates[l] = message.Template{Subject: tt.Subject, Body: tt.Body, SMS: tt.SMS}
	}
	tmpl := message.Resolve(lang, tenantTemplates, message.Template{Subject: send.Subject, Body: send.Message})
	merchant := firstNonEmpty(settings.Email.FromName, settings.Branding.Name)
	msg := message.Render(tmpl, lang, message.Vars{
		InvoiceNumber: inv.Number,
		InvoiceTotal:  inv.Total,
		Currency:      inv.Currency,
		CustomerName:  inv.Customer.Name,
		MerchantName:  merchant,
		DueDate:       inv.DueDate,
		IssueDate:     inv.IssueDate,
		PaymentLink:   inv.PaymentLink,
		Extra:         send.Variables,
	})
	email := &providers.Email{
		MessageID: d.ID + "." + d.TenantID + "@invoiced",
		FromEmail: firstNonEmpty(settings.Email.FromEmail, settings.Branding.Email, h.w.cfg.DefaultFromEmail),
		FromName:  merchant,
		ReplyTo:   firstNonEmpty(send.ReplyTo, settings.Email.ReplyTo),
		To:        []string{d.To},
		Cc:        d.Cc,
		Bcc:       d.Bcc,
		Subject:   msg.Subject,
		Text:      msg.Text,
		HTML:      msg.HTML,
		Headers: map[string]string{
			"X-Invoiced-Delivery": d.ID,
			"X-Invoiced-Invoice":  inv.ID,
		},
	}
	if send.AttachPDF {
		b, err := h.w.cfg.PDF.Render(pdf.Document{Invoice: inv, Seller: settings.Branding.Seller, Bank: settings.Bank, Language: lang})
		if err != nil {
			// Rendering is deterministic: the same content fails the same
			// way on every retry.
			return nil, providers.Permanent("render_failed", fmt.Errorf("render pdf: %w", err))
		}
		email.Attachments = append(email.Attachments, providers.Attachment{
			Filename: invoice.FileStem(inv.Number) + ".pdf", ContentType: "application/pdf", Data: b,
		})
	}
	return email, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
