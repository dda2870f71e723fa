package api

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"image/color"
	"net/http"
	"strings"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/locale"
	"github.com/invoiced/invoiced/render/qr"
	"github.com/invoiced/invoiced/store"
)

// publicURL is the invoice's hosted page; publicPDFURL its PDF.
func (a *API) publicURL(inv *invoice.Invoice) string {
	return a.cfg.PublicBaseURL + "/i/" + a.st.PublicInvoiceToken(inv)
}

func (a *API) publicPDFURL(inv *invoice.Invoice) string { return a.publicURL(inv) + "/pdf" }

// publicQRCodeURL is the invoice's payment link as a QR code, signed like
// the hosted page so that an <img> can show it without a token.
func (a *API) publicQRCodeURL(inv *invoice.Invoice) string { return a.publicURL(inv) + "/qr-code" }

// publicInvoice resolves a public token to its invoice. Forged and expired
// tokens, and drafts, are not found.
func (a *API) publicInvoice(r *http.Request) (*invoice.Invoice, *Error) {
	tenantID, invoiceID, ok := a.st.ParsePublicInvoiceToken(r.PathValue("token"))
	if !ok {
		return nil, errNotFound("invoice")
	}
	inv, err := a.st.Invoice(r.Context(), tenantID, invoiceID)
	if store.Unavailable(err) {
		return nil, errStorageUnavailable(err)
	}
	if err != nil || inv.Status == invoice.StatusDraft {
		return nil, errNotFound("invoice")
	}
	return inv, nil
}

// publicPDF handles GET /i/{token}/pdf.
func (a *API) publicPDF(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.publicInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	return a.writePDF(w, r, inv, "")
}

// publicQRCode handles GET /i/{token}/qr-code, with the options of the
// authenticated GET …/qr-code and the same image.
func (a *API) publicQRCode(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.publicInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	return writeQRCode(w, r, inv, "") // tokenGranted's no-store stands
}

// publicLogo handles GET /i/{token}/logo: the tenant's logo, for the
// <img> of the invoice email, which can send no token. It answers 404
// when the tenant has no logo.
func (a *API) publicLogo(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.publicInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	settings, err := a.st.Settings(r.Context(), inv.TenantID)
	if store.Unavailable(err) {
		return errStorageUnavailable(err)
	}
	if err != nil {
		return errInternal(err)
	}
	logo := settings.Branding.Logo
	if len(logo) == 0 {
		return errNotFound("logo")
	}
	w.Header().Set("Content-Type", http.DetectContentType(logo))
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	_, _ = w.Write(logo)
	return nil
}

//go:embed hosted.html
var hostedHTML string

var hostedPage = template.Must(template.New("hosted").Parse(hostedHTML))

// hostedLabels are the hosted page's words per language.
var hostedLabels = map[string]map[string]string{
	"en": {"invoice": "Invoice", "issued": "Issued", "due": "Due", "billedTo": "Billed to", "total": "Total", "vat": "VAT", "subtotal": "Subtotal",
		"amountDue": "Amount due", "pay": "Pay now", "pdf": "Download PDF", "paid": "Paid", "open": "Due", "void": "Void",
		"scan": "Scan to pay", "qty": "Qty", "description": "Description", "amount": "Amount", "paidOn": "Paid on",
		"creditNote": "Credit note", "corrects": "Corrects invoice %s of %s", "amountCredited": "Amount credited", "credited": "Credited"},
	"ro": {"invoice": "Factură", "issued": "Emisă", "due": "Scadentă", "billedTo": "Către", "total": "Total", "vat": "TVA", "subtotal": "Subtotal",
		"amountDue": "De plată", "pay": "Plătește acum", "pdf": "Descarcă PDF", "paid": "Achitată", "open": "De plată", "void": "Anulată",
		"scan": "Scanează pentru plată", "qty": "Cant.", "description": "Descriere", "amount": "Valoare", "paidOn": "Achitată la",
		"creditNote": "Notă de creditare", "corrects": "Corectează factura %s din %s", "amountCredited": "Valoare creditată", "credited": "Creditată"},
	"de": {"invoice": "Rechnung", "issued": "Ausgestellt", "due": "Fällig", "billedTo": "Rechnung an", "total": "Gesamt", "vat": "USt.", "subtotal": "Zwischensumme",
		"amountDue": "Offener Betrag", "pay": "Jetzt bezahlen", "pdf": "PDF herunterladen", "paid": "Bezahlt", "open": "Offen", "void": "Storniert",
		"scan": "Zum Bezahlen scannen", "qty": "Menge", "description": "Beschreibung", "amount": "Betrag", "paidOn": "Bezahlt am",
		"creditNote": "Gutschrift", "corrects": "Korrektur zur Rechnung %s vom %s", "amountCredited": "Gutgeschriebener Betrag", "credited": "Gutgeschrieben"},
	"fr": {"invoice": "Facture", "issued": "Émise le", "due": "Échéance", "billedTo": "Facturé à", "total": "Total", "vat": "TVA", "subtotal": "Sous-total",
		"amountDue": "Montant dû", "pay": "Payer", "pdf": "Télécharger le PDF", "paid": "Payée", "open": "À payer", "void": "Annulée",
		"scan": "Scanner pour payer", "qty": "Qté", "description": "Description", "amount": "Montant", "paidOn": "Payée le",
		"creditNote": "Avoir", "corrects": "Rectifie la facture %s du %s", "amountCredited": "Montant de l'avoir", "credited": "Créditée"},
}

