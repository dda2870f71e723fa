package ubl

import (
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/money"
)

// The field paths Requirements names for what the tenant's settings give:
// the seller is the settings' branding, the payment account their bank.
const (
	fieldSeller = "branding."
	fieldBank   = "bank."
)

// Requirements returns what doc's e-invoice profile needs that its invoice
// or its seller lacks, keyed by the API field path that supplies it:
// "reference", "customer.endpoint", "customer.address.region" and the like
// for the invoice, "branding.endpoint", "branding.contactName",
// "branding.phone", "branding.vatId", "branding.address.city" and the like
// for the seller (the tenant's branding settings), "bank.iban" for the
// payment account. Each message names the rule of the official validators
// that asks for it. It returns nil when nothing is missing, and for a
// Document without an Invoice (which Render refuses with ErrNoInvoice).
//
// The profile is doc.Profile, else the invoice's, else
// invoice.ProfileEN16931; an unknown profile is reported under "profile".
// Requirements looks only at what the invoice and the settings hold, not
// at computed amounts, so it may be called on an invoice not yet through
// invoice.Compute. Render refuses a document with a requirement missing,
// with a *RequirementsError that holds these FieldErrors.
//
// Every profile needs what EN 16931 cannot do without and invoiced cannot
// make up: the seller's name and country (BR-06, BR-09), the buyer's
// country (BR-11), and the seller's VAT identifier for the VAT categories
// that ask for it (BR-S-02, BR-Z-02, BR-E-02: a VAT id or a tax
// registration; BR-AE-02, BR-IC-02, BR-G-02, BR-IG-02, BR-IP-02: a VAT id
// with its country prefix), with the buyer's VAT id for AE and K; the
// country of a delivery address (BR-57), and a delivery address for an
// intra-community supply (BR-IC-12). Beyond that:
//
//   - peppol: the buyer's and the seller's electronic addresses, with a
//     scheme other than EM, which Peppol's list lacks (PEPPOL-EN16931-R010,
//     R020, CL008); a buyer reference or an order reference
//     (PEPPOL-EN16931-R003); in a currency without cents (JPY), line
//     amounts and allowances or charges given as a rate that round to
//     whole units within 0.02 of their exact values (PEPPOL-EN16931-R120,
//     R040), as Peppol checks them with that slack.
//   - xrechnung: the buyer reference, the Leitweg-ID of a public buyer
//     (BR-DE-15); the seller's contact (BR-DE-2, 5, 6, 7), city and post
//     code (BR-DE-3, 4); the buyer's city and post code (BR-DE-8, 9);
//     payment instructions, an IBAN (BR-DE-1); electronic addresses for
//     both parties, the email (scheme EM) doing where no endpoint is
//     given (XRechnung 3.0 makes BT-34 and BT-49 mandatory).
//   - cius-ro: the buyer's VAT id or legal registration identifier, a
//     consumer's CNP or 0000000000000 (BR-RO-120); street and city of
//     both parties (BR-RO-081, 082, 091, 092); for a Romanian address, the
//     county as an ISO 3166-2:RO code such as RO-CJ (BR-RO-110, 111) and,
//     in Bucharest (RO-B), the sector as city, SECTOR1 to SECTOR6
//     (BR-RO-100, 101), the same for the delivery address (BR-RO-180 to
//     212); RON as the VAT accounting currency of an invoice in another
//     currency (BR-RO-030); a digit in the invoice number (BR-RO-010);
//     notes of at most 300 characters (BR-RO-L302) and item descriptions
//     of at most 200 (BR-RO-L212).
func Requirements(doc Document) invoice.FieldErrors {
	inv := doc.Invoice
	if inv == nil {
		return nil
	}
	r := requirements{fe: invoice.FieldErrors{}}
	profile := doc.ProfileName()
	if !invoice.ValidProfile(profile) {
		r.fe["profile"] = fmt.Sprintf("%q is not an e-invoice profile: use one of %s", profile, strings.Join(invoice.Profiles, ", "))
		return r.fe
	}
	s, c := doc.Seller, inv.Customer

	// EN 16931, whatever the profile.
	r.need(fieldSeller+"name", s.Name, "BR-06", "the seller's name is required in an e-invoice")
	r.need(fieldSeller+"address.country", s.Address.Country, "BR-09", "the seller's country is required in an e-invoice")
	r.need("customer.address.country", c.Address.Country, "BR-11", "the buyer's country is required in an e-invoice")
	cats := usedCategories(inv)
	sellerVAT := normalizeVAT(s.VATID)
	prefixed := hasVATPrefix(sellerVAT)
	for _, cat := range []string{"S", "Z", "E"} {
		if cats[cat] && sellerVAT == "" {
			r.add(fieldSeller+"vatId", categoryRule(cat, "02"), fmt.Sprintf(
				"the seller's VAT id or tax registration is required for VAT category %s", cat))
		}
	}
	for _, cat := range []string{"AE", "K", "G", "L", "M"} {
		if cats[cat] && !prefixed {
			r.add(fieldSeller+"vatId", categoryRule(cat, "02"), fmt.Sprintf(
				"the seller's VAT id, with its country prefix such as RO18547290, is required for VAT category %s", cat))
		}
	}
	if (cats["AE"] || cats["K"]) && normalizeVAT(c.VATID) == "" {
		rule := "BR-AE-02"
		if cats["K"] {
			rule = "BR-IC-02"
		}
		r.add("customer.vatId", rule, "the buyer's VAT id is required for reverse charge (AE) and intra-community supplies (K)")
	}

	if cats["O"] {
		// Not subject to VAT: the VAT ids are left out (BR-O-02), so the
		// seller is known by its registration.
		r.need(fieldSeller+"registrationNumber", s.RegistrationNumber, "BR-CO-26",
			"the seller's legal registration number is required with category O, where its VAT id is left out (BR-O-02)")
	}
	if d := inv.Delivery; d != nil && d.Address != nil {
		r.need("delivery.address.country", d.Address.Country, "BR-57", "a delivery address needs its country")
	}
	if cats["K"] && (inv.Delivery == nil || inv.Delivery.Address == nil) {
		r.add("delivery.address", "BR-IC-12", "an intra-community supply (category K) needs the delivery address, with its country")
	}

	switch profile {
	case invoice.ProfilePeppol:
		r.peppolEndpoint("customer.endpoint", c.Endpoint, "PEPPOL-EN16931-R010", "buyer")
		r.peppolEndpoint(fieldSeller+"endpoint", s.Endpoint, "PEPPOL-EN16931-R020", "seller")
		if strings.TrimSpace(inv.Reference) == "" && strings.TrimSpace(inv.OrderReference) == "" {
			r.add("reference", "PEPPOL-EN16931-R003", "a buyer reference, or an orderReference, is required")
		}
		r.peppolPrecision(inv)
	case invoice.ProfileXRechnung:
		r.need("reference", inv.Reference, "BR-DE-15", "the buyer reference is required: for a public buyer its Leitweg-ID, such as 04011000-1234512345-06")
		r.need(fieldSeller+"contactName", s.ContactName, "BR-DE-5", "the seller's contact point (a person or department) is required")
		r.need(fieldSeller+"phone", s.Phone, "BR-DE-6", "the seller's contact telephone number is required")
		r.need(fieldSeller+"email", s.Email, "BR-DE-7", "the seller's contact email address is required")
		r.need(fieldSeller+"address.city", s.Address.City, "BR-DE-3", "the seller's city is required")
		r.need(fieldSeller+"address.postalCode", s.Address.PostalCode, "BR-DE-4", "the seller's post code is required")
		r.need("customer.address.city", c.Address.City, "BR-DE-8", "the buyer's city is required")
		r.need("customer.address.postalCode", c.Address.PostalCode, "BR-DE-9", "the buyer's post code is required")
		r.need(fieldBank+"iban", doc.Bank.IBAN, "BR-DE-1", "payment instructions are required: the seller's IBAN")
		if d := inv.Delivery; d != nil && d.Address != nil {
			r.need("delivery.address.city", d.Address.City, "BR-DE-10", "the delivery address needs a city")
			r.need("delivery.address.postalCode", d.Address.PostalCode, "BR-DE-11", "the delivery address needs a post code")
		}
		if s.Endpoint == nil && strings.TrimSpace(s.Email) == "" {
			r.add(fieldSeller+"endpoint", "BT-34", "the seller's electronic address is required in XRechnung 3.0: an endpoint, or the email")
		}
		if c.Endpoint == nil && strings.TrimSpace(c.Email) == "" {
			r.add("customer.endpoint", "BT-49", "the buyer's electronic address is required in XRechnung 3.0: an endpoint, or customer.email")
		}
	case invoice.ProfileCIUSRO:
		if normalizeVAT(c.VATID) == "" {
			r.add("customer.vatId", "BR-RO-120", "the buyer's VAT id or registration number is required; for a consumer, the CNP or 0000000000000")
		}
		if cats["O"] {
			// VAT ids are left out with category O (BR-O-02): the
			// registrations without a country prefix remain.
			if hasVATPrefix(sellerVAT) {
				r.add(fieldSeller+"vatId", "BR-RO-065", "with category O the VAT id is left out (BR-O-02): a seller not registered for VAT gives its CUI without RO, its tax registration")
			}
			if hasVATPrefix(normalizeVAT(c.VATID)) {
				r.add("customer.vatId", "BR-RO-120", "with category O the VAT id is left out (BR-O-02): give the buyer's registration number (CUI) without the country prefix")
			}
		}
		r.need(fieldSeller+"address.line1", s.Address.Line1, "BR-RO-081", "the seller's street address is required")
		r.need(fieldSeller+"address.city", s.Address.City, "BR-RO-091", "the seller's city is required")
		r.need("customer.address.line1", c.Address.Line1, "BR-RO-082", "the buyer's street address is required")
		r.need("customer.address.city", c.Address.City, "BR-RO-092", "the buyer's city is required")
		r.romanianAddress(fieldSeller+"address.", s.Address, "BR-RO-110", "BR-RO-100")
		r.romanianAddress("customer.address.", c.Address, "BR-RO-111", "BR-RO-101")
		if d := inv.Delivery; d != nil && d.Address != nil {
			r.need("delivery.address.line1", d.Address.Line1, "BR-RO-180", "the delivery address needs a street address")
			r.need("delivery.address.city", d.Address.City, "BR-RO-201", "the delivery address needs a city")
			r.need("delivery.address.region", d.Address.Region, "BR-RO-211", "the delivery address needs a county")
			r.romanianAddress("delivery.address.", *d.Address, "BR-RO-212", "BR-RO-202")
		}
		if cur := strings.ToUpper(strings.TrimSpace(inv.Currency)); cur != "RON" && inv.TaxCurrency != "RON" {
			r.add("taxCurrency", "BR-RO-030", fmt.Sprintf("must be RON for an invoice in %s, with taxExchangeRate, the RON for one %s", cur, cur))
		}
		if !strings.ContainsAny(inv.Number, "0123456789") {
			r.add("number", "BR-RO-010", "the invoice number must contain a digit")
		}
		if utf8.RuneCountInString(strings.TrimSpace(inv.Notes)) > 300 {
			r.add("notes", "BR-RO-L302", "may have at most 300 characters")
		}
		for i, l := range inv.Lines {
			if utf8.RuneCountInString(strings.TrimSpace(l.Description)) > 200 {
				r.add(fmt.Sprintf("lines[%d].description", i), "BR-RO-L212", "may have at most 200 characters")
			}
		}
	}
	if len(r.fe) == 0 {
		return nil
	}
	return r.fe
}

