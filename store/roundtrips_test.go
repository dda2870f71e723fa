package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/invoice"
)

// setupCounted is setup with a count of the store's round trips.
func setupCounted(t testing.TB) (*Store, context.Context, *redistest.Counter) {
	t.Helper()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	c := &redistest.Counter{}
	rdb.AddHook(c)
	s, err := New(rdb, Config{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	// Counted from a connection made and the script known to Redis, as
	// they are once a store has run for a while.
	for _, script := range []*redis.Script{casScript, casAllScript} {
		if err := script.Load(context.Background(), rdb).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return s, context.Background(), c
}

// createEmailSend stores send snd_1 of invoice inv_1 by email and
// returns its delivery's id.
func createEmailSend(t *testing.T, ctx context.Context, s *Store) string {
	t.Helper()
	send := &Send{ID: "snd_1", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, _, err := s.CreateSend(ctx, send); err != nil {
		t.Fatal(err)
	}
	return send.DeliveryIDs[0]
}

func TestTransitionUnchangedWritesNothing(t *testing.T) {
	t.Parallel()
	s, ctx, c := setupCounted(t)
	id := createEmailSend(t, ctx, s)
	key := deliveryKey("ten_a", id)
	before, err := s.rdb.Get(ctx, key).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var d *Delivery
	var changed bool
	n := c.TripsOf(func() {
		d, changed, err = s.Transition(ctx, "ten_a", id, DeliveryQueued, "worker", "", nil)
	})
	if err != nil || changed || d == nil || d.Status != DeliveryQueued || d.TenantID != "ten_a" {
		t.Fatalf("Transition(queued) of a queued delivery = %+v, %v, %v", d, changed, err)
	}
	if n != 1 {
		t.Errorf("Transition that changes nothing took %d round trips, want 1 (the read)", n)
	}
	if after, _ := s.rdb.Get(ctx, key).Bytes(); string(after) != string(before) {
		t.Error("Transition that changes nothing rewrote the record")
	}
	// The record it read stands: the next change starts from it.
	if _, changed, err := s.Transition(ctx, "ten_a", id, DeliveryFailed, "worker", "x", nil); err != nil || !changed {
		t.Fatalf("Transition(failed) = %v, %v", changed, err)
	}
}

func TestRecordSent(t *testing.T) {
	t.Parallel()
	s, ctx, c := setupCounted(t)
	id := createEmailSend(t, ctx, s)
	if _, _, err := s.ClaimSend(ctx, "ten_a", id, "clm_1", "ses", time.Minute); err != nil {
		t.Fatal(err)
	}
	var m Moved
	var indexErr, err error
	mutate := func(d *Delivery) { d.Provider, d.ProviderID = "ses", "msg-1" }
	n := c.TripsOf(func() {
		m, indexErr, err = s.RecordSent(ctx, "ten_a", id, "ses", "msg-1", nil, mutate)
	})
	if d := m.Delivery; err != nil || indexErr != nil || !m.Changed || d.Status != DeliverySent || d.Claim != nil || d.ProviderID != "msg-1" {
		t.Fatalf("RecordSent = %+v, %v, %v", m, indexErr, err)
	}
	if n != 1 {
		t.Errorf("RecordSent after the claim took %d round trips, want 1", n)
	}
	found, err := s.DeliveryByProviderMessage(ctx, "ses", "msg-1")
	if err != nil || found.ID != id {
		t.Fatalf("DeliveryByProviderMessage = %+v, %v", found, err)
	}
	if ttl := s.rdb.TTL(ctx, providerMessageKey("ses", "msg-1")).Val(); ttl <= 0 || ttl > EventTTL {
		t.Errorf("index TTL %v, want up to %v", ttl, EventTTL)
	}
	if got, err := s.OverdueDeliveries(ctx, "ten_a", time.Now().Add(time.Hour), 10); err != nil || len(got) != 0 {
		t.Errorf("a sent delivery is still open: %v, %v", got, err)
	}

	// A retry of the recording, whose first try wrote the delivery but not
	// the index, writes the index and changes nothing else.
	if err := s.rdb.Del(ctx, providerMessageKey("ses", "msg-1")).Err(); err != nil {
		t.Fatal(err)
	}
	m, indexErr, err = s.RecordSent(ctx, "ten_a", id, "ses", "msg-1", nil, mutate)
	if err != nil || indexErr != nil || m.Changed || m.Delivery.Status != DeliverySent {
		t.Fatalf("RecordSent again = %+v, %v, %v", m, indexErr, err)
	}
	if _, err := s.DeliveryByProviderMessage(ctx, "ses", "msg-1"); err != nil {
		t.Errorf("index after the retry: %v", err)
	}

	// Without a provider id there is nothing to index.
	send2 := &Send{ID: "snd_2", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelSMS}, Phone: "+40700000000"}
	if _, _, err := s.CreateSend(ctx, send2); err != nil {
		t.Fatal(err)
	}
	if m, indexErr, err := s.RecordSent(ctx, "ten_a", send2.DeliveryIDs[0], "twilio", "", nil, nil); err != nil || indexErr != nil || !m.Changed {
		t.Fatalf("RecordSent without a provider id = %+v, %v, %v", m, indexErr, err)
	}
	if keys := s.rdb.Keys(ctx, providerMessageKey("twilio", "*")).Val(); len(keys) != 0 {
		t.Errorf("indexed without a provider id: %v", keys)
	}
}

func TestDeliveryJob(t *testing.T) {
	t.Parallel()
	s, ctx, c := setupCounted(t)
	for _, id := range []string{"inv_1", "inv_2"} {
		if _, err := s.SaveDraft(ctx, draft(id), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveSettings(ctx, "ten_a", Settings{Email: EmailSettings{FromEmail: "billing@acme.test"}}); err != nil {
		t.Fatal(err)
	}
	send := &Send{ID: "snd_1", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	other := &Send{ID: "snd_2", TenantID: "ten_a", InvoiceID: "inv_2", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	for _, sd := range []*Send{send, other} {
		if _, _, err := s.CreateSend(ctx, sd); err != nil {
			t.Fatal(err)
		}
	}
	id := send.DeliveryIDs[0]
	wantD, _ := s.Delivery(ctx, "ten_a", id)
	wantSend, _ := s.Send(ctx, "ten_a", "snd_1")
	wantInv, _ := s.Invoice(ctx, "ten_a", "inv_1")
	wantSt, _ := s.Settings(ctx, "ten_a")
	check := func(name, sendID, invoiceID string, wantTrips int64) {
		t.Helper()
		var d *Delivery
		var gotSend *Send
		var err error
		var st Settings
		n := c.TripsOf(func() { d, gotSend, _, st, err = s.DeliveryJob(ctx, "ten_a", id, sendID, invoiceID) })
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(d, wantD) || !reflect.DeepEqual(gotSend, wantSend) || !reflect.DeepEqual(st, wantSt) {
			t.Errorf("%s: DeliveryJob = %+v, %+v, %+v; want %+v, %+v, %+v", name, d, gotSend, st, wantD, wantSend, wantSt)
		}
		if n != wantTrips {
			t.Errorf("%s: %d round trips, want %d", name, n, wantTrips)
		}
	}
	check("named right", "snd_1", "inv_1", 1)
	check("named wrong", "snd_2", "inv_2", 2)
	if _, _, inv, _, err := s.DeliveryJob(ctx, "ten_a", id, "snd_1", "inv_1"); err != nil || !reflect.DeepEqual(inv, wantInv) {
		t.Errorf("invoice %+v, %v; want %+v", inv, err, wantInv)
	}
	// The claim that follows starts from the delivery as read.
	if n := c.TripsOf(func() {
		if _, _, err := s.ClaimSend(ctx, "ten_a", id, "clm_1", "smtp", time.Minute); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Errorf("claim after DeliveryJob took %d round trips, want 1", n)
	}
	for _, ids := range [][3]string{{"dlv_none", "snd_1", "inv_1"}, {id, "snd_none", "inv_1"}, {id, "snd_1", "inv_none"}} {
		if _, _, _, _, err := s.DeliveryJob(ctx, "ten_a", ids[0], ids[1], ids[2]); !errors.Is(err, ErrNotFound) {
			t.Errorf("DeliveryJob(%v): %v, want ErrNotFound", ids, err)
		}
	}
}

func TestInvoiceForSend(t *testing.T) {
	t.Parallel()
	s, ctx, c := setupCounted(t)
	if _, err := s.SaveDraft(ctx, draft("inv_1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	check := func(name string) {
		t.Helper()
		wantInv, _ := s.Invoice(ctx, "ten_a", "inv_1")
		wantSt, _ := s.Settings(ctx, "ten_a")
		var inv any
		var st Settings
		var err error
		if n := c.TripsOf(func() { inv, st, err = s.InvoiceForSend(ctx, "ten_a", "inv_1") }); n != 1 {
			t.Errorf("%s: %d round trips, want 1", name, n)
		}
		if err != nil || !reflect.DeepEqual(inv, wantInv) || !reflect.DeepEqual(st, wantSt) {
			t.Errorf("%s: InvoiceForSend = %+v, %+v, %v; want %+v, %+v", name, inv, st, err, wantInv, wantSt)
		}
	}
	check("without settings")
	if err := s.SaveSettings(ctx, "ten_a", Settings{Email: EmailSettings{Provider: ProviderSMTP, SMTP: &SMTPSettings{Host: "smtp.example.com", Password: "secret"}}}); err != nil {
		t.Fatal(err)
	}
	check("with settings")
	if _, _, err := s.InvoiceForSend(ctx, "ten_a", "inv_none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a missing invoice: %v, want ErrNotFound", err)
	}
	if _, _, err := s.InvoiceForSend(ctx, "ten_b", "inv_1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("another tenant's invoice: %v, want ErrNotFound", err)
	}
}

// TestSaveDraftConcurrent has eight stores save the same new draft at
// once, each with its own lines: one creates it, the others replace it,
// and the invoice is one of theirs, indexed once.
func TestSaveDraftConcurrent(t *testing.T) {
	t.Parallel()
	s, ctx, c := setupCounted(t)
	if n := c.TripsOf(func() {
		if created, err := s.SaveDraft(ctx, draft("inv_0"), time.Hour); err != nil || !created {
			t.Fatalf("SaveDraft = %v, %v", created, err)
		}
	}); n != 1 {
		t.Errorf("a new draft took %d round trips, want 1", n)
	}
	const writers = 8
	var wg sync.WaitGroup
	var createdN atomic.Int64
	for i := range writers {
		st, err := New(s.rdb, Config{SecretKey: make([]byte, 32)})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			inv := draft("inv_1")
			inv.Number = "N-" + string(rune('a'+i))
			created, err := st.SaveDraft(ctx, inv, time.Hour)
			if err != nil {
				t.Error(err)
			}
			if created {
				createdN.Add(1)
			}
		})
	}
	wg.Wait()
	if n := createdN.Load(); n != 1 {
		t.Errorf("%d saves created the draft, want 1", n)
	}
	if n := s.rdb.ZCard(ctx, tenantKey("ten_a", "invoices")).Val(); n != 2 {
		t.Errorf("%d invoices indexed, want 2", n)
	}
	if n := s.rdb.ZCard(ctx, draftsKey("ten_a")).Val(); n != 2 {
		t.Errorf("%d drafts waiting, want 2", n)
	}
}

// TestMadeQueued: a send never scheduled, whose deliveries are the ones
// it derived, made them queued, and saying so asks nothing of the heap.
func TestMadeQueued(t *testing.T) {
	s, ctx := setup(t)
	send := &Send{ID: "snd_1", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail, ChannelSMS}, Email: "a@b.co", Phone: "+40700000000"}
	if _, _, err := s.CreateSend(ctx, send); err != nil {
		t.Fatal(err)
	}
	if !send.MadeQueued() {
		t.Error("MadeQueued = false, want true")
	}
	if n := testing.AllocsPerRun(100, func() { _ = send.MadeQueued() }); n != 0 {
		t.Errorf("MadeQueued: %v allocations, want 0", n)
	}
	want := map[string]Channel{send.DeliveryIDs[0]: ChannelEmail, send.DeliveryIDs[1]: ChannelSMS}
	for _, id := range send.DeliveryIDs {
		if d, err := s.Delivery(ctx, "ten_a", id); err != nil || d.Status != DeliveryQueued || d.Channel != want[id] {
			t.Errorf("delivery %s = %+v, %v", id, d, err)
		}
	}
	at := time.Now().Add(time.Hour)
	scheduled := &Send{ID: "snd_2", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co", ScheduledAt: &at}
	if _, _, err := s.CreateSend(ctx, scheduled); err != nil {
		t.Fatal(err)
	}
	if scheduled.MadeQueued() {
		t.Error("a scheduled send's deliveries need no transition")
	}
	foreign := *send
	foreign.DeliveryIDs = []string{"dlv_random1", "dlv_random2"}
	if foreign.MadeQueued() {
		t.Error("deliveries of ids not derived from the send are taken as its own")
	}
	swapped := *send
	swapped.DeliveryIDs = []string{send.DeliveryIDs[1], send.DeliveryIDs[0]}
	if swapped.MadeQueued() {
		t.Error("deliveries in another order are taken as the send's own")
	}
}

// pendingFanouts returns tenant ten_a's events listed as awaiting their
// fan-out.
func pendingFanouts(t *testing.T, ctx context.Context, s *Store) []string {
	t.Helper()
	ids, err := s.rdb.ZRange(ctx, fanoutPendingKey("ten_a"), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestFinalizeWithRecordsEvent(t *testing.T) {
	t.Parallel()
	for _, endpoint := range []bool{false, true} {
		t.Run(fmt.Sprintf("endpoint=%t", endpoint), func(t *testing.T) {
			t.Parallel()
			s, ctx, c := setupCounted(t)
			if endpoint {
				if err := s.SaveEndpoint(ctx, "ten_a", &WebhookEndpoint{ID: "we_1", URL: "https://hooks.example.com", Secret: "whsec_x"}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.SaveDraft(ctx, draft("inv_1"), time.Hour); err != nil {
				t.Fatal(err)
			}
			var inv *invoice.Invoice
			var finalized bool
			var fanout []string
			var err error
			n := c.TripsOf(func() { inv, finalized, fanout, err = s.FinalizeWith(ctx, "ten_a", "inv_1", "send", nil) })
			if err != nil || !finalized || inv.Status != invoice.StatusOpen {
				t.Fatalf("FinalizeWith = %+v, %v, %v", inv, finalized, err)
			}
			if n != 1 {
				t.Errorf("FinalizeWith of a draft just saved took %d round trips, want 1", n)
			}
			id := "evt_inv_1_" + EventInvoiceFinalized
			ev, err := s.Event(ctx, "ten_a", id)
			if err != nil || ev.Type != EventInvoiceFinalized || ev.Data["finalizedBy"] != "send" || ev.Data["number"] != "N-inv_1" {
				t.Fatalf("event = %+v, %v", ev, err)
			}
			want := []string{}
			if endpoint {
				want = []string{id}
			}
			if !reflect.DeepEqual(append([]string{}, fanout...), want) {
				t.Errorf("fan-out pending = %q, want %q", fanout, want)
			}
			if got := pendingFanouts(t, ctx, s); !reflect.DeepEqual(append([]string{}, got...), want) {
				t.Errorf("listed as pending = %q, want %q", got, want)
			}

			// An invoice already open records nothing again.
			_, finalized, fanout, err = s.FinalizeWith(ctx, "ten_a", "inv_1", "send", nil)
			if err != nil || finalized || len(fanout) != 0 {
				t.Fatalf("FinalizeWith again = %v, %q, %v", finalized, fanout, err)
			}
			if again, err := s.Event(ctx, "ten_a", id); err != nil || !again.Timestamp.Equal(ev.Timestamp) {
				t.Errorf("event after a second finalization = %+v, %v; want it as recorded first", again, err)
			}
		})
	}
}

func TestRecordSentRecordsInvoiceSent(t *testing.T) {
	t.Parallel()
	s, ctx, c := setupCounted(t)
	if err := s.SaveEndpoint(ctx, "ten_a", &WebhookEndpoint{ID: "we_1", URL: "https://hooks.example.com", Secret: "whsec_x"}); err != nil {
		t.Fatal(err)
	}
	one := &Send{ID: "snd_1", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	two := &Send{ID: "snd_2", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail, ChannelSMS}, Email: "a@b.co", Phone: "+40700000000"}
	for _, send := range []*Send{one, two} {
		if _, _, err := s.CreateSend(ctx, send); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ClaimSend(ctx, "ten_a", send.DeliveryIDs[0], "clm_1", "ses", time.Minute); err != nil {
			t.Fatal(err)
		}
	}

	// The send's only delivery: invoice.sent goes with the change.
	var m Moved
	var indexErr, err error
	before := commandCalls(t, s)
	n := c.TripsOf(func() { m, indexErr, err = s.RecordSent(ctx, "ten_a", one.DeliveryIDs[0], "ses", "msg-1", one, nil) })
	if scripts := commandCalls(t, s)["evalsha"] - before["evalsha"]; scripts != 1 {
		t.Errorf("RecordSent with its invoice.sent ran %d scripts, want 1", scripts)
	}
	if err != nil || indexErr != nil || !m.Changed || m.SentUndecided {
		t.Fatalf("RecordSent = %+v, %v, %v", m, indexErr, err)
	}
	if n != 1 {
		t.Errorf("RecordSent with its invoice.sent took %d round trips, want 1", n)
	}
	id := "evt_snd_1_" + EventInvoiceSent
	if !reflect.DeepEqual(m.Fanout, []string{id}) {
		t.Errorf("fan-out pending = %q, want %q", m.Fanout, id)
	}
	ev, err := s.Event(ctx, "ten_a", id)
	if err != nil {
		t.Fatal(err)
	}
	want, complete, err := s.SentEventData(ctx, "ten_a", "snd_1", nil)
	if err != nil || !complete {
		t.Fatalf("SentEventData = %v, %v", complete, err)
	}
	if got, want := jsonOf(t, ev.Data), jsonOf(t, want); got != want {
		t.Errorf("invoice.sent data = %s, want %s", got, want)
	}

	// One of two deliveries: the other is read after the change, by the
	// caller, so nothing of the send is recorded with it.
	m, indexErr, err = s.RecordSent(ctx, "ten_a", two.DeliveryIDs[0], "ses", "msg-2", two, nil)
	if err != nil || indexErr != nil || !m.Changed || !m.SentUndecided || len(m.Fanout) != 0 {
		t.Fatalf("RecordSent of one of two = %+v, %v, %v", m, indexErr, err)
	}
	if _, err := s.Event(ctx, "ten_a", "evt_snd_2_"+EventInvoiceSent); !errors.Is(err, ErrNotFound) {
		t.Errorf("invoice.sent of a send with a delivery still queued: %v", err)
	}
	if got := pendingFanouts(t, ctx, s); !reflect.DeepEqual(got, []string{id}) {
		t.Errorf("listed as pending = %q, want %q", got, id)
	}
}

// TestTransitionRecordedStale has the store change a delivery from a
// reading another writer made stale: the events recorded are those of
// the change that was written, once.
func TestTransitionRecordedStale(t *testing.T) {
	t.Parallel()
	s, ctx, _ := setupCounted(t)
	other, err := New(s.rdb, Config{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	id := createEmailSend(t, ctx, s)
	if _, err := s.Delivery(ctx, "ten_a", id); err != nil { // s keeps what it read
		t.Fatal(err)
	}
	if m, err := other.TransitionRecorded(ctx, "ten_a", id, DeliveryFailed, "other", "first", nil, nil); err != nil || !m.Changed {
		t.Fatalf("the other's TransitionRecorded = %+v, %v", m, err)
	}
	m, err := s.TransitionRecorded(ctx, "ten_a", id, DeliveryFailed, "worker", "second", nil, nil)
	if err != nil || m.Changed || m.SentUndecided || len(m.Fanout) != 0 || m.Delivery.Error != "first" {
		t.Fatalf("TransitionRecorded from a stale reading = %+v, %v", m, err)
	}
	ev, err := s.Event(ctx, "ten_a", "evt_"+id+"_"+EventInvoiceDeliveryFailed)
	if err != nil || ev.Data["source"] != "other" || ev.Data["error"] != "first" {
		t.Fatalf("invoice.delivery_failed = %+v, %v; want the other's", ev, err)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTenantByTokenOneRoundTrip(t *testing.T) {
	t.Parallel()
	s, ctx, c := setupCounted(t)
	ten, token, err := s.CreateTenant(ctx, "ACME")
	if err != nil {
		t.Fatal(err)
	}
	lookUp := func(name string, wantTrips int64) (Tenant, error) {
		t.Helper()
		var got Tenant
		n := c.TripsOf(func() { got, err = s.TenantByToken(ctx, token) })
		if n != wantTrips {
			t.Errorf("%s: %d round trips, want %d", name, n, wantTrips)
		}
		return got, err
	}
	for _, tt := range []struct {
		name  string
		trips int64
	}{{"first", 2}, {"again", 1}} {
		if got, err := lookUp(tt.name, tt.trips); err != nil || got.ID != ten.ID {
			t.Fatalf("%s: TenantByToken = %+v, %v", tt.name, got, err)
		}
	}

	// The tenant as it is now, not as it was first read.
	const company = "5f0c0c3e-6a8b-4a5e-9d6c-2b7e1d9a4c11"
	if _, err := s.SetCompanyID(ctx, ten.ID, company); err != nil {
		t.Fatal(err)
	}
	if got, err := lookUp("changed tenant", 1); err != nil || got.CompanyID != company {
		t.Fatalf("TenantByToken after a change = %+v, %v", got, err)
	}

	// A token deleted in Redis stops working at once.
	if err := s.rdb.Del(ctx, tokenKey(token)).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := lookUp("deleted token", 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("TenantByToken of a deleted token = %+v, %v; want ErrNotFound", got, err)
	}
	if _, err := s.TenantByToken(ctx, "ivd_unknown"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("TenantByToken of an unknown token = %v; want ErrNotFound", err)
	}
}

// TestTenantAndInvoiceForSend: once the store has seen a token, a send
// request's reads — the token, its tenant, the invoice and the tenant's
// settings — take one round trip; before, one more (the token alone).
// The invoice is read for the tenant the token names at the time, never
// for another: a deleted token is refused, a token that named another
// tenant reads that tenant's invoice.
func TestTenantAndInvoiceForSend(t *testing.T) {
	t.Parallel()
	s, ctx, c := setupCounted(t)
	acme, token, err := s.CreateTenant(ctx, "ACME")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := s.CreateTenant(ctx, "Other")
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range []*invoice.Invoice{
		{ID: "inv_1", TenantID: acme.ID, Number: "ACME-1", Currency: "EUR"},
		{ID: "inv_1", TenantID: other.ID, Number: "OTHER-1", Currency: "EUR"},
		{ID: "inv_a", TenantID: acme.ID, Number: "ACME-A", Currency: "EUR"},
	} {
		if _, err := s.SaveDraft(ctx, inv, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveSettings(ctx, acme.ID, Settings{Branding: Branding{Seller: invoice.Seller{Name: "ACME SRL"}}}); err != nil {
		t.Fatal(err)
	}
	read := func(name, id string, wantTrips int64) (Tenant, InvoiceRead, error) {
		t.Helper()
		var ten Tenant
		var got InvoiceRead
		n := c.TripsOf(func() { ten, got, err = s.TenantAndInvoiceForSend(ctx, token, id) })
		if n != wantTrips {
			t.Errorf("%s: %d round trips, want %d", name, n, wantTrips)
		}
		return ten, got, err
	}
	for _, tt := range []struct {
		name  string
		trips int64
	}{{"first", 2}, {"again", 1}} {
		ten, got, err := read(tt.name, "inv_1", tt.trips)
		if err != nil || ten.ID != acme.ID || got.Err != nil || got.Invoice.Number != "ACME-1" ||
			got.Invoice.TenantID != acme.ID || got.Settings.Branding.Name != "ACME SRL" {
			t.Fatalf("%s: TenantAndInvoiceForSend = %+v, %+v, %v", tt.name, ten, got, err)
		}
	}
	if _, got, err := read("missing invoice", "inv_none", 1); err != nil || !errors.Is(got.Err, ErrNotFound) || got.Invoice != nil {
		t.Fatalf("missing invoice: %+v, %v; want ErrNotFound in the read", got, err)
	}

	// A token that named another tenant reads only that tenant's
	// invoices (tokens never move; were one to).
	if err := s.rdb.Set(ctx, tokenKey(token), other.ID, 0).Err(); err != nil {
		t.Fatal(err)
	}
	ten, got, err := read("moved token", "inv_1", 3)
	if err != nil || ten.ID != other.ID || got.Err != nil || got.Invoice.Number != "OTHER-1" || got.Invoice.TenantID != other.ID {
		t.Fatalf("moved token: %+v, %+v, %v; want Other's inv_1", ten, got, err)
	}
	if _, got, err := read("moved token, the first tenant's invoice", "inv_a", 1); err != nil || !errors.Is(got.Err, ErrNotFound) {
		t.Fatalf("moved token, ACME's inv_a: %+v, %v; want ErrNotFound in the read", got, err)
	}

	// A token deleted in Redis stops working at once.
	if err := s.rdb.Del(ctx, tokenKey(token)).Err(); err != nil {
		t.Fatal(err)
	}
	if ten, got, err := read("deleted token", "inv_1", 1); !errors.Is(err, ErrNotFound) || got.Invoice != nil {
		t.Fatalf("deleted token: %+v, %+v, %v; want ErrNotFound and no invoice", ten, got, err)
	}
	if _, _, err := s.TenantAndInvoiceForSend(ctx, "ivd_unknown", "inv_1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown token: %v; want ErrNotFound", err)
	}
}

// commandCalls returns how many times Redis ran each command, those run
// by scripts included (INFO commandstats), by lower-case name.
func commandCalls(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	return commandStat(t, s.rdb, "calls")
}

// TestStartSendCommands: a send never scheduled is in no index of
// scheduled sends, and its start takes it out of none.
func TestStartSendCommands(t *testing.T) {
	t.Parallel()
	s, ctx, _ := setupCounted(t)
	at := time.Now().Add(time.Hour)
	for _, tt := range []struct {
		name      string
		scheduled *time.Time
		wantZRem  int64
	}{{"queued", nil, 0}, {"scheduled", &at, 1}} {
		send := &Send{ID: "snd_" + tt.name, TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co", ScheduledAt: tt.scheduled}
		if _, _, err := s.CreateSend(ctx, send); err != nil {
			t.Fatal(err)
		}
		before := commandCalls(t, s)
		if got, err := s.StartSend(ctx, "ten_a", send.ID); err != nil || got.Status != SendStarted {
			t.Fatalf("%s: StartSend = %+v, %v", tt.name, got, err)
		}
		if n := commandCalls(t, s)["zrem"] - before["zrem"]; n != tt.wantZRem {
			t.Errorf("%s: StartSend ran ZREM %d times, want %d", tt.name, n, tt.wantZRem)
		}
	}
	if n := s.rdb.ZCard(ctx, scheduledSendsKey("ten_a")).Val(); n != 0 {
		t.Errorf("%d sends still indexed as scheduled after they started", n)
	}
}

func TestCreateSendTaking(t *testing.T) {
	t.Parallel()
	s, ctx, c := setupCounted(t)
	newSend := func(id string, cc ...string) *Send {
		return &Send{ID: id, TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co", Cc: cc}
	}
	const perHour = 3
	first := newSend("snd_1", "c@d.co")
	var created bool
	var took EmailTake
	var err error
	n := c.TripsOf(func() { _, created, took, err = s.CreateSendTaking(ctx, first, 2, perHour) })
	if err != nil || !created || !took.OK {
		t.Fatalf("CreateSendTaking = %v, %+v, %v", created, took, err)
	}
	if n != 1 {
		t.Errorf("CreateSendTaking took %d round trips, want 1", n)
	}

	// The same send again takes nothing: one email is still left after it.
	if got, created, took, err := s.CreateSendTaking(ctx, newSend("snd_1", "c@d.co"), 2, perHour); err != nil || created || !took.OK || got.ID != "snd_1" {
		t.Fatalf("CreateSendTaking of an existing send = %+v, %v, %+v, %v", got, created, took, err)
	}
	// Two emails do not fit in the one left: nothing is written.
	over := newSend("snd_2", "e@f.co")
	if got, created, took, err := s.CreateSendTaking(ctx, over, 2, perHour); err != nil || created || got != nil || took.OK || took.Left != 1 || took.RetryAfter <= 0 {
		t.Fatalf("CreateSendTaking over the limit = %+v, %v, %+v, %v", got, created, took, err)
	}
	if _, err := s.Send(ctx, "ten_a", "snd_2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused send was stored: %v", err)
	}
	if len(over.DeliveryIDs) != 0 {
		t.Errorf("a refused send was filled in: %+v", over)
	}
	if ids := s.rdb.LRange(ctx, invoiceDeliveriesKey("ten_a", "inv_1"), 0, -1).Val(); len(ids) != 1 {
		t.Errorf("deliveries of inv_1: %v; want the first send's only", ids)
	}
	// One email fits in the one left, and the budget is the one
	// TakeEmails keeps.
	if _, created, took, err := s.CreateSendTaking(ctx, newSend("snd_3"), 1, perHour); err != nil || !created || !took.OK {
		t.Fatalf("CreateSendTaking of the last email = %v, %+v, %v", created, took, err)
	}
	if took, err := s.TakeEmails(ctx, "ten_a", 1, perHour); err != nil || took.OK || took.Left != 0 {
		t.Fatalf("TakeEmails after the budget was spent = %+v, %v", took, err)
	}
	if _, _, _, err := s.CreateSendTaking(ctx, newSend("snd_4", "a@a.co", "b@b.co", "c@c.co"), 4, perHour); !errors.Is(err, ErrOverHourlyLimit) {
		t.Errorf("CreateSendTaking of more emails than the limit = %v; want ErrOverHourlyLimit", err)
	}
}

// scriptArgsHook keeps the KEYS and ARGV of every script a client runs.
type scriptArgsHook struct {
	mu    sync.Mutex
	calls [][2][]any
}

func (h *scriptArgsHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *scriptArgsHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.keep(cmd)
		return next(ctx, cmd)
	}
}

func (h *scriptArgsHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			h.keep(cmd)
		}
		return next(ctx, cmds)
	}
}

func (h *scriptArgsHook) keep(cmd redis.Cmder) {
	if name := cmd.Name(); name != "evalsha" && name != "eval" {
		return
	}
	a := cmd.Args()
	n, _ := strconv.Atoi(fmt.Sprint(a[2]))
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, [2][]any{a[3 : 3+n], a[3+n:]})
}

// TestScriptKeysOnce: a compare-and-write names each key it writes once,
// in KEYS; ARGV refers to it there by a short number rather than carry
// its name again, for Redis to parse and hand to Lua. A send's
// writes from its draft to its delivery recorded sent, with the events
// they record and an email budget taken, are checked.
func TestScriptKeysOnce(t *testing.T) {
	t.Parallel()
	s, ctx, _ := setupCounted(t)
	if err := s.SaveEndpoint(ctx, "ten_a", &WebhookEndpoint{ID: "we_1", URL: "https://hooks.example.com", Secret: "whsec_x"}); err != nil {
		t.Fatal(err)
	}
	h := &scriptArgsHook{}
	s.rdb.AddHook(h)
	if err := sendStartOp(ctx, s, "1", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveDraft(ctx, draft("inv_2"), time.Hour); err != nil {
		t.Fatal(err)
	}
	send := &Send{ID: "snd_2", TenantID: "ten_a", InvoiceID: "inv_2", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, created, took, err := s.CreateSendTaking(ctx, send, 1, 10); err != nil || !created || !took.OK {
		t.Fatalf("CreateSendTaking = %v, %+v, %v", created, took, err)
	}
	if _, err := s.RecordEvents(ctx, "ten_a", "inv_2", []string{EventInvoiceFinalized}, map[string]any{"id": "inv_2"}); err != nil {
		t.Fatal(err)
	}
	if len(h.calls) < 6 {
		t.Fatalf("%d scripts run, want at least 6", len(h.calls))
	}
	for _, call := range h.calls {
		keys, args := call[0], call[1]
		for _, k := range keys {
			for _, a := range args {
				if a == k {
					t.Errorf("a script's ARGV carries its key %v again: KEYS %v ARGV %v", k, keys, args)
				}
			}
		}
	}
}

// BenchmarkMadeQueued asks whether a send of two channels made its
// deliveries queued, as the worker and BeginSend each do once a send.
func BenchmarkMadeQueued(b *testing.B) {
	send := &Send{ID: "snd_1", TenantID: "ten_a", Channels: []Channel{ChannelEmail, ChannelSMS}}
	send.DeliveryIDs = []string{deliveryID("ten_a", "snd_1", 0, ChannelEmail), deliveryID("ten_a", "snd_1", 1, ChannelSMS)}
	for b.Loop() {
		if !send.MadeQueued() {
			b.Fatal("not made queued")
		}
	}
}
