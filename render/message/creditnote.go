package message

// The built-in texts of a credit note's email and SMS. A credit note asks
// for no payment: no due date, no payment link, no Pay button. Like the
// invoice's, the Romanian texts have no diacritics and the SMS texts stay
// within the GSM 03.38 alphabet.

// CreditNoteBuiltin returns the built-in credit note template for lang,
// matched as Builtin matches it, and the language used; a language
// without one gets the English template and "en".
func CreditNoteBuiltin(lang string) (Template, string) {
	for _, l := range candidates(lang) {
		if t, ok := creditNoteBuiltin(l); ok {
			return t, l
		}
	}
	t, _ := creditNoteBuiltin(defaultLanguage)
	return t, defaultLanguage
}

// ResolveCreditNote is Resolve for a credit note: the send's override
// field by field, then the built-in credit note texts for lang. The
// tenant's templates are written for invoices ("your invoice … is due")
// and do not apply. The result renders with the credit note's summary and
// layout words (Template.CreditNote).
func ResolveCreditNote(lang string, override Template) Template {
	out := resolve(lang, nil, override, CreditNoteBuiltin)
	out.CreditNote = true
	return out
}

func creditNoteBuiltin(l string) (Template, bool) {
	switch l {
	case "en":
		return Template{
			Subject: "Credit note {{invoiceNumber}} from {{merchantName}}",
			Body: `Hello {{customerName}},

Your credit note {{invoiceNumber}} for {{invoiceTotal}} is attached as a PDF.
It corrects invoice {{correctedInvoiceNumber}} of {{correctedIssueDate}}.

Kind regards,
{{merchantName}}`,
			SMS: `{{merchantName}}: credit note {{invoiceNumber}} for {{invoiceTotal}}
on invoice {{correctedInvoiceNumber}}.

Details: {{publicUrl}}`,
		}, true
	case "ro":
		return Template{
			Subject: "Nota de creditare {invoice_number} de la {company_name}",
			Body: `Buna ziua,

Gasiti atasata nota de creditare {invoice_number} in valoare de {invoice_total}.
Aceasta corecteaza factura {corrected_invoice_number} din {corrected_issue_date}.

Multumim!
{company_name}`,
			SMS: `{{merchantName}}: nota de creditare {{invoiceNumber}}, total {{invoiceTotal}},
pentru factura {{correctedInvoiceNumber}}.
Detalii: {{publicUrl}}`,
		}, true
	case "de":
		return Template{
			Subject: "Gutschrift {{invoiceNumber}} von {{merchantName}}",
			Body: `Guten Tag {{customerName}},

anbei erhalten Sie die Gutschrift {{invoiceNumber}} über {{invoiceTotal}} als PDF.
Sie bezieht sich auf die Rechnung {{correctedInvoiceNumber}} vom {{correctedIssueDate}}.

Mit freundlichen Grüßen
{{merchantName}}`,
			SMS: `{{merchantName}}: Gutschrift {{invoiceNumber}} über {{invoiceTotal}}
zur Rechnung {{correctedInvoiceNumber}}.
Ansehen: {{publicUrl}}`,
		}, true
	case "fr":
		return Template{
			Subject: "Avoir {{invoiceNumber}} – {{merchantName}}",
			Body: `Bonjour {{customerName}},

Veuillez trouver ci-joint, au format PDF, l’avoir {{invoiceNumber}} d’un montant de {{invoiceTotal}}.
Il rectifie la facture {{correctedInvoiceNumber}} du {{correctedIssueDate}}.

Cordialement,
{{merchantName}}`,
			SMS: `{{merchantName}} : avoir {{invoiceNumber}} de {{invoiceTotal}}
sur la facture {{correctedInvoiceNumber}}.
Détails : {{publicUrl}}`,
		}, true
	}
	return Template{}, false
}

// creditNoteLabels are the layout's words for a credit note's email in
// the normalized language l: heading, link and number name the credit
// note; there is no Pay button to label.
func creditNoteLabels(l string) labels {
	lb := labelsFor(l)
	switch l {
	case "ro":
		lb.Heading, lb.Title, lb.View, lb.Number = "Notă de creditare de la %s", "Notă de creditare", "Vizualizați / descărcați nota de creditare", "Număr notă de creditare"
	case "de":
		lb.Heading, lb.Title, lb.View, lb.Number = "Gutschrift von %s", "Gutschrift", "Gutschrift ansehen / herunterladen", "Gutschriftsnummer"
	case "fr":
		lb.Heading, lb.Title, lb.View, lb.Number = "Avoir émis par %s", "Avoir", "Voir / télécharger l’avoir", "Numéro d’avoir"
	default:
		lb.Heading, lb.Title, lb.View, lb.Number = "Credit note from %s", "Credit note", "View / download credit note", "Credit note number"
	}
	return lb
}

// creditNoteSummary is summary for a credit note: its number, the amount
// credited, the invoice corrected and the hosted page.
func creditNoteSummary(l string) string {
	switch l {
	case "ro":
		return `Nota de creditare: {{invoiceNumber}}
Valoare creditata: {{invoiceTotal}}
Corecteaza factura: {{correctedInvoiceNumber}}
Vizualizare: {{publicUrl}}`
	case "de":
		return `Gutschrift: {{invoiceNumber}}
Gutschriftsbetrag: {{invoiceTotal}}
Zur Rechnung: {{correctedInvoiceNumber}}
Gutschrift ansehen: {{publicUrl}}`
	case "fr":
		return `Avoir` + "\u00a0" + `: {{invoiceNumber}}
Montant de l’avoir` + "\u00a0" + `: {{invoiceTotal}}
Facture rectifiée` + "\u00a0" + `: {{correctedInvoiceNumber}}
Voir l’avoir` + "\u00a0" + `: {{publicUrl}}`
	}
	return `Credit note: {{invoiceNumber}}
Amount credited: {{invoiceTotal}}
Corrects invoice: {{correctedInvoiceNumber}}
View credit note: {{publicUrl}}`
}
