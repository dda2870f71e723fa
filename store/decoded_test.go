package store

import (
	"bytes"
	"reflect"
	"slices"
	"testing"
	"time"
	"unsafe"

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

// TestRecordSentFromDeliveryBegun: RecordSent starts from the delivery
// as BeginSend wrote it, kept decoded, not from its bytes decoded again,
// nor from the delivery BeginSend returned as its caller changed it
// since; and from what Redis holds when another store changed the
// delivery in between.
func TestRecordSentFromDeliveryBegun(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	other, err := New(s.rdb, Config{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id      string
		between func(id string) // after BeginSend, before RecordSent
		want    int             // attempts recorded
	}{
		{"1", func(string) {}, 0},
		{"2", func(id string) {
			if err := other.RecordAttempt(ctx, "ten_a", id, "clm_2", Attempt{Provider: "smtp", Error: "421 try later"}); err != nil {
				t.Fatal(err)
			}
		}, 1},
	} {
		send := newJob(t, ctx, s, tc.id)
		b, err := s.BeginSend(ctx, startOf(send, "clm_"+tc.id))
		if err != nil || !b.Begun {
			t.Fatalf("BeginSend = %+v, %v", b, err)
		}
		id := b.Delivery.ID
		dk := deliveryKey("ten_a", id)
		stored, _ := s.rdb.Get(ctx, dk).Bytes()
		decoded := new(Delivery)
		if err := decodeRecord(stored, decoded); err != nil {
			t.Fatal(err)
		}
		if kept, ok := s.decoded.get(dk); !ok || !bytes.Equal(kept.b, stored) || !reflect.DeepEqual(kept.v, decoded) {
			t.Fatalf("%s: after BeginSend the delivery is kept decoded as %+v (%v), want %+v as decoded", tc.id, kept.v, ok, decoded)
		}
		changeInPlace(reflect.ValueOf(b.Delivery).Elem())
		tc.between(id)
		if _, _, err := s.RecordSent(ctx, "ten_a", id, "smtp", "pid_"+tc.id, b.Send, func(d *Delivery) {
			d.Provider, d.ProviderID = "smtp", "pid_"+tc.id
		}); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.decoded.get(dk); ok {
			t.Errorf("%s: the delivery is still kept decoded after RecordSent", tc.id)
		}
		d, err := other.Delivery(ctx, "ten_a", id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != DeliverySent || d.To != "a@b.co" || d.SendID != send.ID || d.Claim != nil || d.Provider != "smtp" || d.ProviderID != "pid_"+tc.id || len(d.Attempts) != tc.want {
			t.Errorf("%s: recorded sent %+v, want sent to a@b.co, send %s, no claim, by smtp as pid_%s, %d attempts", tc.id, d, send.ID, tc.id, tc.want)
		}
		if len(d.History) != 2 || d.History[0].Status != DeliveryQueued || d.History[1].Status != DeliverySent {
			t.Errorf("%s: history %+v, want queued, sent", tc.id, d.History)
		}
	}
}

// TestJobKeepsReplyBytes: the records a job reads are decoded from, and
// kept as, the bytes of the MGET's reply strings, not copies of them; the
// records decode as they were written.
func TestJobKeepsReplyBytes(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	const ten = "ten_a"
	inv := draft("inv_1")
	if _, err := s.SaveDraft(ctx, inv, time.Hour); err != nil {
		t.Fatal(err)
	}
	send := &Send{ID: "snd_1", TenantID: ten, InvoiceID: inv.ID, Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, _, err := s.CreateSend(ctx, send); err != nil {
		t.Fatal(err)
	}
	keys := []string{sendKey(ten, send.ID), invoiceKey(ten, inv.ID), deliveryKey(ten, send.DeliveryIDs[0])}
	vals, err := s.rdb.MGet(ctx, append(slices.Clone(keys), tenantKey(ten, "settings"))...).Result()
	if err != nil {
		t.Fatal(err)
	}
	gotSend, gotInv, d := &Send{}, &invoice.Invoice{}, &Delivery{}
	if _, err := s.decodeWithSettings(ten, keys, []any{gotSend, gotInv, d}, vals, nil, true); err != nil {
		t.Fatal(err)
	}
	for i, key := range keys {
		b, ok := s.seen.get(key)
		if !ok {
			t.Fatalf("%s: not kept", key)
		}
		if str := vals[i].(string); len(b) == 0 || unsafe.SliceData(b) != unsafe.StringData(str) {
			t.Errorf("%s: kept a copy of the reply", key)
		}
	}
	if gotSend.ID != send.ID || gotInv.Number != inv.Number || d.ID != send.DeliveryIDs[0] {
		t.Errorf("decoded send %q, invoice %q, delivery %q", gotSend.ID, gotInv.Number, d.ID)
	}
}
