package worker

import (
	"context"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/render/message"
	"github.com/invoiced/invoiced/store"
)

// SMSHandler delivers one SMS delivery through the tenant's SMS provider.
type SMSHandler struct{ w *Worker }

// ProcessTask handles tasks.TypeDeliverySMS.
func (h *SMSHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	return h.w.deliver(ctx, t, h.prepare)
}

func (h *SMSHandler) prepare(_ context.Context, job deliveryJob) (dispatch, error) {
	d, send, inv, settings := job.delivery, job.send, job.invoice, job.settings
	name, sender, err := h.w.smsSender(settings.SMS, d.TestMode)
	disp := dispatch{provider: name, perSecond: firstPositive(settings.SMS.MaxPerSecond, h.w.cfg.SMSMaxPerSecond)}
	if err != nil {
		return disp, err
	}
	lang := firstNonEmpty(send.Language, inv.Language, settings.Defaults.Lang())
	tmpl := message.Resolve(lang, tenantTemplates(settings), message.Template{SMS: send.Message})
	if inv.IsCreditNote() {
		tmpl = message.ResolveCreditNote(lang, message.Template{SMS: send.Message})
	}
	vars := message.InvoiceVars(inv, lang, settings.CompanyName(), send.Variables)
	vars.PublicURL = h.w.publicURL(inv)
	text := message.RenderSMS(tmpl, lang, vars)
	segments, encoding := providers.SMSSegments(text)
	if limit := settings.SMS.Segments(); segments > limit {
		return disp, providers.Permanent("sms_too_long", fmt.Errorf(
			"the SMS is %d %s segments long and the limit is %d; shorten the message or raise settings.sms.maxSegments",
			segments, encoding, limit))
	}
	sms := &providers.SMS{ID: d.ID, To: d.To, Body: text}
	disp.send = func(ctx context.Context) (string, error) { return sender.SendSMS(ctx, sms) }
	return disp, nil
}

// smsSender resolves a tenant's SMS provider; configuration problems are
// permanent.
func (w *Worker) smsSender(s store.SMSSettings, testMode bool) (string, SMSSender, error) {
	provider := firstNonEmpty(s.Provider, w.cfg.DefaultSMSProvider)
	if testMode {
		provider = store.SMSProviderOutbox
	}
	switch provider {
	case store.SMSProviderOutbox:
		return provider, w.cfg.SMSOutbox, nil
	case store.SMSProviderTwilio:
		if s.Twilio == nil || w.cfg.TwilioFunc == nil {
			return provider, nil, notConfigured("twilio is selected but settings.sms.twilio is not set")
		}
		sender, err := w.cfg.TwilioFunc(*s.Twilio)
		if err != nil {
			return provider, nil, notConfigured("twilio settings: %w", err)
		}
		return provider, sender, nil
	case "":
		return "", nil, notConfigured("no SMS provider is configured for this tenant; set settings.sms.provider")
	}
	return provider, nil, notConfigured("SMS provider %q is not available", provider)
}
