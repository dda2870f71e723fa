package ubl

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
)

// The structure tests hold what Render writes against the content models of
// the OASIS UBL 2.1 schemas (os-UBL-2.1: the Invoice and CreditNote
// document schemas and the common aggregate components): the children each
// aggregate may have, in the order its xsd:sequence gives them, and how
// often each may occur. A schema validator rejects a document for exactly
// these faults, and they are the ones a change to the structs of ubl.go can
// introduce; the value types of the basic components (dates, codes,
// amounts) are left to Check.

// nsExtension is the namespace of ext:UBLExtensions, the first child of
// every UBL document, which Render does not write.
const nsExtension = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"

// ublSequences lists, per UBL 2.1 complex type, the elements of its
// sequence in schema order. A name alone occurs exactly once; "?" marks at
// most once, "*" any number of times and "+" at least once. Only the types
// of the aggregates Render writes are here; an aggregate of any other type
// fails TestRenderSchemaStructure until its type is added.
var ublSequences = map[string]string{
	"InvoiceType": `ext:UBLExtensions? cbc:UBLVersionID? cbc:CustomizationID? cbc:ProfileID?
		cbc:ProfileExecutionID? cbc:ID cbc:CopyIndicator? cbc:UUID? cbc:IssueDate cbc:IssueTime?
		cbc:DueDate? cbc:InvoiceTypeCode? cbc:Note* cbc:TaxPointDate? cbc:DocumentCurrencyCode?
		cbc:TaxCurrencyCode? cbc:PricingCurrencyCode? cbc:PaymentCurrencyCode?
		cbc:PaymentAlternativeCurrencyCode? cbc:AccountingCostCode? cbc:AccountingCost?
		cbc:LineCountNumeric? cbc:BuyerReference? cac:InvoicePeriod* cac:OrderReference?
		cac:BillingReference* cac:DespatchDocumentReference* cac:ReceiptDocumentReference*
		cac:StatementDocumentReference* cac:OriginatorDocumentReference*
		cac:ContractDocumentReference* cac:AdditionalDocumentReference* cac:ProjectReference*
		cac:Signature* cac:AccountingSupplierParty cac:AccountingCustomerParty cac:PayeeParty?
		cac:BuyerCustomerParty? cac:SellerSupplierParty? cac:TaxRepresentativeParty? cac:Delivery*
		cac:DeliveryTerms? cac:PaymentMeans* cac:PaymentTerms* cac:PrepaidPayment*
		cac:AllowanceCharge* cac:TaxExchangeRate? cac:PricingExchangeRate? cac:PaymentExchangeRate?
		cac:PaymentAlternativeExchangeRate? cac:TaxTotal* cac:WithholdingTaxTotal*
		cac:LegalMonetaryTotal cac:InvoiceLine+`,
	// A credit note has no DueDate, puts TaxPointDate before its type code
	// and AllowanceCharge after the exchange rates, and has no
	// PrepaidPayment nor WithholdingTaxTotal.
	"CreditNoteType": `ext:UBLExtensions? cbc:UBLVersionID? cbc:CustomizationID? cbc:ProfileID?
		cbc:ProfileExecutionID? cbc:ID cbc:CopyIndicator? cbc:UUID? cbc:IssueDate cbc:IssueTime?
		cbc:TaxPointDate? cbc:CreditNoteTypeCode? cbc:Note* cbc:DocumentCurrencyCode?
		cbc:TaxCurrencyCode? cbc:PricingCurrencyCode? cbc:PaymentCurrencyCode?
		cbc:PaymentAlternativeCurrencyCode? cbc:AccountingCostCode? cbc:AccountingCost?
		cbc:LineCountNumeric? cbc:BuyerReference? cac:InvoicePeriod* cac:DiscrepancyResponse*
		cac:OrderReference? cac:BillingReference* cac:DespatchDocumentReference*
		cac:ReceiptDocumentReference* cac:ContractDocumentReference*
		cac:AdditionalDocumentReference* cac:StatementDocumentReference*
		cac:OriginatorDocumentReference* cac:Signature* cac:AccountingSupplierParty
		cac:AccountingCustomerParty cac:PayeeParty? cac:BuyerCustomerParty? cac:SellerSupplierParty?
		cac:TaxRepresentativeParty? cac:Delivery* cac:DeliveryTerms* cac:PaymentMeans*
		cac:PaymentTerms* cac:TaxExchangeRate? cac:PricingExchangeRate? cac:PaymentExchangeRate?
		cac:PaymentAlternativeExchangeRate? cac:AllowanceCharge* cac:TaxTotal*
		cac:LegalMonetaryTotal cac:CreditNoteLine+`,
	// In an invoice line AllowanceCharge precedes TaxTotal; in a credit
	// note line it follows it.
	"InvoiceLineType": `cbc:ID cbc:UUID? cbc:Note* cbc:InvoicedQuantity? cbc:LineExtensionAmount
		cbc:TaxPointDate? cbc:AccountingCostCode? cbc:AccountingCost? cbc:PaymentPurposeCode?
		cbc:FreeOfChargeIndicator? cac:InvoicePeriod* cac:OrderLineReference*
		cac:DespatchLineReference* cac:ReceiptLineReference* cac:BillingReference*
		cac:DocumentReference* cac:PricingReference? cac:OriginatorParty? cac:Delivery*
		cac:PaymentTerms* cac:AllowanceCharge* cac:TaxTotal* cac:WithholdingTaxTotal* cac:Item
		cac:Price? cac:DeliveryTerms? cac:SubInvoiceLine* cac:ItemPriceExtension?`,
	"CreditNoteLineType": `cbc:ID cbc:UUID? cbc:Note* cbc:CreditedQuantity? cbc:LineExtensionAmount?
		cbc:TaxPointDate? cbc:AccountingCostCode? cbc:AccountingCost? cbc:PaymentPurposeCode?
		cbc:FreeOfChargeIndicator? cac:InvoicePeriod* cac:OrderLineReference*
		cac:DiscrepancyResponse* cac:DespatchLineReference* cac:ReceiptLineReference*
		cac:BillingReference* cac:DocumentReference* cac:PricingReference? cac:OriginatorParty?
		cac:Delivery* cac:PaymentTerms* cac:TaxTotal* cac:AllowanceCharge* cac:Item? cac:Price?
		cac:DeliveryTerms* cac:SubCreditNoteLine* cac:ItemPriceExtension?`,
	"SupplierPartyType": `cbc:CustomerAssignedAccountID? cbc:AdditionalAccountID*
		cbc:DataSendingCapability? cac:Party? cac:DespatchContact? cac:AccountingContact?
		cac:SellerContact?`,
	"CustomerPartyType": `cbc:CustomerAssignedAccountID? cbc:SupplierAssignedAccountID?
		cbc:AdditionalAccountID* cac:Party? cac:DeliveryContact? cac:AccountingContact?
		cac:BuyerContact?`,
	"PartyType": `cbc:MarkCareIndicator? cbc:MarkAttentionIndicator? cbc:WebsiteURI?
		cbc:LogoReferenceID? cbc:EndpointID? cbc:IndustryClassificationCode?
		cac:PartyIdentification* cac:PartyName* cac:Language? cac:PostalAddress?
		cac:PhysicalLocation? cac:PartyTaxScheme* cac:PartyLegalEntity* cac:Contact? cac:Person*
		cac:AgentParty? cac:ServiceProviderParty* cac:PowerOfAttorney* cac:FinancialAccount?`,
	"PartyNameType": `cbc:Name`,
	"BillingReferenceType": `ext:UBLExtensions? cac:InvoiceDocumentReference?
		cac:SelfBilledInvoiceDocumentReference? cac:CreditNoteDocumentReference?
		cac:SelfBilledCreditNoteDocumentReference? cac:DebitNoteDocumentReference?
		cac:ReminderDocumentReference? cac:AdditionalDocumentReference? cac:BillingReferenceLine*`,
	"DocumentReferenceType": `ext:UBLExtensions? cbc:ID cbc:CopyIndicator? cbc:UUID? cbc:IssueDate?
		cbc:IssueTime? cbc:DocumentTypeCode? cbc:DocumentType* cbc:XPath* cbc:LanguageID?
		cbc:LocaleCode? cbc:VersionID? cbc:DocumentStatusCode? cbc:DocumentDescription*
		cac:Attachment? cac:ValidityPeriod? cac:IssuerParty? cac:ResultOfVerification?`,
	"AddressType": `cbc:ID? cbc:AddressTypeCode? cbc:AddressFormatCode? cbc:Postbox? cbc:Floor?
		cbc:Room? cbc:StreetName? cbc:AdditionalStreetName? cbc:BlockName? cbc:BuildingName?
		cbc:BuildingNumber? cbc:InhouseMail? cbc:Department? cbc:MarkAttention? cbc:MarkCare?
		cbc:PlotIdentification? cbc:CitySubdivisionName? cbc:CityName? cbc:PostalZone?
		cbc:CountrySubentity? cbc:CountrySubentityCode? cbc:Region? cbc:District?
		cbc:TimezoneOffset? cac:AddressLine* cac:Country? cac:LocationCoordinate*`,
	"CountryType": `cbc:IdentificationCode? cbc:Name?`,
	"PartyTaxSchemeType": `cbc:RegistrationName? cbc:CompanyID? cbc:TaxLevelCode?
		cbc:ExemptionReasonCode? cbc:ExemptionReason* cac:RegistrationAddress? cac:TaxScheme`,
	"TaxSchemeType": `cbc:ID? cbc:Name? cbc:TaxTypeCode? cbc:CurrencyCode?
		cac:JurisdictionRegionAddress*`,
	"PartyLegalEntityType": `cbc:RegistrationName? cbc:CompanyID? cbc:RegistrationDate?
		cbc:RegistrationExpirationDate? cbc:CompanyLegalFormCode? cbc:CompanyLegalForm?
		cbc:SoleProprietorshipIndicator? cbc:CompanyLiquidationStatusCode?
		cbc:CorporateStockAmount? cbc:FullyPaidSharesIndicator? cac:RegistrationAddress?
		cac:CorporateRegistrationScheme? cac:HeadOfficeParty? cac:ShareholderParty*`,
	"ContactType": `cbc:ID? cbc:Name? cbc:Telephone? cbc:Telefax? cbc:ElectronicMail? cbc:Note*
		cac:OtherCommunication*`,
	"PaymentMeansType": `cbc:ID? cbc:PaymentMeansCode cbc:PaymentDueDate? cbc:PaymentChannelCode?
		cbc:InstructionID? cbc:InstructionNote* cbc:PaymentID* cac:CardAccount?
		cac:PayerFinancialAccount? cac:PayeeFinancialAccount? cac:CreditAccount?
		cac:PaymentMandate? cac:TradeFinancing?`,
	"FinancialAccountType": `cbc:ID? cbc:Name? cbc:AliasName? cbc:AccountTypeCode?
		cbc:AccountFormatCode? cbc:CurrencyCode? cbc:PaymentNote* cac:FinancialInstitutionBranch?
		cac:Country?`,
	"BranchType": `cbc:ID? cbc:Name? cac:FinancialInstitution? cac:Address?`,
	"PaymentTermsType": `cbc:ID? cbc:PaymentMeansID* cbc:PrepaidPaymentReferenceID? cbc:Note*
		cbc:ReferenceEventCode? cbc:SettlementDiscountPercent? cbc:PenaltySurchargePercent?
		cbc:PaymentPercent? cbc:Amount? cbc:SettlementDiscountAmount? cbc:PenaltyAmount?
		cbc:PaymentTermsDetailsURI? cbc:PaymentDueDate? cbc:InstallmentDueDate?
		cbc:InvoicingPartyReference? cac:SettlementPeriod? cac:PenaltyPeriod? cac:ExchangeRate?
		cac:ValidityPeriod?`,
	"TaxTotalType": `cbc:TaxAmount cbc:RoundingAmount? cbc:TaxEvidenceIndicator?
		cbc:TaxIncludedIndicator? cac:TaxSubtotal*`,
	"TaxSubtotalType": `cbc:TaxableAmount? cbc:TaxAmount cbc:CalculationSequenceNumeric?
		cbc:TransactionCurrencyTaxAmount? cbc:Percent? cbc:BaseUnitMeasure? cbc:PerUnitAmount?
		cbc:TierRange? cbc:TierRatePercent? cac:TaxCategory`,
	"TaxCategoryType": `cbc:ID? cbc:Name? cbc:Percent? cbc:BaseUnitMeasure? cbc:PerUnitAmount?
		cbc:TaxExemptionReasonCode? cbc:TaxExemptionReason* cbc:TierRange? cbc:TierRatePercent?
		cac:TaxScheme`,
	"MonetaryTotalType": `cbc:LineExtensionAmount? cbc:TaxExclusiveAmount? cbc:TaxInclusiveAmount?
		cbc:AllowanceTotalAmount? cbc:ChargeTotalAmount? cbc:PrepaidAmount?
		cbc:PayableRoundingAmount? cbc:PayableAmount cbc:PayableAlternativeAmount?`,
	"AllowanceChargeType": `cbc:ID? cbc:ChargeIndicator cbc:AllowanceChargeReasonCode?
		cbc:AllowanceChargeReason* cbc:MultiplierFactorNumeric? cbc:PrepaidIndicator?
		cbc:SequenceNumeric? cbc:Amount cbc:BaseAmount? cbc:AccountingCostCode? cbc:AccountingCost?
		cbc:PerUnitAmount? cac:TaxCategory* cac:TaxTotal? cac:PaymentMeans*`,
	"ItemType": `cbc:Description* cbc:PackQuantity? cbc:PackSizeNumeric? cbc:CatalogueIndicator?
		cbc:Name? cbc:HazardousRiskIndicator? cbc:AdditionalInformation* cbc:Keyword*
		cbc:BrandName* cbc:ModelName* cac:BuyersItemIdentification? cac:SellersItemIdentification?
		cac:ManufacturersItemIdentification* cac:StandardItemIdentification?
		cac:CatalogueItemIdentification? cac:AdditionalItemIdentification*
		cac:CatalogueDocumentReference? cac:ItemSpecificationDocumentReference* cac:OriginCountry?
		cac:CommodityClassification* cac:TransactionConditions* cac:HazardousItem*
		cac:ClassifiedTaxCategory* cac:AdditionalItemProperty* cac:ManufacturerParty*
		cac:InformationContentProviderParty? cac:OriginAddress* cac:ItemInstance* cac:Certificate*
		cac:Dimension*`,
	"PeriodType": `cbc:StartDate? cbc:StartTime? cbc:EndDate? cbc:EndTime? cbc:DurationMeasure?
		cbc:DescriptionCode* cbc:Description*`,
	"OrderReferenceType": `cbc:ID cbc:SalesOrderID? cbc:CopyIndicator? cbc:UUID? cbc:IssueDate?
		cbc:IssueTime? cbc:CustomerReference? cbc:OrderTypeCode? cac:DocumentReference?`,
	"DeliveryType": `cbc:ID? cbc:Quantity? cbc:MinimumQuantity? cbc:MaximumQuantity?
		cbc:ActualDeliveryDate? cbc:ActualDeliveryTime? cbc:LatestDeliveryDate? cbc:LatestDeliveryTime?
		cbc:ReleaseID? cbc:TrackingID? cac:DeliveryAddress? cac:DeliveryLocation?
		cac:AlternativeDeliveryLocation? cac:RequestedDeliveryPeriod? cac:PromisedDeliveryPeriod?
		cac:EstimatedDeliveryPeriod? cac:CarrierParty? cac:DeliveryParty? cac:NotifyParty* cac:Despatch?
		cac:DeliveryTerms* cac:MinimumDeliveryUnit? cac:MaximumDeliveryUnit? cac:Shipment?`,
	"LocationType": `cbc:ID? cbc:Description* cbc:Conditions* cbc:CountrySubentity?
		cbc:CountrySubentityCode? cbc:LocationTypeCode? cbc:InformationURI? cbc:Name?
		cac:ValidityPeriod* cac:Address? cac:SubsidiaryLocation* cac:LocationCoordinate*`,
	"PriceType": `cbc:PriceAmount cbc:BaseQuantity? cbc:PriceChangeReason* cbc:PriceTypeCode?
		cbc:PriceType? cbc:OrderableUnitFactorRate? cac:ValidityPeriod* cac:PriceList?
		cac:AllowanceCharge* cac:PricingExchangeRate?`,
}

