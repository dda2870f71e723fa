package ubl

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/money"
)

// Violation is a business rule that a document breaks.
type Violation struct {
	// Rule is the EN 16931 rule id, such as "BR-CO-15"; the Peppol id
	// "PEPPOL-EN16931-R120" for the line net amount formula; or one of
	// invoiced's own checks, whose ids start with "invoiced-".
	Rule string
	// Message says where and what, with the values found and expected.
	Message string
}

func (v Violation) String() string { return v.Rule + " " + v.Message }

// invoiced's own rules, beside those of EN 16931.
const (
	// ruleXML: the bytes are not a well-formed UBL Invoice or CreditNote.
	ruleXML = "invoiced-xml"
	// ruleCurrency: an amount has no currencyID or another currency than
	// the document's.
	ruleCurrency = "invoiced-currency"
	// ruleDecimals: an amount is not a decimal number with exactly the
	// digits Render writes: the currency's minor unit, at most two
	// (BR-DEC); unit prices may have more.
	ruleDecimals = "invoiced-decimals"
	// ruleUnitCode: a quantity's unit code is not one Render writes.
	ruleUnitCode = "invoiced-unit-code"
	// ruleLineNet: the line net amount formula, as Peppol names it.
	ruleLineNet = "PEPPOL-EN16931-R120"
)

// Check parses a UBL 2.1 Invoice or CreditNote and returns every business
// rule of EN 16931 it breaks, among those listed in the package
// documentation; nil means none. Violations come in a fixed order: header,
// parties, lines, totals, VAT breakdown, payment, then each amount's
// currency and decimals. Amounts are compared
// exactly, with roundings half-up to the currency's minor unit. Check is
// meant for what Render writes, as a test and as a self-check before a
// document is served; it is not a full EN 16931 validator (no schema, no
// code lists beyond those named), and bytes that are not a UBL Invoice or
// CreditNote give a single "invoiced-xml" violation.
func Check(doc []byte) []Violation {
	root, err := parseTree(doc)
	if err != nil {
		return []Violation{{Rule: ruleXML, Message: "not well-formed XML: " + err.Error()}}
	}
	c := &checker{root: root, digits: 2}
	switch root.name {
	case xml.Name{Space: nsInvoice, Local: "Invoice"}:
	case xml.Name{Space: nsCreditNote, Local: "CreditNote"}:
		c.credit = true
	default:
		return []Violation{{Rule: ruleXML, Message: fmt.Sprintf(
			"the root element is {%s}%s, not a UBL 2.1 Invoice or CreditNote", root.name.Space, root.name.Local)}}
	}
	c.header()
	c.party(root.find("cac:AccountingSupplierParty", "cac:Party"), "Seller", "BR-06", "BR-08", "BR-09", "BR-62")
	c.party(root.find("cac:AccountingCustomerParty", "cac:Party"), "Buyer", "BR-07", "BR-10", "BR-11", "BR-63")
	c.vatIDs(root.find("cac:TaxRepresentativeParty"), "Seller tax representative")
	c.sellerIdentified()
	c.lines()
	c.documentAllowances()
	c.totals()
	c.vatBreakdown()
	c.payment()
	c.amounts(root, root.name.Local)
	return c.out
}

// checker holds what the rules share while one document is checked.
type checker struct {
	root     *node
	credit   bool
	currency string
	digits   int // the digits of an amount (BR-DEC); 2 when unknown
	known    bool
	// taxCurrency is the VAT accounting currency (BT-6), when there is
	// one, and taxDigits the digits of its amounts.
	taxCurrency string
	taxDigits   int
	out         []Violation

	lineSum   *big.Rat // nil when a line net amount is missing
	docAllow  *big.Rat
	docCharge *big.Rat
	// keys are the VAT categories (and rates, for S) in order of first
	// appearance; base sums the line nets less document allowances plus
	// charges per key.
	keys    []string
	base    map[string]*big.Rat
	cats    map[string]bool // VAT category codes used by lines
	payable *big.Rat
}

