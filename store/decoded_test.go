package store

import (
	"reflect"
	"testing"

	"github.com/invoiced/invoiced/invoice"
)

// TestCloneRecord: the copy kept of a record StartJob decoded, with every
// field set through every pointer, slice and map, equals it and shares
// nothing with it, so a field added to Send, Delivery or invoice.Invoice
// and not to its clone fails here.
func TestCloneRecord(t *testing.T) {
	t.Parallel()
	for _, v := range []any{new(Send), new(Delivery), new(invoice.Invoice)} {
		n := 0
		fillAll(reflect.ValueOf(v).Elem(), &n)
		c := cloneRecord(v)
		name := reflect.TypeOf(v).Elem().Name()
		if !reflect.DeepEqual(c, v) {
			t.Errorf("%s: clone %+v, want %+v", name, c, v)
		}
		if p := shared(reflect.ValueOf(c), reflect.ValueOf(v), name); p != "" {
			t.Errorf("%s: the clone shares %s", name, p)
		}
	}
	if c := cloneRecord(new(Settings)); c != nil {
		t.Errorf("settings are kept as %+v", c)
	}
}

// TestBeginSendFromRecordsRead: BeginSend starts from the records as
// StartJob read them, not as its caller changed them since, and from the
// records as this store changed them since, not as StartJob read them.
func TestBeginSendFromRecordsRead(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	send := newJob(t, ctx, s, "1")
	storedInv, _ := s.Invoice(ctx, "ten_a", "inv_1")
	storedSend, _ := s.Send(ctx, "ten_a", send.ID)
	jobSend, jobInv, ds, _, err := s.StartJob(ctx, "ten_a", send.ID, send.InvoiceID, send.DeliveryIDs)
	if err != nil {
		t.Fatal(err)
	}
	changeInPlace(reflect.ValueOf(jobSend).Elem())
	changeInPlace(reflect.ValueOf(jobInv).Elem())
	for _, d := range ds {
		changeInPlace(reflect.ValueOf(d).Elem())
	}
	b, err := s.BeginSend(ctx, startOf(send, "clm_1"))
	if err != nil || !b.Begun {
		t.Fatalf("BeginSend = %+v, %v", b, err)
	}
	inv, _ := s.Invoice(ctx, "ten_a", "inv_1")
	if inv.Number != storedInv.Number || inv.Currency != storedInv.Currency || inv.TenantID != "ten_a" {
		t.Errorf("written: number %q, currency %q; stored before: %q, %q", inv.Number, inv.Currency, storedInv.Number, storedInv.Currency)
	}
	if got, _ := s.Send(ctx, "ten_a", send.ID); got.Email != storedSend.Email || !reflect.DeepEqual(got.DeliveryIDs, storedSend.DeliveryIDs) {
		t.Errorf("written: send to %q, deliveries %v; stored before: %q, %v", got.Email, got.DeliveryIDs, storedSend.Email, storedSend.DeliveryIDs)
	}

	// Finalized by this store after StartJob read the draft.
	send = newJob(t, ctx, s, "2")
	if _, _, err := s.Finalize(ctx, "ten_a", "inv_2", "api"); err != nil {
		t.Fatal(err)
	}
	b, err = s.BeginSend(ctx, startOf(send, "clm_2"))
	if err != nil || !b.Begun || b.Finalized {
		t.Fatalf("BeginSend of an invoice finalized since = %+v, %v; want begun, not finalizing", b, err)
	}
	if inv, _ := s.Invoice(ctx, "ten_a", "inv_2"); inv.FinalizedBy != "api" || b.Invoice.FinalizedBy != "api" {
		t.Errorf("finalized by %q (returned %q), want api", inv.FinalizedBy, b.Invoice.FinalizedBy)
	}
}
