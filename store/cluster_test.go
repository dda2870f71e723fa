package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/invoice"
)

// TestOnCluster runs every store operation that writes more than one key,
// or a key outside a tenant's hash slot, on a 3-master Redis Cluster, for
// tenants spread over all three masters. go-redis refuses a transaction
// or WATCH across slots before sending it, so a key outside the tenant's
// slot fails here as it would in production.
func TestOnCluster(t *testing.T) {
	t.Parallel()
	cluster := redistest.StartCluster(t, 3, 0)
	rdb := cluster.Client(t)
	s, err := New(rdb, Config{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping on a healthy cluster: %v", err)
	}

	// Tenants until they cover every master, so each operation below
	// runs on more than one node.
	var tenants []Tenant
	masters := map[string]bool{}
	for len(masters) < 3 || len(tenants) < 4 {
		if len(tenants) == 30 {
			t.Fatalf("30 tenants landed on only %d masters", len(masters))
		}
		ten, token, err := s.CreateTenant(ctx, fmt.Sprintf("Tenant %d", len(tenants)))
		if err != nil {
			t.Fatalf("CreateTenant: %v", err)
		}
		// The second look-up reads the token and the tenant, in two
		// slots, in one pipeline.
		for range 2 {
			if got, err := s.TenantByToken(ctx, token); err != nil || got.ID != ten.ID {
				t.Fatalf("TenantByToken = %+v, %v", got, err)
			}
		}
		// A send request's reads: the token in its slot, the invoice and
		// the settings in the tenant's, in one pipeline once the token
		// was seen (the invoice is made later: here it is not found).
		if got, read, err := s.TenantAndInvoiceForSend(ctx, token, "inv_1"); err != nil || got.ID != ten.ID || !errors.Is(read.Err, ErrNotFound) {
			t.Fatalf("TenantAndInvoiceForSend = %+v, %+v, %v", got, read, err)
		}
		m, err := rdb.MasterForKey(ctx, tenantKey(ten.ID, "tenant"))
		if err != nil {
			t.Fatal(err)
		}
		masters[m.Options().Addr] = true
		tenants = append(tenants, ten)
	}
	ids, err := s.TenantIDs(ctx)
	if err != nil || len(ids) != len(tenants) {
		t.Fatalf("TenantIDs = %d, %v; want %d", len(ids), err, len(tenants))
	}

	for _, ten := range tenants {
		t.Run(ten.ID, func(t *testing.T) {
			t.Parallel()
			clusterTenantFlow(t, s, ten.ID)
		})
	}
}

// clusterTenantFlow is one tenant's life in the store: settings, drafts
// finalized under contention, a scheduled send canceled, a send delivered
// and tracked, events, webhooks, idempotency, limits and suppression.
func clusterTenantFlow(t *testing.T, s *Store, tenantID string) {
	ctx := context.Background()
	arn := "arn:aws:sns:eu-west-1:123456789012:" + tenantID
	st := Settings{Email: EmailSettings{Provider: ProviderSES, SES: &SESSettings{Region: "eu-west-1", SecretAccessKey: "s3cret", EventTopicARNs: []string{arn}}}}
	if err := s.SaveSettings(ctx, tenantID, st); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TenantForTopic(ctx, arn); err != nil || got != tenantID {
		t.Fatalf("TenantForTopic = %q, %v", got, err)
	}

	inv := &invoice.Invoice{ID: "inv_1", TenantID: tenantID, Number: "N-1", Currency: "EUR", AutoAdvance: true}
	if created, err := s.SaveDraft(ctx, inv, time.Millisecond); err != nil || !created {
		t.Fatalf("SaveDraft = %v, %v", created, err)
	}
	if due, err := s.DraftsDue(ctx, tenantID, time.Now().Add(time.Second), 10); err != nil || len(due) != 1 {
		t.Fatalf("DraftsDue = %v, %v", due, err)
	}
	// Listing, and building the index of a tenant stored before it
	// existed: a SCAN of the one master that holds the tenant's slot.
	for _, rebuild := range []bool{false, true} {
		if rebuild {
			if err := s.rdb.Del(ctx, invoicesKey(tenantID), invoicesIndexedKey(tenantID)).Err(); err != nil {
				t.Fatal(err)
			}
		}
		page, err := s.ListInvoices(ctx, tenantID, InvoiceQuery{})
		if err != nil || len(page.Invoices) != 1 || page.Invoices[0].ID != "inv_1" {
			t.Fatalf("ListInvoices (index rebuilt: %t) = %+v, %v", rebuild, page, err)
		}
	}
	// The same for the send indexes (nothing to find yet: the scan runs).
	if err := s.rdb.Del(ctx, sendsIndexedKey(tenantID)).Err(); err != nil {
		t.Fatal(err)
	}
	if sends, _, err := s.ScheduledSends(ctx, tenantID, nil, 10); err != nil || len(sends) != 0 {
		t.Fatalf("ScheduledSends = %v, %v", sends, err)
	}
	wins := race(t, 4, func(int) (bool, error) {
		_, changed, _, err := s.FinalizeWith(ctx, tenantID, "inv_1", "grace", nil)
		return changed, err
	})
	if wins != 1 {
		t.Fatalf("%d finalizations won, want 1", wins)
	}
	if ev, err := s.Event(ctx, tenantID, "evt_inv_1_"+EventInvoiceFinalized); err != nil || ev.Data["finalizedBy"] != "grace" {
		t.Fatalf("invoice.finalized = %+v, %v", ev, err)
	}
	if due, _ := s.DraftsDue(ctx, tenantID, time.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Fatalf("finalized invoice still due: %v", due)
	}

	at := time.Now().Add(time.Hour)
	later := &Send{ID: "snd_later", TenantID: tenantID, InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co", ScheduledAt: &at}
	if _, created, err := s.CreateSend(ctx, later); err != nil || !created {
		t.Fatalf("CreateSend(scheduled) = %v, %v", created, err)
	}
	if _, err := s.CancelSend(ctx, tenantID, "inv_1", "snd_later"); err != nil {
		t.Fatalf("CancelSend: %v", err)
	}

	now := &Send{ID: "snd_now", TenantID: tenantID, InvoiceID: "inv_1", Channels: []Channel{ChannelEmail, ChannelSMS}, Email: "a@b.co", Phone: "+40712345678"}
	if _, created, err := s.CreateSend(ctx, now); err != nil || !created {
		t.Fatalf("CreateSend = %v, %v", created, err)
	}
	if _, err := s.StartSend(ctx, tenantID, "snd_now"); err != nil {
		t.Fatal(err)
	}
	dlv := now.DeliveryIDs[0]
	if _, _, err := s.ClaimSend(ctx, tenantID, dlv, "clm_1", "ses", time.Minute); err != nil {
		t.Fatalf("ClaimSend: %v", err)
	}
	if err := s.RecordAttempt(ctx, tenantID, dlv, "clm_1", Attempt{At: s.Now(), Provider: "ses"}); err != nil {
		t.Fatal(err)
	}
	if _, changed, err := s.Transition(ctx, tenantID, dlv, DeliverySent, "worker", "", nil); err != nil || !changed {
		t.Fatalf("Transition(sent) = %v, %v", changed, err)
	}
	if err := s.IndexProviderMessage(ctx, "ses", "msg-"+dlv, tenantID, dlv); err != nil {
		t.Fatal(err)
	}
	d, err := s.DeliveryByProviderMessage(ctx, "ses", "msg-"+dlv)
	if err != nil || d.ID != dlv || d.Status != DeliverySent {
		t.Fatalf("DeliveryByProviderMessage = %+v, %v", d, err)
	}
	// The SMS delivery read with its job, claimed, and recorded sent with
	// its provider's index (another slot) in one pipeline.
	sms := now.DeliveryIDs[1]
	if _, _, _, _, err := s.DeliveryJob(ctx, tenantID, sms, "snd_now", "inv_1"); err != nil {
		t.Fatalf("DeliveryJob: %v", err)
	}
	if _, _, err := s.ClaimSend(ctx, tenantID, sms, "clm_2", "twilio", time.Minute); err != nil {
		t.Fatalf("ClaimSend: %v", err)
	}
	if m, indexErr, err := s.RecordSent(ctx, tenantID, sms, "twilio", "SM-"+sms, now, nil); err != nil || indexErr != nil || !m.Changed {
		t.Fatalf("RecordSent = %+v, %v, %v", m, indexErr, err)
	}
	if d, err := s.DeliveryByProviderMessage(ctx, "twilio", "SM-"+sms); err != nil || d.ID != sms || d.Status != DeliverySent {
		t.Fatalf("DeliveryByProviderMessage(twilio) = %+v, %v", d, err)
	}
	if ds, err := s.InvoiceDeliveries(ctx, tenantID, "inv_1"); err != nil || len(ds) != 3 {
		t.Fatalf("InvoiceDeliveries = %d, %v; want 3", len(ds), err)
	}

	ep := &WebhookEndpoint{ID: "we_1", URL: "https://hooks.example.com/x", Secret: "whsec_x"}
	if err := s.SaveEndpoint(ctx, tenantID, ep); err != nil {
		t.Fatal(err)
	}
	fresh, err := s.RecordEvents(ctx, tenantID, dlv, []string{"invoice.sent"}, map[string]any{"deliveryId": dlv})
	if err != nil || len(fresh) != 1 {
		t.Fatalf("RecordEvents = %v, %v", fresh, err)
	}
	if err := s.RecordWebhookAttempt(ctx, tenantID, "we_1", WebhookAttempt{EventID: fresh[0], Attempt: 1, At: s.Now(), StatusCode: 200}); err != nil {
		t.Fatalf("RecordWebhookAttempt: %v", err)
	}
	if as, err := s.WebhookAttempts(ctx, tenantID, "we_1", "", 10); err != nil || len(as) != 1 {
		t.Fatalf("WebhookAttempts = %v, %v", as, err)
	}
	// A send's only delivery recorded sent with its invoice.sent, whose
	// fan-out the endpoint makes pending, in one script.
	one := &Send{ID: "snd_one", TenantID: tenantID, InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, created, err := s.CreateSend(ctx, one); err != nil || !created {
		t.Fatalf("CreateSend = %v, %v", created, err)
	}
	if _, _, err := s.ClaimSend(ctx, tenantID, one.DeliveryIDs[0], "clm_3", "ses", time.Minute); err != nil {
		t.Fatalf("ClaimSend: %v", err)
	}
	m, indexErr, err := s.RecordSent(ctx, tenantID, one.DeliveryIDs[0], "ses", "msg-one", one, nil)
	if err != nil || indexErr != nil || len(m.Fanout) != 1 || m.Fanout[0] != "evt_snd_one_"+EventInvoiceSent {
		t.Fatalf("RecordSent with its invoice.sent = %+v, %v, %v", m, indexErr, err)
	}

	// A send begun in one script: its start, its draft's finalization
	// with invoice.finalized, its delivery's claim; the suppression list
	// read beside it.
	if _, err := s.SaveDraft(ctx, &invoice.Invoice{ID: "inv_begun", TenantID: tenantID, Number: "INV-2", Currency: "EUR"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	begun := &Send{ID: "snd_begun", TenantID: tenantID, InvoiceID: "inv_begun", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, created, err := s.CreateSend(ctx, begun); err != nil || !created {
		t.Fatalf("CreateSend = %v, %v", created, err)
	}
	if _, _, _, _, err := s.StartJob(ctx, tenantID, begun.ID, begun.InvoiceID, begun.DeliveryIDs); err != nil {
		t.Fatalf("StartJob: %v", err)
	}
	b, err := s.BeginSend(ctx, SendStart{TenantID: tenantID, SendID: begun.ID, DeliveryID: begun.DeliveryIDs[0],
		Token: "clm_4", Provider: "ses", TTL: time.Minute, Recipients: []string{"a@b.co"}})
	if err != nil || !b.Begun || !b.Finalized || len(b.Fanout) != 1 || b.Suppression == nil || b.Suppression.Err != nil {
		t.Fatalf("BeginSend = %+v, %v", b, err)
	}

	if prev, err := s.BeginIdempotent(ctx, tenantID, "k1", "h1"); err != nil || prev != nil {
		t.Fatalf("BeginIdempotent = %v, %v", prev, err)
	}
	if err := s.FinishIdempotent(ctx, tenantID, "k1", "h1", 202, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if prev, err := s.BeginIdempotent(ctx, tenantID, "k1", "h1"); err != nil || prev == nil || prev.StatusCode != 202 {
		t.Fatalf("replay = %v, %v", prev, err)
	}

	// The budget and a delivery's mark of having taken from it share the
	// tenant's slot, so one script sees both.
	if got, err := s.TakeDeliveryEmails(ctx, tenantID, "dlv_1", 1, 2); err != nil || !got.OK {
		t.Fatalf("delivery's email refused: %+v, %v", got, err)
	}
	if got, err := s.TakeEmails(ctx, tenantID, 1, 2); err != nil || !got.OK {
		t.Fatalf("2nd email of 2/hour refused: %+v, %v", got, err)
	}
	if got, err := s.TakeEmails(ctx, tenantID, 1, 2); err != nil || got.OK {
		t.Fatalf("3rd email of 2/hour: %+v, %v", got, err)
	}
	// The budget shares the tenant's slot too, so a send and its take are
	// one script: refused with the budget spent, made once it is back.
	taken := &Send{ID: "snd_taken", TenantID: tenantID, InvoiceID: "inv_1", Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, created, took, err := s.CreateSendTaking(ctx, taken, 1, 2); err != nil || created || took.OK {
		t.Fatalf("CreateSendTaking with the budget spent = %v, %+v, %v", created, took, err)
	}
	if err := s.rdb.Del(ctx, emailBudgetKey(tenantID)).Err(); err != nil {
		t.Fatal(err)
	}
	if _, created, took, err := s.CreateSendTaking(ctx, taken, 1, 2); err != nil || !created || !took.OK {
		t.Fatalf("CreateSendTaking = %v, %+v, %v", created, took, err)
	}
	if ok, _, err := s.AllowSend(ctx, tenantID, "ses", 5); err != nil || !ok {
		t.Fatalf("AllowSend = %v, %v", ok, err)
	}

	if err := s.StartVerification(ctx, tenantID, "id", "123456"); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmVerification(ctx, tenantID, "id", "123456"); err != nil {
		t.Fatalf("ConfirmVerification: %v", err)
	}
	if ok, _ := s.SenderVerified(ctx, tenantID, "id"); !ok {
		t.Fatal("not verified after the right code")
	}
	if err := s.Suppress(ctx, tenantID, "a@b.co", "bounced"); err != nil {
		t.Fatal(err)
	}
	if addr, _, err := s.Suppressed(ctx, tenantID, "a@b.co"); err != nil || addr != "a@b.co" {
		t.Fatalf("Suppressed = %q, %v", addr, err)
	}
	if _, _, err := s.MarkPaid(ctx, tenantID, "inv_1", "api"); err != nil {
		t.Fatalf("MarkPaid: %v", err)
	}
}

// TestClusterPingSeesAMasterDown stops one master of a cluster without
// replicas: its slots are then served by nobody, and Ping (behind
// /readyz) must say so, although the other nodes still answer PING.
func TestClusterPingSeesAMasterDown(t *testing.T) {
	t.Parallel()
	cluster := redistest.StartCluster(t, 3, 0)
	s, err := New(cluster.Client(t), Config{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping on a healthy cluster: %v", err)
	}
	cluster.Nodes[2].Stop()
	start := time.Now()
	deadline := start.Add(20 * redistest.NodeTimeout)
	var firstFail time.Duration
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := s.Ping(pctx)
		cancel()
		if err != nil && firstFail == 0 {
			firstFail = time.Since(start)
		}
		// Once the other nodes have marked the master failed, they report
		// the cluster down too (Ping asks a random node, so retry).
		if errors.Is(err, ErrClusterDown) {
			t.Logf("Ping failed %v after a master stopped, and reported the cluster down after %v",
				firstFail.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ping with a master down for %v: %v, want ErrClusterDown", time.Since(start), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
