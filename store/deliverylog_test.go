package store

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDeliveryLog sends to many invoices over both channels, fails some
// deliveries, and reads the log back with every filter and page size:
// each query answers exactly the deliveries a scan of them all selects, in
// order, with no page repeating or skipping one.
func TestDeliveryLog(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	clock := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	const tenant = "ten_log"
	var all []*Delivery
	for i := range 30 {
		// Several sends share a millisecond, as a burst would.
		if i%4 == 0 {
			clock = clock.Add(time.Minute)
		}
		channels := []Channel{ChannelEmail}
		if i%3 == 0 {
			channels = append(channels, ChannelSMS)
		}
		send, _, err := s.CreateSend(ctx, &Send{ID: fmt.Sprintf("snd_%02d", i), TenantID: tenant, InvoiceID: fmt.Sprintf("inv_%d", i%7), Channels: channels, Email: "a@b.co", Phone: "+40712345678"})
		if err != nil {
			t.Fatal(err)
		}
		for j, id := range send.DeliveryIDs {
			to := DeliverySent
			if (i+j)%5 == 0 {
				to = DeliveryFailed
			}
			if _, _, err := s.Transition(ctx, tenant, id, to, "test", "", nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Another tenant's deliveries never show.
	if _, _, err := s.CreateSend(ctx, &Send{ID: "snd_other", TenantID: "ten_other", InvoiceID: "inv_x", Channels: []Channel{ChannelEmail}, Email: "x@y.co"}); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		ds, err := s.InvoiceDeliveries(ctx, tenant, fmt.Sprintf("inv_%d", i))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ds...)
	}
	// Newest first: by creation time, then id backwards.
	slices.SortFunc(all, func(a, b *Delivery) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	start, end := all[len(all)-1].CreatedAt, all[0].CreatedAt

	for _, q := range []DeliveryQuery{
		{},
		{Status: DeliveryFailed},
		{Status: DeliverySent, Channel: ChannelSMS},
		{Channel: ChannelSMS},
		{Since: start.Add(2 * time.Minute), Until: end},
		{Status: DeliveryFailed, Since: start.Add(time.Minute), Oldest: true},
		{Oldest: true},
	} {
		var want []string
		for _, d := range all {
			if (q.Status == "" || d.Status == q.Status) && (q.Channel == "" || d.Channel == q.Channel) &&
				(q.Since.IsZero() || !d.CreatedAt.Before(q.Since)) && (q.Until.IsZero() || d.CreatedAt.Before(q.Until)) {
				want = append(want, d.ID)
			}
		}
		if q.Oldest {
			slices.Reverse(want)
		}
		if len(want) == 0 {
			t.Fatalf("%+v selects nothing; the test data is too thin", q)
		}
		for _, limit := range []int{1, 3, 100} {
			q := q
			q.Limit = limit
			var got []string
			for pages := 0; ; pages++ {
				ds, next, err := s.QueryDeliveries(ctx, tenant, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(ds) > limit || pages > len(want) {
					t.Fatalf("%+v: page of %d, %d pages", q, len(ds), pages)
				}
				for _, d := range ds {
					got = append(got, d.ID)
				}
				if next == nil {
					break
				}
				q.After = next
			}
			if !slices.Equal(got, want) {
				t.Errorf("status %q channel %q since %v until %v oldest %v, limit %d:\n got %v\nwant %v",
					q.Status, q.Channel, q.Since, q.Until, q.Oldest, limit, got, want)
			}
		}
	}

	// A tenant whose deliveries predate the log gets it built on first use.
	keys, err := s.rdb.Keys(ctx, "ivd:{"+tenant+"}:dlv-log*").Result()
	if err != nil || len(keys) < 5 {
		t.Fatalf("delivery log keys %v, %v", keys, err)
	}
	if err := s.rdb.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	ds, _, err := s.QueryDeliveries(ctx, tenant, DeliveryQuery{Status: DeliveryFailed, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var failed int
	for _, d := range all {
		if d.Status == DeliveryFailed {
			failed++
		}
	}
	if len(ds) != failed {
		t.Errorf("after rebuilding the log: %d failed deliveries, want %d", len(ds), failed)
	}
}