// RequirementsError is Render's error for a document whose profile needs
// what its invoice or seller lacks: Fields, as Requirements returns them.
type RequirementsError struct {
	Profile string
	Fields  invoice.FieldErrors
}

func (e *RequirementsError) Error() string {
	return fmt.Sprintf("ubl: the %s e-invoice lacks what its profile requires: %s",
		e.Profile, strings.TrimPrefix(e.Fields.Error(), "invalid invoice: "))
}

// Unwrap gives the FieldErrors, so that errors.As finds them.
func (e *RequirementsError) Unwrap() error { return e.Fields }

// requirements collects what a profile needs, one message per field.
type requirements struct{ fe invoice.FieldErrors }

func (r *requirements) add(field, rule, msg string) {
	if _, ok := r.fe[field]; !ok {
		r.fe[field] = msg + " (" + rule + ")"
	}
}

func (r *requirements) need(field, value, rule, msg string) {
	if strings.TrimSpace(value) == "" {
		r.add(field, rule, msg)
	}
}

func (r *requirements) peppolEndpoint(field string, e *invoice.Endpoint, rule, who string) {
	switch {
	case e == nil || strings.TrimSpace(e.ID) == "":
		r.add(field, rule, fmt.Sprintf("the %s's Peppol electronic address is required: a scheme such as 0088 (GLN), 0208 or 9930, and an id", who))
	case e.Scheme == schemeEmail:
		r.add(field+".scheme", "PEPPOL-EN16931-CL008", "EM (email) is not a Peppol electronic address scheme")
	}
}

