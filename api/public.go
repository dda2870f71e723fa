package api

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"image/color"
	"net/http"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/locale"
	"github.com/invoiced/invoiced/render/pdf"
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
		"scan": "Scan to pay online", "qty": "Qty", "description": "Description", "amount": "Amount", "paidOn": "Paid on",
		"creditNote": "Credit note", "corrects": "Corrects invoice %s of %s", "amountCredited": "Amount credited", "credited": "Credited",
		"unitPrice": "Unit price", "vatId": "VAT ID", "amountPaid": "Amount paid", "notes": "Notes", "terms": "Payment terms",
		"bankTransfer": "Pay by bank transfer", "iban": "IBAN", "bic": "BIC", "bank": "Bank", "holder": "Account holder",
		"paymentReference": "Reference", "transferAmount": "Amount"},
	"ro": {"invoice": "Factură", "issued": "Emisă", "due": "Scadentă", "billedTo": "Către", "total": "Total", "vat": "TVA", "subtotal": "Subtotal",
		"amountDue": "De plată", "pay": "Plătește acum", "pdf": "Descarcă PDF", "paid": "Achitată", "open": "De plată", "void": "Anulată",
		"scan": "Scanează pentru plata online", "qty": "Cant.", "description": "Descriere", "amount": "Valoare", "paidOn": "Achitată la",
		"creditNote": "Notă de creditare", "corrects": "Corectează factura %s din %s", "amountCredited": "Valoare creditată", "credited": "Creditată",
		"unitPrice": "Preț unitar", "vatId": "Cod TVA", "amountPaid": "Sumă achitată", "notes": "Note", "terms": "Condiții de plată",
		"bankTransfer": "Plată prin transfer bancar", "iban": "IBAN", "bic": "BIC", "bank": "Banca", "holder": "Titular cont",
		"paymentReference": "Referință plată", "transferAmount": "Sumă"},
	"de": {"invoice": "Rechnung", "issued": "Ausgestellt", "due": "Fällig", "billedTo": "Rechnung an", "total": "Gesamt", "vat": "USt.", "subtotal": "Zwischensumme",
		"amountDue": "Offener Betrag", "pay": "Jetzt bezahlen", "pdf": "PDF herunterladen", "paid": "Bezahlt", "open": "Offen", "void": "Storniert",
		"scan": "Scannen und online bezahlen", "qty": "Menge", "description": "Beschreibung", "amount": "Betrag", "paidOn": "Bezahlt am",
		"creditNote": "Gutschrift", "corrects": "Korrektur zur Rechnung %s vom %s", "amountCredited": "Gutgeschriebener Betrag", "credited": "Gutgeschrieben",
		"unitPrice": "Einzelpreis", "vatId": "USt-IdNr.", "amountPaid": "Bereits bezahlt", "notes": "Anmerkungen", "terms": "Zahlungsbedingungen",
		"bankTransfer": "Per Überweisung bezahlen", "iban": "IBAN", "bic": "BIC", "bank": "Bank", "holder": "Kontoinhaber",
		"paymentReference": "Verwendungszweck", "transferAmount": "Betrag"},
	"fr": {"invoice": "Facture", "issued": "Émise le", "due": "Échéance", "billedTo": "Facturé à", "total": "Total", "vat": "TVA", "subtotal": "Sous-total",
		"amountDue": "Montant dû", "pay": "Payer", "pdf": "Télécharger le PDF", "paid": "Payée", "open": "À payer", "void": "Annulée",
		"scan": "Scannez pour payer en ligne", "qty": "Qté", "description": "Description", "amount": "Montant", "paidOn": "Payée le",
		"creditNote": "Avoir", "corrects": "Rectifie la facture %s du %s", "amountCredited": "Montant de l'avoir", "credited": "Créditée",
		"unitPrice": "Prix unitaire", "vatId": "N° TVA", "amountPaid": "Déjà payé", "notes": "Notes", "terms": "Conditions de paiement",
		"bankTransfer": "Payer par virement", "iban": "IBAN", "bic": "BIC", "bank": "Banque", "holder": "Titulaire du compte",
		"paymentReference": "Référence", "transferAmount": "Montant"},
}

