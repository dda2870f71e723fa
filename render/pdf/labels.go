package pdf

import "strings"

// labels are the fixed words printed on an invoice, in one language.
type labels struct {
	title, number, issueDate, dueDate, reference string
	billTo, vatID, regNo                         string

	description, quantity, unitPrice, vat, amount, discount string

	vatRate, taxBase, vatAmount                                       string
	grossTotal, discounts, subtotal, vatTotal, total, paid, amountDue string

	notes, terms                                       string
	paymentDetails, iban, bic, bank, holder, payOnline string

	// page is a format with the page number and the page count.
	page  string
	draft string
}

// language returns the label language for doc: doc.Language when there
// are labels for it, else the invoice's language, else "en".
func language(doc Document) string {
	for _, lang := range []string{doc.Language, doc.Invoice.Language} {
		l := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(lang)), "_", "-")
		l, _, _ = strings.Cut(l, "-")
		switch l {
		case "en", "ro", "de", "fr":
			return l
		}
	}
	return "en"
}

// labelsFor returns the labels for lang, one of those language returns.
func labelsFor(lang string) labels {
	switch lang {
	case "ro":
		return labels{
			title: "FACTURĂ", number: "Număr factură", issueDate: "Dată emitere",
			dueDate: "Scadență", reference: "Referință",
			billTo: "Client", vatID: "Cod TVA", regNo: "Nr. Reg. Com.",
			description: "Descriere", quantity: "Cantitate", unitPrice: "Preț unitar",
			vat: "TVA", amount: "Valoare", discount: "Reducere",
			vatRate: "Cotă TVA", taxBase: "Bază impozabilă", vatAmount: "Valoare TVA",
			grossTotal: "Total înainte de reduceri", discounts: "Reduceri",
			subtotal: "Subtotal", vatTotal: "Total TVA", total: "Total",
			paid: "Sumă achitată", amountDue: "Total de plată",
			notes: "Note", terms: "Condiții",
			paymentDetails: "Date pentru plată", iban: "IBAN", bic: "BIC",
			bank: "Banca", holder: "Titular cont", payOnline: "Plătiți online",
			page: "Pagina %d din %d", draft: "CIORNĂ",
		}
	case "de":
		return labels{
			title: "RECHNUNG", number: "Rechnungsnummer", issueDate: "Rechnungsdatum",
			dueDate: "Fällig am", reference: "Referenz",
			billTo: "Rechnung an", vatID: "USt-IdNr.", regNo: "Registernr.",
			description: "Beschreibung", quantity: "Menge", unitPrice: "Einzelpreis",
			vat: "USt.", amount: "Betrag", discount: "Rabatt",
			vatRate: "USt.-Satz", taxBase: "Nettobetrag", vatAmount: "USt.-Betrag",
			grossTotal: "Summe vor Rabatt", discounts: "Rabatte",
			subtotal: "Zwischensumme", vatTotal: "USt. gesamt", total: "Gesamtbetrag",
			paid: "Bereits bezahlt", amountDue: "Zu zahlen",
			notes: "Anmerkungen", terms: "Bedingungen",
			paymentDetails: "Bankverbindung", iban: "IBAN", bic: "BIC",
			bank: "Bank", holder: "Kontoinhaber", payOnline: "Online bezahlen",
			page: "Seite %d von %d", draft: "ENTWURF",
		}
	case "fr":
		return labels{
			title: "FACTURE", number: "Numéro de facture", issueDate: "Date d'émission",
			dueDate: "Date d'échéance", reference: "Référence",
			billTo: "Facturé à", vatID: "N° TVA", regNo: "N° d'immatriculation",
			description: "Description", quantity: "Quantité", unitPrice: "Prix unitaire",
			vat: "TVA", amount: "Montant", discount: "Remise",
			vatRate: "Taux de TVA", taxBase: "Base HT", vatAmount: "Montant TVA",
			grossTotal: "Total avant remises", discounts: "Remises",
			subtotal: "Total HT", vatTotal: "Total TVA", total: "Total TTC",
			paid: "Déjà payé", amountDue: "Net à payer",
			notes: "Notes", terms: "Conditions",
			paymentDetails: "Coordonnées bancaires", iban: "IBAN", bic: "BIC",
			bank: "Banque", holder: "Titulaire du compte", payOnline: "Payer en ligne",
			page: "Page %d sur %d", draft: "BROUILLON",
		}
	default:
		return labels{
			title: "INVOICE", number: "Invoice number", issueDate: "Issue date",
			dueDate: "Due date", reference: "Reference",
			billTo: "Bill to", vatID: "VAT ID", regNo: "Reg. no.",
			description: "Description", quantity: "Quantity", unitPrice: "Unit price",
			vat: "VAT", amount: "Amount", discount: "Discount",
			vatRate: "VAT rate", taxBase: "Taxable amount", vatAmount: "VAT",
			grossTotal: "Total before discounts", discounts: "Discounts",
			subtotal: "Subtotal", vatTotal: "VAT total", total: "Total",
			paid: "Amount paid", amountDue: "Amount due",
			notes: "Notes", terms: "Terms",
			paymentDetails: "Payment details", iban: "IBAN", bic: "BIC",
			bank: "Bank", holder: "Account holder", payOnline: "Pay online",
			page: "Page %d of %d", draft: "DRAFT",
		}
	}
}
