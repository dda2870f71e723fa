package invoice

import "slices"

// VAT categories: the UNTDID 5305 codes EN 16931 allows (BT-151, BT-118).
// A line without a category is S when its rate is above 0 and Z when it is
// 0; every other category is chosen by the billing system, which knows why
// no VAT, or a local tax, is charged.
const (
	// CategoryStandard is the standard or a reduced rate, above 0.
	CategoryStandard = "S"
	// CategoryZero is a zero-rated supply: taxable, at 0 %.
	CategoryZero = "Z"
	// CategoryExempt is exempt from VAT, with the reason (e.g. Article
	// 132 of Directive 2006/112/EC, or VATEX-EU-132).
	CategoryExempt = "E"
	// CategoryReverseCharge is VAT reverse charge: the buyer accounts for
	// the VAT ("VATEX-EU-AE").
	CategoryReverseCharge = "AE"
	// CategoryIntraCommunity is an exempt intra-community supply of goods
	// or services to a business in another EU member state ("VATEX-EU-IC").
	CategoryIntraCommunity = "K"
	// CategoryExport is an export outside the EU, free of VAT
	// ("VATEX-EU-G").
	CategoryExport = "G"
	// CategoryOutOfScope is not subject to VAT ("VATEX-EU-O"); an invoice
	// with O lines has no other category.
	CategoryOutOfScope = "O"
	// CategoryCanaryIslands is the Canary Islands general indirect tax
	// (IGIC), at its own rates.
	CategoryCanaryIslands = "L"
	// CategoryCeutaMelilla is the tax for production, services and
	// importation in Ceuta and Melilla (IPSI).
	CategoryCeutaMelilla = "M"
)

// Categories are the VAT categories, in the order a VAT breakdown lists
// them after the rate.
var Categories = []string{
	CategoryStandard, CategoryZero, CategoryExempt, CategoryReverseCharge,
	CategoryIntraCommunity, CategoryExport, CategoryOutOfScope,
	CategoryCanaryIslands, CategoryCeutaMelilla,
}

// NeedsExemptionReason reports whether VAT category cat charges no VAT for
// a reason the invoice must state (BR-E-10, BR-AE-10, BR-IC-10, BR-G-10,
// BR-O-10): as text, as a VATEX code, or both.
func NeedsExemptionReason(cat string) bool {
	switch cat {
	case CategoryExempt, CategoryReverseCharge, CategoryIntraCommunity, CategoryExport, CategoryOutOfScope:
		return true
	}
	return false
}

// ZeroRated reports whether VAT category cat always has rate 0 (all but S,
// L and M).
func ZeroRated(cat string) bool {
	switch cat {
	case CategoryStandard, CategoryCanaryIslands, CategoryCeutaMelilla:
		return false
	}
	return true
}

// Category returns the VAT category of a line or an allowance/charge: the
// one given, else S for a rate above 0 and Z for 0.
func Category(given, rate string) string {
	if given != "" {
		return given
	}
	for _, r := range rate {
		if r >= '1' && r <= '9' {
			return CategoryStandard
		}
	}
	return CategoryZero
}

// AllowanceCharge is a document level allowance (BG-20) or charge (BG-21):
// an amount off or on the whole invoice, such as a loyalty discount or a
// shipping fee, with its own VAT rate and category. Give Amount, or Rate
// (percent) of Base; Base defaults to the sum of the line net amounts.
type AllowanceCharge struct {
	Reason string `json:"reason,omitempty"`
	// ReasonCode is UNTDID 5189 for an allowance (e.g. 95 discount),
	// UNTDID 7161 for a charge (e.g. FC freight).
	ReasonCode string `json:"reasonCode,omitempty"`
	// Amount is the allowance or charge without VAT; computed from Rate
	// and Base when Rate is given.
	Amount string `json:"amount,omitempty"`
	Rate   string `json:"rate,omitempty"`
	Base   string `json:"base,omitempty"`
	// TaxRate and TaxCategory are the VAT on it, as a line's.
	TaxRate     string `json:"taxRate"`
	TaxCategory string `json:"taxCategory,omitempty"`
}

// Period is a span of dates, both included, such as the invoicing period
// (BG-14): the month a subscription invoice bills.
type Period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Delivery is where and when goods or services were delivered (BG-13).
type Delivery struct {
	// Date is the actual delivery date (BT-72).
	Date string `json:"date,omitempty"`
	// PartyName is the name of the party delivered to (BT-70).
	PartyName string   `json:"partyName,omitempty"`
	Address   *Address `json:"address,omitempty"`
}

// Endpoint is a party's electronic address (BT-34, BT-49): where an
// e-invoicing network such as Peppol delivers its documents. Scheme is a
// code of the CEF Electronic Address Scheme list, e.g. 0088 (GLN), 0208
// (Belgian enterprise number), 9930 (German VAT number), 0192 (Norwegian
// organisation number), EM (email).
type Endpoint struct {
	Scheme string `json:"scheme"`
	ID     string `json:"id"`
}

// E-invoice profiles: the specification an invoice's XML follows (BT-24)
// and the rules it is checked against.
const (
	// ProfileEN16931 is the European standard's core, with no further
	// rules.
	ProfileEN16931 = "en16931"
	// ProfilePeppol is Peppol BIS Billing 3.0.
	ProfilePeppol = "peppol"
	// ProfileXRechnung is XRechnung 3.0, Germany's CIUS for public
	// buyers.
	ProfileXRechnung = "xrechnung"
	// ProfileCIUSRO is CIUS-RO, Romania's CIUS for RO e-Factura.
	ProfileCIUSRO = "cius-ro"
)

// Profiles are the e-invoice profiles invoiced writes.
var Profiles = []string{ProfileEN16931, ProfilePeppol, ProfileXRechnung, ProfileCIUSRO}

// ValidProfile reports whether p names an e-invoice profile.
func ValidProfile(p string) bool { return slices.Contains(Profiles, p) }
