package ubl

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/money"
	"github.com/invoiced/invoiced/render/locale"
)

// CustomizationID is the specification identifier (BT-24) of the EN 16931
// core, which every profile's begins with.
const CustomizationID = "urn:cen.eu:en16931:2017"

// The specification identifiers (BT-24) of the CIUS profiles, as their
// validators expect them, and Peppol's business process (BT-23).
const (
	CustomizationPeppol    = CustomizationID + "#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
	CustomizationXRechnung = CustomizationID + "#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
	CustomizationCIUSRO    = CustomizationID + "#compliant#urn:efactura.mfinante.ro:CIUS-RO:1.0.1"
	ProfileIDPeppol        = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
)

// CustomizationFor returns the specification identifier (BT-24) of an
// e-invoice profile, and "" for an unknown one.
func CustomizationFor(profile string) string {
	switch profile {
	case invoice.ProfileEN16931, "":
		return CustomizationID
	case invoice.ProfilePeppol:
		return CustomizationPeppol
	case invoice.ProfileXRechnung:
		return CustomizationXRechnung
	case invoice.ProfileCIUSRO:
		return CustomizationCIUSRO
	}
	return ""
}

// The namespaces of the UBL 2.1 documents and components Render writes.
const (
	nsInvoice    = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
	nsCreditNote = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
	nsCAC        = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
	nsCBC        = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
)

// Codes from the UNTDID code lists that Render writes.
const (
	typeInvoice    = "380" // UNTDID 1001: commercial invoice
	typeCreditNote = "381" // UNTDID 1001: credit note

	meansCreditTransfer = "30" // UNTDID 4461: credit transfer
	meansSEPATransfer   = "58" // UNTDID 4461: SEPA credit transfer

	reasonDiscount = "95" // UNTDID 5189: discount

	categoryStandard   = "S" // UNTDID 5305: standard rate
	categoryZero       = "Z" // UNTDID 5305: zero rated goods
	categoryOutOfScope = "O" // UNTDID 5305: services outside scope of tax

	schemeVAT   = "VAT"
	schemeTax   = "TAX" // any tax scheme but VAT marks a tax registration (BT-32)
	schemeEmail = "EM"  // EAS: electronic mail
)

// maxItemName bounds an item name (BT-153), taken from the first line of a
// line's description; the whole description goes to BT-154.
const maxItemName = 100

// ErrNoInvoice is returned by Render for a Document without an Invoice.
var ErrNoInvoice = errors.New("ubl: document has no invoice")

// Document is everything an EN 16931 invoice says.
type Document struct {
	// Invoice is the invoice with its totals already computed by
	// invoice.Compute; Render writes the amounts as they are and Check
	// tells whether they add up. Its PaymentLink, when set, is written
	// into the payment terms (BT-20): EN 16931 has no field for a URL.
	Invoice *invoice.Invoice
	// Seller is the tenant's branding: the seller party (BG-4).
	Seller invoice.Seller
	// Bank, when its IBAN is set, becomes the payment instructions
	// (BG-16): a credit transfer to that account quoting the invoice
	// number. Credit notes leave it out, since there the seller pays.
	Bank invoice.BankAccount
	// Profile, when set, is the e-invoice profile to write instead of the
	// invoice's own (invoice.Profiles); both empty is
	// invoice.ProfileEN16931.
	Profile string
}

// ProfileName is the e-invoice profile doc is written in: its Profile,
// else its invoice's, else invoice.ProfileEN16931.
func (doc Document) ProfileName() string {
	switch {
	case doc.Profile != "":
		return doc.Profile
	case doc.Invoice != nil && doc.Invoice.Profile != "":
		return doc.Invoice.Profile
	}
	return invoice.ProfileEN16931
}

// Render writes doc as a UBL 2.1 document that follows the EN 16931 UBL
// syntax binding in doc's e-invoice profile (its specification identifier
// from CustomizationFor), in UTF-8 with an XML declaration. A credit note
// (invoice.TypeCreditNote) is written as a CreditNote (type 381) as it is,
// its amounts already positive, with the invoice it corrects as the
// preceding invoice reference (BG-3). An invoice whose Total is negative
// is written as a CreditNote too, with every amount and quantity negated,
// as EN 16931 expects a credit note's amounts to be positive; any other
// invoice is an Invoice (type 380).
//
// Render fails when the invoice is missing (ErrNoInvoice); when the
// profile needs what the invoice or the seller lacks, with a
// *RequirementsError naming each field (see Requirements); and when a
// computed amount, quantity, price or rate cannot be read (for example
// when Compute was not run) or an amount of a 3-decimal currency is not a
// whole number of hundredths (computed before Compute rounded them so).
func Render(doc Document) ([]byte, error) {
	inv := doc.Invoice
	if inv == nil {
		return nil, ErrNoInvoice
	}
	if fe := Requirements(doc); fe != nil {
		return nil, &RequirementsError{Profile: doc.ProfileName(), Fields: fe}
	}
	return render(doc)
}

