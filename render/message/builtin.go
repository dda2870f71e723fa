package message

// The built-in texts. Each optional fact (due date, payment link) sits on a
// line of its own so that it disappears cleanly when the invoice lacks it.
// {{invoiceTotal}} carries its currency ("€1,130.50", "1,130.50 RON").
//
// The Romanian email is, word for word, the default template of Romanian
// invoicing software (Storno's), without diacritics as it writes it.
//
// The SMS texts stay within the GSM 03.38 alphabet, so an SMS costs 160
// characters per segment rather than 70: the German umlauts and French é/É
// are part of it, Romanian ă/ș/ț are not, so the Romanian SMS uses words that
// need no diacritics.

// builtin returns the built-in template for the normalized language l.
func builtin(l string) (Template, bool) {
	switch l {
	case "en":
		return Template{
			Subject: "Invoice {{invoiceNumber}} from {{merchantName}}",
			Body: `Hello {{customerName}},

Your invoice {{invoiceNumber}} for {{invoiceTotal}} is attached as a PDF.
Payment is due by {{dueDate}}.

Pay online: {{paymentLink}}
View or download the invoice: {{publicUrl}}

Thank you for your business.

Kind regards,
{{merchantName}}`,
			SMS: `{{merchantName}}: New invoice for {{invoiceTotal}}
due {{dueDate}}.

Pay now: {{payUrl}}`,
		}, true
	case "ro":
		return Template{
			Subject: "Factura {invoice_number} de la {company_name}",
			Body: `Buna ziua,

Gasiti atasat factura {invoice_number} in valoare de {invoice_total}.

Detalii factura:
- Numar: {invoice_number}
- Data emiterii: {issue_date}
- Scadenta: {due_date}
- Total: {invoice_total}

Multumim!
{company_name}`,
			SMS: `{{merchantName}}: factura {{invoiceNumber}}, total {{invoiceTotal}}.
Termen: {{dueDate}}.
Detalii: {{publicUrl}}`,
		}, true
	case "de":
		return Template{
			Subject: "Rechnung {{invoiceNumber}} von {{merchantName}}",
			Body: `Guten Tag {{customerName}},

anbei erhalten Sie die Rechnung {{invoiceNumber}} über {{invoiceTotal}} als PDF.
Der Betrag ist bis zum {{dueDate}} fällig.

Online bezahlen: {{paymentLink}}
Rechnung ansehen oder herunterladen: {{publicUrl}}

Vielen Dank für Ihren Auftrag.

Mit freundlichen Grüßen
{{merchantName}}`,
			SMS: `{{merchantName}}: Rechnung {{invoiceNumber}} über {{invoiceTotal}}.
Fällig am {{dueDate}}.
Ansehen und bezahlen: {{publicUrl}}`,
		}, true
	case "fr":
		// "Facture X – Y" rather than "Facture X de Y": "de" would need
		// eliding before a merchant name that starts with a vowel. The body
		// uses a no-break space before ":" as French typography wants; the
		// SMS uses a plain one, which GSM 03.38 has.
		return Template{
			Subject: "Facture {{invoiceNumber}} – {{merchantName}}",
			Body: `Bonjour {{customerName}},

Veuillez trouver ci-joint, au format PDF, la facture {{invoiceNumber}} d’un montant de {{invoiceTotal}}.
Le règlement est à effectuer au plus tard le {{dueDate}}.

Payer en ligne` + "\u00a0" + `: {{paymentLink}}
Voir ou télécharger la facture` + "\u00a0" + `: {{publicUrl}}

Nous vous remercions de votre confiance.

Cordialement,
{{merchantName}}`,
			SMS: `{{merchantName}} : facture {{invoiceNumber}} de {{invoiceTotal}}.
Échéance : {{dueDate}}.
Détails et paiement : {{publicUrl}}`,
		}, true
	}
	return Template{}, false
}

// labels are the words of the HTML layout around the body. Those with a
// %s are fmt formats of one value: the merchant's name, an amount, a date
// or an invoice number.
type labels struct {
	Heading   string // "Invoice from %s", the merchant's name
	Title     string // the heading without a merchant's name
	Due       string // "Due %s", the due date, under the amount due
	Pay       string // "Pay %s", the amount due, on the payment button
	View      string // the button to the hosted invoice page
	Copy      string // before the link for clients whose buttons fail
	Number    string // summary: the invoice's number
	Issued    string // summary: the issue date
	DueDate   string // summary: the due date
	Amount    string // summary: the total
	AmountDue string // summary: what is left to pay, when not the total
	// A credit note's summary: the amount credited and the invoice it
	// corrects, "%s of %s" with its number and issue date.
	Credited, Corrects, CorrectsOf string
}