// ublElementTypes gives the type of each aggregate element Render writes.
// UBL declares its aggregates globally, so an element has the same type
// under every parent.
var ublElementTypes = map[string]string{
	"cac:AccountingSupplierParty":    "SupplierPartyType",
	"cac:AccountingCustomerParty":    "CustomerPartyType",
	"cac:Party":                      "PartyType",
	"cac:BillingReference":           "BillingReferenceType",
	"cac:InvoiceDocumentReference":   "DocumentReferenceType",
	"cac:PartyName":                  "PartyNameType",
	"cac:PostalAddress":              "AddressType",
	"cac:Country":                    "CountryType",
	"cac:PartyTaxScheme":             "PartyTaxSchemeType",
	"cac:TaxScheme":                  "TaxSchemeType",
	"cac:PartyLegalEntity":           "PartyLegalEntityType",
	"cac:Contact":                    "ContactType",
	"cac:PaymentMeans":               "PaymentMeansType",
	"cac:PayeeFinancialAccount":      "FinancialAccountType",
	"cac:FinancialInstitutionBranch": "BranchType",
	"cac:PaymentTerms":               "PaymentTermsType",
	"cac:TaxTotal":                   "TaxTotalType",
	"cac:TaxSubtotal":                "TaxSubtotalType",
	"cac:TaxCategory":                "TaxCategoryType",
	"cac:ClassifiedTaxCategory":      "TaxCategoryType",
	"cac:LegalMonetaryTotal":         "MonetaryTotalType",
	"cac:InvoiceLine":                "InvoiceLineType",
	"cac:CreditNoteLine":             "CreditNoteLineType",
	"cac:AllowanceCharge":            "AllowanceChargeType",
	"cac:Item":                       "ItemType",
	"cac:Price":                      "PriceType",
	"cac:InvoicePeriod":              "PeriodType",
	"cac:OrderReference":             "OrderReferenceType",
	"cac:ContractDocumentReference":  "DocumentReferenceType",
	"cac:Delivery":                   "DeliveryType",
	"cac:DeliveryLocation":           "LocationType",
	"cac:Address":                    "AddressType",
	"cac:DeliveryParty":              "PartyType",
}

