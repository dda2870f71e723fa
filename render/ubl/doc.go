// Package ubl writes an invoice as a UBL 2.1 document that conforms to
// EN 16931, the European standard for electronic invoices, in one of its
// profiles (the core, Peppol BIS Billing 3.0, XRechnung 3.0, CIUS-RO),
// says what a profile needs that an invoice lacks (Requirements), and
// checks the standard's business rules on such a document (Check).
//
// # What is written
//
// An invoice is a UBL Invoice with type code 380. A credit note
// (invoice.TypeCreditNote) is a CreditNote with type code 381,
// CreditNoteLine and CreditedQuantity, written as it is: its figures are
// positive already, as EN 16931 expects. An invoice whose total is
// negative is a CreditNote too, with every amount and quantity negated so
// that the credit reads in positive figures.
//
// # Profiles
//
// The invoice's Profile (or Document.Profile, which overrides it) chooses
// the specification identifier (BT-24), as the official validators expect
// it, and the rules Requirements holds the invoice and the seller to:
//
//	en16931    urn:cen.eu:en16931:2017 (the default)
//	peppol     urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0,
//	           with the business process (BT-23, cbc:ProfileID)
//	           urn:fdc:peppol.eu:2017:poacc:billing:01:1.0
//	xrechnung  urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0
//	cius-ro    urn:cen.eu:en16931:2017#compliant#urn:efactura.mfinante.ro:CIUS-RO:1.0.1
//
// Render refuses, with a *RequirementsError, a document whose profile
// needs what the invoice or the seller lacks (see Requirements): a
// document a network would reject is never written. Peppol needs both
// parties' electronic addresses with a Peppol scheme, and a buyer or order
// reference: a consumer has no Peppol address, so a Peppol invoice without
// a buyer VAT id goes to a buyer registered on Peppol by another
// identifier (a GLN, an organisation number). XRechnung needs the buyer
// reference (the Leitweg-ID of a public buyer), the seller's contact
// (name, phone, email), the IBAN, and cities and post codes. CIUS-RO needs
// the buyer's VAT id or registration number (a consumer's CNP, or
// 0000000000000), ISO 3166-2:RO counties (RO-CJ) and Bucharest's sector as
// city (SECTOR1 to SECTOR6), and RON as the VAT accounting currency of an
// invoice in another currency.
//
// Where the invoice's fields go:
//
//	Number            cbc:ID (BT-1)
//	IssueDate         cbc:IssueDate (BT-2)
//	DueDate           cbc:DueDate (BT-9); in a credit note, which has no
//	                  such element in UBL 2.1, the payment terms say it
//	Notes             cbc:Note (BT-22)
//	Currency          cbc:DocumentCurrencyCode (BT-5)
//	Reference         cbc:BuyerReference (BT-10), the buyer's own reference
//	                  (a Leitweg-ID in XRechnung)
//	OrderReference    cac:OrderReference/cbc:ID (BT-13)
//	ContractReference cac:ContractDocumentReference/cbc:ID (BT-12)
//	Period            cac:InvoicePeriod, cbc:StartDate and cbc:EndDate
//	                  (BG-14)
//	Delivery          cac:Delivery (BG-13): cbc:ActualDeliveryDate (BT-72),
//	                  cac:DeliveryLocation/cac:Address (BG-15),
//	                  cac:DeliveryParty/cac:PartyName/cbc:Name (BT-70)
//	TaxCurrency       cbc:TaxCurrencyCode (BT-6), and a second cac:TaxTotal
//	                  with only cbc:TaxAmount in that currency: the
//	                  computed TaxTotalInTaxCurrency (BT-111)
//	Terms             cac:PaymentTerms/cbc:Note (BT-20); without terms, the
//	                  due date in words, in the invoice's language
//	PaymentLink       appended to the payment terms ("Pay online: …"); EN
//	                  16931 has no field for a URL; not in credit notes
//	Seller.Name       cac:PartyLegalEntity/cbc:RegistrationName (BT-27) and
//	                  cac:PartyName/cbc:Name (BT-28); the same for the buyer
//	Seller.Endpoint   cbc:EndpointID with its scheme as schemeID (BT-34);
//	                  without one, Seller.Email with schemeID "EM", but in
//	                  Peppol, whose schemes have no EM; the same for the
//	                  buyer's Customer.Endpoint and Customer.Email (BT-49)
//	Seller.ContactName, Phone, Email
//	                  the seller contact (BG-6): cac:Contact/cbc:Name
//	                  (BT-41), cbc:Telephone (BT-42), cbc:ElectronicMail
//	                  (BT-43); the buyer's phone and email likewise
//	Seller.VATID      cac:PartyTaxScheme with TaxScheme VAT (BT-31) when it
//	                  starts with a country prefix; otherwise TaxScheme TAX,
//	                  the seller's tax registration identifier (BT-32),
//	                  which does not identify the seller for BR-CO-26: such
//	                  a seller needs its RegistrationNumber
//	Customer.VATID    cac:PartyTaxScheme with TaxScheme VAT (BT-48) when it
//	                  starts with a country prefix; otherwise the buyer's
//	                  legal registration identifier (BT-47), as for a
//	                  Romanian CUI of a company not registered for VAT
//	Seller.RegistrationNumber
//	                  cac:PartyLegalEntity/cbc:CompanyID (BT-30)
//	Address           StreetName, AdditionalStreetName, CityName,
//	                  PostalZone, CountrySubentity, Country (BG-5, BG-8)
//	Line.Description  first line, cut to 100 characters: cac:Item/cbc:Name
//	                  (BT-153); the whole text, when it says more:
//	                  cbc:Description (BT-154)
//	Line.UnitPrice    cac:Price/cbc:PriceAmount (BT-146), with the
//	                  currency's digits or more when given; no BaseQuantity
//	Line.Discount     a line allowance (BG-27) with reason code 95 and
//	                  reason "Discount", when DiscountRate is set and not 0
//	Line.TaxCategory  cac:ClassifiedTaxCategory/cbc:ID (BT-151), with the
//	                  rate as cbc:Percent (BT-152), none for O (BR-O-05)
//	Allowances, Charges
//	                  document level cac:AllowanceCharge (BG-20, BG-21),
//	                  before the VAT totals: cbc:ChargeIndicator,
//	                  cbc:AllowanceChargeReasonCode (UNTDID 5189 or 7161),
//	                  cbc:AllowanceChargeReason, for one given as a rate
//	                  cbc:MultiplierFactorNumeric (the percentage) and
//	                  cbc:BaseAmount, cbc:Amount, and cac:TaxCategory with
//	                  its category and rate
//	Taxes             cac:TaxTotal/cac:TaxSubtotal per category and rate
//	                  (BG-23), with cbc:TaxExemptionReasonCode (BT-121, a
//	                  VATEX code) and cbc:TaxExemptionReason (BT-120) for
//	                  E, AE, K, G and O; O has cbc:Percent 0 there (which
//	                  XRechnung wants) and none on lines, allowances and
//	                  charges; with O lines no VAT identifier is written
//	                  (BR-O-02): the seller is known by its registration
//	Subtotal, AllowanceTotal, ChargeTotal, NetTotal
//	                  cbc:LineExtensionAmount (BT-106),
//	                  cbc:AllowanceTotalAmount (BT-107) and
//	                  cbc:ChargeTotalAmount (BT-108) when there are any,
//	                  cbc:TaxExclusiveAmount (BT-109)
//	AmountPaid        cbc:PrepaidAmount (BT-113), when not 0
//	AmountDue         cbc:PayableAmount (BT-115); of an invoice that credit
//	                  notes corrected, the total less AmountPaid, as issued:
//	                  the credit notes are documents of their own
//	Corrects          of a credit note, the preceding invoice reference
//	                  (BG-3): cac:BillingReference/cac:InvoiceDocumentReference
//	                  with the corrected invoice's number as cbc:ID (BT-25)
//	                  and its cbc:IssueDate (BT-26); without terms or a due
//	                  date, the payment terms say which invoice is credited
//	                  ("Credited against invoice INV-1001 of 21 Nov 2026."),
//	                  as BR-CO-25 wants terms when an amount is payable
//
// # Code lists
//
// VAT categories (UNTDID 5305), as invoice.Category gives them: the
// line's own, else S (standard rate) above 0 % and Z (zero rated) at 0 %.
// E (exempt), AE (reverse charge), K (intra-community supply), G (export
// outside the EU) and O (not subject to VAT) carry an exemption reason
// and/or a VATEX code (VATEX-EU-132-1I, VATEX-EU-AE, VATEX-EU-IC,
// VATEX-EU-G, VATEX-EU-O…); L (IGIC) and M (IPSI) have their own rates.
//
// Allowance reason codes (UNTDID 5189, e.g. 95 discount) and charge
// reason codes (UNTDID 7161, e.g. FC freight) are written as given.
//
// Electronic address schemes: the CEF EAS codes (0088 GLN, 0208, 9930
// German VAT, 9947 Romanian VAT…), and EM for an email, which Peppol
// does not accept.
//
// Payment means (UNTDID 4461), written for an invoice with the seller's
// IBAN, and for a credit note too in XRechnung, which wants them in every
// document (BR-DE-1): 58 (SEPA credit transfer) for a EUR invoice paid to an
// IBAN of a SEPA country, 30 (credit transfer) otherwise. The account
// (BT-84) is the IBAN without spaces, its name (BT-85) the holder, the
// service provider (BT-86) the BIC, and the remittance information (BT-83)
// the invoice number.
//
// Units (UN/ECE Recommendation 20), from UnitCode, case-insensitive and
// with a trailing dot ignored:
//
//	HUR  hour     h, hr, hrs, hour(s), ora, oră, ore, Std, Stunde(n), heure(s)
//	MIN  minute   min, minute(s), minut, Minuten
//	DAY  day      d, day(s), zi, zile, Tag(e), jour(s)
//	WEE  week     wk, week(s), săptămână, săptămâni, Woche(n), semaine(s)
//	MON  month    mo, month(s), lună, luni, Monat(e), mois
//	ANN  year     yr, year(s), an, ani, Jahr(e), année(s)
//	H87  piece    pc, pcs, pce, piece(s), buc, bucată, bucăți, Stk, Stück, pièce(s)
//	C62  one      "" (no unit), unit(s), ea, each, x, and any unit not listed
//	KGM  kg       MTR m   MTK m2, m², mp   LTR l   KWH kWh
//
// Romanian and German words are also matched without diacritics ("bucata",
// "Stueck"), and each code maps to itself, so "HUR" stays "HUR".
//
// Amounts carry the document currency as currencyID and the currency's
// minor-unit digits, at most two, as EN 16931 allows (BR-DEC rules): 0
// for JPY, 2 for EUR, and 2 for BHD, KWD or OMR, whose amounts
// invoice.Compute rounds to hundredths so that the PDF and the e-invoice
// agree to the fils. Unit prices keep the digits they were given, which
// BR-DEC does not limit. The VAT total in the VAT accounting currency has
// that currency's digits, at most two.
//
// # Business rules Check verifies
//
// Rule ids are those of EN 16931, except the line net formula, which EN
// 16931 states in its model and Peppol names PEPPOL-EN16931-R120, and
// invoiced's own checks, named invoiced-….
//
//	Rule                 Checks
//	BR-01                specification identifier (BT-24) present, EN 16931
//	BR-02                invoice number (BT-1) present
//	BR-03                issue date (BT-2) present, a date
//	BR-04                invoice or credit note type code (BT-3) present
//	BR-05                currency code (BT-5) present
//	BR-CL-04             currency code is ISO 4217
//	BR-06, BR-07         seller, buyer name present
//	BR-08, BR-10         seller, buyer postal address present
//	BR-09, BR-11         seller, buyer country code present
//	BR-CL-14             country codes are ISO 3166-1 alpha-2
//	BR-62, BR-63         seller, buyer electronic address has a scheme
//	BR-CO-09             VAT identifiers start with a country code (or EL)
//	BR-CO-26             the seller has an identifier, a legal
//	                     registration or a VAT identifier
//	BR-16                at least one line
//	BR-21                each line has an identifier
//	BR-22                each line has a quantity
//	BR-23                each line has a unit of measure code
//	BR-24                each line has a net amount
//	BR-25                each line has an item name
//	BR-26                each line has an item net price
//	BR-27                item net price not negative
//	BR-CO-04             each line has a VAT category
//	BR-41, BR-43         line allowances, charges have an amount
//	BR-42, BR-44         line allowances, charges have a reason or code
//	PEPPOL-EN16931-R120  line net = quantity × price / base quantity,
//	                     rounded half-up, − allowances + charges
//	BR-31, BR-36         document level allowances, charges have an amount
//	BR-12                sum of line net amounts (BT-106) present
//	BR-13                total without VAT (BT-109) present
//	BR-14                total with VAT (BT-112) present
//	BR-15                amount due (BT-115) present
//	BR-CO-10             sum of line net amounts = Σ line net amounts
//	BR-CO-11, BR-CO-12   allowance, charge totals = Σ document level ones
//	BR-CO-13             total without VAT = lines − allowances + charges
//	BR-CO-14             total VAT = Σ VAT breakdown amounts
//	BR-CO-15             total with VAT = total without VAT + total VAT
//	BR-CO-16             amount due = total with VAT − paid + rounding
//	BR-CO-17             VAT per category = taxable × rate / 100, half-up
//	BR-CO-18             at least one VAT breakdown
//	BR-45, BR-46         each VAT breakdown has a taxable and a VAT amount
//	BR-47, BR-48         each VAT breakdown has a category and a rate
//	                     (but for O, not subject to VAT)
//	BR-S-08              taxable amount per category, and per rate for S,
//	BR-Z-08, BR-E-08     L and M, = Σ its line net amounts − allowances +
//	BR-AE-08, BR-IC-08   charges; a category that lines use has a
//	BR-G-08, BR-O-08     breakdown (K is BR-IC, L is BR-IG, M is BR-IP)
//	BR-IG-08, BR-IP-08
//	BR-Z-09, BR-E-09     VAT amount 0 in categories Z, E, AE, K, G, O
//	BR-AE-09, BR-IC-09
//	BR-G-09, BR-O-09
//	BR-S-05, BR-Z-05     line VAT rate above 0 for S, 0 for Z
//	BR-S-02, BR-Z-02     S, Z or E lines need a seller VAT id or tax
//	BR-E-02              registration
//	BR-AE-02, BR-IC-02   AE, K, G, L or M lines need a seller (or tax
//	BR-G-02, BR-IG-02    representative) VAT id; AE a buyer VAT id or
//	BR-IP-02             legal registration, K a buyer VAT id
//	BR-O-02              O lines allow no seller or buyer VAT identifier
//	BR-IC-11, BR-IC-12   K needs a delivery date or invoicing period, and
//	                     the deliver to country
//	BR-E-10, BR-AE-10    the VAT breakdown of E, AE, K, G and O has an
//	BR-IC-10, BR-G-10    exemption reason or code; that of S, Z, L and M
//	BR-O-10, BR-S-10     has none
//	BR-Z-10
//	BR-53                a VAT accounting currency (BT-6) has its VAT
//	                     total (BT-111)
//	BR-CL-05             the VAT accounting currency is ISO 4217
//	BR-49                payment means have a type code
//	BR-61                a credit transfer (30, 58) has an account
//	BR-CO-25             an amount due needs a due date or payment terms
//	invoiced-currency    every amount has currencyID = the document's, but
//	                     the VAT total in the VAT accounting currency
//	invoiced-decimals    every amount is a decimal with exactly the
//	                     currency's digits, at most two (unit prices may
//	                     have more)
//	invoiced-unit-code   unit codes are among those listed above
//	invoiced-xml         the bytes are a UBL 2.1 Invoice or CreditNote
//
// # Document structure
//
// Check reads documents as Render writes them and does not validate
// against the UBL schemas; it runs in the service, without Java, as a
// self-check. The official validators judge in the tests, run by
// internal/einvoicetest and vendored in its testdata/validators (whose
// README.md names their versions): the UBL 2.5 schemas (which accept UBL
// 2.1 documents) through xmllint, and the Schematron rules of EN 16931 (CEN/TC 434), Peppol BIS Billing 3.0,
// XRechnung 3.0 and CIUS-RO compiled to XSLT, through Saxon-HE.
// TestEInvoiceValidators renders a table of cases in every profile
// (domestic with two rates, discounts, allowances and charges; reverse
// charge; intra-community supply; export; exempt; a buyer without a VAT
// id; a credit note; JPY; BHD; 1,000 lines) and wants no fatal finding
// from the schema, the EN 16931 rules and the profile's own, and nothing
// from Check; where a case cannot exist in a profile, it wants both
// Requirements and the validator to refuse it. It needs java,
// /usr/share/java/Saxon-HE.jar and xmllint (Debian: default-jre-headless,
// libsaxonhe-java, libxml2-utils), and skips without them but with
// CI=true, where it fails.
//
// The structure tests also hold every document Render writes to the
// content models of the OASIS UBL 2.1 schemas for each aggregate used:
// every child is one the aggregate's xsd:sequence allows, in the
// sequence's order, no more often than its maxOccurs and at least its
// minOccurs. An aggregate whose type the tests do not list fails them
// until it is added.
package ubl