// peppolSlack is how far Peppol lets an amount be from its formula
// (PEPPOL-EN16931-R120, R040).
var peppolSlack = big.NewRat(2, 100)

// peppolPrecision checks that the amounts of an invoice in a currency
// without cents, rounded to whole units, stay within Peppol's slack of
// their exact values: a line's quantity × unit price (R120) and an
// allowance or charge given as a rate of its base (R040; the base as
// Compute filled it in). With cents, rounding is never that far off.
func (r *requirements) peppolPrecision(inv *invoice.Invoice) {
	cur, err := money.ParseCurrency(inv.Currency)
	if err != nil {
		return // Validate names the currency
	}
	digits := invoice.AmountDigits(cur)
	tooFar := func(exact *big.Rat) bool {
		rounded := new(big.Rat).SetFrac(big.NewInt(money.RoundHalfUp(exact, digits)), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil))
		return new(big.Rat).Abs(new(big.Rat).Sub(rounded, exact)).Cmp(peppolSlack) > 0
	}
	for i, l := range inv.Lines {
		qty, err1 := money.ParseDecimal(l.Quantity, invoice.QuantityScale)
		price, err2 := money.ParseDecimal(l.UnitPrice, cur.Digits+invoice.UnitPriceExtra)
		if err1 != nil || err2 != nil {
			continue
		}
		if exact := new(big.Rat).Mul(qty, price); tooFar(exact) {
			r.add(fmt.Sprintf("lines[%d].unitPrice", i), "PEPPOL-EN16931-R120", fmt.Sprintf(
				"quantity × unitPrice is %s, which rounds to whole %s more than 0.02 away: Peppol wants a line net amount within 0.02 of quantity × unit price",
				strings.TrimRight(strings.TrimRight(exact.FloatString(invoice.QuantityScale+cur.Digits+invoice.UnitPriceExtra), "0"), "."), cur.Code))
		}
	}
	for _, side := range []struct {
		field string
		acs   []invoice.AllowanceCharge
	}{{"allowances", inv.Allowances}, {"charges", inv.Charges}} {
		for i, ac := range side.acs {
			if ac.Rate == "" || ac.Base == "" {
				continue
			}
			rate, err1 := money.ParseDecimal(ac.Rate, invoice.RateScale)
			base, err2 := money.ParseDecimal(ac.Base, cur.Digits)
			if err1 != nil || err2 != nil {
				continue
			}
			if exact := new(big.Rat).Quo(new(big.Rat).Mul(base, rate), big.NewRat(100, 1)); tooFar(exact) {
				r.add(fmt.Sprintf("%s[%d].rate", side.field, i), "PEPPOL-EN16931-R040", fmt.Sprintf(
					"%s %% of %s is not within 0.02 of a whole %s: give the amount instead", ac.Rate, ac.Base, cur.Code))
			}
		}
	}
}

