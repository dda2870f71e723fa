package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goccy/go-json"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/invoice"
)

func setup(t *testing.T) (*Store, context.Context) {
	t.Helper()
	srv := redistest.Start(t)
	s, err := New(srv.Client(t), Config{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return s, context.Background()
}

func TestCanTransition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to DeliveryStatus
		want     bool
	}{
		{DeliveryScheduled, DeliveryQueued, true},
		{DeliveryQueued, DeliverySent, true},
		{DeliverySent, DeliveryDelivered, true},
		{DeliveryQueued, DeliveryDelivered, true}, // a late "sent" is skipped
		{DeliveryDelivered, DeliveryOpened, true},
		{DeliveryOpened, DeliveryClicked, true},
		{DeliveryClicked, DeliveryOpened, false},
		{DeliveryDelivered, DeliverySent, false},
		{DeliverySent, DeliverySent, false},
		{DeliverySent, DeliveryBounced, true},
		{DeliveryQueued, DeliveryFailed, true},
		{DeliveryBounced, DeliveryDelivered, false},
		{DeliveryFailed, DeliverySent, false},
		{DeliveryScheduled, DeliveryCanceled, true},
		{DeliveryQueued, DeliveryCanceled, false},
		{DeliveryCanceled, DeliveryQueued, false},
		{DeliveryQueued, "bogus", false},
	}
	for _, tt := range tests {
		if got := CanTransition(tt.from, tt.to); got != tt.want {
			t.Errorf("CanTransition(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestTenantToken(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	ten, token, err := s.CreateTenant(ctx, "ACME")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.TenantByToken(ctx, token)
	if err != nil || got.ID != ten.ID {
		t.Fatalf("TenantByToken = %+v, %v; want %s", got, err, ten.ID)
	}
	if _, err := s.TenantByToken(ctx, token+"x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("TenantByToken(wrong) err = %v, want ErrNotFound", err)
	}
	keys, _ := s.rdb.Keys(ctx, "*").Result()
	for _, k := range keys {
		v, _ := s.rdb.Get(ctx, k).Result()
		if v == token || k == token {
			t.Fatalf("token stored in plain text at %s", k)
		}
	}
}

func TestTenantCompanyID(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	const company = "550e8400-e29b-41d4-a716-446655440000"
	ten, token, err := s.CreateTenant(ctx, "Storno SRL", WithCompanyID(strings.ToUpper(company)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.TenantByToken(ctx, token)
	if err != nil || got.CompanyID != company || ten.CompanyID != company {
		t.Fatalf("tenant = %+v, %v; want company %s in lower case", got, err, company)
	}
	for ref, want := range map[string]bool{ten.ID: true, company: true, strings.ToUpper(company): true,
		"Storno SRL": false, "550e8400-e29b-41d4-a716-446655440001": false, "": false} {
		if got.NamedBy(ref) != want {
			t.Errorf("NamedBy(%q) = %v, want %v", ref, !want, want)
		}
	}
	// Two tenants may carry the same company id: it only confirms the
	// tenant a token chose.
	if _, _, err := s.CreateTenant(ctx, "Twin SRL", WithCompanyID(company)); err != nil {
		t.Fatalf("a second tenant with the same company id: %v", err)
	}
	for _, bad := range []string{"ACME", "550e8400e29b41d4a716446655440000", "{550e8400-e29b-41d4-a716-446655440000}"} {
		if _, _, err := s.CreateTenant(ctx, "Bad SRL", WithCompanyID(bad)); !errors.Is(err, ErrInvalidCompanyID) {
			t.Errorf("CreateTenant with company id %q: err = %v, want ErrInvalidCompanyID", bad, err)
		}
	}

	changed, err := s.SetCompanyID(ctx, ten.ID, "7C9E6679-7425-40DE-944B-E07FC1F90AE7")
	if err != nil || changed.CompanyID != "7c9e6679-7425-40de-944b-e07fc1f90ae7" || changed.Name != "Storno SRL" {
		t.Fatalf("SetCompanyID = %+v, %v", changed, err)
	}
	if got, _ := s.TenantByToken(ctx, token); got.CompanyID != changed.CompanyID || got.NamedBy(company) {
		t.Fatalf("after SetCompanyID the token's tenant is %+v", got)
	}
	if _, err := s.SetCompanyID(ctx, ten.ID, "nope"); !errors.Is(err, ErrInvalidCompanyID) {
		t.Fatalf("SetCompanyID(nope) err = %v", err)
	}
	if cleared, err := s.SetCompanyID(ctx, ten.ID, ""); err != nil || cleared.CompanyID != "" || cleared.NamedBy("") {
		t.Fatalf("SetCompanyID(\"\") = %+v, %v", cleared, err)
	}
}

func TestTenantSESIdentities(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	ten, token, err := s.CreateTenant(ctx, "ACME SRL", WithSESIdentities([]string{" Billing@ACME.example ", "acme.example", "acme.example"}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.TenantByToken(ctx, token)
	if want := []string{"billing@acme.example", "acme.example"}; err != nil || !slices.Equal(got.SESIdentities, want) || !slices.Equal(ten.SESIdentities, want) {
		t.Fatalf("tenant = %+v, %v; want identities %q, trimmed, in lower case, once each", got, err, want)
	}
	for from, want := range map[string]bool{
		"billing@acme.example":      true,
		"BILLING@Acme.Example":      true,
		"ceo@acme.example":          true, // the domain is granted
		"billing@mail.acme.example": false,
		"billing@acme.example.evil": false,
		"billing@b.example":         false,
		"acme.example":              false,
		"":                          false,
	} {
		if got.MaySendAsSES(from) != want {
			t.Errorf("MaySendAsSES(%q) = %v, want %v", from, !want, want)
		}
	}
	onlyAddress := Tenant{SESIdentities: []string{"billing@a.example"}}
	if !onlyAddress.MaySendAsSES("billing@a.example") || onlyAddress.MaySendAsSES("ceo@a.example") {
		t.Error("a granted address grants its domain, or not itself")
	}
	if (Tenant{}).MaySendAsSES("billing@acme.example") {
		t.Error("a tenant with no grant may send as anyone")
	}

	for _, bad := range [][]string{{"not an identity"}, {"@acme.example"}, {"billing@"}, {"acme"}, {"acme..example"}, {"*.acme.example"}, {""}} {
		if _, _, err := s.CreateTenant(ctx, "Bad SRL", WithSESIdentities(bad)); !errors.Is(err, ErrInvalidSESIdentity) {
			t.Errorf("CreateTenant with identities %q: err = %v, want ErrInvalidSESIdentity", bad, err)
		}
	}

	changed, err := s.SetSESIdentities(ctx, ten.ID, []string{"b.example"})
	if err != nil || !slices.Equal(changed.SESIdentities, []string{"b.example"}) || changed.Name != "ACME SRL" {
		t.Fatalf("SetSESIdentities = %+v, %v", changed, err)
	}
	if got, _ := s.TenantByToken(ctx, token); got.MaySendAsSES("billing@acme.example") || !got.MaySendAsSES("ceo@b.example") {
		t.Fatalf("after SetSESIdentities the token's tenant is %+v", got)
	}
	if _, err := s.SetSESIdentities(ctx, ten.ID, []string{"nope"}); !errors.Is(err, ErrInvalidSESIdentity) {
		t.Fatalf("SetSESIdentities(nope) err = %v", err)
	}
	if cleared, err := s.SetSESIdentities(ctx, ten.ID, nil); err != nil || len(cleared.SESIdentities) != 0 || cleared.MaySendAsSES("ceo@b.example") {
		t.Fatalf("SetSESIdentities(nil) = %+v, %v", cleared, err)
	}
}

func TestEmailID(t *testing.T) {
	t.Parallel()
	id := EmailID("ten_a", "dlv_1")
	if len(id) != 36 || id[14] != '5' {
		t.Fatalf("EmailID = %q, want a version 5 UUID", id)
	}
	if again := EmailID("ten_a", "dlv_1"); again != id {
		t.Fatalf("EmailID changed: %s then %s", id, again)
	}
	if EmailID("ten_a", "dlv_2") == id || EmailID("ten_b", "dlv_1") == id {
		t.Fatal("two deliveries share an EmailID")
	}
}

func TestSettingsSecretEncrypted(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	st := Settings{Email: EmailSettings{Provider: ProviderSMTP, SMTP: &SMTPSettings{Host: "h", Password: "hunter2"}}}
	if err := s.SaveSettings(ctx, "ten_a", st); err != nil {
		t.Fatal(err)
	}
	raw, _ := s.rdb.Get(ctx, tenantKey("ten_a", "settings")).Result()
	if raw == "" || strings.Contains(raw, "hunter2") {
		t.Fatalf("stored settings hold the password in plain text: %s", raw)
	}
	got, err := s.Settings(ctx, "ten_a")
	if err != nil || got.Email.SMTP.Password != "hunter2" {
		t.Fatalf("Settings = %+v, %v", got.Email.SMTP, err)
	}
	if st.Email.SMTP.Password != "hunter2" {
		t.Fatal("SaveSettings changed the caller's settings")
	}
}

func draft(id string) *invoice.Invoice {
	return &invoice.Invoice{ID: id, TenantID: "ten_a", Number: "N-" + id, Currency: "EUR", AutoAdvance: true}
}

func TestSettingsCompanyName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		branding, fromName, want string
	}{
		{"ACME SRL", "ACME Billing", "ACME SRL"},
		{"", "ACME Billing", "ACME Billing"},
		{"  ", " ACME Billing ", "ACME Billing"},
		{"", "", ""},
	}
	for _, tt := range tests {
		var st Settings
		st.Branding.Name, st.Email.FromName = tt.branding, tt.fromName
		if got := st.CompanyName(); got != tt.want {
			t.Errorf("branding %q, fromName %q: CompanyName() = %q, want %q", tt.branding, tt.fromName, got, tt.want)
		}
	}
}

func TestSaveDraftAndFinalize(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	inv := draft("inv_1")
	created, err := s.SaveDraft(ctx, inv, time.Second)
	if err != nil || !created {
		t.Fatalf("SaveDraft = %v, %v", created, err)
	}
	firstFinalizeAt := *inv.FinalizeAt
	inv2 := draft("inv_1")
	inv2.Notes = "changed"
	created, err = s.SaveDraft(ctx, inv2, time.Hour)
	if err != nil || created {
		t.Fatalf("SaveDraft(again) = %v, %v; want an update", created, err)
	}
	if !inv2.FinalizeAt.Equal(firstFinalizeAt) {
		t.Fatalf("upsert moved FinalizeAt from %v to %v", firstFinalizeAt, inv2.FinalizeAt)
	}
	due, _ := s.DraftsDue(ctx, "ten_a", time.Now().Add(2*time.Second), 10)
	if len(due) != 1 || due[0] != "inv_1" {
		t.Fatalf("DraftsDue = %v", due)
	}

	// Many finalizers race; exactly one wins.
	wins := race(t, 8, func(int) (bool, error) {
		_, changed, err := s.Finalize(ctx, "ten_a", "inv_1", "grace")
		return changed, err
	})
	if wins != 1 {
		t.Fatalf("%d finalizations won, want 1", wins)
	}
	got, _ := s.Invoice(ctx, "ten_a", "inv_1")
	if got.Status != invoice.StatusOpen || got.FinalizedBy != "grace" || got.Notes != "changed" {
		t.Fatalf("invoice after finalize = %s by %q notes %q", got.Status, got.FinalizedBy, got.Notes)
	}
	if due, _ := s.DraftsDue(ctx, "ten_a", time.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Fatalf("finalized invoice still due: %v", due)
	}
	if _, err := s.SaveDraft(ctx, draft("inv_1"), time.Hour); !errors.Is(err, ErrConflict) {
		t.Fatalf("SaveDraft over an open invoice err = %v, want ErrConflict", err)
	}
	if _, err := s.Invoice(ctx, "ten_b", "inv_1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another tenant read the invoice: %v", err)
	}
}

func TestSendLifecycle(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	at := time.Now().Add(time.Hour)
	send := &Send{ID: "snd_1", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co", ScheduledAt: &at}
	got, created, err := s.CreateSend(ctx, send)
	if err != nil || !created || got.Status != SendScheduled || len(got.DeliveryIDs) != 1 {
		t.Fatalf("CreateSend = %+v, %v, %v", got, created, err)
	}
	again, created, err := s.CreateSend(ctx, &Send{ID: "snd_1", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}})
	if err != nil || created || again.DeliveryIDs[0] != got.DeliveryIDs[0] {
		t.Fatalf("CreateSend(same id) = %+v, %v, %v; want the first send", again, created, err)
	}
	if _, err := s.CancelSend(ctx, "ten_a", "inv_other", "snd_1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("CancelSend(wrong invoice) err = %v", err)
	}
	if _, err := s.CancelSend(ctx, "ten_a", "inv_1", "snd_1"); err != nil {
		t.Fatal(err)
	}
	d, _ := s.Delivery(ctx, "ten_a", got.DeliveryIDs[0])
	if d.Status != DeliveryCanceled || len(d.History) != 2 {
		t.Fatalf("delivery after cancel = %s %+v", d.Status, d.History)
	}
	if _, err := s.StartSend(ctx, "ten_a", "snd_1"); !errors.Is(err, ErrConflict) {
		t.Fatalf("StartSend(canceled) err = %v, want ErrConflict", err)
	}

	now := &Send{ID: "snd_2", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, _, err := s.CreateSend(ctx, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartSend(ctx, "ten_a", "snd_2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CancelSend(ctx, "ten_a", "inv_1", "snd_2"); !errors.Is(err, ErrConflict) {
		t.Fatalf("CancelSend(started) err = %v, want ErrConflict", err)
	}
	dl, _ := s.InvoiceDeliveries(ctx, "ten_a", "inv_1")
	if len(dl) != 2 {
		t.Fatalf("InvoiceDeliveries = %d, want 2", len(dl))
	}
}

// TestOverdueDeliveries follows deliveries through the index the delivery
// sweep reads: in it from creation, scored by when they are due, out of it
// as soon as they leave scheduled and queued.
func TestOverdueDeliveries(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	overdue := func(at time.Time) []string {
		t.Helper()
		ids, err := s.OverdueDeliveries(ctx, "ten_a", at, 100)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	now := time.Now()
	later := now.Add(time.Hour)
	scheduled := &Send{ID: "snd_later", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co", ScheduledAt: &later}
	queued := &Send{ID: "snd_now", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail, ChannelSMS}, Email: "a@b.co", Phone: "+40712345678"}
	for _, send := range []*Send{scheduled, queued} {
		if _, _, err := s.CreateSend(ctx, send); err != nil {
			t.Fatal(err)
		}
	}
	if got := overdue(now.Add(-time.Minute)); len(got) != 0 {
		t.Fatalf("overdue before anything was created: %v", got)
	}
	if got := overdue(now.Add(time.Minute)); len(got) != 2 {
		t.Fatalf("overdue a minute on = %v, want the two queued deliveries", got)
	}
	if got := overdue(later.Add(time.Minute)); len(got) != 3 {
		t.Fatalf("overdue after the scheduled time = %v, want all three", got)
	}
	// Sent and failed deliveries leave the index at once.
	if _, _, err := s.Transition(ctx, "ten_a", queued.DeliveryIDs[0], DeliverySent, "worker", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Transition(ctx, "ten_a", queued.DeliveryIDs[1], DeliveryFailed, "worker", "no", nil); err != nil {
		t.Fatal(err)
	}
	if got := overdue(later.Add(time.Minute)); len(got) != 1 || got[0] != scheduled.DeliveryIDs[0] {
		t.Fatalf("overdue after two left queued = %v, want the scheduled one", got)
	}
	// Queued at its time, it is due from then.
	at := time.Now()
	if _, _, err := s.Transition(ctx, "ten_a", scheduled.DeliveryIDs[0], DeliveryQueued, "worker", "", nil); err != nil {
		t.Fatal(err)
	}
	if got := overdue(at.Add(-time.Second)); len(got) != 0 {
		t.Fatalf("a delivery queued just now is overdue from before: %v", got)
	}
	if err := s.RecheckDeliveryAt(ctx, "ten_a", scheduled.DeliveryIDs[0], later.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := overdue(later.Add(time.Minute)); len(got) != 0 {
		t.Fatalf("a delivery to be looked at again later is overdue now: %v", got)
	}
}

func TestTransitionOnlyForward(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	send := &Send{ID: "snd_1", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, _, err := s.CreateSend(ctx, send); err != nil {
		t.Fatal(err)
	}
	id := send.DeliveryIDs[0]
	steps := []struct {
		to      DeliveryStatus
		changed bool
	}{
		{DeliverySent, true},
		{DeliverySent, false},      // duplicate
		{DeliveryOpened, true},     // delivered skipped
		{DeliveryDelivered, false}, // late, out of order
		{DeliveryBounced, true},
		{DeliveryClicked, false}, // after terminal
	}
	for _, st := range steps {
		_, changed, err := s.Transition(ctx, "ten_a", id, st.to, "worker", "", nil)
		if err != nil || changed != st.changed {
			t.Fatalf("Transition(%s) = %v, %v; want %v", st.to, changed, err, st.changed)
		}
	}
	d, _ := s.Delivery(ctx, "ten_a", id)
	var seq []DeliveryStatus
	for _, h := range d.History {
		seq = append(seq, h.Status)
	}
	want := []DeliveryStatus{DeliveryQueued, DeliverySent, DeliveryOpened, DeliveryBounced}
	if len(seq) != len(want) {
		t.Fatalf("history = %v, want %v", seq, want)
	}
	for i := range want {
		if seq[i] != want[i] {
			t.Fatalf("history = %v, want %v", seq, want)
		}
	}
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	prev, err := s.BeginIdempotent(ctx, "ten_a", "k1", "h1")
	if err != nil || prev != nil {
		t.Fatalf("first Begin = %v, %v", prev, err)
	}
	if _, err := s.BeginIdempotent(ctx, "ten_a", "k1", "h1"); !errors.Is(err, ErrIdempotencyInProgress) {
		t.Fatalf("Begin while running err = %v", err)
	}
	if ttl, _ := s.rdb.TTL(ctx, idempotencyKey("ten_a", "k1")).Result(); ttl > time.Minute {
		t.Fatalf("an unanswered claim blocks the key for %v", ttl)
	}
	if err := s.FinishIdempotent(ctx, "ten_a", "k1", "h1", 202, []byte(`{"ok":1}`)); err != nil {
		t.Fatal(err)
	}
	prev, err = s.BeginIdempotent(ctx, "ten_a", "k1", "h1")
	if err != nil || prev == nil || prev.StatusCode != 202 || string(prev.Body) != `{"ok":1}` {
		t.Fatalf("replay = %+v, %v", prev, err)
	}
	if _, err := s.BeginIdempotent(ctx, "ten_a", "k1", "h2"); !errors.Is(err, ErrIdempotencyMismatch) {
		t.Fatalf("other body err = %v, want mismatch", err)
	}
	if prev, err := s.BeginIdempotent(ctx, "ten_b", "k1", "h2"); err != nil || prev != nil {
		t.Fatalf("keys are per tenant: %v, %v", prev, err)
	}
	ttl, _ := s.rdb.TTL(ctx, idempotencyKey("ten_a", "k1")).Result()
	if ttl < 23*time.Hour {
		t.Fatalf("TTL = %v, want about 24h", ttl)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	allowed := 0
	for range 20 {
		if ok, _, _ := s.AllowSend(ctx, "ten_a", "ses", 5); ok {
			allowed++
		}
	}
	if allowed != 1 {
		t.Fatalf("%d of 20 immediate sends allowed at 5/s, want 1 (evenly spaced)", allowed)
	}
	_, wait, _ := s.AllowSend(ctx, "ten_a", "ses", 5)
	if wait <= 0 || wait > 205*time.Millisecond {
		t.Fatalf("wait for the next send at 5/s = %v, want at most 204ms (200ms + 2%% slack)", wait)
	}
}

func TestTakeEmails(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	// 5 an hour: one email frees up every 12 minutes.
	take := func(n int, wantOK bool, wantLeft int) EmailTake {
		t.Helper()
		got, err := s.TakeEmails(ctx, "ten_a", n, 5)
		if err != nil {
			t.Fatalf("TakeEmails(%d): %v", n, err)
		}
		if got.OK != wantOK || got.Left != wantLeft {
			t.Fatalf("TakeEmails(%d) = %+v, want ok=%v left=%d", n, got, wantOK, wantLeft)
		}
		return got
	}
	take(2, true, 3)
	// More than is left is refused whole, and takes nothing.
	refused := take(4, false, 3)
	if refused.RetryAfter < 11*time.Minute || refused.RetryAfter > 12*time.Minute {
		t.Fatalf("retry for the 1 email missing = %v, want about 12m", refused.RetryAfter)
	}
	take(3, true, 0)
	refused = take(1, false, 0)
	if refused.RetryAfter < 11*time.Minute || refused.RetryAfter > 12*time.Minute {
		t.Fatalf("retry for 1 email of a spent budget = %v, want about 12m", refused.RetryAfter)
	}
	if got, err := s.TakeEmails(ctx, "ten_b", 5, 5); err != nil || !got.OK || got.Left != 0 {
		t.Fatalf("another tenant's budget = %+v, %v; want its own 5", got, err)
	}
	// More than the whole hour's budget never fits.
	if _, err := s.TakeEmails(ctx, "ten_c", 6, 5); !errors.Is(err, ErrOverHourlyLimit) {
		t.Fatalf("6 of 5/hour: err = %v, want ErrOverHourlyLimit", err)
	}
	if got, err := s.TakeEmails(ctx, "ten_c", 0, 5); err != nil || !got.OK || got.Left != 5 {
		t.Fatalf("nothing taken after a refusal: %+v, %v", got, err)
	}
}

func TestTakeDeliveryEmailsOnce(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	for i, tt := range []struct {
		delivery string
		ok       bool
		left     int
	}{
		{"dlv_1", true, 1},
		{"dlv_1", true, 1}, // tried again: already counted
		{"dlv_2", true, 0},
		{"dlv_3", false, 0},
		{"dlv_2", true, 0},
	} {
		got, err := s.TakeDeliveryEmails(ctx, "ten_a", tt.delivery, 1, 2)
		if err != nil || got.OK != tt.ok || got.Left != tt.left {
			t.Fatalf("take %d (%s) = %+v, %v; want ok=%v left=%d", i, tt.delivery, got, err, tt.ok, tt.left)
		}
	}
}

// TestTakeEmailsConcurrent takes from one budget from many connections at
// once, as API replicas and workers do: exactly what fits is granted.
func TestTakeEmailsConcurrent(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	var granted atomic.Int64
	var wg sync.WaitGroup
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.TakeEmails(ctx, "ten_a", 3, 100)
			if err != nil {
				t.Error(err)
			}
			if got.OK {
				granted.Add(3)
			}
		}()
	}
	wg.Wait()
	if n := granted.Load(); n != 99 {
		t.Fatalf("%d emails granted from a budget of 100 in takes of 3, want 99", n)
	}
}

func TestVerificationAndSuppression(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	id := SenderIdentity(EmailSettings{Provider: ProviderSMTP, FromEmail: "Billing@Acme.test", SMTP: &SMTPSettings{Host: "smtp.acme.test"}})
	if err := s.StartVerification(ctx, "ten_a", id, "123456"); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmVerification(ctx, "ten_a", id, "000000"); !errors.Is(err, ErrVerificationFailed) {
		t.Fatalf("wrong code: %v", err)
	}
	if err := s.ConfirmVerification(ctx, "ten_a", "smtp:other@acme.test@smtp.acme.test", "123456"); !errors.Is(err, ErrVerificationFailed) {
		t.Fatalf("code for another identity: %v", err)
	}
	if err := s.ConfirmVerification(ctx, "ten_a", id, "123456"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.SenderVerified(ctx, "ten_a", id); !ok {
		t.Fatal("not verified after the right code")
	}
	if err := s.ConfirmVerification(ctx, "ten_a", id, "123456"); !errors.Is(err, ErrVerificationFailed) {
		t.Fatalf("a code works twice: %v", err)
	}

	if err := s.Suppress(ctx, "ten_a", "Ana@Example.com", "bounced"); err != nil {
		t.Fatal(err)
	}
	addr, reason, err := s.Suppressed(ctx, "ten_a", "boss@example.com", "ana@example.com")
	if err != nil || addr != "ana@example.com" || reason != "bounced" {
		t.Fatalf("Suppressed = %q, %q, %v", addr, reason, err)
	}
	if addr, _, _ := s.Suppressed(ctx, "ten_b", "ana@example.com"); addr != "" {
		t.Fatal("suppression leaked to another tenant")
	}
}

func TestVerificationGuessLimit(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	if err := s.StartVerification(ctx, "ten_a", "id", "123456"); err != nil {
		t.Fatal(err)
	}
	for range maxVerificationTries {
		_ = s.ConfirmVerification(ctx, "ten_a", "id", "999999")
	}
	if err := s.ConfirmVerification(ctx, "ten_a", "id", "123456"); !errors.Is(err, ErrVerificationFailed) {
		t.Fatalf("the right code after %d wrong guesses: %v", maxVerificationTries, err)
	}
}

func TestClaimSend(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	var clock atomic.Int64
	clock.Store(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC).UnixMilli())
	s, err := New(srv.Client(t), Config{SecretKey: make([]byte, 32), Now: func() time.Time { return time.UnixMilli(clock.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	send := &Send{ID: "snd_1", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, _, err := s.CreateSend(ctx, send); err != nil {
		t.Fatal(err)
	}
	id := send.DeliveryIDs[0]
	if _, _, err := s.Transition(ctx, "ten_a", id, DeliveryQueued, "worker", "", nil); err != nil {
		t.Fatal(err)
	}

	d, stale, err := s.ClaimSend(ctx, "ten_a", id, "clm_a", "smtp", time.Minute)
	if err != nil || stale != nil || d.Claim == nil || d.Claim.Token != "clm_a" {
		t.Fatalf("first claim = %+v, %+v, %v", d, stale, err)
	}
	// Another attempt while the claim is fresh is turned away.
	clock.Add((59 * time.Second).Milliseconds())
	var claimed *ClaimedError
	if _, _, err := s.ClaimSend(ctx, "ten_a", id, "clm_b", "smtp", time.Minute); !errors.As(err, &claimed) || !claimed.Until.Equal(d.Claim.Until) {
		t.Fatalf("claim while fresh: err = %v, want a ClaimedError until %s", err, d.Claim.Until)
	}
	// A failed attempt releases only its own claim.
	if err := s.RecordAttempt(ctx, "ten_a", id, "clm_other", Attempt{Provider: "smtp", Error: "451"}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Delivery(ctx, "ten_a", id); d.Claim == nil {
		t.Fatal("RecordAttempt with another token released the claim")
	}
	// Once it has expired, its attempt is presumed dead: the next one
	// takes over and the lost attempt is kept with an unknown outcome.
	clock.Add((time.Second).Milliseconds())
	d, stale, err = s.ClaimSend(ctx, "ten_a", id, "clm_b", "smtp", time.Minute)
	if err != nil || stale == nil || stale.Token != "clm_a" || d.Claim.Token != "clm_b" {
		t.Fatalf("claim after expiry = %+v, stale %+v, %v", d, stale, err)
	}
	last := d.Attempts[len(d.Attempts)-1]
	if last.Code != CodeOutcomeUnknown || last.Error == "" || !last.At.Equal(stale.At) {
		t.Fatalf("the stale attempt was recorded as %+v", last)
	}
	if err := s.RecordAttempt(ctx, "ten_a", id, "clm_b", Attempt{Provider: "smtp", Error: "451"}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Delivery(ctx, "ten_a", id); d.Claim != nil || len(d.Attempts) != 3 {
		t.Fatalf("after its own failed attempt: claim %+v, %d attempts", d.Claim, len(d.Attempts))
	}
	// Sent ends the claim, and a sent delivery cannot be claimed.
	if _, _, err := s.ClaimSend(ctx, "ten_a", id, "clm_c", "smtp", time.Minute); err != nil {
		t.Fatal(err)
	}
	if d, _, err := s.Transition(ctx, "ten_a", id, DeliverySent, "worker", "", nil); err != nil || d.Claim != nil {
		t.Fatalf("sent: claim %+v, %v", d.Claim, err)
	}
	if _, _, err := s.ClaimSend(ctx, "ten_a", id, "clm_d", "smtp", time.Minute); !errors.Is(err, ErrNotQueued) {
		t.Fatalf("claim of a sent delivery: err = %v, want ErrNotQueued", err)
	}
}

func TestPendingFanouts(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	var clock atomic.Int64
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	clock.Store(t0.UnixMilli())
	s, err := New(srv.Client(t), Config{SecretKey: make([]byte, 32), Now: func() time.Time { return time.UnixMilli(clock.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Without a webhook endpoint an event is kept, with no fan-out to run.
	if ids, err := s.RecordEvents(ctx, "ten_a", "dlv_0", []string{EventInvoiceSent}, nil); err != nil || len(ids) != 0 {
		t.Fatalf("RecordEvents without an endpoint = %v, %v; want no fan-out", ids, err)
	}
	if ev, err := s.Event(ctx, "ten_a", "evt_dlv_0_"+EventInvoiceSent); err != nil || ev.Type != EventInvoiceSent {
		t.Fatalf("the event recorded without an endpoint: %+v, %v", ev, err)
	}
	if got, _ := s.PendingFanouts(ctx, "ten_a", t0.Add(time.Minute), 10); len(got) != 0 {
		t.Fatalf("PendingFanouts without an endpoint = %v", got)
	}
	if err := s.SaveEndpoint(ctx, "ten_a", &WebhookEndpoint{ID: "we_1", URL: "https://hooks.example.com/x", Secret: "whsec_x"}); err != nil {
		t.Fatal(err)
	}
	if both, err := s.RecordEvents(ctx, "ten_a", "dlv_9", []string{EventEmailBounced, EventInvoiceDeliveryFailed}, nil); err != nil ||
		!slices.Equal(both, []string{"evt_dlv_9_" + EventEmailBounced, "evt_dlv_9_" + EventInvoiceDeliveryFailed}) {
		t.Fatalf("RecordEvents of two types = %v, %v", both, err)
	}
	if err := s.FanoutDone(ctx, "ten_a", "evt_dlv_9_"+EventEmailBounced); err != nil {
		t.Fatal(err)
	}
	if err := s.FanoutDone(ctx, "ten_a", "evt_dlv_9_"+EventInvoiceDeliveryFailed); err != nil {
		t.Fatal(err)
	}
	ids, err := s.RecordEvents(ctx, "ten_a", "dlv_1", []string{EventInvoiceSent}, nil)
	if err != nil || len(ids) != 1 {
		t.Fatalf("RecordEvents = %v, %v", ids, err)
	}
	if again, err := s.RecordEvents(ctx, "ten_a", "dlv_1", []string{EventInvoiceSent}, nil); err != nil || len(again) != 0 {
		t.Fatalf("RecordEvents again = %v, %v; want nothing new", again, err)
	}
	if got, _ := s.PendingFanouts(ctx, "ten_a", t0, 10); len(got) != 0 {
		t.Fatalf("PendingFanouts(before the event) = %v", got)
	}
	if got, err := s.PendingFanouts(ctx, "ten_a", t0.Add(time.Minute), 10); err != nil || len(got) != 1 || got[0] != ids[0] {
		t.Fatalf("PendingFanouts = %v, %v; want %v", got, err, ids)
	}
	if err := s.FanoutDone(ctx, "ten_a", ids[0]); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.PendingFanouts(ctx, "ten_a", t0.Add(time.Minute), 10); len(got) != 0 {
		t.Fatalf("PendingFanouts after FanoutDone = %v", got)
	}
	// An event that expired before its fan-out ran leaves the list.
	if _, err := s.RecordEvents(ctx, "ten_a", "dlv_2", []string{EventInvoiceSent}, nil); err != nil {
		t.Fatal(err)
	}
	clock.Add((EventTTL + time.Minute).Milliseconds())
	if got, _ := s.PendingFanouts(ctx, "ten_a", time.UnixMilli(clock.Load()), 10); len(got) != 0 {
		t.Fatalf("PendingFanouts after the events expired = %v", got)
	}
}

// TestScheduledSends lists sends waiting for their time, soonest first, a
// page at a time; a send leaves the listing when it starts or is canceled,
// and a cursor stays good after its own send has left.
func TestScheduledSends(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	base := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	for i := range 9 {
		at := base.Add(time.Duration(i/3) * time.Minute) // three sends per minute: ties
		id := fmt.Sprintf("snd_%d", 8-i)                 // ids against time order
		send := &Send{ID: id, TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co", ScheduledAt: &at}
		if _, _, err := s.CreateSend(ctx, send); err != nil {
			t.Fatal(err)
		}
	}
	// Soonest first; within a minute by id.
	want := []string{"snd_6", "snd_7", "snd_8", "snd_3", "snd_4", "snd_5", "snd_0", "snd_1", "snd_2"}
	now := &Send{ID: "snd_now", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, _, err := s.CreateSend(ctx, now); err != nil {
		t.Fatal(err)
	}
	list := func(limit int) []string {
		t.Helper()
		var ids []string
		var after *SendCursor
		for range 20 {
			page, next, err := s.ScheduledSends(ctx, "ten_a", after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > limit {
				t.Fatalf("page of %d, limit %d", len(page), limit)
			}
			for _, send := range page {
				ids = append(ids, send.ID)
			}
			if next == nil {
				return ids
			}
			// The cursor goes through its text form, as clients see it.
			c, err := ParseSendCursor(next.String())
			if err != nil {
				t.Fatal(err)
			}
			after = &c
		}
		t.Fatal("the listing never ends")
		return nil
	}
	for _, limit := range []int{1, 2, 4, 9, 50} {
		if got := list(limit); !slices.Equal(got, want) {
			t.Fatalf("limit %d: %v, want %v", limit, got, want)
		}
	}
	first, next, err := s.ScheduledSends(ctx, "ten_a", nil, 2)
	if err != nil || len(first) != 2 || next == nil || next.ID != "snd_7" {
		t.Fatalf("first page = %d sends, cursor %+v, %v", len(first), next, err)
	}
	// Both sends of the first page leave: one starts, one is canceled.
	if _, err := s.StartSend(ctx, "ten_a", "snd_6"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CancelSend(ctx, "ten_a", "inv_1", "snd_7"); err != nil {
		t.Fatal(err)
	}
	page, _, err := s.ScheduledSends(ctx, "ten_a", next, 2)
	if err != nil || len(page) != 2 || page[0].ID != "snd_8" || page[1].ID != "snd_3" {
		t.Fatalf("page after a cursor whose send left: %v, %v", page, err)
	}
	if got := list(50); !slices.Equal(got, want[2:]) {
		t.Fatalf("after one started and one was canceled: %v", got)
	}
	for _, bad := range []string{"", "x", "12", ".snd_1", "-5.snd_1", "abc.snd_1"} {
		if _, err := ParseSendCursor(bad); err == nil {
			t.Errorf("ParseSendCursor(%q) succeeded", bad)
		}
	}
}

func TestRemindersAt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    Reminders
		due  string
		days int
		want string // RFC 3339, or "" for an error
	}{
		{"default time, UTC", Reminders{}, "2026-12-21", 0, "2026-12-21T09:00:00Z"},
		{"three days before", Reminders{Time: "08:30"}, "2026-12-21", -3, "2026-12-18T08:30:00Z"},
		{"a week after, across the year", Reminders{}, "2026-12-28", 7, "2027-01-04T09:00:00Z"},
		{"Bucharest in winter", Reminders{TimeZone: "Europe/Bucharest"}, "2026-12-21", 1, "2026-12-22T07:00:00Z"},
		// 29 March 2026 moves Bucharest from UTC+2 to UTC+3: the reminder
		// keeps its wall-clock time.
		{"across the clock change", Reminders{TimeZone: "Europe/Bucharest"}, "2026-03-27", 3, "2026-03-30T06:00:00Z"},
		{"no such zone", Reminders{TimeZone: "Mars/Olympus"}, "2026-12-21", 0, ""},
		{"bad due date", Reminders{}, "21.12.2026", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.r.At(tt.due, tt.days)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("At = %v, want an error", got)
				}
				return
			}
			if err != nil || got.UTC().Format(time.RFC3339) != tt.want {
				t.Fatalf("At = %v, %v; want %s", got.UTC(), err, tt.want)
			}
		})
	}
}

// TestSentEventData follows sends to the moment their invoice.sent is
// due: not while a delivery is queued, then with the channels the
// provider took, in the send's order, and never for a send that sent
// nothing.
func TestSentEventData(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	newSend := func(id string, channels ...Channel) []string {
		t.Helper()
		send := &Send{ID: id, TenantID: "ten_a", InvoiceID: "inv_1", Kind: SendKindSend, Channels: channels,
			Email: "a@b.co", Phone: "+40712345678"}
		if _, _, err := s.CreateSend(ctx, send); err != nil {
			t.Fatal(err)
		}
		return send.DeliveryIDs
	}
	var last *Delivery // the delivery moved last, as Transition returned it
	move := func(id string, to DeliveryStatus) *Delivery {
		t.Helper()
		d, changed, err := s.Transition(ctx, "ten_a", id, to, "worker", "", nil)
		if err != nil || !changed {
			t.Fatalf("Transition(%s, %s) = %v, %v", id, to, changed, err)
		}
		last = d
		return d
	}
	// sentData reads every delivery, and checks that being handed the
	// one just recorded, as the worker and the API do, gives the same.
	sentData := func(sendID string) (map[string]any, bool) {
		t.Helper()
		data, ok, err := s.SentEventData(ctx, "ten_a", sendID, nil)
		if err != nil {
			t.Fatal(err)
		}
		given, givenOK, err := s.SentEventData(ctx, "ten_a", sendID, last)
		if err != nil || givenOK != ok || fmt.Sprint(given) != fmt.Sprint(data) {
			t.Fatalf("handed %s, SentEventData = %v, %v, %v; read, %v, %v", last.ID, given, givenOK, err, data, ok)
		}
		return data, ok
	}

	both := newSend("snd_both", ChannelEmail, ChannelSMS)
	last = &Delivery{ID: "dlv_other", TenantID: "ten_a"} // of another send
	if _, ok := sentData("snd_both"); ok {
		t.Fatal("invoice.sent is due before anything was sent")
	}
	// The SMS goes first: the email is still queued.
	if d := move(both[1], DeliverySent); !d.LeftQueued() {
		t.Fatal("a delivery that was just sent did not leave queued")
	}
	if _, ok := sentData("snd_both"); ok {
		t.Fatal("invoice.sent is due while the email is still queued")
	}
	s.now = func() time.Time { return time.Now().Add(time.Minute) }
	email := move(both[0], DeliverySent)
	data, ok := sentData("snd_both")
	if !ok {
		t.Fatal("invoice.sent is not due once both deliveries were sent")
	}
	if got := fmt.Sprint(data["sentVia"]); got != "[email sms]" {
		t.Errorf("sentVia = %s, want the send's channel order [email sms]", got)
	}
	if got := fmt.Sprint(data["sentTo"]); got != "[a@b.co +40712345678]" {
		t.Errorf("sentTo = %s", got)
	}
	if got := data["sentAt"].(time.Time); !got.Equal(*email.SentAt) {
		t.Errorf("sentAt = %v, want the last delivery's sentAt %v", got, *email.SentAt)
	}
	if data["invoiceId"] != "inv_1" || data["sendId"] != "snd_both" || data["kind"] != SendKindSend {
		t.Errorf("data = %v", data)
	}
	// Later changes are not departures from queued, and leave the data as it was.
	if d := move(both[0], DeliveryDelivered); d.LeftQueued() {
		t.Error("delivered counts as leaving queued")
	}
	if again, _ := sentData("snd_both"); fmt.Sprint(again) != fmt.Sprint(data) {
		t.Errorf("data changed after delivery: %v, was %v", again, data)
	}

	// One channel failed: the send was sent through the other.
	half := newSend("snd_half", ChannelSMS, ChannelEmail)
	move(half[0], DeliveryFailed)
	if _, ok := sentData("snd_half"); ok {
		t.Fatal("invoice.sent is due while the email is still queued")
	}
	move(half[1], DeliverySent)
	if data, ok := sentData("snd_half"); !ok || fmt.Sprint(data["sentVia"]) != "[email]" {
		t.Fatalf("half-failed send: %v, %v; want sentVia [email]", data, ok)
	}

	// Nothing sent: no invoice.sent.
	none := newSend("snd_none", ChannelEmail, ChannelSMS)
	move(none[0], DeliveryFailed)
	move(none[1], DeliveryFailed)
	if data, ok := sentData("snd_none"); ok {
		t.Fatalf("invoice.sent is due for a send whose deliveries all failed: %v", data)
	}
}

// TestDeliveryEventData checks the fields the documented payloads rely on:
// method, the status times and the address of an open.
func TestDeliveryEventData(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	send := &Send{ID: "snd_1", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, _, err := s.CreateSend(ctx, send); err != nil {
		t.Fatal(err)
	}
	id := send.DeliveryIDs[0]
	if _, _, err := s.Transition(ctx, "ten_a", id, DeliverySent, "worker", "", nil); err != nil {
		t.Fatal(err)
	}
	d, _, err := s.Transition(ctx, "ten_a", id, DeliveryOpened, "tracking", "user agent", FromIP("192.168.1.1"))
	if err != nil {
		t.Fatal(err)
	}
	data := DeliveryEventData(d)
	if data["method"] != ChannelEmail || data["ipAddress"] != "192.168.1.1" || data["invoiceId"] != "inv_1" {
		t.Errorf("data = %v", data)
	}
	if got, ok := data["openedAt"].(time.Time); !ok || !got.Equal(*d.OpenedAt) {
		t.Errorf("openedAt = %v, want %v", data["openedAt"], *d.OpenedAt)
	}
	if _, ok := data["deliveredAt"]; ok {
		t.Error("deliveredAt is set for a delivery that was never reported delivered")
	}
	if last := d.History[len(d.History)-1]; last.IP != "192.168.1.1" {
		t.Errorf("the open's step = %+v, want its IP", last)
	}
	// A repeat open keeps its own address.
	d, err = s.Note(ctx, "ten_a", id, Transition{Status: DeliveryOpened, Source: "tracking", IP: "198.51.100.7"})
	if err != nil {
		t.Fatal(err)
	}
	if last := d.History[len(d.History)-1]; last.IP != "198.51.100.7" || last.At.IsZero() || d.Status != DeliveryOpened {
		t.Errorf("the repeat's step = %+v (status %s)", last, d.Status)
	}
}

// TestDeliveryEventDataAllocs bounds the allocations of a sent email's
// event data, which each delivery's transition makes: the map at its size
// at once, the channel boxed once, the times read from an array (16
// allocations before); the data are those encodeRecord stored before.
func TestDeliveryEventDataAllocs(t *testing.T) {
	d := sampleDelivery()
	if n := testing.AllocsPerRun(100, func() { _ = DeliveryEventData(d) }); n > 14 {
		t.Errorf("%.0f allocations, want at most 14", n)
	}
	got, err := json.Marshal(DeliveryEventData(d))
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"channel":"email","deliveryId":"dlv_rs5arjygftt74r6t","invoiceId":"inv_1","method":"email",` +
		`"provider":"outbox","providerId":"dlv_rs5arjygftt74r6t.eml","sendId":"snd_aglvlbwyffw7wtg6",` +
		`"sentAt":"2026-12-05T19:20:31.123Z","source":"worker","status":"sent","to":"ana@example.com"}`
	if string(got) != want {
		t.Errorf("the data encode as\n%s\nwant\n%s", got, want)
	}
}

// TestUpdateConcurrent runs read-modify-writes of one delivery from many
// connections at once: none is lost, and the commands that go with a
// transition (the delivery log, the open deliveries) are written with
// the one that wins.
func TestUpdateConcurrent(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	send := &Send{ID: "snd_1", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, created, err := s.CreateSend(ctx, send); err != nil || !created {
		t.Fatalf("CreateSend = %v, %v", created, err)
	}
	id := send.DeliveryIDs[0]
	const writers, each = 8, 10
	wins := race(t, writers, func(w int) (bool, error) {
		for i := range each {
			if err := s.RecordAttempt(ctx, "ten_a", id, "", Attempt{Provider: fmt.Sprintf("p%d-%d", w, i)}); err != nil {
				t.Error(err)
			}
		}
		_, changed, err := s.Transition(ctx, "ten_a", id, DeliverySent, "worker", "", nil)
		return changed, err
	})
	if wins != 1 {
		t.Fatalf("%d transitions to sent won, want 1", wins)
	}
	d, err := s.Delivery(ctx, "ten_a", id)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range d.Attempts {
		seen[a.Provider] = true
	}
	if len(d.Attempts) != writers*each || len(seen) != writers*each {
		t.Fatalf("%d attempts recorded (%d distinct), want %d", len(d.Attempts), len(seen), writers*each)
	}
	if d.Status != DeliverySent || len(d.History) != 2 {
		t.Fatalf("delivery is %s with %d history entries, want sent with 2", d.Status, len(d.History))
	}
	for _, st := range []DeliveryStatus{DeliveryQueued, DeliverySent} {
		_, err := s.rdb.ZScore(ctx, deliveryLogKey("ten_a", st, ChannelEmail), id).Result()
		if in := err == nil; in != (st == DeliverySent) {
			t.Errorf("delivery in the %s log: %t (%v)", st, in, err)
		}
	}
	if _, err := s.rdb.ZScore(ctx, openDeliveriesKey("ten_a"), id).Result(); err == nil {
		t.Error("a sent delivery is still open")
	}
	if _, _, err := s.Transition(ctx, "ten_a", "dlv_none", DeliverySent, "worker", "", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Transition of a missing delivery: %v, want ErrNotFound", err)
	}
}

// TestCreateSendConcurrent creates one send from many connections at
// once: one creates it and its deliveries, once; the others get it back
// and their sends are left as they were.
func TestCreateSendConcurrent(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	const creators = 8
	wins := race(t, creators, func(int) (bool, error) {
		send := &Send{ID: "snd_1", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail, ChannelSMS}, Email: "a@b.co", Phone: "+40712345678"}
		got, created, err := s.CreateSend(ctx, send)
		if err != nil || created {
			return created, err
		}
		if got.ID != "snd_1" || len(got.DeliveryIDs) != 2 || got.CreatedAt.IsZero() {
			t.Errorf("CreateSend of an existing send returned %+v", got)
		}
		if !send.CreatedAt.IsZero() || send.Status != "" || len(send.DeliveryIDs) != 0 {
			t.Errorf("CreateSend of an existing send changed the caller's: %+v", send)
		}
		return false, nil
	})
	if wins != 1 {
		t.Fatalf("%d creations won, want 1", wins)
	}
	ids, err := s.rdb.LRange(ctx, invoiceDeliveriesKey("ten_a", "inv_1"), 0, -1).Result()
	if err != nil || len(ids) != 2 {
		t.Fatalf("the invoice's deliveries: %v, %v; want 2", ids, err)
	}
}

// TestSendJob reads a send, its invoice and the settings at once, as
// Send, Invoice and Settings read them one by one.
func TestSendJob(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	if _, err := s.SaveDraft(ctx, draft("inv_1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	send := &Send{ID: "snd_1", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, _, err := s.CreateSend(ctx, send); err != nil {
		t.Fatal(err)
	}
	check := func(name string) {
		t.Helper()
		gotSend, gotInv, gotSt, err := s.SendJob(ctx, "ten_a", "snd_1", "inv_1")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wantSend, _ := s.Send(ctx, "ten_a", "snd_1")
		wantInv, _ := s.Invoice(ctx, "ten_a", "inv_1")
		wantSt, _ := s.Settings(ctx, "ten_a")
		if !reflect.DeepEqual(gotSend, wantSend) || !reflect.DeepEqual(gotInv, wantInv) || !reflect.DeepEqual(gotSt, wantSt) {
			t.Errorf("%s: SendJob = %+v, %+v, %+v; want %+v, %+v, %+v", name, gotSend, gotInv, gotSt, wantSend, wantInv, wantSt)
		}
	}
	check("without settings")
	st := Settings{Email: EmailSettings{Provider: ProviderSMTP, SMTP: &SMTPSettings{Host: "smtp.example.com", Password: "secret"}}}
	if err := s.SaveSettings(ctx, "ten_a", st); err != nil {
		t.Fatal(err)
	}
	check("with settings")
	if _, _, got, _ := s.SendJob(ctx, "ten_a", "snd_1", "inv_1"); got.Email.SMTP == nil || got.Email.SMTP.Password != "secret" {
		t.Errorf("the SMTP password read as %+v", got.Email.SMTP)
	}
	for _, ids := range [][2]string{{"snd_none", "inv_1"}, {"snd_1", "inv_none"}} {
		if _, _, _, err := s.SendJob(ctx, "ten_a", ids[0], ids[1]); !errors.Is(err, ErrNotFound) {
			t.Errorf("SendJob(%s, %s): %v, want ErrNotFound", ids[0], ids[1], err)
		}
	}
}

// TestUpdateFromStaleRecord updates a delivery through two stores on one
// Redis, each starting from the record as it last saw it, which the other
// has changed since: no update is lost, and a decision against writing
// is not taken on what was seen but on what is stored.
func TestUpdateFromStaleRecord(t *testing.T) {
	t.Parallel()
	a, ctx := setup(t)
	b, err := New(a.rdb, Config{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	send := &Send{ID: "snd_1", TenantID: "ten_a", InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, _, err := a.CreateSend(ctx, send); err != nil {
		t.Fatal(err)
	}
	id := send.DeliveryIDs[0]
	for i := range 10 {
		for _, st := range []*Store{a, b} {
			if err := st.RecordAttempt(ctx, "ten_a", id, "", Attempt{Provider: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if d, err := a.Delivery(ctx, "ten_a", id); err != nil || len(d.Attempts) != 20 {
		t.Fatalf("after 20 attempts from two stores: %d attempts, %v", len(d.Attempts), err)
	}

	// a sees the delivery claimed by clm_b; b's attempt ends and releases
	// the claim; a's claim is then not refused for the claim it saw.
	if _, _, err := b.ClaimSend(ctx, "ten_a", id, "clm_b", "smtp", time.Minute); err != nil {
		t.Fatal(err)
	}
	if d, err := a.Delivery(ctx, "ten_a", id); err != nil || d.Claim == nil {
		t.Fatalf("a reads claim %+v, %v", d, err)
	}
	if err := b.RecordAttempt(ctx, "ten_a", id, "clm_b", Attempt{Provider: "smtp", Error: "451"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.ClaimSend(ctx, "ten_a", id, "clm_a", "smtp", time.Minute); err != nil {
		t.Fatalf("claim after the claim a saw was released: %v", err)
	}
	// And the other way: b saw no claim, a holds one now.
	var claimed *ClaimedError
	if _, _, err := b.ClaimSend(ctx, "ten_a", id, "clm_b2", "smtp", time.Minute); !errors.As(err, &claimed) {
		t.Fatalf("claim while another is held: %v, want a ClaimedError", err)
	}
	// A delivery deleted since it was seen is not found.
	if err := a.rdb.Del(ctx, deliveryKey("ten_a", id)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := a.RecordAttempt(ctx, "ten_a", id, "", Attempt{Provider: "smtp"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of a deleted delivery: %v, want ErrNotFound", err)
	}
}

// race runs try in n goroutines at once, each with its index, and
// returns how many won (reported true); an error try returns fails the
// test.
func race(t *testing.T, n int, try func(i int) (bool, error)) int32 {
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			won, err := try(i)
			if err != nil {
				t.Error(err)
			}
			if won {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	return wins.Load()
}
