package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/invoice"
)

// listAll follows the cursor through every page of q, checking that no
// page is larger than asked, and returns the ids in order.
func listAll(t *testing.T, s *Store, tenantID string, q InvoiceQuery) (ids []string, pages int) {
	t.Helper()
	for {
		page, err := s.ListInvoices(context.Background(), tenantID, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Invoices) > q.Limit {
			t.Fatalf("page of %d, limit %d", len(page.Invoices), q.Limit)
		}
		for _, inv := range page.Invoices {
			ids = append(ids, inv.ID)
		}
		pages++
		if page.NextCursor == "" {
			return ids, pages
		}
		if pages > 100 {
			t.Fatal("the cursor never ends")
		}
		q.After = page.NextCursor
	}
}

func TestListInvoices(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixMilli())
	s, err := New(srv.Client(t), Config{SecretKey: make([]byte, 32), Now: func() time.Time { return time.UnixMilli(clock.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ten, _, err := s.CreateTenant(ctx, "List SRL")
	if err != nil {
		t.Fatal(err)
	}
	// 25 invoices, newest last; every third one shares its millisecond
	// with the one before, so the cursor must order ties.
	var newestFirst []string
	for i := range 25 {
		if i%3 != 2 {
			clock.Add(1)
		}
		inv := &invoice.Invoice{ID: fmt.Sprintf("inv_%02d", i), TenantID: ten.ID, Number: fmt.Sprint(i), Currency: "EUR"}
		if _, err := s.SaveDraft(ctx, inv, time.Hour); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			if _, _, err := s.Finalize(ctx, ten.ID, inv.ID, "api"); err != nil {
				t.Fatal(err)
			}
		}
		newestFirst = append([]string{inv.ID}, newestFirst...)
	}
	// Saving a draft again keeps its place.
	if _, err := s.SaveDraft(ctx, &invoice.Invoice{ID: "inv_01", TenantID: ten.ID, Number: "1b", Currency: "EUR"}, time.Hour); err != nil {
		t.Fatal(err)
	}

	for _, limit := range []int{1, 7, 10, 25, 100} {
		ids, pages := listAll(t, s, ten.ID, InvoiceQuery{Limit: limit})
		if !slices.Equal(ids, sortedNewestFirst(t, s, ten.ID, newestFirst)) {
			t.Fatalf("limit %d: listed %v", limit, ids)
		}
		if want := (25 + limit - 1) / limit; pages != want {
			t.Errorf("limit %d: %d pages, want %d", limit, pages, want)
		}
	}
	var open []string
	for _, id := range sortedNewestFirst(t, s, ten.ID, newestFirst) {
		inv, _ := s.Invoice(ctx, ten.ID, id)
		if inv.Status == invoice.StatusOpen {
			open = append(open, id)
		}
	}
	if ids, _ := listAll(t, s, ten.ID, InvoiceQuery{Limit: 2, Status: invoice.StatusOpen}); !slices.Equal(ids, open) || len(open) != 7 {
		t.Fatalf("open invoices listed %v, want %v", ids, open)
	}
	// A status has its own index: a filter nothing matches answers at
	// once, with no cursor.
	page, err := s.ListInvoices(ctx, ten.ID, InvoiceQuery{Limit: 1, Status: invoice.StatusPaid})
	if err != nil || len(page.Invoices) != 0 || page.NextCursor != "" {
		t.Fatalf("paid = %d invoices, cursor %q, %v; want none and no cursor", len(page.Invoices), page.NextCursor, err)
	}
	if _, err := s.ListInvoices(ctx, ten.ID, InvoiceQuery{After: "inv_nope"}); !errors.Is(err, ErrBadCursor) {
		t.Fatalf("unknown cursor: %v, want ErrBadCursor", err)
	}
	// Another tenant sees none of them, and a cursor of this one's is
	// unknown to it.
	other, _, _ := s.CreateTenant(ctx, "Other")
	if page, err := s.ListInvoices(ctx, other.ID, InvoiceQuery{}); err != nil || len(page.Invoices) != 0 || page.NextCursor != "" {
		t.Fatalf("other tenant lists %d, %q, %v", len(page.Invoices), page.NextCursor, err)
	}
	if _, err := s.ListInvoices(ctx, other.ID, InvoiceQuery{After: "inv_03"}); !errors.Is(err, ErrBadCursor) {
		t.Fatalf("another tenant's cursor: %v, want ErrBadCursor", err)
	}
}

// sortedNewestFirst orders ids as the listing must: by creation time,
// newest first, and among invoices of the same millisecond by descending
// id.
func sortedNewestFirst(t *testing.T, s *Store, tenantID string, ids []string) []string {
	t.Helper()
	out := slices.Clone(ids)
	created := map[string]time.Time{}
	for _, id := range ids {
		inv, err := s.Invoice(context.Background(), tenantID, id)
		if err != nil {
			t.Fatal(err)
		}
		created[id] = inv.CreatedAt
	}
	slices.SortFunc(out, func(a, b string) int {
		if c := created[b].Compare(created[a]); c != 0 {
			return c
		}
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
	return out
}

// TestListInvoicesIndexesOlderTenants lists the invoices of a tenant whose
// invoices were stored before the index existed: the first listing builds
// it from the tenant's keys, passing over its other keys.
func TestListInvoicesIndexesOlderTenants(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	const ten = "ten_old"
	for i := range 12 {
		inv := &invoice.Invoice{ID: fmt.Sprintf("inv_%d", i), TenantID: ten, Number: fmt.Sprint(i), Currency: "EUR"}
		if _, err := s.SaveDraft(ctx, inv, time.Hour); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	send := &Send{ID: "snd_1", TenantID: ten, InvoiceID: "inv_3", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, _, err := s.CreateSend(ctx, send); err != nil {
		t.Fatal(err)
	}
	// As stored before the index: no index, no marker.
	if err := s.rdb.Del(ctx, invoicesKey(ten), invoicesIndexedKey(ten)).Err(); err != nil {
		t.Fatal(err)
	}
	ids, _ := listAll(t, s, ten, InvoiceQuery{Limit: 5})
	want := []string{"inv_11", "inv_10", "inv_9", "inv_8", "inv_7", "inv_6", "inv_5", "inv_4", "inv_3", "inv_2", "inv_1", "inv_0"}
	if !slices.Equal(ids, want) {
		t.Fatalf("listed %v, want %v", ids, want)
	}
	if n, _ := s.rdb.Exists(ctx, invoicesIndexedKey(ten)).Result(); n != 1 {
		t.Fatal("the index was not marked built")
	}
}

// TestIndexSendsOfOlderTenants lists the scheduled sends and overdue
// deliveries of a tenant whose sends were stored before those indexes
// existed: the first look builds them from the tenant's keys.
func TestIndexSendsOfOlderTenants(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	const ten = "ten_older"
	later := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	scheduled := &Send{ID: "snd_later", TenantID: ten, InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co", ScheduledAt: &later}
	queued := &Send{ID: "snd_now", TenantID: ten, InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	sent := &Send{ID: "snd_sent", TenantID: ten, InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	for _, send := range []*Send{scheduled, queued, sent} {
		if _, _, err := s.CreateSend(ctx, send); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Transition(ctx, ten, sent.DeliveryIDs[0], DeliverySent, "worker", "", nil); err != nil {
		t.Fatal(err)
	}
	// As stored before the indexes: none, and no marker.
	if err := s.rdb.Del(ctx, scheduledSendsKey(ten), openDeliveriesKey(ten), sendsIndexedKey(ten)).Err(); err != nil {
		t.Fatal(err)
	}
	page, _, err := s.ScheduledSends(ctx, ten, nil, 10)
	if err != nil || len(page) != 1 || page[0].ID != "snd_later" {
		t.Fatalf("ScheduledSends = %v, %v; want snd_later", page, err)
	}
	now, err := s.OverdueDeliveries(ctx, ten, time.Now().Add(time.Minute), 10)
	if err != nil || len(now) != 1 || now[0] != queued.DeliveryIDs[0] {
		t.Fatalf("overdue now = %v, %v; want the queued delivery only", now, err)
	}
	all, err := s.OverdueDeliveries(ctx, ten, later.Add(time.Minute), 10)
	if err != nil || len(all) != 2 {
		t.Fatalf("overdue after the scheduled time = %v, %v; want the queued and the scheduled delivery", all, err)
	}
	if n, _ := s.rdb.Exists(ctx, sendsIndexedKey(ten)).Result(); n != 1 {
		t.Fatal("the indexes were not marked built")
	}
}

// TestListInvoicesByCustomer lists a tenant's invoices by their
// customer's email (without regard to case) and external id, alone and
// with a status, a page at a time; a draft given to another customer
// moves between the listings, and an invoice that is gone is passed over
// and leaves the index.
func TestListInvoicesByCustomer(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	ten, _, err := s.CreateTenant(ctx, "List SRL")
	if err != nil {
		t.Fatal(err)
	}
	ana := invoice.Customer{ExternalID: "cus_ana", Name: "Ana", Email: "Ana.Pop@Example.com"}
	bob := invoice.Customer{ExternalID: "cus_bob", Name: "Bob", Email: "bob@example.com"}
	eve := invoice.Customer{Name: "Eve", Email: "eve@example.com"} // no external id
	save := func(id string, c invoice.Customer) {
		t.Helper()
		inv := &invoice.Invoice{ID: id, TenantID: ten.ID, Number: id, Currency: "EUR", Customer: c}
		if _, err := s.SaveDraft(ctx, inv, time.Hour); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	lower := ana
	lower.Email = "ana.pop@example.com"
	save("inv_a1", ana)
	save("inv_b1", bob)
	save("inv_a2", lower)
	save("inv_e1", eve)
	save("inv_a3", ana)
	save("inv_b2", bob)
	save("inv_a4", ana)
	for _, id := range []string{"inv_a1", "inv_a3", "inv_b1"} {
		if _, _, err := s.Finalize(ctx, ten.ID, id, "api"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.MarkPaid(ctx, ten.ID, "inv_a3", "api"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		q    InvoiceQuery
		want []string
	}{
		{"email", InvoiceQuery{CustomerEmail: "ANA.POP@example.COM"}, []string{"inv_a4", "inv_a3", "inv_a2", "inv_a1"}},
		{"id", InvoiceQuery{CustomerID: "cus_ana"}, []string{"inv_a4", "inv_a3", "inv_a2", "inv_a1"}},
		{"id is exact", InvoiceQuery{CustomerID: "CUS_ANA"}, nil},
		{"email without an id", InvoiceQuery{CustomerEmail: "eve@example.com"}, []string{"inv_e1"}},
		{"email and status", InvoiceQuery{CustomerEmail: "ana.pop@example.com", Status: invoice.StatusDraft}, []string{"inv_a4", "inv_a2"}},
		{"id and status", InvoiceQuery{CustomerID: "cus_ana", Status: invoice.StatusPaid}, []string{"inv_a3"}},
		{"id and status, none", InvoiceQuery{CustomerID: "cus_bob", Status: invoice.StatusPaid}, nil},
		{"email and id", InvoiceQuery{CustomerEmail: "bob@example.com", CustomerID: "cus_bob"}, []string{"inv_b2", "inv_b1"}},
		{"email and another's id", InvoiceQuery{CustomerEmail: "bob@example.com", CustomerID: "cus_ana"}, nil},
		{"status", InvoiceQuery{Status: invoice.StatusOpen}, []string{"inv_b1", "inv_a1"}},
		{"nobody", InvoiceQuery{CustomerEmail: "nobody@example.com"}, nil},
	}
	for _, tt := range tests {
		for _, limit := range []int{1, 3, 20} {
			tt.q.Limit = limit
			ids, pages := listAll(t, s, ten.ID, tt.q)
			if !slices.Equal(ids, tt.want) {
				t.Errorf("%s, limit %d: listed %v, want %v", tt.name, limit, ids, tt.want)
			}
			// The indexes hold only what matches: no page comes back
			// short but the last, and no empty page is handed out.
			if want := max(1, (len(tt.want)+limit-1)/limit); pages != want {
				t.Errorf("%s, limit %d: %d pages, want %d", tt.name, limit, pages, want)
			}
		}
	}

	// A draft given to another customer moves: from Ana's listings to
	// Bob's, and back.
	save("inv_a2", bob)
	if ids, _ := listAll(t, s, ten.ID, InvoiceQuery{CustomerID: "cus_ana", Limit: 10}); !slices.Equal(ids, []string{"inv_a4", "inv_a3", "inv_a1"}) {
		t.Errorf("Ana's after the move: %v", ids)
	}
	if ids, _ := listAll(t, s, ten.ID, InvoiceQuery{CustomerEmail: "bob@example.com", Status: invoice.StatusDraft, Limit: 10}); !slices.Equal(ids, []string{"inv_b2", "inv_a2"}) {
		t.Errorf("Bob's drafts after the move: %v", ids)
	}
	save("inv_a2", ana)
	if ids, _ := listAll(t, s, ten.ID, InvoiceQuery{CustomerEmail: "bob@example.com", Limit: 10}); !slices.Equal(ids, []string{"inv_b2", "inv_b1"}) {
		t.Errorf("Bob's after the move back: %v", ids)
	}
	// A draft that loses its external id leaves that listing.
	noID := ana
	noID.ExternalID = ""
	save("inv_a4", noID)
	if ids, _ := listAll(t, s, ten.ID, InvoiceQuery{CustomerID: "cus_ana", Limit: 10}); !slices.Equal(ids, []string{"inv_a3", "inv_a2", "inv_a1"}) {
		t.Errorf("Ana's by id after inv_a4 lost it: %v", ids)
	}

	// An invoice whose key is gone (expired) is passed over, and the
	// listing that met it takes it out of its index.
	if err := s.rdb.Del(ctx, invoiceKey(ten.ID, "inv_a1")).Err(); err != nil {
		t.Fatal(err)
	}
	if ids, _ := listAll(t, s, ten.ID, InvoiceQuery{CustomerEmail: "ana.pop@example.com", Limit: 2}); !slices.Equal(ids, []string{"inv_a4", "inv_a3", "inv_a2"}) {
		t.Errorf("Ana's after inv_a1 expired: %v", ids)
	}
	key := invoiceIndexKey(ten.ID, "", customerEmailRef("ana.pop@example.com"))
	if _, err := s.rdb.ZScore(ctx, key, "inv_a1").Result(); err == nil {
		t.Errorf("the expired inv_a1 is still in %s", key)
	}

	// Another tenant with a customer of the same email and id sees only
	// its own invoices.
	other, _, _ := s.CreateTenant(ctx, "Other")
	if _, err := s.SaveDraft(ctx, &invoice.Invoice{ID: "inv_theirs", TenantID: other.ID, Number: "1", Currency: "EUR", Customer: ana}, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, q := range []InvoiceQuery{{CustomerEmail: ana.Email}, {CustomerID: ana.ExternalID}} {
		q.Limit = 10
		if ids, _ := listAll(t, s, other.ID, q); !slices.Equal(ids, []string{"inv_theirs"}) {
			t.Errorf("the other tenant's %+v: %v", q, ids)
		}
	}
}

// TestListInvoicesByCustomerOfOlderTenants lists by customer and status
// the invoices of a tenant stored before those indexes existed: the first
// such listing builds them from the tenant's keys.
func TestListInvoicesByCustomerOfOlderTenants(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	const ten = "ten_old"
	for i := range 6 {
		c := invoice.Customer{ExternalID: fmt.Sprintf("cus_%d", i%2), Name: "C", Email: fmt.Sprintf("C%d@example.com", i%2)}
		inv := &invoice.Invoice{ID: fmt.Sprintf("inv_%d", i), TenantID: ten, Number: fmt.Sprint(i), Currency: "EUR", Customer: c}
		if _, err := s.SaveDraft(ctx, inv, time.Hour); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if _, _, err := s.Finalize(ctx, ten, "inv_4", "api"); err != nil {
		t.Fatal(err)
	}
	// As stored before the indexes: only the list of all invoices, and
	// no marker.
	keys, err := s.rdb.Keys(ctx, tenantKey(ten, "invoices-by")+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no index to remove: %v, %v", keys, err)
	}
	if err := s.rdb.Del(ctx, append(keys, invoiceFiltersIndexedKey(ten))...).Err(); err != nil {
		t.Fatal(err)
	}
	if ids, _ := listAll(t, s, ten, InvoiceQuery{CustomerEmail: "c0@example.com", Limit: 2}); !slices.Equal(ids, []string{"inv_4", "inv_2", "inv_0"}) {
		t.Errorf("by email: %v", ids)
	}
	if ids, _ := listAll(t, s, ten, InvoiceQuery{CustomerID: "cus_0", Status: invoice.StatusDraft, Limit: 2}); !slices.Equal(ids, []string{"inv_2", "inv_0"}) {
		t.Errorf("by id and status: %v", ids)
	}
	if ids, _ := listAll(t, s, ten, InvoiceQuery{Status: invoice.StatusOpen, Limit: 2}); !slices.Equal(ids, []string{"inv_4"}) {
		t.Errorf("by status: %v", ids)
	}
	if n, _ := s.rdb.Exists(ctx, invoiceFiltersIndexedKey(ten)).Result(); n != 1 {
		t.Fatal("the indexes were not marked built")
	}
}
