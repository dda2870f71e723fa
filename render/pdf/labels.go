package pdf

import "github.com/invoiced/invoiced/render/locale"

// labels are the fixed words printed on an invoice, in one language.
type labels struct {
	title, number, issueDate, dueDate, reference string
	billTo, vatID, regNo                         string

	description, quantity, unit, unitPrice, discount, vat, amount string

	vatRate, taxBase, vatAmount                                       string
	grossTotal, discounts, subtotal, vatTotal, total, paid, amountDue string

	notes, terms                                       string
	paymentDetails, iban, bic, bank, holder, payOnline string
	// scanToPay is printed under the payment link's QR code, and
	// openLink beside it, over the link.
	scanToPay, openLink string
	// scanToTransfer is printed under the EPC QR code.
	scanToTransfer string
	// swiss are the Swiss QR-bill's headings.
	swiss swissLabels

	// dueOn is a format with the due date; page one with the page number
	// and the page count.
	dueOn, page string
	// The words stamped across drafts, paid and void invoices.
	draft, paidStamp, void string

	// A credit note's title, number label, the line naming the invoice
	// it corrects (a format with its number and date), and its total;
	// credited is the line of an invoice's totals that credit notes took
	// off.
	creditTitle, creditNumber, corrects, amountCredited, credited string
}

// forCreditNote returns lb with a credit note's title, number label and
// total in place of an invoice's.
func (lb labels) forCreditNote() labels {
	lb.title, lb.number, lb.amountDue = lb.creditTitle, lb.creditNumber, lb.amountCredited
	return lb
}

// swissLabels are the headings of a Swiss QR-bill, in the wording of the
// SIX guidelines. They exist in German, French and English (and Italian,
// which invoiced does not print); other languages use the English ones.
type swissLabels struct {
	receipt, paymentPart, account, reference, additionalInfo string
	payableBy, payableByBlank, currency, amount, acceptance  string
	separate                                                 string
}

// swissLabelsFor returns the Swiss QR-bill headings for lang.
func swissLabelsFor(lang string) swissLabels {
	switch lang {
	case "de":
		return swissLabels{
			receipt: "Empfangsschein", paymentPart: "Zahlteil", account: "Konto / Zahlbar an",
			reference: "Referenz", additionalInfo: "Zusätzliche Informationen", payableBy: "Zahlbar durch",
			payableByBlank: "Zahlbar durch (Name/Adresse)", currency: "Währung", amount: "Betrag",
			acceptance: "Annahmestelle", separate: "Vor der Einzahlung abzutrennen",
		}
	case "fr":
		return swissLabels{
			receipt: "Récépissé", paymentPart: "Section paiement", account: "Compte / Payable à",
			reference: "Référence", additionalInfo: "Informations supplémentaires", payableBy: "Payable par",
			payableByBlank: "Payable par (nom/adresse)", currency: "Monnaie", amount: "Montant",
			acceptance: "Point de dépôt", separate: "A détacher avant le versement",
		}
	default:
		return swissLabels{
			receipt: "Receipt", paymentPart: "Payment part", account: "Account / Payable to",
			reference: "Reference", additionalInfo: "Additional information", payableBy: "Payable by",
			payableByBlank: "Payable by (name/address)", currency: "Currency", amount: "Amount",
			acceptance: "Acceptance point", separate: "Separate before paying in",
		}
	}
}

// language returns the language of doc: doc.Language when there are
// labels for it, else the invoice's language, else "en".
func language(doc Document) string {
	for _, tag := range []string{doc.Language, doc.Invoice.Language} {
		if l, ok := locale.Match(tag); ok {
			return l
		}
	}
	return locale.Default
}

// labelsFor returns the labels for lang, one of those language returns.
func labelsFor(lang string) labels {
	lb := baseLabelsFor(lang)
	lb.swiss = swissLabelsFor(lang)
	return lb
}