// unbounded is the max of a particle that may repeat without limit.
const unbounded = -1

// particle is one element of a sequence and how often it may occur.
type particle struct {
	name     string
	min, max int
}

// parseSequences reads ublSequences, failing on a token it cannot read and
// on an element listed twice in one type, which the checker assumes away.
func parseSequences(t *testing.T) map[string][]particle {
	t.Helper()
	types := make(map[string][]particle, len(ublSequences))
	for typ, text := range ublSequences {
		seen := map[string]bool{}
		for _, tok := range strings.Fields(text) {
			p := particle{name: tok, min: 1, max: 1}
			switch tok[len(tok)-1] {
			case '?':
				p = particle{name: tok[:len(tok)-1], min: 0, max: 1}
			case '*':
				p = particle{name: tok[:len(tok)-1], min: 0, max: unbounded}
			case '+':
				p = particle{name: tok[:len(tok)-1], min: 1, max: unbounded}
			}
			prefix, local, ok := strings.Cut(p.name, ":")
			if !ok || local == "" || (prefix != "cbc" && prefix != "cac" && prefix != "ext") {
				t.Fatalf("%s: cannot read %q", typ, tok)
			}
			if seen[p.name] {
				t.Fatalf("%s lists %s twice", typ, p.name)
			}
			seen[p.name] = true
			types[typ] = append(types[typ], p)
		}
	}
	for elem, typ := range ublElementTypes {
		if types[typ] == nil {
			t.Fatalf("%s has type %s, which has no sequence", elem, typ)
		}
	}
	return types
}

