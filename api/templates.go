package api

import (
	"net/http"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/message"
	"github.com/invoiced/invoiced/store"
)

// The kinds of message email-defaults composes.
const (
	messageSend     = "send"
	messageReminder = "reminder" // a payment reminder before the due date
	messageOverdue  = "overdue"  // a payment reminder after it
)

// composeMessage renders the message a send of inv would carry in lang,
// with the send's overrides, the tenant's templates and the built-ins.
func composeMessage(inv *invoice.Invoice, settings store.Settings, lang string, override message.Template, extra map[string]string) (message.Message, string) {
	return composeKind(inv, settings, lang, messageSend, override, extra)
}

// composeKind is composeMessage for a kind of message: a send, or a
// payment reminder before or after the due date.
func composeKind(inv *invoice.Invoice, settings store.Settings, lang, kind string, override message.Template, extra map[string]string) (message.Message, string) {
	tenant := make(map[string]message.Template, len(settings.Templates))
	for l, t := range settings.Templates {
		if kind == messageSend {
			tenant[l] = message.Template{Subject: t.Subject, Body: t.Body, SMS: t.SMS}
		} else {
			subject, body := t.Reminder(kind == messageOverdue)
			tenant[l] = message.Template{Subject: subject, Body: body}
		}
	}
	var t message.Template
	var used string
	switch {
	case inv.IsCreditNote():
		t = message.ResolveCreditNote(lang, override)
		_, used = message.CreditNoteBuiltin(lang)
	case kind == messageReminder, kind == messageOverdue:
		t = message.ResolveReminder(lang, tenant, override, kind == messageOverdue)
		_, used = message.Reminder(lang, kind == messageOverdue)
	default:
		t = message.Resolve(lang, tenant, override)
		_, used = message.Builtin(lang)
	}
	return message.Render(t, lang, message.InvoiceVars(inv, lang, settings.CompanyName(), extra)), used
}

// sendLanguage picks the language of a send: the send's, the invoice's, the
// tenant's default.
func sendLanguage(send *store.Send, inv *invoice.Invoice, settings store.Settings) string {
	return firstNonEmpty(send.Language, inv.Language, settings.Defaults.Lang())
}

// subjectFor renders the subject a send's email will carry.
func subjectFor(inv *invoice.Invoice, send *store.Send, settings store.Settings) string {
	msg, _ := composeMessage(inv, settings, sendLanguage(send, inv, settings),
		message.Template{Subject: send.Subject, Body: send.Message, Note: send.Note}, send.Variables)
	return msg.Subject
}

// emailDefaults handles GET …/email-defaults?language=&kind=: the subject
// and body a send (kind send, the default) or a payment reminder (kind
// reminder, or overdue) would use, for a client to pre-fill its compose
// form or preview its reminder templates.
func (a *API) emailDefaults(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	lang := r.URL.Query().Get("language")
	if lang != "" && !invoice.ValidLanguage(lang) {
		return errField("language", "must be a language code like en or ro")
	}
	settings, err := a.st.Settings(r.Context(), inv.TenantID)
	if err != nil {
		return errInternal(err)
	}
	kind := firstNonEmpty(r.URL.Query().Get("kind"), messageSend)
	switch kind {
	case messageSend, messageReminder, messageOverdue:
	default:
		return errField("kind", "must be send, reminder or overdue")
	}
	lang = firstNonEmpty(lang, inv.Language, settings.Defaults.Lang())
	msg, used := composeKind(inv, settings, lang, kind, message.Template{}, nil)
	writeData(w, http.StatusOK, map[string]any{
		"invoiceId": inv.ID, "language": used, "subject": msg.Subject, "body": msg.Text,
		"to": inv.Customer.Email, "attachments": []string{invoice.FileStem(inv.Number) + ".pdf"},
	})
	return nil
}
