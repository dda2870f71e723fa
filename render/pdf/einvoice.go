package pdf

import (
	"fmt"
	"strings"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/locale"
)

// vatLabel names a VAT breakdown row: the tax and its rate for a taxed
// category ("VAT 19 %", "IGIC 7 %"), the category for one without VAT
// ("Reverse charge", "Export").
func (w *writer) vatLabel(t invoice.TaxSummary) string {
	ev := w.lb.ev
	cat := invoice.Category(t.Category, t.Rate)
	if name, ok := ev.category[cat]; ok {
		return name
	}
	tax := ev.vat
	switch cat {
	case invoice.CategoryCanaryIslands:
		tax = ev.igic
	case invoice.CategoryCeutaMelilla:
		tax = ev.ipsi
	}
	return tax + locale.NBSP + locale.Percent(t.Rate, w.lang)
}

// referenceRows are the header's rows of the buyer's order, the contract,
// and the delivery date or the invoicing period, those the invoice has.
func (w *writer) referenceRows() [][2]string {
	ev, inv := w.lb.ev, w.inv
	rows := [][2]string{
		{ev.orderReference, inv.OrderReference},
		{ev.contractReference, inv.ContractReference},
	}
	if d := inv.Delivery; d != nil && d.Date != "" {
		rows = append(rows, [2]string{ev.deliveryDate, w.date(d.Date)})
	}
	if p := inv.Period; p != nil {
		rows = append(rows, [2]string{ev.period, w.date(p.Start) + " – " + w.date(p.End)})
	}
	return rows
}

// netLines are the totals from the sum of the lines to the total without
// VAT. Without document level allowances and charges that is the
// subtotal alone; with them, the sum of the lines, each allowance (taken
// off) and charge, and the total without VAT, so that the column adds up
// from top to bottom.
func (w *writer) netLines() []totalLine {
	inv, ev := w.inv, w.lb.ev
	if len(inv.Allowances) == 0 && len(inv.Charges) == 0 {
		return []totalLine{{label: w.lb.subtotal, value: w.money(inv.Subtotal), st: styleBody}}
	}
	out := []totalLine{{label: ev.linesTotal, value: w.money(inv.Subtotal), st: styleBody}}
	for _, a := range inv.Allowances {
		out = append(out, totalLine{label: w.allowanceChargeLabel(a, ev.allowance), value: w.money(negate(a.Amount)), st: styleBody})
	}
	for _, c := range inv.Charges {
		out = append(out, totalLine{label: w.allowanceChargeLabel(c, ev.charge), value: w.money(c.Amount), st: styleBody})
	}
	return append(out, totalLine{label: ev.netTotal, value: w.money(inv.NetTotal), st: styleStrong, ruleAbove: true})
}

// allowanceChargeLabel is an allowance's or a charge's reason, else
// fallback, with its rate when it is given as one: "Loyalty discount
// (5 %)".
func (w *writer) allowanceChargeLabel(ac invoice.AllowanceCharge, fallback string) string {
	label := strings.TrimSpace(ac.Reason)
	if label == "" {
		label = fallback
	}
	if ac.Rate != "" {
		label += " (" + locale.Percent(ac.Rate, w.lang) + ")"
	}
	return label
}

// vatNoteLines are the mentions the law asks for of the invoice's VAT:
// for each category without VAT, its note and the invoice's exemption
// reason (or VATEX code) where it says more; and the VAT in the tax
// currency when the invoice has one.
func (w *writer) vatNoteLines() []string {
	ev, inv := w.lb.ev, w.inv
	var out []string
	seen := map[string]bool{}
	for _, t := range inv.Taxes {
		cat := invoice.Category(t.Category, t.Rate)
		note, ok := ev.note[cat]
		if !ok || seen[cat] {
			continue
		}
		seen[cat] = true
		reason := strings.TrimSpace(t.ExemptionReason)
		if reason == "" {
			reason = t.ExemptionCode
		}
		switch {
		case reason == "" || strings.Contains(strings.ToLower(note), strings.ToLower(reason)):
			out = append(out, note)
		case strings.Contains(strings.ToLower(reason), strings.ToLower(note)):
			out = append(out, reason)
		default:
			out = append(out, note+". "+ev.reason+" "+reason)
		}
	}
	if inv.TaxCurrency != "" && inv.TaxTotalInTaxCurrency != "" {
		out = append(out, fmt.Sprintf(ev.taxCurrency, inv.TaxCurrency,
			locale.Amount(inv.TaxTotalInTaxCurrency, inv.TaxCurrency, w.lang)+locale.NBSP+inv.TaxCurrency,
			locale.Number(inv.TaxExchangeRate, w.lang), inv.TaxCurrency, inv.Currency))
	}
	return out
}

// vatNotes draws the VAT notes across the page, below the totals.
func (w *writer) vatNotes() {
	w.textSection(w.lb.ev.vatNotes, strings.Join(w.vatNoteLines(), "\n"))
}

// eachEinvoiceText calls visit with each text of inv's e-invoice content
// that comes from outside, with its field, for eachText.
func eachEinvoiceText(inv *invoice.Invoice, visit func(fieldText)) {
	visit(field("orderReference", inv.OrderReference))
	visit(field("contractReference", inv.ContractReference))
	for i, l := range inv.Lines {
		visit(fieldText{"lines[%d].taxExemptionReason", i, l.TaxExemptionReason})
	}
	for i, ac := range inv.Allowances {
		visit(fieldText{"allowances[%d].reason", i, ac.Reason})
	}
	for i, ac := range inv.Charges {
		visit(fieldText{"charges[%d].reason", i, ac.Reason})
	}
}

// VATSummary is what an invoice says about its VAT, worded as its PDF
// words it, for the other places that show the invoice (the hosted page).
type VATSummary struct {
	// Net are the rows from the sum of the lines to the total without
	// VAT: the subtotal alone, or the sum of the lines, each allowance
	// and charge, and the total without VAT.
	Net []SummaryRow
	// VAT are the VAT breakdown's rows, one per category and rate
	// ("VAT 19 %", "Reverse charge"), with the VAT amount.
	VAT []SummaryRow
	// Notes are the mentions the law asks for (reverse charge, exemption
	// reasons, the VAT in the tax currency), under NotesTitle.
	Notes      []string
	NotesTitle string
}

// SummaryRow is a label and its formatted amount.
type SummaryRow struct{ Label, Amount string }

// SummarizeVAT words inv's VAT in language lang (en, ro, de or fr; others
// read as en), as its PDF does. inv must have been through Compute.
func SummarizeVAT(inv *invoice.Invoice, lang string) VATSummary {
	lang = locale.Lang(lang)
	lb := labelsFor(lang)
	if inv.IsCreditNote() {
		lb = lb.forCreditNote()
	}
	w := &writer{inv: inv, lang: lang, lb: lb}
	w.cur.Code = inv.Currency
	var s VATSummary
	for _, t := range w.netLines() {
		s.Net = append(s.Net, SummaryRow{t.label, t.value})
	}
	for _, t := range inv.Taxes {
		s.VAT = append(s.VAT, SummaryRow{w.vatLabel(t), w.money(t.Amount)})
	}
	s.Notes, s.NotesTitle = w.vatNoteLines(), lb.ev.vatNotes
	return s
}
