package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/render/message"
	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/render/ubl"
	"github.com/invoiced/invoiced/store"
)

// EmailHandler delivers one email delivery through the tenant's provider.
type EmailHandler struct{ w *Worker }

// ProcessTask handles tasks.TypeDeliveryEmail.
func (h *EmailHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	return h.w.deliver(ctx, t, h.prepare)
}

func (h *EmailHandler) prepare(ctx context.Context, job deliveryJob) (dispatch, error) {
	d := job.delivery
	if !d.TestMode {
		if err := h.w.checkDeploymentSES(ctx, d.TenantID, job.settings.Email, h.w.fromEmail(job.settings)); err != nil {
			return dispatch{provider: store.ProviderSES}, err
		}
	}
	name, sender, err := h.w.emailSender(job.settings.Email, d.TestMode)
	disp := dispatch{provider: name, perSecond: firstPositive(job.settings.Email.MaxPerSecond, h.w.cfg.EmailMaxPerSecond)}
	if err != nil {
		return disp, err
	}
	recipients := emailRecipients(d)
	var addr, reason string
	if l := job.suppression; l != nil && l.Err == nil {
		addr, reason = l.Address, l.Reason
	} else if addr, reason, err = h.w.cfg.Store.Suppressed(ctx, d.TenantID, recipients...); err != nil {
		return disp, err
	}
	if addr != "" {
		return disp, providers.Permanent("suppressed", fmt.Errorf("suppressed: %s is on the suppression list (%s)", addr, reason))
	}
	email, err := h.compose(job)
	if err != nil {
		return disp, err
	}
	if countedByWorker(job.send) && !d.TestMode {
		disp.emails = len(recipients)
		disp.perHour = job.settings.Defaults.EmailLimit(h.w.cfg.MaxEmailsPerHour)
	}
	disp.send = func(ctx context.Context) (string, error) { return sender.SendEmail(ctx, email) }
	disp.content = &store.EmailContent{Subject: email.Subject, Attachments: make([]string, 0, len(email.Attachments))}
	for _, att := range email.Attachments {
		disp.content.Attachments = append(disp.content.Attachments, att.Filename)
	}
	return disp, nil
}

// emailRecipients are the addresses an email delivery goes to: to, cc
// and bcc.
func emailRecipients(d *store.Delivery) []string {
	return append(append([]string{d.To}, d.Cc...), d.Bcc...)
}

// checkDeploymentSES refuses, for good, email through SES with the
// deployment's AWS credentials (settings without the tenant's own access
// key) when the deployment does not lend them, or from an address the
// operator did not grant the tenant (store.Tenant.MaySendAsSES). The API
// checks the same when settings are saved and sends accepted; this check
// catches settings stored before it did, and sends no request made
// (grace-period finalization, reminders), right before SES would be
// called.
func (w *Worker) checkDeploymentSES(ctx context.Context, tenantID string, e store.EmailSettings, from string) error {
	if e.Provider != store.ProviderSES || e.SES == nil || e.SES.OwnCredentials() {
		return nil
	}
	if !w.cfg.SESSharedCredentials {
		return providers.Permanent("credentials_not_lent", errors.New(
			"ses: this deployment does not lend its AWS credentials; set settings.email.ses.accessKeyId and secretAccessKey"))
	}
	t, err := w.cfg.Store.Tenant(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("ses: load tenant: %w", err)
	}
	if !t.MaySendAsSES(from) {
		return providers.Permanent("sender_not_allowed", fmt.Errorf(
			"ses: %s is not an identity the operator lets this tenant send as with the deployment's AWS credentials", from))
	}
	return nil
}

// fromEmail is the sender address of settings' email.
func (w *Worker) fromEmail(settings store.Settings) string {
	return firstNonEmpty(settings.Email.FromEmail, settings.Branding.Email, w.cfg.DefaultFromEmail)
}