func (c *checker) add(rule, format string, args ...any) {
	c.out = append(c.out, Violation{Rule: rule, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) header() {
	r := c.root
	switch id := r.value("cbc:CustomizationID"); {
	case id == "":
		c.add("BR-01", "The specification identifier (BT-24, cbc:CustomizationID) is missing.")
	case !strings.HasPrefix(id, CustomizationID):
		c.add("BR-01", "The specification identifier (BT-24) %q does not name EN 16931 (%s).", id, CustomizationID)
	}
	if r.value("cbc:ID") == "" {
		c.add("BR-02", "The invoice number (BT-1, cbc:ID) is missing.")
	}
	switch d := r.value("cbc:IssueDate"); {
	case d == "":
		c.add("BR-03", "The issue date (BT-2, cbc:IssueDate) is missing.")
	case !isDate(d):
		c.add("BR-03", "The issue date (BT-2) %q is not a date like 2026-11-21.", d)
	}
	typeCode := "cbc:InvoiceTypeCode"
	if c.credit {
		typeCode = "cbc:CreditNoteTypeCode"
	}
	if r.value(typeCode) == "" {
		c.add("BR-04", "The type code (BT-3, %s) is missing.", typeCode)
	}
	c.currency = r.value("cbc:DocumentCurrencyCode")
	if c.currency == "" {
		c.add("BR-05", "The currency code (BT-5, cbc:DocumentCurrencyCode) is missing.")
		return
	}
	cur, err := money.ParseCurrency(c.currency)
	if err != nil {
		c.add("BR-CL-04", "The currency code (BT-5) %q is not an ISO 4217 code.", c.currency)
		return
	}
	c.digits, c.known = invoice.AmountDigits(cur), true
	if tc := r.value("cbc:TaxCurrencyCode"); tc != "" {
		c.taxCurrency = tc
		if cur, err := money.ParseCurrency(tc); err != nil {
			c.add("BR-CL-05", "The VAT accounting currency code (BT-6) %q is not an ISO 4217 code.", tc)
		} else {
			c.taxDigits = invoice.AmountDigits(cur)
		}
	}
}

// party checks the seller's or the buyer's name, address and identifiers.
func (c *checker) party(p *node, who, nameRule, addressRule, countryRule, endpointRule string) {
	if p.value("cac:PartyLegalEntity", "cbc:RegistrationName") == "" {
		c.add(nameRule, "The %s name (cac:PartyLegalEntity/cbc:RegistrationName) is missing.", strings.ToLower(who))
	}
	addr := p.find("cac:PostalAddress")
	switch code := addr.value("cac:Country", "cbc:IdentificationCode"); {
	case addr == nil:
		c.add(addressRule, "The %s postal address (cac:PostalAddress) is missing.", strings.ToLower(who))
	case code == "":
		c.add(countryRule, "The %s country code (cac:PostalAddress/cac:Country/cbc:IdentificationCode) is missing.", strings.ToLower(who))
	case !isoCountries[code]:
		c.add("BR-CL-14", "The %s country code %q is not an ISO 3166-1 alpha-2 code.", strings.ToLower(who), code)
	}
	if e := p.find("cbc:EndpointID"); e != nil && e.attr("schemeID") == "" {
		c.add(endpointRule, "The %s electronic address (cbc:EndpointID) has no schemeID.", strings.ToLower(who))
	}
	c.vatIDs(p, who)
}

// sellerIdentified checks that the buyer can tell who the seller is by an
// identifier, a legal registration or a VAT identifier (BR-CO-26).
func (c *checker) sellerIdentified() {
	p := c.root.find("cac:AccountingSupplierParty", "cac:Party")
	if p.value("cac:PartyIdentification", "cbc:ID") != "" || p.value("cac:PartyLegalEntity", "cbc:CompanyID") != "" {
		return
	}
	for _, ts := range p.all("cac:PartyTaxScheme") {
		if ts.value("cac:TaxScheme", "cbc:ID") == schemeVAT && ts.value("cbc:CompanyID") != "" {
			return
		}
	}
	c.add("BR-CO-26", "The seller has no identifier (BT-29), legal registration identifier (BT-30) or VAT identifier (BT-31).")
}

// vatIDs checks the country prefix of a party's VAT identifiers.
func (c *checker) vatIDs(p *node, who string) {
	for _, ts := range p.all("cac:PartyTaxScheme") {
		if ts.value("cac:TaxScheme", "cbc:ID") != schemeVAT {
			continue
		}
		if id := ts.value("cbc:CompanyID"); !hasVATPrefix(id) {
			c.add("BR-CO-09", "The %s VAT identifier %q does not start with an ISO 3166-1 alpha-2 country code (or EL).", strings.ToLower(who), id)
		}
	}
}

func (c *checker) lines() {
	lineName, qtyName := "cac:InvoiceLine", "cbc:InvoicedQuantity"
	if c.credit {
		lineName, qtyName = "cac:CreditNoteLine", "cbc:CreditedQuantity"
	}
	lines := c.root.all(lineName)
	if len(lines) == 0 {
		c.add("BR-16", "The document has no lines (%s).", lineName)
	}
	c.lineSum = new(big.Rat)
	c.base = map[string]*big.Rat{}
	c.cats = map[string]bool{}
	for i, ln := range lines {
		where := fmt.Sprintf("%s %d", strings.TrimPrefix(lineName, "cac:"), i+1)
		if ln.value("cbc:ID") == "" {
			c.add("BR-21", "%s has no line identifier (BT-126, cbc:ID).", where)
		}
		qty, qtyOK := ln.number(qtyName)
		switch q := ln.find(qtyName); {
		case q == nil || q.text() == "":
			c.add("BR-22", "%s has no quantity (BT-129, %s).", where, qtyName)
		case !qtyOK:
			c.add("BR-22", "%s has quantity %q, not a decimal number.", where, q.text())
		}
		switch unit := ln.find(qtyName).attr("unitCode"); {
		case unit == "":
			c.add("BR-23", "%s has no unit of measure (BT-130, %s/@unitCode).", where, qtyName)
		case !knownUnitCodes[unit]:
			c.add(ruleUnitCode, "%s has unit code %q, which is not among the UN/ECE Recommendation 20 codes invoiced writes.", where, unit)
		}
		net, netOK := ln.number("cbc:LineExtensionAmount")
		if !netOK {
			c.add("BR-24", "%s has no net amount (BT-131, cbc:LineExtensionAmount).", where)
			c.lineSum = nil
		} else if c.lineSum != nil {
			c.lineSum.Add(c.lineSum, net.v)
		}
		if ln.value("cac:Item", "cbc:Name") == "" {
			c.add("BR-25", "%s has no item name (BT-153, cac:Item/cbc:Name).", where)
		}
		price, priceOK := ln.number("cac:Price", "cbc:PriceAmount")
		switch {
		case !priceOK:
			c.add("BR-26", "%s has no item net price (BT-146, cac:Price/cbc:PriceAmount).", where)
		case price.v.Sign() < 0:
			c.add("BR-27", "%s has a negative item net price %s.", where, price.s)
		}

		var allow, charge big.Rat
		for j, ac := range ln.all("cac:AllowanceCharge") {
			isCharge := ac.value("cbc:ChargeIndicator") == "true"
			amountRule, reasonRule, kind, sum := "BR-41", "BR-42", "allowance", &allow
			if isCharge {
				amountRule, reasonRule, kind, sum = "BR-43", "BR-44", "charge", &charge
			}
			if a, ok := ac.number("cbc:Amount"); ok {
				sum.Add(sum, a.v)
			} else {
				c.add(amountRule, "%s %s %d has no amount (cbc:Amount).", where, kind, j+1)
			}
			if ac.value("cbc:AllowanceChargeReasonCode") == "" && ac.value("cbc:AllowanceChargeReason") == "" {
				c.add(reasonRule, "%s %s %d has neither a reason nor a reason code.", where, kind, j+1)
			}
		}
		if qtyOK && priceOK && netOK {
			perUnit := price.v
			if bq, ok := ln.number("cac:Price", "cbc:BaseQuantity"); ok && bq.v.Sign() > 0 {
				perUnit = new(big.Rat).Quo(price.v, bq.v)
			}
			want := c.round(new(big.Rat).Mul(qty.v, perUnit))
			want.Sub(want, &allow).Add(want, &charge)
			if want.Cmp(net.v) != 0 {
				c.add(ruleLineNet, "%s net amount is %s, want %s (quantity %s × price %s − allowances %s + charges %s).",
					where, net.s, c.show(want), qty.s, price.s, c.show(&allow), c.show(&charge))
			}
		}

		cat := ln.value("cac:Item", "cac:ClassifiedTaxCategory", "cbc:ID")
		if cat == "" {
			c.add("BR-CO-04", "%s has no VAT category code (BT-151, cac:Item/cac:ClassifiedTaxCategory/cbc:ID).", where)
			continue
		}
		c.cats[cat] = true
		pct, pctOK := ln.number("cac:Item", "cac:ClassifiedTaxCategory", "cbc:Percent")
		switch {
		case cat == categoryStandard && (!pctOK || pct.v.Sign() <= 0):
			c.add("BR-S-05", "%s is in VAT category S but its VAT rate (BT-152) is not above zero.", where)
		case cat == categoryZero && (!pctOK || pct.v.Sign() != 0):
			c.add("BR-Z-05", "%s is in VAT category Z but its VAT rate (BT-152) is not 0.", where)
		}
		if netOK {
			c.addBase(vatKey(cat, pct.v), net.v)
		}
	}
}

// documentAllowances sums the document level allowances and charges, in
// total and per VAT category.
func (c *checker) documentAllowances() {
	c.docAllow, c.docCharge = new(big.Rat), new(big.Rat)
	for i, ac := range c.root.all("cac:AllowanceCharge") {
		isCharge := ac.value("cbc:ChargeIndicator") == "true"
		a, ok := ac.number("cbc:Amount")
		if !ok {
			rule := "BR-31"
			if isCharge {
				rule = "BR-36"
			}
			c.add(rule, "Document level allowance or charge %d has no amount (cbc:Amount).", i+1)
			continue
		}
		v := new(big.Rat).Set(a.v)
		if isCharge {
			c.docCharge.Add(c.docCharge, v)
		} else {
			c.docAllow.Add(c.docAllow, v)
			v.Neg(v)
		}
		pct, _ := ac.number("cac:TaxCategory", "cbc:Percent")
		if cat := ac.value("cac:TaxCategory", "cbc:ID"); cat != "" {
			c.addBase(vatKey(cat, pct.v), v)
		}
	}
}

func (c *checker) totals() {
	t := c.root.find("cac:LegalMonetaryTotal")
	lineExt, okLine := t.number("cbc:LineExtensionAmount")
	taxExcl, okExcl := t.number("cbc:TaxExclusiveAmount")
	taxIncl, okIncl := t.number("cbc:TaxInclusiveAmount")
	payable, okPay := t.number("cbc:PayableAmount")
	for _, m := range []struct {
		ok         bool
		rule, name string
	}{
		{okLine, "BR-12", "sum of line net amounts (BT-106, cbc:LineExtensionAmount)"},
		{okExcl, "BR-13", "total without VAT (BT-109, cbc:TaxExclusiveAmount)"},
		{okIncl, "BR-14", "total with VAT (BT-112, cbc:TaxInclusiveAmount)"},
		{okPay, "BR-15", "amount due for payment (BT-115, cbc:PayableAmount)"},
	} {
		if !m.ok {
			c.add(m.rule, "The %s is missing from cac:LegalMonetaryTotal.", m.name)
		}
	}
	allowTotal := t.numberOrZero("cbc:AllowanceTotalAmount")
	chargeTotal := t.numberOrZero("cbc:ChargeTotalAmount")
	prepaid := t.numberOrZero("cbc:PrepaidAmount")
	rounding := t.numberOrZero("cbc:PayableRoundingAmount")
	if okPay {
		c.payable = payable.v
	}

	if okLine && c.lineSum != nil && lineExt.v.Cmp(c.lineSum) != 0 {
		c.add("BR-CO-10", "LineExtensionAmount is %s, but the line net amounts add up to %s.", lineExt.s, c.show(c.lineSum))
	}
	if allowTotal.v.Cmp(c.docAllow) != 0 {
		c.add("BR-CO-11", "AllowanceTotalAmount is %s, but the document level allowances add up to %s.", allowTotal.s, c.show(c.docAllow))
	}
	if chargeTotal.v.Cmp(c.docCharge) != 0 {
		c.add("BR-CO-12", "ChargeTotalAmount is %s, but the document level charges add up to %s.", chargeTotal.s, c.show(c.docCharge))
	}
	if okLine && okExcl {
		want := new(big.Rat).Sub(lineExt.v, allowTotal.v)
		want.Add(want, chargeTotal.v)
		if want.Cmp(taxExcl.v) != 0 {
			c.add("BR-CO-13", "TaxExclusiveAmount is %s, want %s (LineExtensionAmount %s − AllowanceTotalAmount %s + ChargeTotalAmount %s).",
				taxExcl.s, c.show(want), lineExt.s, allowTotal.s, chargeTotal.s)
		}
	}
	vat, okVAT := c.vatTotal().number("cbc:TaxAmount")
	if okExcl && okIncl && okVAT {
		want := new(big.Rat).Add(taxExcl.v, vat.v)
		if want.Cmp(taxIncl.v) != 0 {
			c.add("BR-CO-15", "TaxInclusiveAmount is %s, want %s (TaxExclusiveAmount %s + TaxTotal/TaxAmount %s).",
				taxIncl.s, c.show(want), taxExcl.s, vat.s)
		}
	}
	if okIncl && okPay {
		want := new(big.Rat).Sub(taxIncl.v, prepaid.v)
		want.Add(want, rounding.v)
		if want.Cmp(payable.v) != 0 {
			c.add("BR-CO-16", "PayableAmount is %s, want %s (TaxInclusiveAmount %s − PrepaidAmount %s + PayableRoundingAmount %s).",
				payable.s, c.show(want), taxIncl.s, prepaid.s, rounding.s)
		}
	}
}

// vatTotal is the cac:TaxTotal that holds the VAT breakdown. A second one,
// in the VAT accounting currency, has no cac:TaxSubtotal.
func (c *checker) vatTotal() *node {
	for _, t := range c.root.all("cac:TaxTotal") {
		if t.find("cac:TaxSubtotal") != nil {
			return t
		}
	}
	return nil
}

func (c *checker) vatBreakdown() {
	total := c.vatTotal()
	subtotals := total.all("cac:TaxSubtotal")
	if len(subtotals) == 0 {
		c.add("BR-CO-18", "The document has no VAT breakdown (cac:TaxTotal/cac:TaxSubtotal).")
		return
	}
	sum := new(big.Rat)
	sumOK := true
	got := map[string]*big.Rat{}
	for i, st := range subtotals {
		where := fmt.Sprintf("TaxSubtotal %d", i+1)
		taxable, okTaxable := st.number("cbc:TaxableAmount")
		tax, okTax := st.number("cbc:TaxAmount")
		cat := st.value("cac:TaxCategory", "cbc:ID")
		pct, okPct := st.number("cac:TaxCategory", "cbc:Percent")
		if !okTaxable {
			c.add("BR-45", "%s has no taxable amount (BT-116, cbc:TaxableAmount).", where)
		}
		if okTax {
			sum.Add(sum, tax.v)
		} else {
			c.add("BR-46", "%s has no VAT amount (BT-117, cbc:TaxAmount).", where)
			sumOK = false
		}
		if cat == "" {
			c.add("BR-47", "%s has no VAT category code (BT-118, cac:TaxCategory/cbc:ID).", where)
		} else {
			c.exemptionReason(st, where, cat)
		}
		if !okPct && cat != "O" {
			c.add("BR-48", "%s has no VAT rate (BT-119, cac:TaxCategory/cbc:Percent).", where)
		}
		if okTaxable && okTax && okPct {
			want := c.round(new(big.Rat).Mul(taxable.v, new(big.Rat).Quo(pct.v, big.NewRat(100, 1))))
			if want.Cmp(tax.v) != 0 {
				c.add("BR-CO-17", "%s VAT amount is %s, want %s (taxable %s × %s%%, rounded half-up).", where, tax.s, c.show(want), taxable.s, pct.s)
			}
		}
		if okTax && tax.v.Sign() != 0 && zeroTaxCategories[cat] {
			c.add(categoryRule(cat, "09"), "%s is in VAT category %s, so its VAT amount must be 0, not %s.", where, cat, tax.s)
		}
		if cat != "" && okTaxable {
			key := vatKey(cat, pct.v)
			if got[key] == nil {
				got[key] = new(big.Rat)
				c.noteKey(key)
			}
			got[key].Add(got[key], taxable.v)
		}
	}
	if vat, ok := total.number("cbc:TaxAmount"); !ok {
		c.add("BR-CO-14", "The invoice total VAT amount (BT-110, cac:TaxTotal/cbc:TaxAmount) is missing.")
	} else if sumOK && vat.v.Cmp(sum) != 0 {
		c.add("BR-CO-14", "TaxTotal/TaxAmount is %s, but the VAT breakdown adds up to %s.", vat.s, c.show(sum))
	}
	if c.lineSum == nil {
		return // a line without a net amount has been reported; sums would mislead
	}
	for _, key := range c.keys {
		cat, rate, _ := strings.Cut(key, " ")
		label := cat
		if rate != "" {
			label += " at " + rate + "%"
		}
		want := c.base[key]
		if want == nil {
			want = new(big.Rat)
		}
		switch have := got[key]; {
		case have == nil:
			c.add(categoryRule(cat, "08"), "The VAT breakdown has no entry for category %s, which lines or allowances use (taxable %s).", label, c.show(want))
		case have.Cmp(want) != 0:
			c.add(categoryRule(cat, "08"), "The taxable amount for category %s is %s, but the line net amounts (less allowances, plus charges) add up to %s.",
				label, c.show(have), c.show(want))
		}
	}
	if !c.sellerTaxID() {
		for _, cat := range []string{"S", "Z", "E"} {
			if c.cats[cat] {
				c.add(categoryRule(cat, "02"), "Lines are in VAT category %s, but the seller has no VAT identifier (BT-31), tax registration (BT-32) or tax representative.", cat)
			}
		}
	}
	if !c.sellerVATID() {
		for _, cat := range []string{"AE", "K", "G", "L", "M"} {
			if c.cats[cat] {
				c.add(categoryRule(cat, "02"), "Lines are in VAT category %s, but neither the seller nor its tax representative has a VAT identifier (BT-31, BT-63).", cat)
			}
		}
	}
	buyer := c.root.find("cac:AccountingCustomerParty", "cac:Party")
	buyerVAT := false
	for _, ts := range buyer.all("cac:PartyTaxScheme") {
		buyerVAT = buyerVAT || (ts.value("cac:TaxScheme", "cbc:ID") == schemeVAT && ts.value("cbc:CompanyID") != "")
	}
	if c.cats["AE"] && !buyerVAT && buyer.value("cac:PartyLegalEntity", "cbc:CompanyID") == "" {
		c.add("BR-AE-02", "Lines are in VAT category AE, but the buyer has no VAT identifier (BT-48) or legal registration identifier (BT-47).")
	}
	if c.cats["O"] && (c.sellerVATID() || buyerVAT) {
		c.add("BR-O-02", "Lines are in VAT category O (not subject to VAT), but the seller, its tax representative or the buyer has a VAT identifier (BT-31, BT-63, BT-48).")
	}
	if c.cats["K"] {
		if !buyerVAT {
			c.add("BR-IC-02", "Lines are in VAT category K, but the buyer has no VAT identifier (BT-48).")
		}
		if c.root.value("cac:Delivery", "cbc:ActualDeliveryDate") == "" && c.root.find("cac:InvoicePeriod") == nil {
			c.add("BR-IC-11", "Lines are in VAT category K, but there is neither an actual delivery date (BT-72) nor an invoicing period (BG-14).")
		}
		if c.root.value("cac:Delivery", "cac:DeliveryLocation", "cac:Address", "cac:Country", "cbc:IdentificationCode") == "" {
			c.add("BR-IC-12", "Lines are in VAT category K, but there is no deliver to country code (BT-80).")
		}
	}
	if c.taxCurrency != "" {
		found := false
		for _, t := range c.root.all("cac:TaxTotal") {
			found = found || (t.find("cac:TaxSubtotal") == nil && t.find("cbc:TaxAmount").attr("currencyID") == c.taxCurrency)
		}
		if !found {
			c.add("BR-53", "The VAT accounting currency is %s (BT-6), but there is no total VAT amount in it (BT-111).", c.taxCurrency)
		}
	}
}

// exemptionReason checks that a VAT breakdown of a category without VAT
// says why (BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10), and that one
// with VAT does not (BR-S-10, BR-Z-10).
func (c *checker) exemptionReason(st *node, where, cat string) {
	has := st.value("cac:TaxCategory", "cbc:TaxExemptionReasonCode") != "" || st.value("cac:TaxCategory", "cbc:TaxExemptionReason") != ""
	switch cat {
	case "E", "AE", "K", "G", "O":
		if !has {
			c.add(categoryRule(cat, "10"), "%s is in VAT category %s but has no exemption reason (BT-120) nor reason code (BT-121).", where, cat)
		}
	case "S", "Z", "L", "M":
		if has {
			c.add(categoryRule(cat, "10"), "%s is in VAT category %s, which charges VAT, but has an exemption reason.", where, cat)
		}
	}
}

// sellerVATID reports whether the seller or its tax representative has a
// VAT identifier (BT-31, BT-63).
func (c *checker) sellerVATID() bool {
	for _, p := range []*node{c.root.find("cac:AccountingSupplierParty", "cac:Party"), c.root.find("cac:TaxRepresentativeParty")} {
		for _, ts := range p.all("cac:PartyTaxScheme") {
			if ts.value("cac:TaxScheme", "cbc:ID") == schemeVAT && ts.value("cbc:CompanyID") != "" {
				return true
			}
		}
	}
	return false
}

// sellerTaxID reports whether the seller or its tax representative has a
// VAT identifier or tax registration identifier.
func (c *checker) sellerTaxID() bool {
	for _, ts := range c.root.find("cac:AccountingSupplierParty", "cac:Party").all("cac:PartyTaxScheme") {
		if ts.value("cbc:CompanyID") != "" {
			return true
		}
	}
	return c.root.find("cac:TaxRepresentativeParty", "cac:PartyTaxScheme").value("cbc:CompanyID") != ""
}

func (c *checker) payment() {
	for i, pm := range c.root.all("cac:PaymentMeans") {
		code := pm.value("cbc:PaymentMeansCode")
		switch {
		case code == "":
			c.add("BR-49", "PaymentMeans %d has no payment means type code (BT-81, cbc:PaymentMeansCode).", i+1)
		case (code == meansCreditTransfer || code == meansSEPATransfer) && pm.value("cac:PayeeFinancialAccount", "cbc:ID") == "":
			c.add("BR-61", "PaymentMeans %d is a credit transfer (%s) without the payment account (BT-84, cac:PayeeFinancialAccount/cbc:ID).", i+1, code)
		}
	}
	if c.payable == nil || c.payable.Sign() <= 0 {
		return
	}
	due := c.root.value("cbc:DueDate") != ""
	for _, pm := range c.root.all("cac:PaymentMeans") {
		due = due || pm.value("cbc:PaymentDueDate") != ""
	}
	if !due && c.root.value("cac:PaymentTerms", "cbc:Note") == "" {
		c.add("BR-CO-25", "An amount is due, but there is neither a due date (BT-9) nor payment terms (BT-20).")
	}
}

// amounts checks the currency and decimals of every amount below n, whose
// path is path.
func (c *checker) amounts(n *node, path string) {
	seen := map[string]int{}
	count := map[xml.Name]int{}
	for _, k := range n.kids {
		count[k.name]++
	}
	for _, k := range n.kids {
		p := path + "/" + k.name.Local
		if count[k.name] > 1 {
			seen[k.name.Local]++
			p += "[" + strconv.Itoa(seen[k.name.Local]) + "]"
		}
		if k.name.Space == nsCBC && strings.HasSuffix(k.name.Local, "Amount") {
			c.amount(k, p)
		}
		c.amounts(k, p)
	}
}

func (c *checker) amount(n *node, path string) {
	want, digits := c.currency, c.digits
	if c.taxCurrency != "" && n.attr("currencyID") == c.taxCurrency && strings.HasSuffix(path, "/TaxAmount") &&
		!strings.Contains(path, "TaxSubtotal") {
		// The VAT total in the VAT accounting currency (BT-111).
		want, digits = c.taxCurrency, c.taxDigits
	}
	switch cur := n.attr("currencyID"); {
	case cur == "":
		c.add(ruleCurrency, "%s has no currencyID.", path)
	case want != "" && cur != want:
		c.add(ruleCurrency, "%s is in %s, the document in %s.", path, cur, want)
	}
	s := n.text()
	if !decimalPattern.MatchString(s) {
		c.add(ruleDecimals, "%s is %q, not a decimal number.", path, s)
		return
	}
	if !c.known || n.name.Local == "PriceAmount" {
		return
	}
	if d := fractionDigits(s); d != digits {
		c.add(ruleDecimals, "%s is %s, with %d decimals; %s amounts have %d.", path, s, d, want, digits)
	}
}

// round rounds r half-up to the currency's minor unit.
func (c *checker) round(r *big.Rat) *big.Rat {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(c.digits)), nil)
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(scale))
	q, rem := new(big.Int).QuoRem(new(big.Int).Abs(scaled.Num()), scaled.Denom(), new(big.Int))
	if rem.Lsh(rem, 1).Cmp(scaled.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if scaled.Sign() < 0 {
		q.Neg(q)
	}
	return new(big.Rat).SetFrac(q, scale)
}

