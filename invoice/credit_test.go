package invoice

import (
	"errors"
	"reflect"
	"testing"
)

// issued returns an open, computed invoice of 1130.50 EUR.
func issued(t *testing.T) *Invoice {
	t.Helper()
	inv := &Invoice{
		ID: "inv_1", Type: TypeInvoice, Number: "INV-1", Status: StatusOpen, Currency: "EUR",
		IssueDate: "2026-11-21", DueDate: "2026-12-21", Language: "ro", Reference: "PO 7",
		Customer: Customer{Name: "Ana", Email: "ana@example.com"},
		Lines: []Line{
			{Description: "Consulting", Quantity: "10", Unit: "h", UnitPrice: "95.00", TaxRate: "19"},
		},
	}
	if err := Compute(inv); err != nil {
		t.Fatal(err)
	}
	return inv
}

func creditNote(t *testing.T, inv *Invoice, id string, lines []Line) *Invoice {
	t.Helper()
	cn := CreditNoteFor(inv, id, "CN-"+id, "2026-11-25", lines)
	if fe := Validate(cn); fe != nil {
		t.Fatalf("Validate(credit note) = %v", fe)
	}
	if err := Compute(cn); err != nil {
		t.Fatal(err)
	}
	return cn
}

func TestCreditNoteFor(t *testing.T) {
	t.Parallel()
	inv := issued(t)
	cn := creditNote(t, inv, "cn_1", nil)
	if cn.Type != TypeCreditNote || !cn.IsCreditNote() || inv.IsCreditNote() {
		t.Errorf("types: credit note %q, invoice %q", cn.Type, inv.Type)
	}
	want := &Reference{ID: "inv_1", Number: "INV-1", IssueDate: "2026-11-21"}
	if !reflect.DeepEqual(cn.Corrects, want) {
		t.Errorf("Corrects = %+v, want %+v", cn.Corrects, want)
	}
	if cn.Total != inv.Total || cn.AmountDue != inv.Total || cn.DueDate != "" || cn.Currency != "EUR" || cn.Language != "ro" || cn.Reference != "PO 7" {
		t.Errorf("full credit note: total %s, due %s, dueDate %q, currency %s, language %s, reference %q",
			cn.Total, cn.AmountDue, cn.DueDate, cn.Currency, cn.Language, cn.Reference)
	}
	if cn.Lines[0].Quantity != "10" || cn.Lines[0].Amount != "950.00" {
		t.Errorf("credited line = %+v, want the invoice's, in positive figures", cn.Lines[0])
	}
	// The credit note's lines are its own: changing them leaves the
	// invoice's alone.
	cn.Lines[0].Description = "changed"
	if inv.Lines[0].Description != "Consulting" {
		t.Error("the credit note shares its lines with the invoice")
	}
}

func TestCredit(t *testing.T) {
	t.Parallel()
	inv := issued(t)
	two := []Line{{Description: "Consulting", Quantity: "2", Unit: "h", UnitPrice: "95.00", TaxRate: "19"}}
	if err := Credit(inv, creditNote(t, inv, "cn_1", two)); err != nil {
		t.Fatal(err)
	}
	if inv.AmountCredited != "226.10" || inv.AmountDue != "904.40" || inv.Total != "1130.50" {
		t.Errorf("after 226.10: credited %s, due %s, total %s", inv.AmountCredited, inv.AmountDue, inv.Total)
	}
	if !inv.Payable() {
		t.Error("a partly credited open invoice is not payable")
	}

	nine := []Line{{Description: "Consulting", Quantity: "9", UnitPrice: "95.00", TaxRate: "19"}}
	err := Credit(inv, creditNote(t, inv, "cn_2", nine))
	if !errors.Is(err, ErrOverCredit) {
		t.Fatalf("crediting 1017.45 of 904.40 left = %v, want ErrOverCredit", err)
	}
	if inv.AmountCredited != "226.10" || len(inv.CreditNotes) != 1 {
		t.Errorf("a refused credit changed the invoice: credited %s, credit notes %v", inv.AmountCredited, inv.CreditNotes)
	}

	eight := []Line{{Description: "Consulting", Quantity: "8", UnitPrice: "95.00", TaxRate: "19"}}
	if err := Credit(inv, creditNote(t, inv, "cn_3", eight)); err != nil {
		t.Fatal(err)
	}
	if inv.AmountCredited != "1130.50" || inv.AmountDue != "0.00" || !reflect.DeepEqual(inv.CreditNotes, []string{"cn_1", "cn_3"}) {
		t.Errorf("fully credited: credited %s, due %s, credit notes %v", inv.AmountCredited, inv.AmountDue, inv.CreditNotes)
	}
	if inv.Payable() {
		t.Error("a fully credited invoice is payable")
	}
	if left, _ := Uncredited(inv); left != 0 {
		t.Errorf("Uncredited = %d, want 0", left)
	}

	other := issued(t)
	cn := creditNote(t, other, "cn_4", nil)
	cn.Currency = "RON"
	if err := Credit(other, cn); err == nil {
		t.Error("a credit note in RON credited an invoice in EUR")
	}
}

