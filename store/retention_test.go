package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/invoice"
)

// sendInvoice creates, finalizes and sends an invoice by email and SMS,
// with both deliveries sent and the email opened.
func sendInvoice(t testing.TB, s *Store, ctx context.Context, tenantID, id string) *Send {
	t.Helper()
	inv := &invoice.Invoice{ID: id, TenantID: tenantID, Number: "N-" + id, Currency: "EUR", IssueDate: "2026-01-01",
		Customer: invoice.Customer{Name: "Ana Popescu", Email: "ana@example.com"}}
	if _, err := s.SaveDraft(ctx, inv, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Finalize(ctx, tenantID, id, "api"); err != nil {
		t.Fatal(err)
	}
	send, _, err := s.CreateSend(ctx, &Send{ID: "snd_" + id, TenantID: tenantID, InvoiceID: id, Kind: SendKindSend,
		Channels: []Channel{ChannelEmail, ChannelSMS}, Email: "ana@example.com", Phone: "+40712345678"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartSend(ctx, tenantID, send.ID); err != nil {
		t.Fatal(err)
	}
	for _, did := range send.DeliveryIDs {
		for _, to := range []DeliveryStatus{DeliverySent, DeliveryDelivered} {
			if _, _, err := s.Transition(ctx, tenantID, did, to, "worker", "", nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, _, err := s.Transition(ctx, tenantID, send.DeliveryIDs[0], DeliveryOpened, "tracking", "", FromIP("192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	return send
}

// TestExpireInvoices: invoices paid or voided more than the retention ago
// are deleted with their sends and deliveries, and no key of the tenant
// names them any more; an open invoice, and one paid within the
// retention, are kept whole.
func TestExpireInvoices(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	clock := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	ten, _, err := s.CreateTenant(ctx, "Retain SRL")
	if err != nil {
		t.Fatal(err)
	}
	gone := map[string]*Send{}
	for _, id := range []string{"inv_paid", "inv_void", "inv_open", "inv_recent"} {
		send := sendInvoice(t, s, ctx, ten.ID, id)
		if id == "inv_paid" || id == "inv_void" {
			gone[id] = send
		}
	}
	if _, _, err := s.MarkPaid(ctx, ten.ID, "inv_paid", "api"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Void(ctx, ten.ID, "inv_void"); err != nil {
		t.Fatal(err)
	}
	clock = clock.AddDate(0, 0, 60)
	if _, _, err := s.MarkPaid(ctx, ten.ID, "inv_recent", "api"); err != nil {
		t.Fatal(err)
	}
	clock = clock.AddDate(0, 0, 31)
	horizon := clock.AddDate(0, 0, -90)

	n, err := s.ExpireInvoices(ctx, ten.ID, horizon, 100)
	if err != nil || n != 2 {
		t.Fatalf("ExpireInvoices = %d, %v; want the 2 invoices final for 91 days", n, err)
	}
	for id, send := range gone {
		if _, err := s.Invoice(ctx, ten.ID, id); err != ErrNotFound {
			t.Errorf("invoice %s: %v, want ErrNotFound", id, err)
		}
		if _, err := s.Send(ctx, ten.ID, send.ID); err != ErrNotFound {
			t.Errorf("send %s: %v, want ErrNotFound", send.ID, err)
		}
		names := append([]string{id, send.ID}, send.DeliveryIDs...)
		for _, name := range names {
			if where := keysNaming(t, s, ctx, ten.ID, name); len(where) > 0 {
				t.Errorf("%s is still named by %v", name, where)
			}
		}
	}
	for _, id := range []string{"inv_open", "inv_recent"} {
		if _, err := s.Invoice(ctx, ten.ID, id); err != nil {
			t.Errorf("invoice %s: %v, want it kept", id, err)
		}
		ds, err := s.InvoiceDeliveries(ctx, ten.ID, id)
		if err != nil || len(ds) != 2 {
			t.Errorf("invoice %s's deliveries: %d, %v; want both kept", id, len(ds), err)
		}
	}
	page, err := s.ListInvoices(ctx, ten.ID, InvoiceQuery{Limit: 10})
	if err != nil || len(page.Invoices) != 2 {
		t.Errorf("ListInvoices: %d invoices, %v; want the 2 kept", len(page.Invoices), err)
	}
	ds, _, err := s.QueryDeliveries(ctx, ten.ID, DeliveryQuery{Limit: 10})
	if err != nil || len(ds) != 4 {
		t.Errorf("QueryDeliveries: %d deliveries, %v; want the 4 of the kept invoices", len(ds), err)
	}
	if n, err := s.ExpireInvoices(ctx, ten.ID, horizon, 100); err != nil || n != 0 {
		t.Errorf("ExpireInvoices again = %d, %v; want nothing left to expire", n, err)
	}
}

// keysNaming returns the tenant's keys whose name, value, members or
// fields contain name.
func keysNaming(t *testing.T, s *Store, ctx context.Context, tenantID, name string) []string {
	t.Helper()
	var out []string
	iter := s.rdb.Scan(ctx, 0, tenantKey(tenantID, "*"), 1000).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		if strings.Contains(key, name) {
			out = append(out, key)
			continue
		}
		var vals []string
		var err error
		switch typ := s.rdb.Type(ctx, key).Val(); typ {
		case "string":
			var v string
			v, err = s.rdb.Get(ctx, key).Result()
			vals = []string{v}
		case "zset":
			vals, err = s.rdb.ZRange(ctx, key, 0, -1).Result()
		case "list":
			vals, err = s.rdb.LRange(ctx, key, 0, -1).Result()
		case "hash":
			var m map[string]string
			m, err = s.rdb.HGetAll(ctx, key).Result()
			for k, v := range m {
				vals = append(vals, k, v)
			}
		case "set":
			vals, err = s.rdb.SMembers(ctx, key).Result()
		default:
			t.Fatalf("key %s is a %s", key, typ)
		}
		if err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if strings.Contains(v, name) {
				out = append(out, fmt.Sprintf("%s (%.60s)", key, v))
				break
			}
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNoteKeepsFirstRepeats: a delivery opened again and again keeps the
// first MaxRepeats repeats of each status in its history and counts the
// rest, so a message forwarded around an office does not grow its record
// without bound.
func TestNoteKeepsFirstRepeats(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	send := sendInvoice(t, s, ctx, "ten_a", "inv_1")
	id := send.DeliveryIDs[0]
	for range MaxRepeats + 15 {
		if _, err := s.Note(ctx, "ten_a", id, Transition{Status: DeliveryOpened, Source: "tracking", IP: "192.0.2.7"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Transition(ctx, "ten_a", id, DeliveryClicked, "tracking", "", nil); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.Note(ctx, "ten_a", id, Transition{Status: DeliveryClicked, Source: "tracking"}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.Delivery(ctx, "ten_a", id)
	if err != nil {
		t.Fatal(err)
	}
	count := map[DeliveryStatus]int{}
	for _, step := range d.History {
		count[step.Status]++
	}
	if count[DeliveryOpened] != 1+MaxRepeats || count[DeliveryClicked] != 1+3 {
		t.Errorf("history holds %d opens and %d clicks, want the open and %d repeats, the click and 3", count[DeliveryOpened], count[DeliveryClicked], MaxRepeats)
	}
	if d.RepeatsNotKept != 15 {
		t.Errorf("RepeatsNotKept = %d, want 15", d.RepeatsNotKept)
	}
	if d.Status != DeliveryClicked {
		t.Errorf("status %s, want clicked", d.Status)
	}
}