type hostedLine struct{ Description, Quantity, Amount string }

// hosted handles GET /i/{token}: the hosted invoice page, self-contained
// HTML (no external assets) with the summary, lines, a Pay button, the
// PDF and a QR code of the payment link.
func (a *API) hosted(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.publicInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	settings, err := a.st.Settings(r.Context(), inv.TenantID)
	if err != nil {
		return errInternal(err)
	}
	lang := locale.Lang(firstNonEmpty(r.URL.Query().Get("language"), inv.Language, settings.Defaults.Lang()))
	money := func(s string) string { return locale.Money(s, inv.Currency, lang) }
	labels := hostedLabels[lang]
	var lines []hostedLine
	for _, l := range inv.Lines {
		lines = append(lines, hostedLine{Description: l.Description, Quantity: locale.Number(l.Quantity, lang) + " " + l.Unit, Amount: money(l.Amount)})
	}
	var qrSVG template.HTML
	if inv.PaymentLink != "" && inv.Payable() {
		if code, err := qr.Encode(inv.PaymentLink); err == nil {
			svg := code.SVG(200, color.RGBA{A: 255}, color.RGBA{R: 255, G: 255, B: 255, A: 255})
			qrSVG = template.HTML(svg) // generated by us from rectangles; no user text inside
		}
	}
	accent := settings.Branding.AccentColor
	if accent == "" {
		accent = "#1D4E89"
	}
	data := map[string]any{
		"Lang": lang, "L": labels, "Inv": inv, "Seller": settings.Branding.Seller, "Accent": accent,
		"Issued": locale.Date(inv.IssueDate, lang), "Due": locale.Date(inv.DueDate, lang),
		"Subtotal": money(inv.Subtotal), "Tax": money(inv.TaxTotal), "Total": money(inv.Total), "AmountDue": money(inv.AmountDue),
		"Lines": lines, "PDF": a.publicPDFURL(inv), "QR": qrSVG,
		"Paid": inv.Status == invoice.StatusPaid, "Void": inv.Status == invoice.StatusVoid,
		"CanPay":     inv.Payable() && strings.HasPrefix(inv.PaymentLink, "http"),
		"CreditNote": inv.IsCreditNote(), "Title": labels["invoice"], "Corrects": "",
		"Credited": inv.Status == invoice.StatusOpen && len(inv.CreditNotes) > 0 && !inv.Payable(),
	}
	if inv.IsCreditNote() {
		data["Title"] = labels["creditNote"]
		if c := inv.Corrects; c != nil {
			data["Corrects"] = fmt.Sprintf(labels["corrects"], c.Number, locale.Date(c.IssueDate, lang))
		}
	}
	var buf bytes.Buffer
	if err := hostedPage.Execute(&buf, data); err != nil {
		return errInternal(err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Robots-Tag", "noindex")
	_, _ = w.Write(buf.Bytes())
	return nil
}