// render writes doc, whose invoice is set, without asking whether its
// profile's requirements are met.
func render(doc Document) ([]byte, error) {
	inv := doc.Invoice
	cur, err := money.ParseCurrency(inv.Currency)
	if err != nil {
		return nil, fmt.Errorf("ubl: currency: %w", err)
	}
	total, err := parseAmount("total", inv.Total, cur, false)
	if err != nil {
		return nil, err
	}
	ad := invoice.AmountDigits(cur)
	c := &converter{cur: cur, sign: 1, digits: ad, step: pow10(cur.Digits - ad)}
	credit := total < 0 || inv.IsCreditNote()
	if total < 0 {
		c.sign = -1
	}
	profile := doc.ProfileName()
	// Peppol's electronic address schemes do not include email.
	emailEndpoint := profile != invoice.ProfilePeppol

	d := document{
		XMLName:         xml.Name{Space: nsInvoice, Local: "Invoice"},
		NSCAC:           nsCAC,
		NSCBC:           nsCBC,
		CustomizationID: CustomizationFor(profile),
		ID:              inv.Number,
		IssueDate:       inv.IssueDate,
		Note:            nonEmpty(inv.Notes),
		Currency:        cur.Code,
		BuyerReference:  strings.TrimSpace(inv.Reference),
		Supplier:        partyWrap{Party: sellerParty(doc.Seller, emailEndpoint)},
		Customer:        partyWrap{Party: buyerParty(inv.Customer, emailEndpoint)},
	}
	if usedCategories(inv)[categoryOutOfScope] {
		// Not subject to VAT: no VAT identifier may be written (BR-O-02).
		d.Supplier.Party.TaxSchemes = withoutVAT(d.Supplier.Party.TaxSchemes)
		d.Customer.Party.TaxSchemes = withoutVAT(d.Customer.Party.TaxSchemes)
	}
	if profile == invoice.ProfilePeppol {
		d.ProfileID = ProfileIDPeppol
	}
	if p := inv.Period; p != nil {
		d.InvoicePeriod = &period{Start: p.Start, End: p.End}
	}
	if ref := strings.TrimSpace(inv.OrderReference); ref != "" {
		d.OrderReference = &orderReference{ID: ref}
	}
	if ref := strings.TrimSpace(inv.ContractReference); ref != "" {
		d.ContractReference = &documentReference{ID: ref}
	}
	d.Delivery = deliveryFor(inv.Delivery)
	if credit {
		d.XMLName = xml.Name{Space: nsCreditNote, Local: "CreditNote"}
		d.CreditNoteTypeCode = typeCreditNote
		if ref := inv.Corrects; ref != nil {
			d.BillingReference = &billingReference{Invoice: documentReference{ID: ref.Number, IssueDate: ref.IssueDate}}
		}
		if profile == invoice.ProfileXRechnung {
			// XRechnung wants payment instructions in every document
			// (BR-DE-1): the account the credit is settled against.
			d.PaymentMeans = paymentMeansFor(doc.Bank, inv.Number, cur.Code)
		}
	} else {
		d.DueDate = inv.DueDate
		d.InvoiceTypeCode = typeInvoice
		d.PaymentMeans = paymentMeansFor(doc.Bank, inv.Number, cur.Code)
	}
	if note := paymentTermsNote(inv, credit); note != "" {
		d.PaymentTerms = &paymentTerms{Note: note}
	}

	for i, ac := range inv.Allowances {
		d.AllowanceCharges = append(d.AllowanceCharges, c.documentAllowanceCharge(fmt.Sprintf("allowances[%d]", i), ac, false))
	}
	for i, ac := range inv.Charges {
		d.AllowanceCharges = append(d.AllowanceCharges, c.documentAllowanceCharge(fmt.Sprintf("charges[%d]", i), ac, true))
	}

	vat := taxTotal{TaxAmount: c.amount("taxTotal", inv.TaxTotal, false)}
	for i, t := range inv.Taxes {
		field := fmt.Sprintf("taxes[%d]", i)
		cat := breakdownCategory(invoice.Category(t.Category, t.Rate), c.rate(field+".rate", t.Rate))
		cat.ExemptionCode = strings.TrimSpace(t.ExemptionCode)
		cat.ExemptionReason = strings.TrimSpace(t.ExemptionReason)
		vat.Subtotals = append(vat.Subtotals, taxSubtotal{
			TaxableAmount: c.amount(field+".base", t.Base, false),
			TaxAmount:     c.amount(field+".amount", t.Amount, false),
			Category:      cat,
		})
	}
	d.TaxTotals = []taxTotal{vat}
	if tc := strings.TrimSpace(inv.TaxCurrency); tc != "" && tc != cur.Code {
		// The VAT in the VAT accounting currency (BT-111): a second
		// TaxTotal, with its amount only.
		tcur, err := money.ParseCurrency(tc)
		if err != nil {
			return nil, fmt.Errorf("ubl: taxCurrency: %w", err)
		}
		tcad := invoice.AmountDigits(tcur)
		tconv := &converter{cur: tcur, sign: c.sign, digits: tcad, step: pow10(tcur.Digits - tcad)}
		d.TaxCurrency = tcur.Code
		d.TaxTotals = append(d.TaxTotals, taxTotal{TaxAmount: tconv.amount("taxTotalInTaxCurrency", inv.TaxTotalInTaxCurrency, false)})
		if tconv.err != nil {
			return nil, tconv.err
		}
	}

	d.Totals = monetaryTotal{
		LineExtension: c.amount("subtotal", inv.Subtotal, false),
		TaxExclusive:  c.amount("netTotal", netTotal(inv), false),
		TaxInclusive:  c.amount("total", inv.Total, false),
		Payable:       c.amount("amountDue", inv.AmountDue, false),
	}
	if len(inv.Allowances) > 0 {
		a := c.amount("allowanceTotal", inv.AllowanceTotal, false)
		d.Totals.AllowanceTotal = &a
	}
	if len(inv.Charges) > 0 {
		a := c.amount("chargeTotal", inv.ChargeTotal, false)
		d.Totals.ChargeTotal = &a
	}
	paid := c.amount("amountPaid", inv.AmountPaid, true)
	if paid.minor != 0 {
		d.Totals.Prepaid = &paid
	}
	if inv.AmountCredited != "" {
		// The invoice as it was issued: the credit notes that lowered its
		// amount due are documents of their own, which refer to it.
		d.Totals.Payable = c.minor(d.Totals.TaxInclusive.minor - paid.minor)
	}

	for i, l := range inv.Lines {
		ln := c.line(i, l)
		if credit {
			ln.CreditedQuantity, ln.InvoicedQuantity = ln.InvoicedQuantity, nil
			d.CreditNoteLines = append(d.CreditNoteLines, ln)
		} else {
			d.InvoiceLines = append(d.InvoiceLines, ln)
		}
	}
	if c.err != nil {
		return nil, c.err
	}

	var buf bytes.Buffer
	buf.Grow(2048 + 1024*len(inv.Lines))
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("ubl: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// converter reads the invoice's decimal strings and writes them with the
// currency's digits and the document's sign, keeping the first error.
type converter struct {
	cur  money.Currency
	sign int64 // -1 for a credit note
	// digits are the decimals an amount is written with, at most 2
	// (BR-DEC); step is how many minor units of cur one of those is.
	digits int
	step   int64
	err    error
}

func (c *converter) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// amount converts a computed amount in major units. An empty string is an
// error unless optional, when it reads as zero. An amount of a currency
// with more than two decimals must be a whole number of hundredths, as
// invoice.Compute makes them: EN 16931 allows two decimals (BR-DEC).
func (c *converter) amount(field, s string, optional bool) amount {
	v, err := parseAmount(field, s, c.cur, optional)
	if err != nil {
		c.fail(err)
	}
	if v%c.step != 0 {
		c.fail(fmt.Errorf("ubl: %s is %s, not a whole number of hundredths: compute the invoice again", field, s))
	}
	return c.minor(c.sign * v)
}

// minor formats minor units, already signed, as an amount element with
// the document's digits.
func (c *converter) minor(v int64) amount {
	return amount{Currency: c.cur.Code, Value: money.Format(v/c.step, c.digits), minor: v}
}

// documentAllowanceCharge converts a document level allowance (BG-20) or
// charge (BG-21).
func (c *converter) documentAllowanceCharge(field string, ac invoice.AllowanceCharge, charge bool) allowanceCharge {
	rate := c.rate(field+".taxRate", ac.TaxRate)
	out := allowanceCharge{
		ChargeIndicator: charge,
		ReasonCode:      strings.TrimSpace(ac.ReasonCode),
		Reason:          strings.TrimSpace(ac.Reason),
		Amount:          c.amount(field+".amount", ac.Amount, false),
		Category:        taxCategory(invoice.Category(ac.TaxCategory, ac.TaxRate), rate),
	}
	if ac.Rate != "" {
		out.Multiplier = money.FormatRat(c.rate(field+".rate", ac.Rate), invoice.RateScale)
		base := c.amount(field+".base", ac.Base, false)
		out.Base = &base
	}
	return out
}

// netTotal is the total without VAT (BT-109): NetTotal, or for an invoice
// computed before it had one, its Subtotal.
func netTotal(inv *invoice.Invoice) string {
	if inv.NetTotal != "" {
		return inv.NetTotal
	}
	return inv.Subtotal
}

// pow10 is 10^n for a small n ≥ 0.
func pow10(n int) int64 {
	p := int64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

func (c *converter) rate(field, s string) *big.Rat {
	r, err := money.ParseDecimal(s, invoice.RateScale)
	if err != nil {
		c.fail(fmt.Errorf("ubl: %s: %w", field, err))
		return new(big.Rat)
	}
	return r
}

// line converts one invoice line. A negative unit price is written as its
// absolute value with the quantity negated instead, since EN 16931 forbids
// a negative item price (BR-27); a credit note negates the quantity again.
func (c *converter) line(i int, l invoice.Line) invoiceLine {
	field := fmt.Sprintf("lines[%d]", i)
	qty, err := money.ParseDecimal(l.Quantity, invoice.QuantityScale)
	if err != nil {
		c.fail(fmt.Errorf("ubl: %s.quantity: %w", field, err))
		qty = new(big.Rat)
	}
	priceScale := max(c.cur.Digits, fractionDigits(l.UnitPrice))
	price, err := money.ParseDecimal(l.UnitPrice, c.cur.Digits+invoice.UnitPriceExtra)
	if err != nil {
		c.fail(fmt.Errorf("ubl: %s.unitPrice: %w", field, err))
		price = new(big.Rat)
	}
	sign := c.sign
	if price.Sign() < 0 {
		price.Neg(price)
		sign = -sign
	}
	qty.Mul(qty, big.NewRat(sign, 1))
	rate := c.rate(field+".taxRate", l.TaxRate)
	cat := invoice.Category(l.TaxCategory, l.TaxRate)

	ln := invoiceLine{
		ID:               fmt.Sprint(i + 1),
		InvoicedQuantity: &quantity{Unit: UnitCode(l.Unit), Value: money.FormatRat(qty, invoice.QuantityScale)},
		LineExtension:    c.amount(field+".amount", l.Amount, false),
		Item:             item(l.Description, taxCategory(cat, rate)),
		Price:            priceXML{Amount: amount{Currency: c.cur.Code, Value: money.Format(money.RoundHalfUp(price, priceScale), priceScale)}},
	}
	if l.DiscountRate != "" {
		if d := c.rate(field+".discountRate", l.DiscountRate); d.Sign() != 0 {
			ln.Allowance = &allowanceCharge{
				ChargeIndicator: false,
				ReasonCode:      reasonDiscount,
				Reason:          "Discount",
				Amount:          c.amount(field+".discount", l.Discount, true),
			}
		}
	}
	return ln
}

// parseAmount reads a major-unit amount of cur into minor units.
func parseAmount(field, s string, cur money.Currency, optional bool) (int64, error) {
	if s == "" && optional {
		return 0, nil
	}
	if s == "" {
		return 0, fmt.Errorf("ubl: %s is empty: the invoice's totals are not computed", field)
	}
	v, err := money.ParseAmount(s, cur)
	if err != nil {
		return 0, fmt.Errorf("ubl: %s: %w", field, err)
	}
	return v, nil
}

// fractionDigits counts the digits after the decimal point of s.
func fractionDigits(s string) int {
	if _, frac, ok := strings.Cut(s, "."); ok {
		return len(frac)
	}
	return 0
}

// taxCategory is VAT category cat at rate, as the invoice gives them
// (invoice.Category): every category has a rate, 0 for all but S, L and M,
// except O (not subject to VAT) on a line or an allowance or charge, which
// has none (BR-O-05, BR-O-06, BR-O-07).
func taxCategory(cat string, rate *big.Rat) *taxCategoryXML {
	out := breakdownCategory(cat, rate)
	if cat == categoryOutOfScope {
		out.Percent = ""
	}
	return out
}

// breakdownCategory is VAT category cat at rate in the VAT breakdown,
// where every category has its rate: EN 16931 lets O leave it out
// (BR-48), XRechnung wants it (BR-DE-14), so O has 0.
func breakdownCategory(cat string, rate *big.Rat) *taxCategoryXML {
	return &taxCategoryXML{ID: cat, Percent: money.FormatRat(rate, invoice.RateScale), Scheme: taxScheme{ID: schemeVAT}}
}

// item names an item by the first line of its description, cut to
// maxItemName characters; the description itself follows when it says
// more than the name.
func item(description string, cat *taxCategoryXML) itemXML {
	desc := strings.TrimSpace(description)
	name, _, _ := strings.Cut(desc, "\n")
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > maxItemName {
		name = strings.TrimSpace(string([]rune(name)[:maxItemName-1])) + "…"
	}
	it := itemXML{Name: name, Category: cat}
	if desc != name {
		it.Description = desc
	}
	return it
}

// sepaCountries are the IBAN country codes of the SEPA scheme. A EUR
// transfer to one of them is a SEPA credit transfer; anything else is a
// plain credit transfer, which is always a correct if less specific code.
var sepaCountries = map[string]bool{
	"AD": true, "AT": true, "BE": true, "BG": true, "CH": true, "CY": true, "CZ": true, "DE": true,
	"DK": true, "EE": true, "ES": true, "FI": true, "FR": true, "GB": true, "GI": true, "GR": true,
	"HR": true, "HU": true, "IE": true, "IS": true, "IT": true, "LI": true, "LT": true, "LU": true,
	"LV": true, "MC": true, "MT": true, "NL": true, "NO": true, "PL": true, "PT": true, "RO": true,
	"SE": true, "SI": true, "SK": true, "SM": true, "VA": true,
}

// paymentMeansFor returns the payment instructions for a transfer to bank,
// or nil without an IBAN. The remittance information (BT-83) is the
// invoice number, so that the payment can be matched.
func paymentMeansFor(bank invoice.BankAccount, number, currency string) *paymentMeans {
	iban := strings.ToUpper(strings.Join(strings.Fields(bank.IBAN), ""))
	if iban == "" {
		return nil
	}
	code := meansCreditTransfer
	if currency == "EUR" && len(iban) >= 2 && sepaCountries[iban[:2]] {
		code = meansSEPATransfer
	}
	pm := &paymentMeans{
		Code:      code,
		PaymentID: number,
		Account:   financialAccount{ID: iban, Name: strings.TrimSpace(bank.Holder)},
	}
	if bic := strings.ToUpper(strings.TrimSpace(bank.BIC)); bic != "" {
		pm.Account.Branch = &branch{ID: bic}
	}
	return pm
}

// termsText holds the sentences of the payment terms note per language.
var termsText = map[string]struct{ due, link, credit string }{
	"en": {"Due date: %s.", "Pay online: %s", "Credited against invoice %s of %s."},
	"ro": {"Data scadentă: %s.", "Plătiți online: %s", "Se creditează factura %s din %s."},
	"de": {"Fällig am %s.", "Online bezahlen: %s", "Gutschrift zur Rechnung %s vom %s."},
	"fr": {"Échéance : %s.", "Payer en ligne : %s", "Avoir sur la facture %s du %s."},
}

// paymentTermsNote is the payment terms (BT-20): the invoice's own terms,
// or else its due date in words, followed by its payment link. UBL 2.1 has
// no due date element in a credit note, so there the words carry it
// (BR-CO-25 asks for one or the other when an amount is due); a credit
// note that corrects an invoice and has neither says which invoice it is
// credited against. A credit note leaves the payment link out, since the
// buyer has nothing to pay.
func paymentTermsNote(inv *invoice.Invoice, credit bool) string {
	lang := locale.Lang(inv.Language)
	text := termsText[lang]
	var parts []string
	switch {
	case strings.TrimSpace(inv.Terms) != "":
		parts = append(parts, strings.TrimSpace(inv.Terms))
	case inv.DueDate != "":
		parts = append(parts, fmt.Sprintf(text.due, locale.Date(inv.DueDate, lang)))
	case inv.Corrects != nil:
		parts = append(parts, fmt.Sprintf(text.credit, inv.Corrects.Number, locale.Date(inv.Corrects.IssueDate, lang)))
	}
	if link := strings.TrimSpace(inv.PaymentLink); link != "" && !credit {
		parts = append(parts, fmt.Sprintf(text.link, link))
	}
	return strings.Join(parts, "\n")
}

// normalizeVAT removes spaces from a VAT id and upper-cases it.
func normalizeVAT(id string) string {
	return strings.ToUpper(strings.Join(strings.Fields(id), ""))
}

// hasVATPrefix reports whether id starts with a country prefix that
// BR-CO-09 accepts.
func hasVATPrefix(id string) bool {
	return len(id) > 2 && vatPrefixes[id[:2]]
}

// sellerParty is the seller (BG-4). A VAT id without a country prefix is not
// a VAT identifier in the EN 16931 sense; it is written as the seller's tax
// registration identifier (BT-32) instead. Its electronic address is its
// Endpoint, else, where emailEndpoint allows it, its email (scheme EM).
func sellerParty(s invoice.Seller, emailEndpoint bool) party {
	p := newParty(strings.TrimSpace(s.Name), s.Address)
	p.EndpointID = endpointID(s.Endpoint, s.Email, emailEndpoint)
	if vat := normalizeVAT(s.VATID); vat != "" {
		scheme := schemeVAT
		if !hasVATPrefix(vat) {
			scheme = schemeTax
		}
		p.TaxSchemes = append(p.TaxSchemes, partyTaxScheme{CompanyID: vat, Scheme: taxScheme{ID: scheme}})
	}
	p.LegalEntity.CompanyID = strings.TrimSpace(s.RegistrationNumber)
	p.Contact = newContact(s.ContactName, s.Phone, s.Email)
	return p
}

// buyerParty is the buyer (BG-7). A VAT id without a country prefix, such as
// a Romanian CUI of a company not registered for VAT, is written as the
// buyer's legal registration identifier (BT-47).
func buyerParty(c invoice.Customer, emailEndpoint bool) party {
	p := newParty(strings.TrimSpace(c.Name), c.Address)
	p.EndpointID = endpointID(c.Endpoint, c.Email, emailEndpoint)
	if vat := normalizeVAT(c.VATID); vat != "" {
		if hasVATPrefix(vat) {
			p.TaxSchemes = append(p.TaxSchemes, partyTaxScheme{CompanyID: vat, Scheme: taxScheme{ID: schemeVAT}})
		} else {
			p.LegalEntity.CompanyID = vat
		}
	}
	p.Contact = newContact("", c.Phone, c.Email)
	return p
}

// withoutVAT returns ts without the VAT identifiers.
func withoutVAT(ts []partyTaxScheme) []partyTaxScheme {
	var out []partyTaxScheme
	for _, t := range ts {
		if t.Scheme.ID != schemeVAT {
			out = append(out, t)
		}
	}
	return out
}

// endpointID is a party's electronic address (BT-34, BT-49): e, else the
// email with scheme EM when emailEndpoint, else none.
func endpointID(e *invoice.Endpoint, email string, emailEndpoint bool) *identifier {
	if e != nil && strings.TrimSpace(e.ID) != "" {
		return &identifier{Scheme: strings.TrimSpace(e.Scheme), Value: strings.TrimSpace(e.ID)}
	}
	if email = strings.TrimSpace(email); email != "" && emailEndpoint {
		return &identifier{Scheme: schemeEmail, Value: email}
	}
	return nil
}

func newContact(name, phone, email string) *contact {
	name, phone, email = strings.TrimSpace(name), strings.TrimSpace(phone), strings.TrimSpace(email)
	if name == "" && phone == "" && email == "" {
		return nil
	}
	return &contact{Name: name, Telephone: phone, Email: email}
}

func newAddress(a invoice.Address) address {
	out := address{
		StreetName:           strings.TrimSpace(a.Line1),
		AdditionalStreetName: strings.TrimSpace(a.Line2),
		CityName:             strings.TrimSpace(a.City),
		PostalZone:           strings.TrimSpace(a.PostalCode),
		CountrySubentity:     strings.TrimSpace(a.Region),
	}
	if code := strings.ToUpper(strings.TrimSpace(a.Country)); code != "" {
		out.Country = &countryXML{Code: code}
	}
	return out
}

func newParty(name string, a invoice.Address) party {
	p := party{PostalAddress: newAddress(a), LegalEntity: legalEntity{RegistrationName: name}}
	if name != "" {
		p.PartyName = &partyName{Name: name}
	}
	return p
}

// deliveryFor is the delivery information (BG-13), or nil without any.
func deliveryFor(d *invoice.Delivery) *delivery {
	if d == nil {
		return nil
	}
	out := &delivery{Date: strings.TrimSpace(d.Date)}
	if d.Address != nil {
		out.Location = &location{Address: newAddress(*d.Address)}
	}
	if name := strings.TrimSpace(d.PartyName); name != "" {
		out.Party = &deliveryParty{Name: partyName{Name: name}}
	}
	if out.Date == "" && out.Location == nil && out.Party == nil {
		return nil
	}
	return out
}

func nonEmpty(s string) []string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return []string{s}
}

// The structs below follow the element order of the UBL 2.1 schemas, which
// is significant: a schema-valid document has its elements in this order.
// TestRenderSchemaStructure holds them to it.

type document struct {
	XMLName xml.Name
	NSCAC   string `xml:"xmlns:cac,attr"`
	NSCBC   string `xml:"xmlns:cbc,attr"`

	CustomizationID    string             `xml:"cbc:CustomizationID"`
	ProfileID          string             `xml:"cbc:ProfileID,omitempty"`
	ID                 string             `xml:"cbc:ID"`
	IssueDate          string             `xml:"cbc:IssueDate"`
	DueDate            string             `xml:"cbc:DueDate,omitempty"`
	InvoiceTypeCode    string             `xml:"cbc:InvoiceTypeCode,omitempty"`
	CreditNoteTypeCode string             `xml:"cbc:CreditNoteTypeCode,omitempty"`
	Note               []string           `xml:"cbc:Note"`
	Currency           string             `xml:"cbc:DocumentCurrencyCode"`
	TaxCurrency        string             `xml:"cbc:TaxCurrencyCode,omitempty"`
	BuyerReference     string             `xml:"cbc:BuyerReference,omitempty"`
	InvoicePeriod      *period            `xml:"cac:InvoicePeriod,omitempty"`
	OrderReference     *orderReference    `xml:"cac:OrderReference,omitempty"`
	BillingReference   *billingReference  `xml:"cac:BillingReference,omitempty"`
	ContractReference  *documentReference `xml:"cac:ContractDocumentReference,omitempty"`
	Supplier           partyWrap          `xml:"cac:AccountingSupplierParty"`
	Customer           partyWrap          `xml:"cac:AccountingCustomerParty"`
	Delivery           *delivery          `xml:"cac:Delivery,omitempty"`
	PaymentMeans       *paymentMeans      `xml:"cac:PaymentMeans,omitempty"`
	PaymentTerms       *paymentTerms      `xml:"cac:PaymentTerms,omitempty"`
	AllowanceCharges   []allowanceCharge  `xml:"cac:AllowanceCharge"`
	TaxTotals          []taxTotal         `xml:"cac:TaxTotal"`
	Totals             monetaryTotal      `xml:"cac:LegalMonetaryTotal"`
	InvoiceLines       []invoiceLine      `xml:"cac:InvoiceLine"`
	CreditNoteLines    []invoiceLine      `xml:"cac:CreditNoteLine"`
}

// billingReference is the preceding invoice reference (BG-3).
type billingReference struct {
	Invoice documentReference `xml:"cac:InvoiceDocumentReference"`
}

// period is the invoicing period (BG-14).
type period struct {
	Start string `xml:"cbc:StartDate,omitempty"`
	End   string `xml:"cbc:EndDate,omitempty"`
}

// orderReference is the purchase order reference (BT-13).
type orderReference struct {
	ID string `xml:"cbc:ID"`
}

// delivery is the delivery information (BG-13).
type delivery struct {
	Date     string         `xml:"cbc:ActualDeliveryDate,omitempty"`
	Location *location      `xml:"cac:DeliveryLocation,omitempty"`
	Party    *deliveryParty `xml:"cac:DeliveryParty,omitempty"`
}

type location struct {
	Address address `xml:"cac:Address"`
}

type deliveryParty struct {
	Name partyName `xml:"cac:PartyName"`
}

type documentReference struct {
	ID        string `xml:"cbc:ID"`
	IssueDate string `xml:"cbc:IssueDate,omitempty"`
}

type amount struct {
	Currency string `xml:"currencyID,attr"`
	Value    string `xml:",chardata"`
	minor    int64
}

type quantity struct {
	Unit  string `xml:"unitCode,attr"`
	Value string `xml:",chardata"`
}

type identifier struct {
	Scheme string `xml:"schemeID,attr,omitempty"`
	Value  string `xml:",chardata"`
}

type partyWrap struct {
	Party party `xml:"cac:Party"`
}

type party struct {
	EndpointID    *identifier      `xml:"cbc:EndpointID,omitempty"`
	PartyName     *partyName       `xml:"cac:PartyName,omitempty"`
	PostalAddress address          `xml:"cac:PostalAddress"`
	TaxSchemes    []partyTaxScheme `xml:"cac:PartyTaxScheme"`
	LegalEntity   legalEntity      `xml:"cac:PartyLegalEntity"`
	Contact       *contact         `xml:"cac:Contact,omitempty"`
}

type partyName struct {
	Name string `xml:"cbc:Name"`
}

type address struct {
	StreetName           string      `xml:"cbc:StreetName,omitempty"`
	AdditionalStreetName string      `xml:"cbc:AdditionalStreetName,omitempty"`
	CityName             string      `xml:"cbc:CityName,omitempty"`
	PostalZone           string      `xml:"cbc:PostalZone,omitempty"`
	CountrySubentity     string      `xml:"cbc:CountrySubentity,omitempty"`
	Country              *countryXML `xml:"cac:Country,omitempty"`
}

type countryXML struct {
	Code string `xml:"cbc:IdentificationCode"`
}

type partyTaxScheme struct {
	CompanyID string    `xml:"cbc:CompanyID"`
	Scheme    taxScheme `xml:"cac:TaxScheme"`
}

type taxScheme struct {
	ID string `xml:"cbc:ID"`
}

type legalEntity struct {
	RegistrationName string `xml:"cbc:RegistrationName"`
	CompanyID        string `xml:"cbc:CompanyID,omitempty"`
}

type contact struct {
	Name      string `xml:"cbc:Name,omitempty"`
	Telephone string `xml:"cbc:Telephone,omitempty"`
	Email     string `xml:"cbc:ElectronicMail,omitempty"`
}

type paymentMeans struct {
	Code      string           `xml:"cbc:PaymentMeansCode"`
	PaymentID string           `xml:"cbc:PaymentID,omitempty"`
	Account   financialAccount `xml:"cac:PayeeFinancialAccount"`
}

type financialAccount struct {
	ID     string  `xml:"cbc:ID"`
	Name   string  `xml:"cbc:Name,omitempty"`
	Branch *branch `xml:"cac:FinancialInstitutionBranch,omitempty"`
}

type branch struct {
	ID string `xml:"cbc:ID"`
}

type paymentTerms struct {
	Note string `xml:"cbc:Note"`
}

type taxTotal struct {
	TaxAmount amount        `xml:"cbc:TaxAmount"`
	Subtotals []taxSubtotal `xml:"cac:TaxSubtotal"`
}

type taxSubtotal struct {
	TaxableAmount amount          `xml:"cbc:TaxableAmount"`
	TaxAmount     amount          `xml:"cbc:TaxAmount"`
	Category      *taxCategoryXML `xml:"cac:TaxCategory"`
}

type taxCategoryXML struct {
	ID              string    `xml:"cbc:ID"`
	Percent         string    `xml:"cbc:Percent,omitempty"`
	ExemptionCode   string    `xml:"cbc:TaxExemptionReasonCode,omitempty"`
	ExemptionReason string    `xml:"cbc:TaxExemptionReason,omitempty"`
	Scheme          taxScheme `xml:"cac:TaxScheme"`
}

type monetaryTotal struct {
	LineExtension  amount  `xml:"cbc:LineExtensionAmount"`
	TaxExclusive   amount  `xml:"cbc:TaxExclusiveAmount"`
	TaxInclusive   amount  `xml:"cbc:TaxInclusiveAmount"`
	AllowanceTotal *amount `xml:"cbc:AllowanceTotalAmount,omitempty"`
	ChargeTotal    *amount `xml:"cbc:ChargeTotalAmount,omitempty"`
	Prepaid        *amount `xml:"cbc:PrepaidAmount,omitempty"`
	Payable        amount  `xml:"cbc:PayableAmount"`
}

type invoiceLine struct {
	ID               string           `xml:"cbc:ID"`
	InvoicedQuantity *quantity        `xml:"cbc:InvoicedQuantity,omitempty"`
	CreditedQuantity *quantity        `xml:"cbc:CreditedQuantity,omitempty"`
	LineExtension    amount           `xml:"cbc:LineExtensionAmount"`
	Allowance        *allowanceCharge `xml:"cac:AllowanceCharge,omitempty"`
	Item             itemXML          `xml:"cac:Item"`
	Price            priceXML         `xml:"cac:Price"`
}

type allowanceCharge struct {
	ChargeIndicator bool            `xml:"cbc:ChargeIndicator"`
	ReasonCode      string          `xml:"cbc:AllowanceChargeReasonCode,omitempty"`
	Reason          string          `xml:"cbc:AllowanceChargeReason,omitempty"`
	Multiplier      string          `xml:"cbc:MultiplierFactorNumeric,omitempty"`
	Amount          amount          `xml:"cbc:Amount"`
	Base            *amount         `xml:"cbc:BaseAmount,omitempty"`
	Category        *taxCategoryXML `xml:"cac:TaxCategory,omitempty"`
}

type itemXML struct {
	Description string          `xml:"cbc:Description,omitempty"`
	Name        string          `xml:"cbc:Name"`
	Category    *taxCategoryXML `xml:"cac:ClassifiedTaxCategory"`
}

type priceXML struct {
	Amount amount `xml:"cbc:PriceAmount"`
}