// romanianAddress checks the county (ISO 3166-2:RO) and, in Bucharest, the
// sector of a Romanian address.
func (r *requirements) romanianAddress(prefix string, a invoice.Address, regionRule, sectorRule string) {
	if strings.ToUpper(strings.TrimSpace(a.Country)) != "RO" {
		return
	}
	region := strings.TrimSpace(a.Region)
	if !roCounties[region] {
		r.add(prefix+"region", regionRule, fmt.Sprintf("%q is not a Romanian county code of ISO 3166-2:RO, such as RO-CJ, or RO-B for Bucharest", region))
		return
	}
	if region == "RO-B" && !roSectors[strings.TrimSpace(a.City)] {
		r.add(prefix+"city", sectorRule, "in Bucharest (RO-B) the city is the sector, SECTOR1 to SECTOR6")
	}
}

// usedCategories are the VAT categories of doc's lines, allowances and
// charges.
func usedCategories(inv *invoice.Invoice) map[string]bool {
	cats := map[string]bool{}
	for _, l := range inv.Lines {
		cats[invoice.Category(l.TaxCategory, l.TaxRate)] = true
	}
	for _, ac := range append(append([]invoice.AllowanceCharge(nil), inv.Allowances...), inv.Charges...) {
		cats[invoice.Category(ac.TaxCategory, ac.TaxRate)] = true
	}
	return cats
}

// roCounties are the ISO 3166-2:RO codes CIUS-RO accepts (BR-RO-110).
var roCounties = codeSet(`RO-AB RO-AG RO-AR RO-B RO-BC RO-BH RO-BN RO-BR RO-BT RO-BV RO-BZ
	RO-CJ RO-CL RO-CS RO-CT RO-CV RO-DB RO-DJ RO-GJ RO-GL RO-GR RO-HD RO-HR RO-IF RO-IL RO-IS
	RO-MH RO-MM RO-MS RO-NT RO-OT RO-PH RO-SB RO-SJ RO-SM RO-SV RO-TL RO-TM RO-TR RO-VL RO-VN RO-VS`)

// roSectors are Bucharest's sectors as CIUS-RO codes a city in RO-B
// (BR-RO-100).
var roSectors = codeSet("SECTOR1 SECTOR2 SECTOR3 SECTOR4 SECTOR5 SECTOR6")
