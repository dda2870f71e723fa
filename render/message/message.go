// Package message renders the texts that go out with an invoice: the email
// subject, the plain-text body with its HTML alternative, and the SMS.
//
// Built-in templates exist for en, ro, de and fr. A tenant may override any
// field per language, and a single send may override it again; Resolve
// merges the three field by field and Render expands the result. A credit
// note has built-in texts of its own (ResolveCreditNote), which only a
// send overrides.
//
// Templates use variables in either spelling, {{invoiceNumber}} or
// {invoice_number} (see Expand). A line of a body or SMS template whose
// variables all expand to empty is left out, so "Pay online: {{paymentLink}}"
// disappears from invoices that have no payment link.
//
// A send may also replace the body with its own text, which then ends with
// a summary of the invoice (Template.Summary), or add a note to the
// template's body (Template.Note).
//
// The HTML alternative is a card in the tenant's branding (Brand): logo,
// amount due, Pay and view buttons, a summary of the invoice and the
// body's paragraphs, with amounts and dates as the invoice's PDF prints
// them (see Render).
package message

import (
	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/locale"

	"maps"
	"slices"
	"strings"
)

// Template is one language's message texts. Empty fields fall back to the
// built-in template of that language; a field of only white space counts as
// empty.
type Template struct {
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body,omitempty"` // plain text, blank line separates paragraphs
	SMS     string `json:"sms,omitempty"`

	// Note is plain text that one send adds to the email body, after the
	// body's first paragraph (its greeting), or at its end when the body
	// has only one. It is inserted as written: variables in it are not
	// expanded. Blank lines in it separate paragraphs.
	Note string `json:"-"`
	// Summary ends the email body with the invoice's essentials: its
	// number, the amount due, the due date when set, the payment link and
	// the hosted invoice page, each line left out when its value is blank.
	// Resolve sets it when the send's own body is used: a message written
	// for one send ("Thank you for your business!") may mention none of
	// them.
	Summary bool `json:"-"`
	// CreditNote renders the template as a credit note's: blank fields
	// and the summary come from the credit note's built-in texts, and the
	// layout's link names the credit note. ResolveCreditNote sets it.
	CreditNote bool `json:"-"`
}

// Vars are the values templates may use. They are inserted verbatim:
// InvoiceVars formats amounts and dates for the message's language.
type Vars struct {
	InvoiceNumber string
	// InvoiceTotal is the total with its currency, "€1,190.00" or
	// "1,190.00 RON"; Amount the same number without the currency.
	InvoiceTotal string
	Amount       string
	// AmountDue is what is left to pay, with its currency.
	AmountDue    string
	Currency     string // the ISO 4217 code
	CustomerName string
	MerchantName string
	DueDate      string
	IssueDate    string
	PaymentLink  string
	PublicURL    string
	// CorrectedInvoiceNumber and CorrectedIssueDate name the invoice a
	// credit note corrects; empty for an invoice.
	CorrectedInvoiceNumber string
	CorrectedIssueDate     string

	// Payable says the invoice asks for money (invoice.Invoice.Payable):
	// only then does the HTML email show the due date under the amount
	// and a Pay button. It is not a variable.
	Payable bool
	// Brand is how the HTML email looks; see Brand. It is not a variable.
	Brand Brand

	// pdf holds the amounts as the invoice's PDF prints them, which the
	// HTML email's card shows; InvoiceVars sets it. They differ from the
	// variables only in Romanian, whose variables keep the form Romanian
	// invoicing mail uses.
	pdf pdfValues

	// Extra holds the send's "variables", usable by their own names. A key
	// that names one of the fields above, in any spelling, overrides it:
	// {"invoiceNumber": "INV-12345"} makes {{invoiceNumber}} and
	// {invoice_number} print INV-12345, and {"merchantName": "ACME Corp"}
	// changes companyName and the HTML header too.
	Extra map[string]string
}

// defaultLanguage is used when no built-in template exists for the language
// asked for.
const defaultLanguage = "en"

// Builtin returns the built-in template for lang and the language actually
// used. lang is matched case-insensitively and "_" counts as "-": "de_AT"
// tries "de-at", then "de". A language without a built-in template, such as
// "pt-BR" or "", gets the English one and "en".
func Builtin(lang string) (Template, string) {
	for _, l := range candidates(lang) {
		if t, ok := builtin(l); ok {
			return t, l
		}
	}
	t, _ := builtin(defaultLanguage)
	return t, defaultLanguage
}

// Resolve picks, field by field, the first non-blank text among: the send's
// override, the tenant's template for lang (tenant is keyed by language;
// "pt-BR" also finds a "pt" entry), and the built-in template for lang.
//
// When lang has no built-in template and the tenant has none for it either,
// the tenant's template for the fallback language ("en") comes before the
// built-in one, so that a tenant's own English texts beat ours.
func Resolve(lang string, tenant map[string]Template, override Template) Template {
	return resolve(lang, tenant, override, Builtin)
}

// ResolveReminder is Resolve for a payment reminder: tenant holds the
// tenant's reminder texts by language, and the built-in ones are
// Reminder's, before the due date or overdue.
func ResolveReminder(lang string, tenant map[string]Template, override Template, overdue bool) Template {
	return resolve(lang, tenant, override, func(l string) (Template, string) { return Reminder(l, overdue) })
}

