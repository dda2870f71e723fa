package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/invoice"
)

// sendInvoice creates, finalizes and sends an invoice on channels (by
// email and SMS when none is given), with every delivery sent and
// delivered and the first one opened.
func sendInvoice(t testing.TB, s *Store, ctx context.Context, tenantID, id string, channels ...Channel) *Send {
	t.Helper()
	if len(channels) == 0 {
		channels = []Channel{ChannelEmail, ChannelSMS}
	}
	inv := &invoice.Invoice{ID: id, TenantID: tenantID, Number: "N-" + id, Currency: "EUR", IssueDate: "2026-01-01",
		Customer: invoice.Customer{Name: "Ana Popescu", Email: "ana@example.com"}}
	if _, err := s.SaveDraft(ctx, inv, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Finalize(ctx, tenantID, id, "api"); err != nil {
		t.Fatal(err)
	}
	send, _, err := s.CreateSend(ctx, &Send{ID: "snd_" + id, TenantID: tenantID, InvoiceID: id, Kind: SendKindSend,
		Channels: channels, Email: "ana@example.com", Phone: "+40712345678"})
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

// simulateYear sends perDay invoices a day by email for 365 days on the
// store's clock, each opened and paid the day it is sent, with the daily sweep of
// invoices final for more than 90 days when retain is set, and returns the
// bytes the tenant's keys take (MEMORY USAGE, summed) at the end of the
// days in at.
func simulateYear(tb testing.TB, perDay int, retain bool, at ...int) map[int]int64 {
	tb.Helper()
	srv := redistest.Start(tb)
	clock := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	s, err := New(srv.Client(tb), Config{SecretKey: make([]byte, 32), Now: func() time.Time { return clock }})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	ten, _, err := s.CreateTenant(ctx, "Year SRL")
	if err != nil {
		tb.Fatal(err)
	}
	out := map[int]int64{}
	for day := 1; day <= 365; day++ {
		for i := range perDay {
			id := fmt.Sprintf("inv_%03d_%02d", day, i)
			sendInvoice(tb, s, ctx, ten.ID, id, ChannelEmail)
			if _, _, err := s.MarkPaid(ctx, ten.ID, id, "api"); err != nil {
				tb.Fatal(err)
			}
			clock = clock.Add(time.Minute)
		}
		if retain {
			if _, err := s.ExpireInvoices(ctx, ten.ID, clock.AddDate(0, 0, -DefaultRetentionDays), 1000); err != nil {
				tb.Fatal(err)
			}
		}
		for _, d := range at {
			if d == day {
				out[day] = tenantBytes(tb, s, ctx, ten.ID)
			}
		}
		clock = clock.Add(24*time.Hour - time.Duration(perDay)*time.Minute)
	}
	return out
}

// tenantBytes sums MEMORY USAGE over the tenant's keys.
func tenantBytes(tb testing.TB, s *Store, ctx context.Context, tenantID string) int64 {
	var sum int64
	iter := s.rdb.Scan(ctx, 0, tenantKey(tenantID, "*"), 1000).Iterator()
	for iter.Next(ctx) {
		n, err := s.rdb.MemoryUsage(ctx, iter.Val(), 0).Result()
		if err != nil {
			tb.Fatal(err)
		}
		sum += n
	}
	if err := iter.Err(); err != nil {
		tb.Fatal(err)
	}
	return sum
}

// TestRetentionKeepsMemoryFlat: over a simulated year at a constant rate,
// with 90 days' retention the tenant's memory after day 90 stays within 5%
// of what it was at day 120; without the sweep it grows with the days.
func TestRetentionKeepsMemoryFlat(t *testing.T) {
	t.Parallel()
	days := []int{120, 240, 365}
	kept := simulateYear(t, 3, true, days...)
	for _, d := range days[1:] {
		if r := float64(kept[d]) / float64(kept[120]); r < 0.95 || r > 1.05 {
			t.Errorf("with retention, day %d takes %d bytes, %.2f× day 120's %d; want within 5%%", d, kept[d], r, kept[120])
		}
	}
	all := simulateYear(t, 3, false, days...)
	if r := float64(all[365]) / float64(all[120]); r < 2.5 {
		t.Errorf("without retention, day 365 takes %.2f× day 120's bytes; want about 3× (linear growth)", r)
	}
	t.Logf("bytes at day 120/240/365: with retention %d/%d/%d, without %d/%d/%d",
		kept[120], kept[240], kept[365], all[120], all[240], all[365])
}

// BenchmarkRetentionYear reports the tenant's memory over a simulated
// year of 20 invoices a day (sent, opened, paid), with 90 days' retention
// and, as the baseline in the same run, without: bytes at days 90, 180,
// 270 and 365, and per invoice held at day 365.
func BenchmarkRetentionYear(b *testing.B) {
	const perDay = 20
	days := []int{90, 180, 270, 365}
	for b.Loop() {
		kept := simulateYear(b, perDay, true, days...)
		all := simulateYear(b, perDay, false, days...)
		for _, d := range days {
			b.ReportMetric(float64(kept[d])/1e6, fmt.Sprintf("MB-day%d-retained", d))
			b.ReportMetric(float64(all[d])/1e6, fmt.Sprintf("MB-day%d-kept-forever", d))
		}
		b.ReportMetric(float64(kept[365])/float64(perDay*DefaultRetentionDays), "B/invoice-held")
	}
}