// structureChecker collects the ways a document departs from ublSequences.
type structureChecker struct {
	types    map[string][]particle
	problems []string
	// seen counts the elements checked, by qualified name.
	seen map[string]int
}

// checkStructure checks doc, a UBL Invoice or CreditNote, against the
// sequences in types. It returns one line per problem, naming the path, and
// how often each element occurred.
func checkStructure(types map[string][]particle, doc []byte) (problems []string, seen map[string]int) {
	root, err := parseTree(doc)
	if err != nil {
		return []string{"not well-formed XML: " + err.Error()}, nil
	}
	c := &structureChecker{types: types, seen: map[string]int{}}
	switch root.name {
	case xml.Name{Space: nsInvoice, Local: "Invoice"}:
		c.aggregate(root, "Invoice", "InvoiceType")
	case xml.Name{Space: nsCreditNote, Local: "CreditNote"}:
		c.aggregate(root, "CreditNote", "CreditNoteType")
	default:
		c.fail("/", "root {%s}%s is neither a UBL 2.1 Invoice nor a CreditNote", root.name.Space, root.name.Local)
	}
	return c.problems, c.seen
}

func (c *structureChecker) fail(path, format string, args ...any) {
	c.problems = append(c.problems, path+": "+fmt.Sprintf(format, args...))
}

