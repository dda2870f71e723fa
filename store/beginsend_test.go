package store

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/invoiced/invoiced/invoice"
)

// newJob stores draft invoice id with a send of it by email to a@b.co,
// reads them as a send task does (StartJob) and returns the send.
func newJob(t *testing.T, ctx context.Context, s *Store, id string) *Send {
	t.Helper()
	if _, err := s.SaveDraft(ctx, draft("inv_"+id), time.Hour); err != nil {
		t.Fatal(err)
	}
	send := &Send{ID: "snd_" + id, TenantID: "ten_a", InvoiceID: "inv_" + id, Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, _, err := s.CreateSend(ctx, send); err != nil {
		t.Fatal(err)
	}
	readJob(t, ctx, s, send)
	return send
}

func readJob(t *testing.T, ctx context.Context, s *Store, send *Send) {
	t.Helper()
	if _, _, _, _, err := s.StartJob(ctx, "ten_a", send.ID, send.InvoiceID, send.DeliveryIDs); err != nil {
		t.Fatal(err)
	}
}

func startOf(send *Send, token string) SendStart {
	return SendStart{TenantID: "ten_a", SendID: send.ID, DeliveryID: send.DeliveryIDs[0], Token: token, Provider: "smtp", TTL: time.Minute,
		Recipients: []string{"a@b.co", "C@d.co"}}
}

// TestBeginSend: a send's start, its draft's finalization with
// invoice.finalized and the payment link, and its delivery's claim are one
// script, with the suppression list read in the same round trip; the
// delivery's recording sent that follows is one more.
func TestBeginSend(t *testing.T) {
	t.Parallel()
	s, ctx, c := setupCounted(t)
	if err := s.SaveEndpoint(ctx, "ten_a", &WebhookEndpoint{ID: "we_1", URL: "https://hooks.example.com", Secret: "whsec_x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Suppress(ctx, "ten_a", "c@d.co", "bounced"); err != nil {
		t.Fatal(err)
	}
	send := newJob(t, ctx, s, "1")
	id := send.DeliveryIDs[0]
	start := startOf(send, "clm_1")
	start.Finalized = func(inv *invoice.Invoice) { inv.PaymentLink = "https://pay.example.com/inv_1" }
	var b SendBegun
	var err error
	before := scriptsRun(t, s)
	if n := c.TripsOf(func() { b, err = s.BeginSend(ctx, start) }); n != 1 {
		t.Errorf("BeginSend took %d round trips, want 1", n)
	}
	if n := scriptsRun(t, s) - before; n != 1 {
		t.Errorf("BeginSend ran %d scripts, want 1", n)
	}
	if err != nil || !b.Begun || !b.Finalized {
		t.Fatalf("BeginSend = %+v, %v", b, err)
	}
	if want := "evt_inv_1_" + EventInvoiceFinalized; len(b.Fanout) != 1 || b.Fanout[0] != want {
		t.Errorf("fan-out %v, want [%s]", b.Fanout, want)
	}
	if l := b.Suppression; l == nil || l.Address != "C@d.co" || l.Reason != "bounced" || l.Err != nil {
		t.Errorf("suppression %+v, want C@d.co bounced", l)
	}

	// As written, and as read back.
	gotSend, _ := s.Send(ctx, "ten_a", send.ID)
	inv, _ := s.Invoice(ctx, "ten_a", "inv_1")
	d, _ := s.Delivery(ctx, "ten_a", id)
	if gotSend.Status != SendStarted || gotSend.StartedAt == nil || b.Send.Status != SendStarted {
		t.Errorf("send %+v, want started", gotSend)
	}
	if inv.Status != invoice.StatusOpen || inv.FinalizedBy != "send" || inv.PaymentLink != "https://pay.example.com/inv_1" || inv.FinalizeAt != nil ||
		b.Invoice.PaymentLink != inv.PaymentLink {
		t.Errorf("invoice %s by %q with link %q, want open by send with its link", inv.Status, inv.FinalizedBy, inv.PaymentLink)
	}
	if d.Status != DeliveryQueued || d.Claim == nil || d.Claim.Token != "clm_1" || d.Claim.Provider != "smtp" || b.Delivery.Claim.Token != "clm_1" {
		t.Errorf("delivery %+v, want queued and claimed by clm_1", d)
	}
	if due, _ := s.DraftsDue(ctx, "ten_a", time.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("the finalized invoice is still a draft due: %v", due)
	}
	if page, err := s.ListInvoices(ctx, "ten_a", InvoiceQuery{Status: invoice.StatusOpen}); err != nil || len(page.Invoices) != 1 {
		t.Errorf("open invoices %+v, %v; want inv_1", page, err)
	}
	if ev, err := s.Event(ctx, "ten_a", "evt_inv_1_"+EventInvoiceFinalized); err != nil || ev.Data["finalizedBy"] != "send" {
		t.Errorf("invoice.finalized %+v, %v", ev, err)
	}

	// The claim holds, and the recording sent starts from the claim as
	// written.
	if _, _, err := s.ClaimSend(ctx, "ten_a", id, "clm_other", "smtp", time.Minute); err == nil {
		t.Error("another attempt claimed the delivery BeginSend claimed")
	}
	readJob(t, ctx, s, send) // as the claim above read it
	if n := c.TripsOf(func() { _, _, err = s.RecordSent(ctx, "ten_a", id, "smtp", "msg-1", b.Send, nil) }); err != nil || n != 1 {
		t.Errorf("RecordSent after BeginSend: %d round trips, %v; want 1", n, err)
	}
}

// TestBeginSendOpenInvoice: an invoice already open is compared, not
// written, and no recipients read nothing.
func TestBeginSendOpenInvoice(t *testing.T) {
	t.Parallel()
	s, ctx, _ := setupCounted(t)
	send := newJob(t, ctx, s, "1")
	if _, _, err := s.Finalize(ctx, "ten_a", "inv_1", "api"); err != nil {
		t.Fatal(err)
	}
	readJob(t, ctx, s, send)
	key := invoiceKey("ten_a", "inv_1")
	held, _ := s.rdb.Get(ctx, key).Bytes()
	start := startOf(send, "clm_1")
	start.Recipients = nil
	start.Finalized = func(*invoice.Invoice) { t.Error("Finalized called for an open invoice") }
	b, err := s.BeginSend(ctx, start)
	if err != nil || !b.Begun || b.Finalized || b.Suppression != nil || len(b.Fanout) != 0 || b.Invoice.FinalizedBy != "api" {
		t.Fatalf("BeginSend = %+v, %v", b, err)
	}
	if now, _ := s.rdb.Get(ctx, key).Bytes(); !bytes.Equal(now, held) {
		t.Error("BeginSend rewrote an open invoice")
	}
}

// TestBeginSendNotCommon: records not in a send's common case begin
// nothing, without asking Redis, and are left for the steps.
func TestBeginSendNotCommon(t *testing.T) {
	t.Parallel()
	s, ctx, c := setupCounted(t)
	at := time.Now().Add(time.Hour)
	for i, tt := range []struct {
		name   string
		change func(send *Send)
	}{
		{"started", func(send *Send) {
			if _, err := s.StartSend(ctx, "ten_a", send.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"claimed", func(send *Send) {
			if _, _, err := s.ClaimSend(ctx, "ten_a", send.DeliveryIDs[0], "clm_0", "smtp", time.Minute); err != nil {
				t.Fatal(err)
			}
		}},
		{"void", func(send *Send) {
			if _, _, err := s.Void(ctx, "ten_a", send.InvoiceID); err != nil {
				t.Fatal(err)
			}
		}},
		{"scheduled", nil},
		{"not read", func(send *Send) { s.seen.drop(sendKey("ten_a", send.ID)) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := fmt.Sprint("nc", i)
			var send *Send
			if tt.change == nil {
				if _, err := s.SaveDraft(ctx, draft("inv_"+n), time.Hour); err != nil {
					t.Fatal(err)
				}
				send = &Send{ID: "snd_" + n, TenantID: "ten_a", InvoiceID: "inv_" + n, Channels: []Channel{ChannelEmail}, Email: "a@b.co", ScheduledAt: &at}
				if _, _, err := s.CreateSend(ctx, send); err != nil {
					t.Fatal(err)
				}
				readJob(t, ctx, s, send)
			} else {
				send = newJob(t, ctx, s, n)
				tt.change(send)
				if tt.name != "not read" {
					readJob(t, ctx, s, send)
				}
			}
			var b SendBegun
			var err error
			if trips := c.TripsOf(func() { b, err = s.BeginSend(ctx, startOf(send, "clm_1")) }); trips != 0 || err != nil || b.Begun {
				t.Errorf("BeginSend = %+v, %v in %d round trips; want nothing begun, none", b, err, trips)
			}
		})
	}
}

// TestBeginSendStale: a record changed since StartJob read it (the
// invoice voided, the send started and the delivery claimed by another
// worker's store) makes BeginSend write nothing; the steps that follow
// start from what the records hold now, without reading them again.
func TestBeginSendStale(t *testing.T) {
	t.Parallel()
	s, ctx, c := setupCounted(t)
	other, err := New(s.rdb, Config{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		change func(send *Send)
		// check runs the step that follows, in one round trip.
		check func(send *Send) error
	}{
		{"voided", func(send *Send) {
			if _, _, err := other.Void(ctx, "ten_a", send.InvoiceID); err != nil {
				t.Fatal(err)
			}
		}, func(send *Send) error {
			if _, _, _, err := s.FinalizeWith(ctx, "ten_a", send.InvoiceID, "send", nil); err == nil {
				return fmt.Errorf("FinalizeWith of a void invoice: no error")
			}
			return nil
		}},
		{"another worker began", func(send *Send) {
			readJob(t, ctx, other, send)
			if b, err := other.BeginSend(ctx, startOf(send, "clm_other")); err != nil || !b.Begun {
				t.Fatalf("the other's BeginSend = %+v, %v", b, err)
			}
		}, func(send *Send) error {
			if _, _, err := s.ClaimSend(ctx, "ten_a", send.DeliveryIDs[0], "clm_1", "smtp", time.Minute); err == nil {
				return fmt.Errorf("ClaimSend of a delivery claimed by another: no error")
			}
			return nil
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			send := newJob(t, ctx, s, "stale_"+tt.name[:4])
			tt.change(send)
			keys := []string{sendKey("ten_a", send.ID), invoiceKey("ten_a", send.InvoiceID), deliveryKey("ten_a", send.DeliveryIDs[0])}
			held := make([]string, len(keys))
			for i, k := range keys {
				held[i] = s.rdb.Get(ctx, k).Val()
			}
			b, err := s.BeginSend(ctx, startOf(send, "clm_1"))
			if err != nil || b.Begun {
				t.Fatalf("BeginSend = %+v, %v; want nothing begun", b, err)
			}
			for i, k := range keys {
				if now := s.rdb.Get(ctx, k).Val(); now != held[i] {
					t.Errorf("BeginSend wrote %s", k)
				}
			}
			if n := c.TripsOf(func() {
				if err := tt.check(send); err != nil {
					t.Error(err)
				}
			}); n != 1 {
				t.Errorf("the step after took %d round trips, want 1", n)
			}
		})
	}
}

// TestBeginSendConcurrent: of workers (each its own store) that read one
// send and begin it at once, one begins it; the others write nothing.
func TestBeginSendConcurrent(t *testing.T) {
	t.Parallel()
	s, ctx, _ := setupCounted(t)
	send := newJob(t, ctx, s, "1")
	const n = 6
	stores := make([]*Store, n)
	for i := range stores {
		var err error
		if stores[i], err = New(s.rdb, Config{SecretKey: make([]byte, 32)}); err != nil {
			t.Fatal(err)
		}
		readJob(t, ctx, stores[i], send)
	}
	wins := race(t, n, func(i int) (bool, error) {
		b, err := stores[i].BeginSend(ctx, startOf(send, fmt.Sprint("clm_", i)))
		return b.Begun, err
	})
	if wins != 1 {
		t.Fatalf("%d workers began the send, want 1", wins)
	}
	if ev, err := s.Event(ctx, "ten_a", "evt_inv_1_"+EventInvoiceFinalized); err != nil || ev.Data["finalizedBy"] != "send" {
		t.Errorf("invoice.finalized %+v, %v", ev, err)
	}
}

// TestReleaseClaim: a claim is released by its own token only.
func TestReleaseClaim(t *testing.T) {
	t.Parallel()
	s, ctx, _ := setupCounted(t)
	id := createEmailSend(t, ctx, s)
	if _, _, err := s.ClaimSend(ctx, "ten_a", id, "clm_1", "smtp", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseClaim(ctx, "ten_a", id, "clm_2"); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Delivery(ctx, "ten_a", id); d.Claim == nil || d.Claim.Token != "clm_1" {
		t.Fatalf("another token released the claim: %+v", d.Claim)
	}
	if err := s.ReleaseClaim(ctx, "ten_a", id, "clm_1"); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Delivery(ctx, "ten_a", id); d.Claim != nil {
		t.Fatalf("claim %+v after its release", d.Claim)
	}
	if _, _, err := s.ClaimSend(ctx, "ten_a", id, "clm_2", "smtp", time.Minute); err != nil {
		t.Errorf("ClaimSend after the release: %v", err)
	}
}

// TestBeginSendIndexes: a send that starts from a draft moves the invoice
// from the drafts and the draft index to the open one, and leaves it where
// it was in the indexes of every invoice and of its customer, without
// writing them again; one that starts from an open invoice writes no
// index; a void invoice's send begins nothing and its indexes stay.
func TestBeginSendIndexes(t *testing.T) {
	t.Parallel()
	const ten = "ten_a"
	for _, tt := range []struct {
		name       string
		before     func(t *testing.T, s *Store, id string)
		begun      bool
		status     invoice.Status
		zadd, zrem int64
	}{
		{"draft", nil, true, invoice.StatusOpen, 1, 2},
		{"open", func(t *testing.T, s *Store, id string) {
			if _, _, err := s.Finalize(context.Background(), ten, id, "api"); err != nil {
				t.Fatal(err)
			}
		}, true, invoice.StatusOpen, 0, 0},
		{"void", func(t *testing.T, s *Store, id string) {
			if _, _, err := s.Void(context.Background(), ten, id); err != nil {
				t.Fatal(err)
			}
		}, false, invoice.StatusVoid, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ctx, _ := setupCounted(t)
			inv := draft("inv_1")
			inv.Customer.Email = "Ada@Example.com"
			inv.Customer.ExternalID = "cus_1"
			if _, err := s.SaveDraft(ctx, inv, time.Hour); err != nil {
				t.Fatal(err)
			}
			send := &Send{ID: "snd_1", TenantID: ten, InvoiceID: inv.ID, Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
			if _, _, err := s.CreateSend(ctx, send); err != nil {
				t.Fatal(err)
			}
			if tt.before != nil {
				tt.before(t, s, inv.ID)
			}
			readJob(t, ctx, s, send)
			stored, err := s.Invoice(ctx, ten, inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			calls := commandStat(t, s.rdb, "calls")
			b, err := s.BeginSend(ctx, startOf(send, "clm_1"))
			if err != nil || b.Begun != tt.begun {
				t.Fatalf("BeginSend = %+v, %v; want begun %v", b, err, tt.begun)
			}
			after := commandStat(t, s.rdb, "calls")
			if n := after["zadd"] - calls["zadd"]; n != tt.zadd {
				t.Errorf("BeginSend ran ZADD %d times, want %d", n, tt.zadd)
			}
			if n := after["zrem"] - calls["zrem"]; n != tt.zrem {
				t.Errorf("BeginSend ran ZREM %d times, want %d", n, tt.zrem)
			}

			score := float64(stored.CreatedAt.UnixMilli())
			in := []string{
				invoicesKey(ten),
				invoiceIndexKey(ten, "", customerEmailRef(inv.Customer.Email)),
				invoiceIndexKey(ten, "", customerIDRef(inv.Customer.ExternalID)),
				invoiceIndexKey(ten, tt.status, ""),
			}
			for _, k := range in {
				if got, err := s.rdb.ZScore(ctx, k, inv.ID).Result(); err != nil || got != score {
					t.Errorf("%s: score %v, %v; want %v", k, got, err, score)
				}
			}
			out := []string{draftsKey(ten)}
			for _, st := range []invoice.Status{invoice.StatusDraft, invoice.StatusOpen, invoice.StatusVoid} {
				if st != tt.status {
					out = append(out, invoiceIndexKey(ten, st, ""))
				}
			}
			for _, k := range out {
				if err := s.rdb.ZScore(ctx, k, inv.ID).Err(); err == nil {
					t.Errorf("%s still holds %s", k, inv.ID)
				}
			}
			for _, st := range []invoice.Status{invoice.StatusDraft, tt.status} {
				page, err := s.ListInvoices(ctx, ten, InvoiceQuery{Status: st, CustomerEmail: "ada@example.com"})
				if want := map[bool]int{true: 1}[st == tt.status]; err != nil || len(page.Invoices) != want {
					t.Errorf("%s invoices of ada@example.com: %+v, %v; want %d", st, page, err, want)
				}
			}
		})
	}
}
