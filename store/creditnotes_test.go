package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/invoiced/invoiced/invoice"
)

// openInvoice stores an open invoice of 1130.50 EUR with a payment link.
func openInvoice(t *testing.T, s *Store, id string) *invoice.Invoice {
	t.Helper()
	ctx := t.Context()
	inv := draft(id)
	inv.Type, inv.IssueDate = invoice.TypeInvoice, "2026-11-21"
	inv.Lines = []invoice.Line{{Description: "Consulting", Quantity: "10", UnitPrice: "95.00", TaxRate: "19"}}
	if err := invoice.Compute(inv); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveDraft(ctx, inv, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Finalize(ctx, "ten_a", id, "api"); err != nil {
		t.Fatal(err)
	}
	inv, err := s.SetPaymentLink(ctx, "ten_a", id, "https://pay.test/"+id, "plink_"+id, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func computedCreditNote(t *testing.T, inv *invoice.Invoice, id, number, qty string) *invoice.Invoice {
	t.Helper()
	var lines []invoice.Line
	if qty != "" {
		lines = []invoice.Line{{Description: "Consulting", Quantity: qty, UnitPrice: "95.00", TaxRate: "19"}}
	}
	cn := invoice.CreditNoteFor(inv, id, number, "2026-11-25", lines)
	if err := invoice.Compute(cn); err != nil {
		t.Fatal(err)
	}
	return cn
}

func TestCreateCreditNote(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	inv := openInvoice(t, s, "inv_1")

	orig, oldLink, err := s.CreateCreditNote(ctx, computedCreditNote(t, inv, "cn_1", "CN-1", "2"))
	if err != nil {
		t.Fatal(err)
	}
	if oldLink != "plink_inv_1" || orig.PaymentLink != "" || orig.PaymentLinkID != "" {
		t.Errorf("the invoice's link: old %q, now %q %q; want the old one handed back and none kept", oldLink, orig.PaymentLink, orig.PaymentLinkID)
	}
	stored, err := s.Invoice(ctx, "ten_a", "inv_1")
	if err != nil {
		t.Fatal(err)
	}
	if stored.AmountCredited != "226.10" || stored.AmountDue != "904.40" || !reflect.DeepEqual(stored.CreditNotes, []string{"cn_1"}) || stored.PaymentLink != "" {
		t.Errorf("stored invoice: credited %s, due %s, credit notes %v, link %q", stored.AmountCredited, stored.AmountDue, stored.CreditNotes, stored.PaymentLink)
	}
	cn, err := s.Invoice(ctx, "ten_a", "cn_1")
	if err != nil {
		t.Fatal(err)
	}
	if cn.Status != invoice.StatusOpen || cn.Type != invoice.TypeCreditNote || cn.FinalizedAt == nil || cn.FinalizeAt != nil || cn.Corrects.Number != "N-inv_1" {
		t.Errorf("stored credit note: status %s, type %s, finalizedAt %v, finalizeAt %v, corrects %+v",
			cn.Status, cn.Type, cn.FinalizedAt, cn.FinalizeAt, cn.Corrects)
	}
	page, err := s.ListInvoices(ctx, "ten_a", InvoiceQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Invoices) != 2 || page.Invoices[0].ID != "cn_1" {
		t.Errorf("the listing does not show the credit note first: %d invoices", len(page.Invoices))
	}
	// Its indexes are kept as it is created: none is built here.
	if err := s.rdb.Set(ctx, invoiceFiltersIndexedKey("ten_a"), "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	page, err = s.ListInvoices(ctx, "ten_a", InvoiceQuery{Limit: 10, Status: invoice.StatusOpen})
	if err != nil || len(page.Invoices) != 2 || page.Invoices[0].ID != "cn_1" {
		t.Errorf("open invoices: %d, %v; want the credit note first, then the invoice", len(page.Invoices), err)
	}

	// No link to hand back the second time: the first credit took it.
	if _, oldLink, err = s.CreateCreditNote(ctx, computedCreditNote(t, inv, "cn_2", "CN-2", "1")); err != nil || oldLink != "" {
		t.Errorf("second credit note: old link %q, err %v", oldLink, err)
	}

	tests := []struct {
		name string
		cn   func() *invoice.Invoice
		want error
	}{
		{"the same id", func() *invoice.Invoice { return computedCreditNote(t, inv, "cn_1", "CN-9", "1") }, ErrConflict},
		{"the same number", func() *invoice.Invoice { return computedCreditNote(t, inv, "cn_9", "CN-1", "1") }, ErrConflict},
		{"the invoice's number", func() *invoice.Invoice { return computedCreditNote(t, inv, "cn_9", "N-inv_1", "1") }, ErrConflict},
		{"more than is left", func() *invoice.Invoice { return computedCreditNote(t, inv, "cn_9", "CN-9", "8") }, invoice.ErrOverCredit},
		{"a credit note", func() *invoice.Invoice { return computedCreditNote(t, cn, "cn_9", "CN-9", "1") }, ErrNotCreditable},
		{"a draft", func() *invoice.Invoice {
			d := draft("inv_d")
			d.Lines = inv.Lines
			if _, err := s.SaveDraft(ctx, d, time.Hour); err != nil {
				t.Fatal(err)
			}
			return computedCreditNote(t, d, "cn_9", "CN-9", "1")
		}, ErrNotCreditable},
		{"a void invoice", func() *invoice.Invoice {
			v := openInvoice(t, s, "inv_v")
			if _, _, err := s.Void(ctx, "ten_a", "inv_v"); err != nil {
				t.Fatal(err)
			}
			return computedCreditNote(t, v, "cn_9", "CN-9", "1")
		}, ErrConflict},
		{"an invoice that does not exist", func() *invoice.Invoice {
			return computedCreditNote(t, &invoice.Invoice{ID: "inv_x", TenantID: "ten_a", Currency: "EUR"}, "cn_9", "CN-9", "1")
		}, ErrNotFound},
	}
	for _, tt := range tests {
		if _, _, err := s.CreateCreditNote(ctx, tt.cn()); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := s.Invoice(ctx, "ten_a", "cn_9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused credit note was stored: %v", err)
	}
	stored, _ = s.Invoice(ctx, "ten_a", "inv_1")
	if stored.AmountCredited != "339.15" || len(stored.CreditNotes) != 2 {
		t.Errorf("refused credits changed the invoice: credited %s, credit notes %v", stored.AmountCredited, stored.CreditNotes)
	}

	// A credit note is neither paid nor voided.
	if _, _, err := s.MarkPaid(ctx, "ten_a", "cn_1", "api"); !errors.Is(err, ErrConflict) {
		t.Errorf("MarkPaid(credit note) = %v, want ErrConflict", err)
	}
	if _, _, err := s.Void(ctx, "ten_a", "cn_1"); !errors.Is(err, ErrConflict) {
		t.Errorf("Void(credit note) = %v, want ErrConflict", err)
	}
	// Paying the invoice pays what the credits left.
	paid, _, err := s.MarkPaid(ctx, "ten_a", "inv_1", "api")
	if err != nil {
		t.Fatal(err)
	}
	if paid.AmountPaid != "791.35" || paid.AmountDue != "0.00" {
		t.Errorf("paid after credits: paid %s, due %s", paid.AmountPaid, paid.AmountDue)
	}
}