// qualified names an element by the prefix of its namespace, as the
// sequences do; an element of any other namespace keeps its URI, so that it
// matches no particle.
func qualified(n xml.Name) string {
	switch n.Space {
	case nsCBC:
		return "cbc:" + n.Local
	case nsCAC:
		return "cac:" + n.Local
	case nsExtension:
		return "ext:" + n.Local
	}
	return "{" + n.Space + "}" + n.Local
}

// aggregate checks the children of n, of type typ, against its sequence:
// each must be allowed, come no earlier than the one before it, and not
// repeat beyond its max; then each particle must have occurred its min.
func (c *structureChecker) aggregate(n *node, path, typ string) {
	seq := c.types[typ]
	if strings.TrimSpace(string(n.chars)) != "" {
		c.fail(path, "%s has text %q; an aggregate holds only elements", typ, strings.TrimSpace(string(n.chars)))
	}
	counts := make([]int, len(seq))
	last := -1
	for _, k := range n.kids {
		name := qualified(k.name)
		i := particleIndex(seq, name)
		switch {
		case i < 0:
			c.fail(path, "%s is not allowed in %s", name, typ)
			continue
		case i < last:
			c.fail(path, "%s comes after %s, but %s puts it before", name, seq[last].name, typ)
		case seq[i].max != unbounded && counts[i] >= seq[i].max:
			c.fail(path, "%s occurs more than %d time(s) in %s", name, seq[i].max, typ)
		}
		counts[i]++
		last = max(last, i)
		c.element(k, path+"/"+name, name)
	}
	for i, p := range seq {
		if counts[i] < p.min {
			c.fail(path, "%s is missing; %s requires it", p.name, typ)
		}
	}
}

