package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/message"
	"github.com/invoiced/invoiced/store"
)

// linkToken signs tenant and invoice ids into an unguessable token for the
// public routes: base64url(tenant/invoice).base64url(HMAC-SHA256[:16]).
func (a *API) linkToken(tenantID, invoiceID string) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(tenantID + "/" + invoiceID))
	return payload + "." + a.linkMAC(payload)
}

func (a *API) linkMAC(payload string) string {
	m := hmac.New(sha256.New, a.cfg.LinkKey)
	m.Write([]byte("public-invoice:" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// parseLinkToken returns the ids in a token made by linkToken.
func (a *API) parseLinkToken(token string) (tenantID, invoiceID string, ok bool) {
	payload, mac, found := strings.Cut(token, ".")
	if !found || !hmac.Equal([]byte(mac), []byte(a.linkMAC(payload))) {
		return "", "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", "", false
	}
	tenantID, invoiceID, ok = strings.Cut(string(raw), "/")
	return tenantID, invoiceID, ok
}

func (a *API) publicPDFURL(tenantID, invoiceID string) string {
	return a.cfg.PublicBaseURL + "/i/" + a.linkToken(tenantID, invoiceID) + "/pdf"
}

// publicPDF handles GET /i/{token}/pdf: the invoice PDF for whoever holds
// the signed link. Drafts are not public.
func (a *API) publicPDF(w http.ResponseWriter, r *http.Request) *Error {
	tenantID, invoiceID, ok := a.parseLinkToken(r.PathValue("token"))
	if !ok {
		return errNotFound("invoice")
	}
	inv, err := a.st.Invoice(r.Context(), tenantID, invoiceID)
	if err != nil || inv.Status == invoice.StatusDraft {
		return errNotFound("invoice")
	}
	return a.writePDF(w, r, inv, "")
}

// subjectFor renders the subject a send's email will carry.
func subjectFor(inv *invoice.Invoice, send *store.Send, settings store.Settings) string {
	lang := firstNonEmpty(send.Language, inv.Language, settings.Defaults.Lang())
	tenant := make(map[string]message.Template, len(settings.Templates))
	for l, t := range settings.Templates {
		tenant[l] = message.Template{Subject: t.Subject, Body: t.Body, SMS: t.SMS}
	}
	t := message.Resolve(lang, tenant, message.Template{Subject: send.Subject, Body: send.Message})
	return message.Expand(t.Subject, message.Vars{
		InvoiceNumber: inv.Number, InvoiceTotal: inv.Total, Currency: inv.Currency,
		CustomerName: inv.Customer.Name, MerchantName: firstNonEmpty(settings.Email.FromName, settings.Branding.Name),
		DueDate: inv.DueDate, IssueDate: inv.IssueDate, PaymentLink: inv.PaymentLink, Extra: send.Variables,
	})
}
