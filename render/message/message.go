// Package message renders the texts that go out with an invoice: the email
// subject, the plain-text body with its HTML alternative, and the SMS.
//
// Built-in templates exist for en, ro, de and fr. A tenant may override any
// field per language, and a single send may override it again; Resolve
// merges the three field by field and Render expands the result.
//
// Templates use variables in either spelling, {{invoiceNumber}} or
// {invoice_number} (see Expand). A line of a body or SMS template whose
// variables all expand to empty is left out, so "Pay online: {{paymentLink}}"
// disappears from invoices that have no payment link.
package message

import (
	"github.com/invoiced/invoiced/invoice"

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
}

// Vars are the values templates may use. They are inserted verbatim: callers
// format amounts and dates for the message's language before rendering.
type Vars struct {
	InvoiceNumber string
	InvoiceTotal  string
	Currency      string
	CustomerName  string
	MerchantName  string
	DueDate       string
	IssueDate     string
	PaymentLink   string
	PublicURL     string

	// Extra holds the send's "variables", usable by their own names. A key
	// that names one of the fields above (in any spelling) is ignored: the
	// invoice's own values always win.
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

	var out Template
	for _, t := range chain {
		out.Subject = firstNonBlank(out.Subject, t.Subject)
		out.Body = firstNonBlank(out.Body, t.Body)
		out.SMS = firstNonBlank(out.SMS, t.SMS)
	}
	return out
}

// withBuiltin fills t's blank fields from the built-in template for lang.
func withBuiltin(t Template, lang string) Template {
	b, _ := Builtin(lang)
	return Template{
		Subject: firstNonBlank(t.Subject, b.Subject),
		Body:    firstNonBlank(t.Body, b.Body),
		SMS:     firstNonBlank(t.SMS, b.SMS),
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

// InvoiceVars are the variables of a message about inv from merchant, with
// a send's own variables in extra.
func InvoiceVars(inv *invoice.Invoice, merchant string, extra map[string]string) Vars {
	return Vars{
		InvoiceNumber: inv.Number,
		InvoiceTotal:  inv.Total,
		Currency:      inv.Currency,
		CustomerName:  inv.Customer.Name,
		MerchantName:  merchant,
		DueDate:       inv.DueDate,
		IssueDate:     inv.IssueDate,
		PaymentLink:   inv.PaymentLink,
		Extra:         extra,
	}
}