// countedByWorker reports whether send is one the worker made of its own
// accord (the auto-email of a finalization, a reminder), whose emails no
// API request counted against the tenant's hourly limit.
func countedByWorker(send *store.Send) bool {
	return send.Kind == store.SendKindAuto || send.Kind == store.SendKindReminder
}

// emailProvider is the name of the provider a tenant's email goes
// through (see emailSender), "" when there is none.
func (w *Worker) emailProvider(e store.EmailSettings, testMode bool) string {
	switch {
	case testMode:
		return store.ProviderOutbox
	case e.Provider == "":
		return w.cfg.DefaultEmailProvider
	}
	return e.Provider
}

// emailSender resolves a tenant's email provider. Configuration problems
// are permanent: retrying will not fix them.
func (w *Worker) emailSender(e store.EmailSettings, testMode bool) (string, EmailSender, error) {
	cfg := w.cfg
	provider, smtpSettings, sesSettings := w.emailProvider(e, testMode), e.SMTP, e.SES
	smtpFunc := cfg.SMTPFunc
	if e.Provider == "" {
		smtpSettings, smtpFunc = cfg.DefaultSMTP, cfg.DefaultSMTPFunc
	}
	switch provider {
	case store.ProviderOutbox:
		return provider, cfg.Outbox, nil
	case store.ProviderSMTP:
		if smtpSettings == nil || smtpFunc == nil {
			return provider, nil, notConfigured("smtp is selected but settings.email.smtp is not set")
		}
		s, err := smtpFunc(*smtpSettings)
		if err != nil {
			return provider, nil, notConfigured("smtp settings: %w", err)
		}
		return provider, s, nil
	case store.ProviderSES:
		if sesSettings == nil || cfg.SESFunc == nil {
			return provider, nil, notConfigured("ses is selected but settings.email.ses is not set")
		}
		s, err := cfg.SESFunc(*sesSettings)
		if err != nil {
			return provider, nil, notConfigured("ses settings: %w", err)
		}
		return provider, s, nil
	case "":
		return "", nil, notConfigured("no email provider is configured for this tenant; set settings.email.provider")
	}
	return provider, nil, notConfigured("email provider %q is not available", provider)
}

// compose renders the subject, body and attachments of one email delivery.
func (h *EmailHandler) compose(job deliveryJob) (*providers.Email, error) {
	d, send, inv, settings := job.delivery, job.send, job.invoice, job.settings
	lang := firstNonEmpty(send.Language, inv.Language, settings.Defaults.Lang())
	override := message.Template{Subject: send.Subject, Body: send.Message, Note: send.Note}
	tmpl := message.Resolve(lang, tenantTemplates(settings), override)
	switch {
	case inv.IsCreditNote():
		tmpl = message.ResolveCreditNote(lang, override)
	case send.Kind == store.SendKindReminder:
		overdue := send.ScheduledAt != nil && inv.DueDate != "" && send.ScheduledAt.UTC().Format(time.DateOnly) > inv.DueDate
		tmpl = message.ResolveReminder(lang, reminderTemplates(settings, overdue), override, overdue)
	}
	vars := message.InvoiceVars(inv, lang, settings.CompanyName(), send.Variables)
	vars.PublicURL = h.w.publicURL(inv)
	vars.Brand = emailBrand(settings.Branding, vars.PublicURL)
	tracking := settings.Email.Tracking
	if tracking {
		if vars.PaymentLink != "" {
			vars.PaymentLink = h.w.clickURL(d, store.ClickPay)
		}
		vars.PublicURL = h.w.clickURL(d, store.ClickView)
	}
	msg := message.Render(tmpl, lang, vars)
	if tracking {
		msg.HTML = withOpenPixel(msg.HTML, h.w.cfg.PublicBaseURL+"/t/o/"+h.w.cfg.Store.SignToken(store.TokenOpen, d.TenantID, d.ID))
	}
	email := &providers.Email{
		MessageID: d.ID + "." + d.TenantID + "@invoiced",
		FromEmail: h.w.fromEmail(settings),
		FromName:  fromName(settings),
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
		b, err := h.w.cfg.PDF.Render(pdfDocument(inv, settings, lang))
		if err != nil {
			// Rendering is deterministic: the same content fails the same
			// way on every retry.
			return nil, providers.Permanent("render_failed", fmt.Errorf("render pdf: %w", err))
		}
		email.Attachments = append(email.Attachments, providers.Attachment{
			Filename: invoice.FileStem(inv.Number) + ".pdf", ContentType: "application/pdf", Data: b,
		})
	}
	if send.AttachXML {
		b, err := ubl.Render(ubl.Document{Invoice: inv, Seller: settings.Branding.Seller, Bank: settings.Bank})
		if err != nil {
			return nil, providers.Permanent("render_failed", fmt.Errorf("render xml: %w", err))
		}
		email.Attachments = append(email.Attachments, providers.Attachment{
			Filename: invoice.FileStem(inv.Number) + ".xml", ContentType: "application/xml", Data: b,
		})
	}
	return email, nil
}