// TestCreditAfterPayment: crediting a paid invoice leaves nothing due
// rather than a negative amount.
func TestCreditAfterPayment(t *testing.T) {
	t.Parallel()
	inv := issued(t)
	if err := PayInFull(inv); err != nil {
		t.Fatal(err)
	}
	if inv.AmountPaid != "1130.50" || inv.AmountDue != "0.00" {
		t.Fatalf("paid: paid %s, due %s", inv.AmountPaid, inv.AmountDue)
	}
	if err := Credit(inv, creditNote(t, inv, "cn_1", nil)); err != nil {
		t.Fatal(err)
	}
	if inv.AmountDue != "0.00" || inv.AmountPaid != "1130.50" {
		t.Errorf("paid, then credited: due %s, paid %s", inv.AmountDue, inv.AmountPaid)
	}

	// Paying an invoice credited in part pays what was left.
	inv = issued(t)
	half := []Line{{Description: "Consulting", Quantity: "5", UnitPrice: "95.00", TaxRate: "19"}}
	if err := Credit(inv, creditNote(t, inv, "cn_2", half)); err != nil {
		t.Fatal(err)
	}
	if err := PayInFull(inv); err != nil {
		t.Fatal(err)
	}
	if inv.AmountPaid != "565.25" || inv.AmountDue != "0.00" {
		t.Errorf("credited in part, then paid: paid %s, due %s", inv.AmountPaid, inv.AmountDue)
	}
}

func TestPayable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Invoice)
		want   bool
	}{
		{"open with an amount due", func(*Invoice) {}, true},
		{"draft", func(i *Invoice) { i.Status = StatusDraft }, false},
		{"paid", func(i *Invoice) { i.Status = StatusPaid }, false},
		{"void", func(i *Invoice) { i.Status = StatusVoid }, false},
		{"nothing due", func(i *Invoice) { i.AmountDue = "0.00" }, false},
		{"JPY nothing due", func(i *Invoice) { i.AmountDue = "0" }, false},
		{"negative due", func(i *Invoice) { i.AmountDue = "-5.00" }, false},
		{"credit note", func(i *Invoice) { i.Type = TypeCreditNote }, false},
		{"no type, as stored before types", func(i *Invoice) { i.Type = "" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := issued(t)
			tt.change(inv)
			if got := inv.Payable(); got != tt.want {
				t.Errorf("Payable() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCreditNoteForAllowances: a full credit takes back the document level
// allowances and charges, and one given as a rate passes Validate again.
func TestCreditNoteForAllowances(t *testing.T) {
	t.Parallel()
	inv := &Invoice{
		ID: "inv_2", Type: TypeInvoice, Number: "INV-2", Status: StatusOpen, Currency: "EUR",
		IssueDate: "2026-11-21", DueDate: "2026-12-21",
		Customer:   Customer{Name: "Ana", Email: "ana@example.com"},
		Lines:      []Line{{Description: "Consulting", Quantity: "10", Unit: "h", UnitPrice: "95.00", TaxRate: "19"}},
		Allowances: []AllowanceCharge{{Reason: "Loyalty", Rate: "5", TaxRate: "19"}},
		Charges:    []AllowanceCharge{{Reason: "Freight", Amount: "25.00", TaxRate: "19"}},
	}
	if fe := Validate(inv); fe != nil {
		t.Fatal(fe)
	}
	if err := Compute(inv); err != nil {
		t.Fatal(err)
	}
	cn := creditNote(t, inv, "cn_2", nil)
	if cn.Total != inv.Total || cn.AllowanceTotal != "47.50" || cn.ChargeTotal != "25.00" {
		t.Errorf("credit note total %s, allowances %s, charges %s; want %s, 47.50, 25.00", cn.Total, cn.AllowanceTotal, cn.ChargeTotal, inv.Total)
	}
	if inv.Allowances[0].Amount != "47.50" {
		t.Errorf("the invoice's allowance amount became %q", inv.Allowances[0].Amount)
	}
}