// element checks one child: a basic component holds no elements, and an
// aggregate must be one whose type the table knows.
func (c *structureChecker) element(n *node, path, name string) {
	c.seen[name]++
	if strings.HasPrefix(name, "cbc:") {
		if len(n.kids) > 0 {
			c.fail(path, "basic component %s has element children (%s first)", name, qualified(n.kids[0].name))
		}
		return
	}
	typ, ok := ublElementTypes[name]
	if !ok {
		c.fail(path, "no sequence is known for %s: add its UBL 2.1 type to ublSequences and ublElementTypes", name)
		return
	}
	c.aggregate(n, path, typ)
}

func particleIndex(seq []particle, name string) int {
	for i, p := range seq {
		if p.name == name {
			return i
		}
	}
	return -1
}

// structureDocs are the documents the structure test renders: the golden
// set and variants of them that switch on or off each optional part Render
// writes.
func structureDocs(t *testing.T) map[string]Document {
	t.Helper()
	// with changes a freshly built document and computes it again.
	with := func(d Document, change func(*Document)) Document {
		change(&d)
		d.Invoice = computed(t, d.Invoice)
		return d
	}
	docs := map[string]Document{
		"design":                    designDoc(t),
		"credit note":               creditDoc(t),
		"credit note of an invoice": correctingDoc(t),
		"multi-rate":                multiRateDoc(t),
		"ten lines with discounts":  tenLineDoc(t),
		"JPY, tax registration":     jpyDoc(t),
		"BHD":                       bhdDoc(t),
		"credit note with discounts and three rates": with(multiRateDoc(t), func(d *Document) {
			d.Invoice.AmountPaid = ""
			for i := range d.Invoice.Lines {
				d.Invoice.Lines[i].Quantity = "-" + d.Invoice.Lines[i].Quantity
			}
		}),
		"seller without VAT id or registration": with(designDoc(t), func(d *Document) {
			d.Seller.VATID, d.Seller.RegistrationNumber = "", ""
		}),
		"seller with a tax registration, buyer with a VAT id": with(designDoc(t), func(d *Document) {
			d.Seller.VATID, d.Invoice.Customer.VATID = "18547290", "DE123456789"
		}),
		"buyer with a legal registration": with(designDoc(t), func(d *Document) {
			d.Invoice.Customer.VATID = "12345678"
		}),
		"parties with names only": with(designDoc(t), func(d *Document) {
			d.Seller = invoice.Seller{Name: "ACME SRL", VATID: "RO18547290"}
			d.Invoice.Customer = invoice.Customer{Name: "Walk-in customer"}
		}),
		"parties without names": with(designDoc(t), func(d *Document) {
			d.Seller.Name, d.Invoice.Customer.Name = "", ""
		}),
		"no notes, reference nor terms": with(designDoc(t), func(d *Document) {
			d.Invoice.Notes, d.Invoice.Reference, d.Invoice.Terms = "", "", ""
			d.Invoice.DueDate, d.Invoice.PaymentLink = "", ""
		}),
		"no IBAN": with(designDoc(t), func(d *Document) {
			d.Bank = invoice.BankAccount{}
		}),
		"IBAN without BIC or holder": with(designDoc(t), func(d *Document) {
			d.Bank = invoice.BankAccount{IBAN: "DE89 3704 0044 0532 0130 00"}
		}),
		"non-SEPA transfer": with(designDoc(t), func(d *Document) {
			d.Bank.IBAN = "TR330006100519786457841326"
		}),
		"partial payment": with(designDoc(t), func(d *Document) {
			d.Invoice.AmountPaid = "100.00"
		}),
	}
	// The e-invoice table's documents, in every profile, write what the
	// invoice's e-invoice fields add.
	for _, profile := range invoice.Profiles {
		for _, c := range einvoiceCases {
			if c.tamper == nil && !strings.HasPrefix(c.name, "1,000") {
				docs[profile+"/"+c.name] = tableDoc(t, profile, c)
			}
		}
	}
	return docs
}

