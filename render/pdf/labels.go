package pdf

import (
	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/locale"
)

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

	// ev are the words of e-invoice content: VAT categories and the notes
	// the law asks for, references, allowances and charges.
	ev einvoiceLabels
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
	lb.ev = einvoiceLabelsFor(lang)
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

// einvoiceLabels are the words of an invoice's e-invoice content, in one
// language.
type einvoiceLabels struct {
	// vat, igic and ipsi start a VAT breakdown row of a taxed category,
	// followed by the rate: "VAT 19 %".
	vat, igic, ipsi string
	// category names a VAT breakdown row of a category without VAT.
	category map[string]string
	// note is the mention the law asks for on an invoice with a category
	// without VAT: for reverse charge, Article 226(11a) of Directive
	// 2006/112/EC as each country words it (§14a(5) UStG, Article 242
	// nonies A of the French CGI, Article 319(20) of the Romanian Fiscal
	// Code); for the exemptions, the provision that exempts (Articles
	// 138 and 146 of the Directive, §4 UStG, Articles 262 ter I and 262
	// I of the CGI, Article 294 of the Romanian Fiscal Code). Exempt (E)
	// and not subject (O) have no fixed wording: the invoice's reason
	// follows.
	note map[string]string
	// vatNotes heads the notes; reason, with its colon, labels an
	// exemption reason that says more than the note.
	vatNotes, reason string
	// taxCurrency is a format with the tax currency, the VAT in it, the
	// rate, the tax currency again and the invoice's currency.
	taxCurrency string

	orderReference, contractReference, deliveryDate, period string
	// linesTotal, allowance, charge and netTotal are the totals' rows
	// with document level allowances or charges: the sum of the lines, an
	// allowance or charge without a reason, the total without VAT.
	linesTotal, allowance, charge, netTotal string
}

// einvoiceLabelSets are the e-invoice words of each language with words
// of its own, made once: a render only reads their maps.
var einvoiceLabelSets = map[string]einvoiceLabels{
	"en": makeEinvoiceLabels("en"),
	"ro": makeEinvoiceLabels("ro"),
	"de": makeEinvoiceLabels("de"),
	"fr": makeEinvoiceLabels("fr"),
}

// einvoiceLabelsFor returns the e-invoice words for lang, English for a
// language without words of its own. Their maps are shared and must not
// be written.
func einvoiceLabelsFor(lang string) einvoiceLabels {
	if ev, ok := einvoiceLabelSets[lang]; ok {
		return ev
	}
	return einvoiceLabelSets["en"]
}