// pdfDocument is the PDF of inv as the tenant's branding prints it.
func pdfDocument(inv *invoice.Invoice, settings store.Settings, lang string) pdf.Document {
	b := settings.Branding
	return pdf.Document{Invoice: inv, Seller: b.Seller, Bank: settings.Bank, Language: lang,
		Logo: b.Logo, Paper: b.PaperSize, Accent: b.AccentColor}
}

// emailBrand is how the tenant's branding dresses its HTML email: the
// logo, served beside the hosted invoice page at publicURL, the accent
// and the seller.
func emailBrand(b store.Branding, publicURL string) message.Brand {
	out := message.Brand{Accent: b.AccentColor, Seller: b.Seller}
	if len(b.Logo) > 0 {
		out.LogoURL, out.Logo = publicURL+"/logo", b.Logo
	}
	return out
}

func tenantTemplates(settings store.Settings) map[string]message.Template {
	out := make(map[string]message.Template, len(settings.Templates))
	for l, t := range settings.Templates {
		out[l] = message.Template{Subject: t.Subject, Body: t.Body, SMS: t.SMS}
	}
	return out
}

// reminderTemplates are the tenant's reminder texts by language: those
// before the due date, or the overdue ones.
func reminderTemplates(settings store.Settings, overdue bool) map[string]message.Template {
	out := make(map[string]message.Template, len(settings.Templates))
	for l, t := range settings.Templates {
		subject, body := t.Reminder(overdue)
		out[l] = message.Template{Subject: subject, Body: body}
	}
	return out
}

// fromName is the From display name: the email from-name, else the
// branding name. The messages sign with Settings.CompanyName.
func fromName(settings store.Settings) string {
	return firstNonEmpty(settings.Email.FromName, settings.Branding.Name)
}

// clickURL is a tracked redirect to one of the delivery's links.
func (w *Worker) clickURL(d *store.Delivery, target string) string {
	return w.cfg.PublicBaseURL + "/t/c/" + w.cfg.Store.SignToken(store.TokenClick, d.TenantID, d.ID, target)
}

// withOpenPixel adds the open-tracking image at the end of an HTML body.
func withOpenPixel(html, src string) string {
	img := `<img src="` + src + `" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px">`
	if i := strings.LastIndex(html, "</body>"); i >= 0 {
		return html[:i] + img + html[i:]
	}
	return html + img
}

// publicURL is the invoice's public link, signed so only its holder can
// open it.
func (w *Worker) publicURL(inv *invoice.Invoice) string {
	return w.cfg.PublicBaseURL + "/i/" + w.cfg.Store.PublicInvoiceToken(inv)
}

func firstPositive(ns ...int) int {
	for _, n := range ns {
		if n > 0 {
			return n
		}
	}
	return 0
}
