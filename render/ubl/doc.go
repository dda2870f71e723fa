// Package ubl writes an invoice as a UBL 2.1 document that conforms to
// EN 16931, the European standard for electronic invoices, and checks the
// standard's business rules on such a document.
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
// The specification identifier (BT-24) is the EN 16931 core,
// urn:cen.eu:en16931:2017. No business process (ProfileID, BT-23) is
// written: the Peppol profile urn:fdc:peppol.eu:2017:poacc:billing:01:1.0
// belongs with the Peppol BIS customization and its further rules, such as
// a Peppol participant id as electronic address, which invoiced does not
// have. A CIUS that needs it can add it.
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
//	Terms             cac:PaymentTerms/cbc:Note (BT-20); without terms, the
//	                  due date in words, in the invoice's language
//	PaymentLink       appended to the payment terms ("Pay online: …"); EN
//	                  16931 has no field for a URL; not in credit notes
//	Seller.Name       cac:PartyLegalEntity/cbc:RegistrationName (BT-27) and
//	                  cac:PartyName/cbc:Name (BT-28); the same for the buyer
//	Seller.Email      cbc:EndpointID schemeID="EM" (BT-34) and
//	                  cac:Contact/cbc:ElectronicMail (BT-43)
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
// There are no document level allowances or charges: AllowanceTotalAmount
// and ChargeTotalAmount are left out, and the total without VAT equals the
// sum of the line net amounts.
//
// # Code lists
//
// VAT categories (UNTDID 5305): S (standard rate) for a rate above 0, Z
// (zero rated) for 0. invoiced does not know whether a 0% line is exempt
// (E), reverse charge (AE), an intra-community supply (K), an export (G) or
// out of scope (O); each of those needs an exemption reason it does not
// have, and Z is the one that does not. A seller without a VAT id who
// charges 0% is likely E or O in truth; Check reports BR-Z-02 for it.
//
// Payment means (UNTDID 4461), written only for an invoice with the
// seller's IBAN: 58 (SEPA credit transfer) for a EUR invoice paid to an
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
// Amounts carry the document currency as currencyID and exactly the
// currency's minor-unit digits: 0 for JPY, 2 for EUR, 3 for BHD. Unit
// prices keep the digits they were given. EN 16931 allows at most 2
// decimals (BR-DEC rules), so a document in a 3-digit currency such as
// BHD, KWD or OMR fails those rules in a strict validator; invoiced keeps
// the currency's digits, because rounding them away would make the
// document disagree with the PDF and with the amount owed.
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
//	BR-S-02, BR-Z-02     S or Z lines need a seller VAT id or tax
//	                     registration
//	BR-49                payment means have a type code
//	BR-61                a credit transfer (30, 58) has an account
//	BR-CO-25             an amount due needs a due date or payment terms
//	invoiced-currency    every amount has currencyID = the document's
//	invoiced-decimals    every amount is a decimal with exactly the
//	                     currency's digits (unit prices may have more)
//	invoiced-unit-code   unit codes are among those listed above
//	invoiced-xml         the bytes are a UBL 2.1 Invoice or CreditNote
//
// # Document structure
//
// Check reads documents as Render writes them and does not validate
// against the UBL schemas. The package's tests hold the structure of
// every document Render writes, invoices and credit notes with and without
// each optional part, to the content models of the OASIS UBL 2.1 schemas
// (os-UBL-2.1) for each aggregate used, from Invoice and CreditNote down
// to TaxScheme: every child is one the aggregate's xsd:sequence allows, in
// the sequence's order, no more often than its maxOccurs and at least its
// minOccurs, and every cbc and cac element is in its namespace. An
// aggregate whose type the tests do not list fails them until it is added.
//
// Not covered: the rest of an XSD validation, that is the value types of
// the basic components (dates, codes, identifiers, decimal amounts and
// their attributes; Check covers those EN 16931 names), and the CEN
// schematron beyond the rules above, nor the code lists beyond those
// named. A full validation runs both, for example with the KoSIT
// validator.
package ubl