// TestRenderSchemaStructure checks every golden file and every document of
// structureDocs against the UBL 2.1 sequences.
func TestRenderSchemaStructure(t *testing.T) {
	t.Parallel()
	types := parseSequences(t)

	golden, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(golden) < 6 {
		t.Fatalf("found %d golden files, want at least 6", len(golden))
	}
	for _, path := range golden {
		t.Run("golden/"+filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			doc, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			problems, _ := checkStructure(types, doc)
			for _, p := range problems {
				t.Error(p)
			}
		})
	}

	// Every element the structs of ubl.go can write must turn up in some
	// rendered document, or its place in the sequence goes unchecked.
	seen := map[string]int{}
	creditAllowances := 0
	for name, d := range structureDocs(t) {
		// The structure alone: some variants lack what a profile needs.
		doc, err := render(d)
		if err != nil {
			t.Fatalf("%s: render: %v", name, err)
		}
		problems, counts := checkStructure(types, doc)
		for elem, n := range counts {
			seen[elem] += n
		}
		if root, err := parseTree(doc); err == nil {
			for _, line := range root.all("cac:CreditNoteLine") {
				if line.find("cac:AllowanceCharge") != nil {
					creditAllowances++
				}
			}
		}
		t.Run("rendered/"+name, func(t *testing.T) {
			t.Parallel()
			for _, p := range problems {
				t.Error(p)
			}
		})
	}
	writable := map[string]bool{}
	writableElements(reflect.TypeFor[document](), writable)
	if len(writable) < 50 {
		t.Fatalf("found only %d element names in the structs of ubl.go", len(writable))
	}
	for elem := range writable {
		if seen[elem] == 0 {
			t.Errorf("no rendered document has %s: add one to structureDocs", elem)
		}
	}
	// A credit note line has its allowances in another place.
	if creditAllowances == 0 {
		t.Error("no rendered credit note has a line allowance: add one to structureDocs")
	}
}

// writableElements adds to names the element names in the xml tags of
// struct type typ and of the structs it holds.
func writableElements(typ reflect.Type, names map[string]bool) {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		return
	}
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("xml"), ",")
		if f.Name == "XMLName" || name == "" || name == "-" || strings.Contains(f.Tag.Get("xml"), ",attr") {
			continue
		}
		names[name] = true
		writableElements(f.Type, names)
	}
}