// hostedLine is one line of the hosted page's table.
type hostedLine struct{ Description, Quantity, UnitPrice, Amount string }

// hostedTax is one VAT rate of the totals: "VAT 19%" and its amount.
type hostedTax struct{ Label, Amount string }

// hostedBank is where to pay by transfer: the tenant's account, the
// reference to quote and the amount.
type hostedBank struct{ IBAN, BIC, BankName, Holder, Reference, Amount string }

// hostedAddress prints an address as its street lines, "postal code
// city, region", and the country's name in lang.
func hostedAddress(a invoice.Address, lang string) []string {
	var out []string
	for _, l := range []string{
		a.Line1, a.Line2,
		strings.Join(nonEmpty(strings.TrimSpace(a.PostalCode+" "+a.City), a.Region), ", "),
		countryName(a.Country, lang),
	} {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// nonEmpty returns the values that are not blank.
func nonEmpty(values ...string) []string {
	var out []string
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			out = append(out, v)
		}
	}
	return out
}

// countryName names an ISO 3166-1 country code in lang ("RO" is
// "Romania", "România", "Rumänien", "Roumanie"); a code it does not
// know is printed as it is.
func countryName(code, lang string) string {
	code = strings.TrimSpace(code)
	region, err := language.ParseRegion(code)
	if code == "" || err != nil {
		return code
	}
	tag, err := language.Parse(lang)
	if err != nil {
		tag = language.English
	}
	if name := display.Regions(tag).Name(region); name != "" {
		return name
	}
	return code
}

// groupIBAN prints an IBAN in groups of four characters, its usual form.
func groupIBAN(iban string) string {
	compact := strings.ToUpper(strings.Join(strings.Fields(iban), ""))
	var b strings.Builder
	for i, r := range compact {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hosted handles GET /i/{token}: the hosted invoice page, self-contained
// HTML (no external assets) with the seller and the customer, the lines
// with their quantities and unit prices, the VAT per rate, the notes and
// terms, a Pay button, the bank details for a transfer when the tenant
// has an IBAN and the invoice is payable, the PDF and a QR code of the
// payment link.
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
		lines = append(lines, hostedLine{
			Description: l.Description,
			Quantity:    strings.TrimSpace(locale.Number(l.Quantity, lang) + " " + l.Unit),
			UnitPrice:   money(l.UnitPrice),
			Amount:      money(l.Amount),
		})
	}
	// The totals and the VAT are worded as the PDF words them: the
	// allowances and charges down to the total without VAT, a row per
	// VAT category and rate, and the notes the law asks for.
	vat := pdf.SummarizeVAT(inv, lang)
	var taxes []hostedTax
	for _, t := range vat.VAT {
		taxes = append(taxes, hostedTax{Label: t.Label, Amount: t.Amount})
	}
	if len(taxes) == 0 {
		taxes = []hostedTax{{Label: labels["vat"], Amount: money(inv.TaxTotal)}}
	}
	var bank *hostedBank
	if b := settings.Bank; strings.TrimSpace(b.IBAN) != "" && inv.Payable() {
		bank = &hostedBank{IBAN: groupIBAN(b.IBAN), BIC: b.BIC, BankName: b.BankName,
			Holder: firstNonEmpty(b.Holder, settings.Branding.Name), Reference: inv.Number, Amount: money(inv.AmountDue)}
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
	seller := settings.Branding.Seller
	paid := ""
	if strings.Trim(inv.AmountPaid, "0.-") != "" && !inv.IsCreditNote() {
		paid = locale.Money("-"+strings.TrimPrefix(inv.AmountPaid, "-"), inv.Currency, lang)
	}
	data := map[string]any{
		"Lang": lang, "L": labels, "Inv": inv, "Seller": seller, "Accent": accent,
		"SellerAddress": hostedAddress(seller.Address, lang), "CustomerAddress": hostedAddress(inv.Customer.Address, lang),
		"Issued": locale.Date(inv.IssueDate, lang), "Due": locale.Date(inv.DueDate, lang),
		"Net": vat.Net, "Taxes": taxes, "VATNotes": vat.Notes, "VATNotesTitle": vat.NotesTitle, "Total": money(inv.Total), "AmountDue": money(inv.AmountDue),
		"AmountPaid": paid, "Bank": bank,
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