// baseLabelsFor returns the labels for lang without the Swiss QR-bill's.
func baseLabelsFor(lang string) labels {
	switch lang {
	case "ro":
		return labels{
			title: "FACTURĂ", number: "Număr factură", issueDate: "Data emiterii",
			dueDate: "Scadența", reference: "Referință / comandă",
			billTo: "Client", vatID: "Cod TVA", regNo: "Nr. Reg. Com.",
			description: "Descriere", quantity: "Cant.", unit: "U.M.", unitPrice: "Preț unitar",
			discount: "Reducere", vat: "TVA", amount: "Valoare",
			vatRate: "Cotă TVA", taxBase: "Bază impozabilă", vatAmount: "Valoare TVA",
			grossTotal: "Total înainte de reduceri", discounts: "Reduceri",
			subtotal: "Total fără TVA", vatTotal: "Total TVA", total: "Total",
			paid: "Sumă achitată", amountDue: "Total de plată",
			notes: "Note", terms: "Condiții de plată",
			paymentDetails: "Date pentru plată", iban: "IBAN", bic: "BIC",
			bank: "Banca", holder: "Titular cont", payOnline: "Plătiți online",
			scanToPay: "Scanați pentru plata online", openLink: "Sau deschideți linkul:", scanToTransfer: "Scanați pentru plata prin transfer bancar", dueOn: "Scadentă la %s", page: "Pagina %d din %d",
			draft: "CIORNĂ", paidStamp: "ACHITATĂ", void: "ANULATĂ",
			creditTitle: "NOTĂ DE CREDITARE", creditNumber: "Număr notă de creditare",
			corrects: "Corectează factura %s din %s", amountCredited: "Total creditat", credited: "Creditat",
		}
	case "de":
		return labels{
			title: "RECHNUNG", number: "Rechnungsnummer", issueDate: "Rechnungsdatum",
			dueDate: "Fällig am", reference: "Referenz / Bestellung",
			billTo: "Rechnung an", vatID: "USt-IdNr.", regNo: "Registernr.",
			description: "Beschreibung", quantity: "Menge", unit: "Einh.", unitPrice: "Einzelpreis",
			discount: "Rabatt", vat: "USt.", amount: "Betrag",
			vatRate: "USt.-Satz", taxBase: "Nettobetrag", vatAmount: "USt.-Betrag",
			grossTotal: "Summe vor Rabatt", discounts: "Rabatte",
			subtotal: "Zwischensumme netto", vatTotal: "USt. gesamt", total: "Gesamtbetrag",
			paid: "Bereits bezahlt", amountDue: "Zu zahlen",
			notes: "Anmerkungen", terms: "Zahlungsbedingungen",
			paymentDetails: "Bankverbindung", iban: "IBAN", bic: "BIC",
			bank: "Bank", holder: "Kontoinhaber", payOnline: "Online bezahlen",
			scanToPay: "Scannen und online bezahlen", openLink: "Oder den Link öffnen:", scanToTransfer: "Scannen und per Überweisung bezahlen", dueOn: "Fällig am %s", page: "Seite %d von %d",
			draft: "ENTWURF", paidStamp: "BEZAHLT", void: "STORNIERT",
			creditTitle: "GUTSCHRIFT", creditNumber: "Gutschriftsnummer",
			corrects: "Zur Rechnung %s vom %s", amountCredited: "Gutschriftsbetrag", credited: "Gutgeschrieben",
		}
	case "fr":
		return labels{
			title: "FACTURE", number: "Numéro de facture", issueDate: "Date d'émission",
			dueDate: "Date d'échéance", reference: "Référence / commande",
			billTo: "Facturé à", vatID: "N° TVA", regNo: "N° d'immatriculation",
			description: "Description", quantity: "Qté", unit: "Unité", unitPrice: "Prix unitaire",
			discount: "Remise", vat: "TVA", amount: "Montant",
			vatRate: "Taux de TVA", taxBase: "Base HT", vatAmount: "Montant TVA",
			grossTotal: "Total avant remises", discounts: "Remises",
			subtotal: "Total HT", vatTotal: "Total TVA", total: "Total TTC",
			paid: "Déjà payé", amountDue: "Net à payer",
			notes: "Notes", terms: "Conditions de paiement",
			paymentDetails: "Coordonnées bancaires", iban: "IBAN", bic: "BIC",
			bank: "Banque", holder: "Titulaire du compte", payOnline: "Payer en ligne",
			scanToPay: "Scannez pour payer en ligne", openLink: "Ou ouvrez le lien\u00a0:", scanToTransfer: "Scannez pour payer par virement", dueOn: "À payer avant le %s", page: "Page %d sur %d",
			draft: "BROUILLON", paidStamp: "PAYÉE", void: "ANNULÉE",
			creditTitle: "AVOIR", creditNumber: "Numéro d'avoir",
			corrects: "Rectifie la facture %s du %s", amountCredited: "Montant de l'avoir", credited: "Avoirs",
		}
	default:
		return labels{
			title: "INVOICE", number: "Invoice number", issueDate: "Issue date",
			dueDate: "Due date", reference: "Reference / PO",
			billTo: "Bill to", vatID: "VAT ID", regNo: "Reg. no.",
			description: "Description", quantity: "Qty", unit: "Unit", unitPrice: "Unit price",
			discount: "Discount", vat: "VAT", amount: "Amount",
			vatRate: "VAT rate", taxBase: "Taxable amount", vatAmount: "VAT",
			grossTotal: "Total before discounts", discounts: "Discounts",
			subtotal: "Subtotal", vatTotal: "VAT total", total: "Total",
			paid: "Amount paid", amountDue: "Amount due",
			notes: "Notes", terms: "Payment terms",
			paymentDetails: "Payment details", iban: "IBAN", bic: "BIC",
			bank: "Bank", holder: "Account holder", payOnline: "Pay online",
			scanToPay: "Scan to pay online", openLink: "Or open the link:", scanToTransfer: "Scan to pay by bank transfer", dueOn: "Due %s", page: "Page %d of %d",
			draft: "DRAFT", paidStamp: "PAID", void: "VOID",
			creditTitle: "CREDIT NOTE", creditNumber: "Credit note number",
			corrects: "Corrects invoice %s of %s", amountCredited: "Amount credited", credited: "Credited",
		}
	}
}