// TestSchemaStructureFindsFaults breaks rendered documents the ways a schema
// validator would reject them and expects the checker to say so, so that a
// clean result above means something.
func TestSchemaStructureFindsFaults(t *testing.T) {
	t.Parallel()
	types := parseSequences(t)
	tests := []struct {
		name  string
		doc   func(testing.TB) Document
		edits []edit
		// want is part of the problem expected; "" expects none, for an
		// edit that keeps the document valid.
		want string
	}{
		{"two header elements swapped", designDoc, []edit{
			{"<cbc:ID>INV-1001</cbc:ID>", "<cbc:IssueDate>2026-11-21</cbc:IssueDate>", 1},
			{"<cbc:IssueDate>2026-11-21</cbc:IssueDate>", "<cbc:ID>INV-1001</cbc:ID>", 2},
		}, "Invoice: cbc:ID comes after cbc:IssueDate, but InvoiceType puts it before"},
		{"price before item", designDoc, []edit{
			{"<cac:Item>", "<cac:Price><cbc:PriceAmount currencyID=\"EUR\">95.00</cbc:PriceAmount></cac:Price><cac:Item>", 1},
			{"<cac:Price>\n      <cbc:PriceAmount currencyID=\"EUR\">95.00</cbc:PriceAmount>\n    </cac:Price>", "", 1},
		}, "Invoice/cac:InvoiceLine: cac:Item comes after cac:Price, but InvoiceLineType puts it before"},
		{"line tax total after the allowance", multiRateDoc, []edit{
			{"<cac:Item>", "<cac:TaxTotal><cbc:TaxAmount currencyID=\"RON\">5.70</cbc:TaxAmount></cac:TaxTotal><cac:Item>", 2},
		}, ""}, // valid in an invoice line
		{"line tax total before the allowance", multiRateDoc, []edit{
			{"<cac:AllowanceCharge>", "<cac:TaxTotal><cbc:TaxAmount currencyID=\"RON\">5.70</cbc:TaxAmount></cac:TaxTotal><cac:AllowanceCharge>", 1},
		}, "Invoice/cac:InvoiceLine: cac:AllowanceCharge comes after cac:TaxTotal, but InvoiceLineType puts it before"},
		{"payable amount twice", designDoc, []edit{
			{"</cac:LegalMonetaryTotal>", "<cbc:PayableAmount currencyID=\"EUR\">1130.50</cbc:PayableAmount></cac:LegalMonetaryTotal>", 1},
		}, "Invoice/cac:LegalMonetaryTotal: cbc:PayableAmount occurs more than 1 time(s) in MonetaryTotalType"},
		{"two monetary totals", designDoc, []edit{
			{"<cac:LegalMonetaryTotal>", "<cac:LegalMonetaryTotal><cbc:PayableAmount currencyID=\"EUR\">1130.50</cbc:PayableAmount></cac:LegalMonetaryTotal><cac:LegalMonetaryTotal>", 1},
		}, "Invoice: cac:LegalMonetaryTotal occurs more than 1 time(s) in InvoiceType"},
		{"no payable amount", designDoc, []edit{
			{"<cbc:PayableAmount currencyID=\"EUR\">1130.50</cbc:PayableAmount>", "", 1},
		}, "Invoice/cac:LegalMonetaryTotal: cbc:PayableAmount is missing; MonetaryTotalType requires it"},
		{"tax category without scheme", designDoc, []edit{
			{"<cac:TaxScheme>\n          <cbc:ID>VAT</cbc:ID>\n        </cac:TaxScheme>\n      </cac:TaxCategory>", "</cac:TaxCategory>", 1},
		}, "Invoice/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory: cac:TaxScheme is missing; TaxCategoryType requires it"},
		{"no lines", designDoc, []edit{
			{"<cac:InvoiceLine>", "<!--", 1}, {"</cac:InvoiceLine>", "-->", 1},
		}, "Invoice: cac:InvoiceLine is missing; InvoiceType requires it"},
		{"due date in a credit note", creditDoc, []edit{
			{"<cbc:CreditNoteTypeCode>", "<cbc:DueDate>2026-12-12</cbc:DueDate><cbc:CreditNoteTypeCode>", 1},
		}, "CreditNote: cbc:DueDate is not allowed in CreditNoteType"},
		{"type code before tax point date in a credit note", creditDoc, []edit{
			{"</cbc:CreditNoteTypeCode>", "</cbc:CreditNoteTypeCode><cbc:TaxPointDate>2026-11-28</cbc:TaxPointDate>", 1},
		}, "CreditNote: cbc:TaxPointDate comes after cbc:CreditNoteTypeCode, but CreditNoteType puts it before"},
		{"basic component in the aggregate namespace", designDoc, []edit{
			{"<cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>", "<cac:PaymentMeansCode>58</cac:PaymentMeansCode>", 1},
		}, "Invoice/cac:PaymentMeans: cac:PaymentMeansCode is not allowed in PaymentMeansType"},
		{"element without a prefix", designDoc, []edit{
			{"<cbc:ID>INV-1001</cbc:ID>", "<ID>INV-1001</ID>", 1},
		}, "Invoice: {" + nsInvoice + "}ID is not allowed in InvoiceType"},
		{"prefix bound to another namespace", designDoc, []edit{
			{`<cac:PartyName>`, `<cac:PartyName xmlns:cbc="urn:example:basic">`, 1},
		}, "Invoice/cac:AccountingSupplierParty/cac:Party/cac:PartyName: {urn:example:basic}Name is not allowed in PartyNameType"},
		{"aggregate without a known type", designDoc, []edit{
			{"<cac:AccountingSupplierParty>", "<cac:ProjectReference><cbc:ID>P-1</cbc:ID></cac:ProjectReference><cac:AccountingSupplierParty>", 1},
		}, "Invoice/cac:ProjectReference: no sequence is known for cac:ProjectReference"},
		{"text in an aggregate", designDoc, []edit{
			{"<cac:PartyName>", "<cac:PartyName>ACME", 1},
		}, `PartyNameType has text "ACME"`},
		{"element inside a basic component", designDoc, []edit{
			{"<cbc:Telephone>+40264123456</cbc:Telephone>", "<cbc:Telephone><cbc:ID>+40264123456</cbc:ID></cbc:Telephone>", 1},
		}, "basic component cbc:Telephone has element children (cbc:ID first)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := Render(tt.doc(t))
			if err != nil {
				t.Fatal(err)
			}
			if p, _ := checkStructure(types, doc); len(p) > 0 {
				t.Fatalf("the document is broken before the edit:\n%s", strings.Join(p, "\n"))
			}
			got, _ := checkStructure(types, apply(t, doc, tt.edits))
			if tt.want == "" {
				if len(got) > 0 {
					t.Errorf("problems in a valid document:\n%s", strings.Join(got, "\n"))
				}
				return
			}
			for _, p := range got {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Errorf("no problem contains %q; found:\n%s", tt.want, strings.Join(got, "\n"))
		})
	}
}