// makeEinvoiceLabels makes the e-invoice words for lang.
func makeEinvoiceLabels(lang string) einvoiceLabels {
	switch lang {
	case "ro":
		return einvoiceLabels{
			vat: "TVA", igic: "IGIC", ipsi: "IPSI",
			category: map[string]string{
				invoice.CategoryExempt: "Scutit", invoice.CategoryReverseCharge: "Taxare inversă",
				invoice.CategoryIntraCommunity: "Livrare intracomunitară", invoice.CategoryExport: "Export",
				invoice.CategoryOutOfScope: "Neimpozabil",
			},
			note: map[string]string{
				invoice.CategoryReverseCharge:  "Taxare inversă",
				invoice.CategoryIntraCommunity: "Scutit cu drept de deducere, art. 294 alin. (2) din Codul fiscal",
				invoice.CategoryExport:         "Scutit cu drept de deducere, art. 294 alin. (1) din Codul fiscal",
				invoice.CategoryExempt:         "Scutit de TVA",
				invoice.CategoryOutOfScope:     "Operațiune care nu intră în sfera de aplicare a TVA",
			},
			vatNotes: "Mențiuni privind TVA", reason: "Motivul scutirii:",
			taxCurrency:    "TVA în %s: %s la cursul de %s %s/%s",
			orderReference: "Comandă", contractReference: "Contract", deliveryDate: "Data livrării", period: "Perioada facturată",
			linesTotal: "Subtotal", allowance: "Reducere", charge: "Taxă suplimentară", netTotal: "Total fără TVA",
		}
	case "de":
		return einvoiceLabels{
			vat: "USt.", igic: "IGIC", ipsi: "IPSI",
			category: map[string]string{
				invoice.CategoryExempt: "Steuerfrei", invoice.CategoryReverseCharge: "Umkehr der Steuerschuld",
				invoice.CategoryIntraCommunity: "i.g. Lieferung", invoice.CategoryExport: "Ausfuhr",
				invoice.CategoryOutOfScope: "Nicht steuerbar",
			},
			note: map[string]string{
				invoice.CategoryReverseCharge:  "Steuerschuldnerschaft des Leistungsempfängers",
				invoice.CategoryIntraCommunity: "Steuerfreie innergemeinschaftliche Lieferung",
				invoice.CategoryExport:         "Steuerfreie Ausfuhrlieferung",
				invoice.CategoryExempt:         "Steuerfreie Leistung",
				invoice.CategoryOutOfScope:     "Nicht steuerbarer Umsatz",
			},
			vatNotes: "Hinweise zur Umsatzsteuer", reason: "Grund der Steuerbefreiung:",
			taxCurrency:    "USt. in %s: %s zum Kurs von %s %s/%s",
			orderReference: "Bestellnummer", contractReference: "Vertrag", deliveryDate: "Lieferdatum", period: "Leistungszeitraum",
			linesTotal: "Summe der Positionen", allowance: "Nachlass", charge: "Zuschlag", netTotal: "Gesamt netto",
		}
	case "fr":
		return einvoiceLabels{
			vat: "TVA", igic: "IGIC", ipsi: "IPSI",
			category: map[string]string{
				invoice.CategoryExempt: "Exonéré", invoice.CategoryReverseCharge: "Autoliquidation",
				invoice.CategoryIntraCommunity: "Livraison intracommunautaire", invoice.CategoryExport: "Exportation",
				invoice.CategoryOutOfScope: "Hors champ de la TVA",
			},
			note: map[string]string{
				invoice.CategoryReverseCharge:  "Autoliquidation",
				invoice.CategoryIntraCommunity: "Exonération de TVA, article 262 ter I du CGI",
				invoice.CategoryExport:         "Exonération de TVA, article 262 I du CGI",
				invoice.CategoryExempt:         "Exonération de TVA",
				invoice.CategoryOutOfScope:     "Opération hors du champ d'application de la TVA",
			},
			vatNotes: "Mentions relatives à la TVA", reason: "Motif de l'exonération\u00a0:",
			taxCurrency:    "TVA en %s\u00a0: %s au taux de %s %s/%s",
			orderReference: "Bon de commande", contractReference: "Contrat", deliveryDate: "Date de livraison", period: "Période de facturation",
			linesTotal: "Sous-total HT", allowance: "Remise", charge: "Frais", netTotal: "Total HT",
		}
	default:
		return einvoiceLabels{
			vat: "VAT", igic: "IGIC", ipsi: "IPSI",
			category: map[string]string{
				invoice.CategoryExempt: "Exempt", invoice.CategoryReverseCharge: "Reverse charge",
				invoice.CategoryIntraCommunity: "Intra-community supply", invoice.CategoryExport: "Export",
				invoice.CategoryOutOfScope: "Not subject to VAT",
			},
			note: map[string]string{
				invoice.CategoryReverseCharge:  "Reverse charge: the customer is liable for the VAT",
				invoice.CategoryIntraCommunity: "Intra-community supply, exempt from VAT (Article 138 of Directive 2006/112/EC)",
				invoice.CategoryExport:         "Export outside the EU, exempt from VAT (Article 146 of Directive 2006/112/EC)",
				invoice.CategoryExempt:         "Exempt from VAT",
				invoice.CategoryOutOfScope:     "Not subject to VAT",
			},
			vatNotes: "VAT notes", reason: "Exemption reason:",
			taxCurrency:    "VAT in %s: %s at %s %s/%s",
			orderReference: "Order reference", contractReference: "Contract", deliveryDate: "Delivery date", period: "Invoicing period",
			linesTotal: "Subtotal", allowance: "Allowance", charge: "Charge", netTotal: "Total without VAT",
		}
	}
}