// labelsFor returns the layout's words for the normalized language l, in
// English for a language without a built-in template.
func labelsFor(l string) labels {
	switch l {
	case "ro":
		return labels{Heading: "Factură de la %s", Title: "Factură", Due: "Scadență: %s", Pay: "Plătiți %s",
			View: "Vizualizați / descărcați factura", Copy: "Sau copiați acest link în browser:",
			Number: "Număr factură", Issued: "Data emiterii", DueDate: "Data scadenței", Amount: "Total", AmountDue: "De plată",
			Credited: "Valoare creditată", Corrects: "Corectează factura", CorrectsOf: "%s din %s"}
	case "de":
		return labels{Heading: "Rechnung von %s", Title: "Rechnung", Due: "Fällig am %s", Pay: "%s bezahlen",
			View: "Rechnung ansehen / herunterladen", Copy: "Oder kopieren Sie diesen Link in Ihren Browser:",
			Number: "Rechnungsnummer", Issued: "Rechnungsdatum", DueDate: "Fälligkeitsdatum", Amount: "Betrag", AmountDue: "Offener Betrag",
			Credited: "Gutschriftsbetrag", Corrects: "Zur Rechnung", CorrectsOf: "%s vom %s"}
	case "fr":
		// "émise par" rather than "de": "de" would need eliding before a
		// name that starts with a vowel.
		return labels{Heading: "Facture émise par %s", Title: "Facture", Due: "Échéance\u00a0: %s", Pay: "Payer %s",
			View: "Voir / télécharger la facture", Copy: "Ou copiez ce lien dans votre navigateur\u00a0:",
			Number: "Numéro de facture", Issued: "Date d’émission", DueDate: "Date d’échéance", Amount: "Montant", AmountDue: "Montant dû",
			Credited: "Montant de l’avoir", Corrects: "Facture rectifiée", CorrectsOf: "%s du %s"}
	}
	return labels{Heading: "Invoice from %s", Title: "Invoice", Due: "Due %s", Pay: "Pay %s",
		View: "View / download invoice", Copy: "Or copy this link into your browser:",
		Number: "Invoice number", Issued: "Issue date", DueDate: "Due date", Amount: "Amount", AmountDue: "Amount due",
		Credited: "Amount credited", Corrects: "Corrects invoice", CorrectsOf: "%s of %s"}
}

// summary is the paragraph that ends an email whose body the send wrote
// (Template.Summary), for the normalized language l, in English for a
// language without a built-in template. Like the Romanian email it
// follows, the Romanian one has no diacritics.
func summary(l string) string {
	switch l {
	case "ro":
		return `Factura: {{invoiceNumber}}
Suma de plata: {{amountDue}}
Scadenta: {{dueDate}}
Plata online: {{paymentLink}}
Vizualizare factura: {{publicUrl}}`
	case "de":
		return `Rechnung: {{invoiceNumber}}
Offener Betrag: {{amountDue}}
Fällig am: {{dueDate}}
Online bezahlen: {{paymentLink}}
Rechnung ansehen: {{publicUrl}}`
	case "fr":
		return `Facture` + "\u00a0" + `: {{invoiceNumber}}
Montant dû` + "\u00a0" + `: {{amountDue}}
Échéance` + "\u00a0" + `: {{dueDate}}
Payer en ligne` + "\u00a0" + `: {{paymentLink}}
Voir la facture` + "\u00a0" + `: {{publicUrl}}`
	}
	return `Invoice: {{invoiceNumber}}
Amount due: {{amountDue}}
Due date: {{dueDate}}
Pay online: {{paymentLink}}
View invoice: {{publicUrl}}`
}

// Reminder returns the built-in payment reminder for lang (matched as
// Builtin matches it, English when there is none) and the language used:
// before the due date when overdue is false, after it when true. Its SMS
// is empty: reminders go by email.
func Reminder(lang string, overdue bool) (Template, string) {
	for _, l := range candidates(lang) {
		if t, ok := reminder(l, overdue); ok {
			return t, l
		}
	}
	t, _ := reminder(defaultLanguage, overdue)
	return t, defaultLanguage
}