// show prints an amount with the currency's digits, or more when it has
// them.
func (c *checker) show(r *big.Rat) string {
	if c.round(r).Cmp(r) == 0 {
		return r.FloatString(c.digits)
	}
	return strings.TrimRight(r.FloatString(c.digits+6), "0")
}

func (c *checker) addBase(key string, v *big.Rat) {
	if c.base[key] == nil {
		c.base[key] = new(big.Rat)
		c.noteKey(key)
	}
	c.base[key].Add(c.base[key], v)
}

func (c *checker) noteKey(key string) {
	for _, k := range c.keys {
		if k == key {
			return
		}
	}
	c.keys = append(c.keys, key)
}

// vatKey groups amounts as EN 16931 sums them: per rate in the categories
// that have several rates (S, and the Canary Islands' L and Ceuta and
// Melilla's M), per category in the others, whose rate is 0.
func vatKey(cat string, rate *big.Rat) string {
	switch cat {
	case "S", "L", "M":
		if rate == nil {
			return cat + " ?"
		}
		return cat + " " + trimRat(rate)
	}
	return cat
}

func trimRat(r *big.Rat) string {
	s := r.FloatString(6)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

// zeroTaxCategories are the VAT categories whose VAT amount is always 0.
var zeroTaxCategories = map[string]bool{"Z": true, "E": true, "AE": true, "K": true, "G": true, "O": true}

// categoryRule names the EN 16931 rule n of a VAT category's rule set:
// "BR-S-08", "BR-IC-08" for K, "BR-IG-08" for L, "BR-IP-08" for M.
func categoryRule(cat, n string) string {
	switch cat {
	case "K":
		cat = "IC"
	case "L":
		cat = "IG"
	case "M":
		cat = "IP"
	}
	return "BR-" + cat + "-" + n
}

var decimalPattern = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// isoCountries are the ISO 3166-1 alpha-2 country codes.
var isoCountries = codeSet(`
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL
BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV
CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD
GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM
IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK
LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW
MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR
PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS
ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY
UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`)

// vatPrefixes are the prefixes BR-CO-09 allows on a VAT identifier: the
// ISO 3166-1 alpha-2 codes and EL, which Greece uses.
var vatPrefixes = func() map[string]bool {
	m := codeSet("EL")
	for code := range isoCountries {
		m[code] = true
	}
	return m
}()

func codeSet(codes string) map[string]bool {
	m := map[string]bool{}
	for _, code := range strings.Fields(codes) {
		m[code] = true
	}
	return m
}

// node is an element of a parsed document, with namespaces resolved.
type node struct {
	name  xml.Name
	attrs []xml.Attr
	chars []byte
	kids  []*node
}

var errNoRoot = errors.New("no root element")

// parseTree reads doc into a tree of elements.
func parseTree(doc []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	var root *node
	var stack []*node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name, attrs: t.Attr}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, n)
			} else if root == nil {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.chars = append(top.chars, t...)
			}
		}
	}
	if root == nil {
		return nil, errNoRoot
	}
	return root, nil
}