func resolve(lang string, tenant map[string]Template, override Template, builtinFor func(string) (Template, string)) Template {
	chain := []Template{override}
	cands := candidates(lang)
	for _, l := range cands {
		if t, ok := tenantTemplate(tenant, l); ok {
			chain = append(chain, t)
		}
	}
	b, used := builtinFor(lang)
	if !slices.Contains(cands, used) {
		if t, ok := tenantTemplate(tenant, used); ok {
			chain = append(chain, t)
		}
	}
	chain = append(chain, b)

	out := Template{Note: override.Note, Summary: strings.TrimSpace(override.Body) != ""}
	for _, t := range chain {
		out.Subject = firstNonBlank(out.Subject, t.Subject)
		out.Body = firstNonBlank(out.Body, t.Body)
		out.SMS = firstNonBlank(out.SMS, t.SMS)
	}
	return out
}

// withBuiltin fills t's blank fields from the built-in template for lang,
// a credit note's when t is one.
func withBuiltin(t Template, lang string) Template {
	b, _ := Builtin(lang)
	if t.CreditNote {
		b, _ = CreditNoteBuiltin(lang)
	}
	return Template{
		Subject:    firstNonBlank(t.Subject, b.Subject),
		Body:       firstNonBlank(t.Body, b.Body),
		SMS:        firstNonBlank(t.SMS, b.SMS),
		Note:       t.Note,
		Summary:    t.Summary,
		CreditNote: t.CreditNote,
	}
}

func firstNonBlank(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	if strings.TrimSpace(b) != "" {
		return b
	}
	return ""
}

// normLang lower-cases a language tag and spells its separator "-".
func normLang(lang string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(lang)), "_", "-")
}

// candidates lists the normalized forms of lang to try, most specific first:
// "pt-BR" gives ["pt-br", "pt"].
func candidates(lang string) []string {
	l := normLang(lang)
	if l == "" {
		return nil
	}
	out := []string{l}
	if base, _, ok := strings.Cut(l, "-"); ok && base != "" {
		out = append(out, base)
	}
	return out
}

// tenantTemplate finds the tenant's template for the normalized language l.
// Tenants may key their map "pt-BR" or "pt_br"; an exact key wins over one
// that only matches after normalization.
func tenantTemplate(tenant map[string]Template, l string) (Template, bool) {
	if t, ok := tenant[l]; ok {
		return t, true
	}
	for _, k := range slices.Sorted(maps.Keys(tenant)) {
		if normLang(k) == l {
			return tenant[k], true
		}
	}
	return Template{}, false
}

// InvoiceVars are the variables of a message about inv in lang from
// company (the tenant's name as its invoices print it), with a send's own
// variables in extra.
//
// Amounts and dates are formatted for lang as the customer reads them. In
// Romanian they take the form Romanian invoicing software mails: "1,190.00
// RON" (digits grouped with ",", a "." decimal point, a space and the ISO
// code) and "15.03.2024". In English, German and French they are printed
// as the invoice PDF prints them: "€1,190.00" and "21 Nov 2026",
// "1.190,00 €" and "21.11.2026", "1 190,00 €" and "21/11/2026". Any other
// language gets the English forms.
func InvoiceVars(inv *invoice.Invoice, lang, company string, extra map[string]string) Vars {
	due := inv.AmountDue
	if strings.TrimSpace(due) == "" {
		due = inv.Total
	}
	var corrected, correctedDate string
	if c := inv.Corrects; c != nil {
		corrected, correctedDate = c.Number, locale.Date(c.IssueDate, lang)
	}
	return Vars{
		pdf: pdfValues{
			total:     locale.Money(inv.Total, inv.Currency, lang),
			amountDue: locale.Money(due, inv.Currency, lang),
		},
		CorrectedInvoiceNumber: corrected,
		CorrectedIssueDate:     correctedDate,
		InvoiceNumber:          inv.Number,
		InvoiceTotal:           formatMoney(inv.Total, inv.Currency, lang),
		Amount:                 formatAmount(inv.Total, inv.Currency, lang),
		AmountDue:              formatMoney(due, inv.Currency, lang),
		Currency:               inv.Currency,
		CustomerName:           inv.Customer.Name,
		MerchantName:           company,
		DueDate:                locale.Date(inv.DueDate, lang),
		IssueDate:              locale.Date(inv.IssueDate, lang),
		PaymentLink:            inv.PaymentLink,
		Payable:                inv.Payable(),
		Extra:                  extra,
	}
}

// pdfValues are amounts as the invoice's PDF prints them; blank when
// unknown.
type pdfValues struct {
	total, amountDue string
}

// formatMoney prints an amount with its currency for a message in lang;
// see InvoiceVars. A blank amount stays blank.
func formatMoney(amount, currency, lang string) string {
	if strings.TrimSpace(amount) == "" {
		return ""
	}
	if locale.Lang(lang) == "ro" {
		return formatAmount(amount, currency, lang) + " " + currency
	}
	return locale.Money(amount, currency, lang)
}

// formatAmount is formatMoney without the currency.
func formatAmount(amount, currency, lang string) string {
	if locale.Lang(lang) == "ro" {
		// Grouped and pointed as in English, as Romanian invoicing mail
		// prints it, rather than the PDF's "1.190,00".
		return locale.Amount(amount, currency, "en")
	}
	return locale.Amount(amount, currency, lang)
}