func reminder(l string, overdue bool) (Template, bool) {
	switch {
	case l == "en" && !overdue:
		return Template{
			Subject: "Reminder: invoice {{invoiceNumber}} is due on {{dueDate}}",
			Body: `Hello {{customerName}},

This is a friendly reminder that invoice {{invoiceNumber}} for {{invoiceTotal}} is due on {{dueDate}}. The invoice is attached as a PDF.

Pay online: {{paymentLink}}

If you have already paid, please disregard this message.

Kind regards,
{{merchantName}}`,
		}, true
	case l == "en":
		return Template{
			Subject: "Overdue: invoice {{invoiceNumber}} was due on {{dueDate}}",
			Body: `Hello {{customerName}},

Our records show that invoice {{invoiceNumber}} for {{invoiceTotal}}, due on {{dueDate}}, has not been paid yet. The invoice is attached as a PDF.

Pay online: {{paymentLink}}

If you have already paid, please disregard this message.

Kind regards,
{{merchantName}}`,
		}, true
	case l == "ro" && !overdue:
		return Template{
			Subject: "Reamintire: factura {{invoiceNumber}} are scadența la {{dueDate}}",
			Body: `Bună ziua, {{customerName}},

Vă reamintim că factura {{invoiceNumber}} în valoare de {{invoiceTotal}} are scadența la {{dueDate}}. Factura este atașată în format PDF.

Puteți plăti online: {{paymentLink}}

Dacă ați efectuat deja plata, vă rugăm să ignorați acest mesaj.

Cu stimă,
{{merchantName}}`,
		}, true
	case l == "ro":
		return Template{
			Subject: "Factură restantă: {{invoiceNumber}}, scadentă la {{dueDate}}",
			Body: `Bună ziua, {{customerName}},

Factura {{invoiceNumber}} în valoare de {{invoiceTotal}}, scadentă la {{dueDate}}, nu a fost încă achitată. Factura este atașată în format PDF.

Puteți plăti online: {{paymentLink}}

Dacă ați efectuat deja plata, vă rugăm să ignorați acest mesaj.

Cu stimă,
{{merchantName}}`,
		}, true
	case l == "de" && !overdue:
		return Template{
			Subject: "Erinnerung: Rechnung {{invoiceNumber}} ist am {{dueDate}} fällig",
			Body: `Guten Tag {{customerName}},

wir möchten Sie freundlich daran erinnern, dass die Rechnung {{invoiceNumber}} über {{invoiceTotal}} am {{dueDate}} fällig ist. Die Rechnung finden Sie als PDF im Anhang.

Online bezahlen: {{paymentLink}}

Falls Sie bereits bezahlt haben, betrachten Sie diese Nachricht bitte als gegenstandslos.

Mit freundlichen Grüßen
{{merchantName}}`,
		}, true
	case l == "de":
		return Template{
			Subject: "Zahlungserinnerung: Rechnung {{invoiceNumber}}, fällig am {{dueDate}}",
			Body: `Guten Tag {{customerName}},

die Rechnung {{invoiceNumber}} über {{invoiceTotal}}, fällig am {{dueDate}}, ist noch offen. Die Rechnung finden Sie als PDF im Anhang.

Online bezahlen: {{paymentLink}}

Falls Sie bereits bezahlt haben, betrachten Sie diese Nachricht bitte als gegenstandslos.

Mit freundlichen Grüßen
{{merchantName}}`,
		}, true
	case l == "fr" && !overdue:
		return Template{
			Subject: "Rappel : facture {{invoiceNumber}} à régler au plus tard le {{dueDate}}",
			Body: `Bonjour {{customerName}},

Nous vous rappelons que la facture {{invoiceNumber}} d’un montant de {{invoiceTotal}} est à régler au plus tard le {{dueDate}}. Vous la trouverez ci-jointe au format PDF.

Payer en ligne` + "\u00a0" + `: {{paymentLink}}

Si vous avez déjà effectué le règlement, merci de ne pas tenir compte de ce message.

Cordialement,
{{merchantName}}`,
		}, true
	case l == "fr":
		return Template{
			Subject: "Relance : facture {{invoiceNumber}} échue le {{dueDate}}",
			Body: `Bonjour {{customerName}},

Sauf erreur de notre part, la facture {{invoiceNumber}} d’un montant de {{invoiceTotal}}, échue le {{dueDate}}, n’a pas encore été réglée. Vous la trouverez ci-jointe au format PDF.

Payer en ligne` + "\u00a0" + `: {{paymentLink}}

Si vous avez déjà effectué le règlement, merci de ne pas tenir compte de ce message.

Cordialement,
{{merchantName}}`,
		}, true
	}
	return Template{}, false
}