// qname resolves "cbc:X" or "cac:X" to a namespaced name.
func qname(s string) xml.Name {
	prefix, local, _ := strings.Cut(s, ":")
	if prefix == "cac" {
		return xml.Name{Space: nsCAC, Local: local}
	}
	return xml.Name{Space: nsCBC, Local: local}
}

// find follows a path of child names; it returns nil when any is missing.
// Every node method accepts a nil receiver.
func (n *node) find(path ...string) *node {
	for _, p := range path {
		if n == nil {
			return nil
		}
		name := qname(p)
		var next *node
		for _, k := range n.kids {
			if k.name == name {
				next = k
				break
			}
		}
		n = next
	}
	return n
}

// all returns the children of n named name.
func (n *node) all(name string) []*node {
	if n == nil {
		return nil
	}
	qn := qname(name)
	var out []*node
	for _, k := range n.kids {
		if k.name == qn {
			out = append(out, k)
		}
	}
	return out
}

func (n *node) text() string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(string(n.chars))
}

// value is the trimmed text at path, or "".
func (n *node) value(path ...string) string { return n.find(path...).text() }

func (n *node) attr(local string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

// num is a decimal number as written and as read.
type num struct {
	v *big.Rat
	s string
}

// number reads the decimal at path; ok is false when it is missing or not
// a decimal number.
func (n *node) number(path ...string) (num, bool) {
	s := n.value(path...)
	if !decimalPattern.MatchString(s) {
		return num{}, false
	}
	v, ok := new(big.Rat).SetString(s)
	if !ok {
		return num{}, false
	}
	return num{v: v, s: s}, true
}

// numberOrZero reads the optional decimal at path, as 0 when missing.
func (n *node) numberOrZero(path ...string) num {
	if v, ok := n.number(path...); ok {
		return v
	}
	return num{v: new(big.Rat), s: "0"}
}
