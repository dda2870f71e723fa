package store

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/invoiced/invoiced/invoice"
)

func batchInvoice(tenantID, id string) *invoice.Invoice {
	return &invoice.Invoice{ID: id, TenantID: tenantID, Number: "N-" + id, Currency: "EUR", AutoAdvance: true}
}

func TestSaveDrafts(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	if _, err := s.SaveDraft(ctx, batchInvoice("ten_a", "inv_draft"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveDraft(ctx, batchInvoice("ten_a", "inv_open"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Finalize(ctx, "ten_a", "inv_open", "api"); err != nil {
		t.Fatal(err)
	}
	// More than one chunk, with the draft and the open invoice in the
	// second.
	var invs []*invoice.Invoice
	for i := range batchChunk + 10 {
		invs = append(invs, batchInvoice("ten_a", "inv_"+strconv.Itoa(i)))
	}
	invs[batchChunk+3] = batchInvoice("ten_a", "inv_draft")
	invs[batchChunk+4] = batchInvoice("ten_a", "inv_open")
	invs[batchChunk+4].Number = "changed"
	res, err := s.SaveDrafts(ctx, "ten_a", invs, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		switch i {
		case batchChunk + 3:
			if r.Created || r.Existing != nil {
				t.Fatalf("the draft: %+v, want replaced", r)
			}
		case batchChunk + 4:
			if r.Existing == nil || r.Existing.Status != invoice.StatusOpen || r.Existing.Number != "N-inv_open" {
				t.Fatalf("the open invoice: %+v, want it as stored", r)
			}
		default:
			if !r.Created {
				t.Fatalf("results[%d] = %+v, want created", i, r)
			}
		}
	}
	got, err := s.Invoice(ctx, "ten_a", "inv_open")
	if err != nil || got.Number != "N-inv_open" || got.Status != invoice.StatusOpen {
		t.Fatalf("the open invoice was written: %+v, %v", got, err)
	}
	got, err = s.Invoice(ctx, "ten_a", "inv_"+strconv.Itoa(batchChunk+9))
	if err != nil || got.Status != invoice.StatusDraft || got.FinalizeAt == nil {
		t.Fatalf("a created draft: %+v, %v", got, err)
	}
	due, err := s.DraftsDue(ctx, "ten_a", s.Now().Add(2*time.Hour), 1000)
	if err != nil || len(due) != batchChunk+10-1 {
		t.Fatalf("%d drafts due, want %d: %v", len(due), batchChunk+9, err)
	}
	page, err := s.ListInvoices(ctx, "ten_a", InvoiceQuery{Limit: 100})
	if err != nil || len(page.Invoices) != 100 || page.NextCursor == "" {
		t.Fatalf("listing after the batch: %d, %q, %v", len(page.Invoices), page.NextCursor, err)
	}
	if _, err := s.SaveDrafts(ctx, "ten_b", invs[:1], time.Hour); err == nil {
		t.Fatal("another tenant's invoice saved")
	}
}

func TestCreateSends(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	at := s.Now().Add(time.Hour)
	var sends []*Send
	for i := range batchChunk + 5 {
		sends = append(sends, &Send{ID: "snd_" + strconv.Itoa(i), TenantID: "ten_a", InvoiceID: "inv_" + strconv.Itoa(i),
			Channels: []Channel{ChannelEmail}, Email: "ana@example.com"})
	}
	sends[1].ScheduledAt = &at
	out, created, err := s.CreateSends(ctx, "ten_a", sends)
	if err != nil {
		t.Fatal(err)
	}
	for i, send := range out {
		if !created[i] || len(send.DeliveryIDs) != 1 {
			t.Fatalf("sends[%d] = %+v, created %v", i, send, created[i])
		}
	}
	if out[1].Status != SendScheduled || out[0].Status != SendQueued {
		t.Fatalf("statuses %s, %s", out[0].Status, out[1].Status)
	}
	d, err := s.Delivery(ctx, "ten_a", out[batchChunk+2].DeliveryIDs[0])
	if err != nil || d.Status != DeliveryQueued || d.To != "ana@example.com" {
		t.Fatalf("a delivery of the second chunk: %+v, %v", d, err)
	}
	scheduled, _, err := s.ScheduledSends(ctx, "ten_a", nil, 10)
	if err != nil || len(scheduled) != 1 || scheduled[0].ID != "snd_1" {
		t.Fatalf("scheduled sends: %v, %v", scheduled, err)
	}

	// Again with the same ids: nothing is written, the stored sends are
	// answered.
	again := []*Send{{ID: "snd_0", TenantID: "ten_a", InvoiceID: "inv_0", Channels: []Channel{ChannelEmail}, Email: "other@example.com"}}
	out2, created2, err := s.CreateSends(ctx, "ten_a", again)
	if err != nil || created2[0] || out2[0].Email != "ana@example.com" || out2[0].DeliveryIDs[0] != out[0].DeliveryIDs[0] {
		t.Fatalf("repeated send: %+v, %v, %v", out2[0], created2, err)
	}
	ds, err := s.InvoiceDeliveries(ctx, "ten_a", "inv_0")
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries after a repeat: %d, %v", len(ds), err)
	}
	found, err := s.SendsByID(ctx, "ten_a", []string{"snd_0", "snd_nope"})
	if err != nil || len(found) != 1 || found["snd_0"].TenantID != "ten_a" {
		t.Fatalf("SendsByID = %v, %v", found, err)
	}
}

func TestTakeEmailsEach(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	took, err := s.TakeEmailsEach(ctx, "ten_a", []int{2, 2, 1, 2, 1}, 5)
	if err != nil {
		t.Fatal(err)
	}
	var ok []bool
	for _, x := range took {
		ok = append(ok, x.OK)
	}
	// 2 and 2 fit, then 1; the next 2 does not, and neither does 1 more.
	if want := []bool{true, true, true, false, false}; !equalBools(ok, want) {
		t.Fatalf("takes %v, want %v", ok, want)
	}
	if took[3].RetryAfter < 23*time.Minute || took[3].RetryAfter > 24*time.Minute {
		t.Fatalf("retry for 2 emails of a spent budget = %v, want about 24m", took[3].RetryAfter)
	}
	if got, err := s.TakeEmails(ctx, "ten_a", 1, 5); err != nil || got.OK {
		t.Fatalf("the budget is shared with TakeEmails: %+v, %v", got, err)
	}
	if _, err := s.TakeEmailsEach(ctx, "ten_b", []int{1, 6}, 5); !errors.Is(err, ErrOverHourlyLimit) {
		t.Fatalf("6 of 5/hour: err = %v", err)
	}
	if got, err := s.TakeEmails(ctx, "ten_b", 5, 5); err != nil || !got.OK {
		t.Fatalf("a refused batch took from the budget: %+v, %v", got, err)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestIdempotencyLargeBody checks that a large answer, such as a batch's,
// is replayed byte for byte and stored compressed.
func TestIdempotencyLargeBody(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	body := bytes.Repeat([]byte(`{"index":7,"status":"created","invoice":{"id":"inv_7","total":"1130.50"}},`), 20000)
	if _, err := s.BeginIdempotent(ctx, "ten_a", "k1", "h1"); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishIdempotent(ctx, "ten_a", "k1", "h1", 200, body); err != nil {
		t.Fatal(err)
	}
	stored, err := s.rdb.StrLen(ctx, idempotencyKey("ten_a", "k1")).Result()
	if err != nil || stored > int64(len(body)/10) {
		t.Fatalf("stored %d bytes for a %d-byte answer, want a tenth or less: %v", stored, len(body), err)
	}
	prev, err := s.BeginIdempotent(ctx, "ten_a", "k1", "h1")
	if err != nil || prev == nil || prev.StatusCode != 200 || !bytes.Equal(prev.Body, body) {
		t.Fatalf("replay of the large answer differs: %v", err)
	}
}
