package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/store"
)

// fixture is an API on a real redis-server, its store and its queue on
// one Redis client whose round trips are counted, with a tenant set up
// as the load test sets up its own: branding, bank, static payment
// links, email through the deployment's SMTP server.
type fixture struct {
	t       testing.TB
	handler http.Handler
	st      *store.Store
	rdb     *redis.Client
	trips   *redistest.Counter
	// queue outlives restarts: it has put its queue in asynq's list
	// of queues, which it does once.
	queue  *asynq.Client
	tenant store.Tenant
	token  string
}

func setupAPI(t testing.TB) *fixture {
	t.Helper()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	trips := &redistest.Counter{}
	rdb.AddHook(trips)
	f := &fixture{t: t, rdb: rdb, trips: trips, queue: asynq.NewClientFromRedisClient(rdb)}
	f.restart()
	f.tenant, f.token = f.newTenant("ACME SRL")
	return f
}

// restart builds the API and its store anew on the same Redis, as a
// restarted process would: it has seen no token.
func (f *fixture) restart() {
	f.t.Helper()
	st, err := store.New(f.rdb, store.Config{SecretKey: make([]byte, 32)})
	if err != nil {
		f.t.Fatal(err)
	}
	renderer, err := pdf.New()
	if err != nil {
		f.t.Fatal(err)
	}
	a, err := New(Config{
		Store: st, Enqueuer: f.queue, Tasks: asynq.NewInspectorFromRedisClient(f.rdb),
		PDF: pdf.NewCache(renderer, 16), DefaultEmailProvider: store.ProviderSMTP, MaxEmailsPerHour: 1_000_000_000,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.st, f.handler = st, a.Handler()
}

// loadTestSettings are the tenant settings of the load test.
const loadTestSettings = `{"branding":{"name":"ACME SRL","vatId":"RO18547290","email":"billing@acme.test",
		"address":{"line1":"Str. Memorandumului 28","city":"Cluj-Napoca","postalCode":"400114","country":"RO"}},
	  "bank":{"iban":"RO49AAAA1B31007593840000","bic":"AAAARO22","bankName":"Banca Demo","holder":"ACME SRL"},
	  "email":{"fromEmail":"billing@acme.test","fromName":"ACME Billing"},
	  "payments":{"gateway":"static","static":{"urlTemplate":"https://pay.acme.test/{invoiceId}?amount={amount}&currency={currency}"}},
	  "defaults":{"language":"en","gracePeriod":"1h","autoEmailOnFinalize":false,"emailsPerHour":1000000000}}`

// newTenant creates a tenant with the load test's settings and returns
// it with its token.
func (f *fixture) newTenant(name string) (store.Tenant, string) {
	f.t.Helper()
	return f.newTenantWith(name, loadTestSettings)
}

// newTenantWith creates a tenant with settings (a PUT /settings body)
// and returns it with its token.
func (f *fixture) newTenantWith(name, settings string) (store.Tenant, string) {
	f.t.Helper()
	ten, token, err := f.st.CreateTenant(context.Background(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	if w := f.do("PUT", "/api/v1/settings", token, settings, nil); w.Code != http.StatusOK {
		f.t.Fatalf("PUT settings: %d %s", w.Code, w.Body)
	}
	return ten, token
}

// newInvoice creates draft id of 10 lines for the tenant of token.
func (f *fixture) newInvoice(token, id string) {
	f.t.Helper()
	items := []string{
		`{"description":"Consulting","quantity":"10","unit":"h","unitPrice":"95.00","taxRate":"19"}`,
		`{"description":"Hosting, monthly","quantity":"1","unit":"mo","unitPrice":"49.90","taxRate":"19"}`,
		`{"description":"Training materials","quantity":"3","unit":"pcs","unitPrice":"12.50","taxRate":"9"}`,
		`{"description":"Books","quantity":"2","unit":"pcs","unitPrice":"35.00","taxRate":"5"}`,
	}
	lines := make([]string, 10)
	for i := range lines {
		lines[i] = items[i%len(items)]
	}
	body := fmt.Sprintf(`{"id":%q,"number":"LT-%s","currency":"EUR","issueDate":"2026-11-21","dueDate":"2026-12-21",
	  "language":"en","autoAdvance":false,
	  "customer":{"name":"Customer","email":"customer@example.com",
	    "address":{"line1":"Str. Lalelelor 5","city":"Cluj-Napoca","postalCode":"400000","country":"RO"}},
	  "lines":[%s],"notes":"Thank you!"}`, id, id, strings.Join(lines, ","))
	if w := f.do("POST", "/api/v1/invoices", token, body, nil); w.Code != http.StatusCreated {
		f.t.Fatalf("POST invoice %s: %d %s", id, w.Code, w.Body)
	}
}

// newOpenInvoice creates invoice id, as newInvoice does, and finalizes it.
func (f *fixture) newOpenInvoice(token, id string) {
	f.t.Helper()
	f.newInvoice(token, id)
	if w := f.do("POST", "/api/v1/invoices/"+id+"/finalize", token, `{}`, nil); w.Code != http.StatusOK {
		f.t.Fatalf("finalize %s: %d %s", id, w.Code, w.Body)
	}
}

// do serves one request with token as its bearer token, and header's
// headers.
func (f *fixture) do(method, path, token, body string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, r)
	return w
}

// send asks for invoice id's canonical send.
func (f *fixture) send(token, id string, header http.Header) *httptest.ResponseRecorder {
	return f.do("POST", "/api/v1/invoices/"+id+"/send", token, `{}`, header)
}

// sendsOf returns how many sends invoice id of tenant has stored, and
// how many tasks wait in the queue of send tasks.
func (f *fixture) sendsOf(tenantID, id string) (sends, tasks int) {
	f.t.Helper()
	ctx := context.Background()
	ds, err := f.st.InvoiceDeliveries(ctx, tenantID, id)
	if err != nil {
		f.t.Fatal(err)
	}
	n, err := f.rdb.LLen(ctx, "asynq:{critical}:pending").Result()
	if err != nil {
		f.t.Fatal(err)
	}
	return len(ds), int(n)
}

// TestSendRoundTrips counts a send request's round trips to Redis: once
// the API has seen the token, its tenant, the invoice and the tenant's
// settings are read in one, the send is stored in one and its task
// enqueued in one.
func TestSendRoundTrips(t *testing.T) {
	t.Parallel()
	f := setupAPI(t)
	for _, id := range []string{"inv_0", "inv_1", "inv_2", "inv_3"} {
		f.newInvoice(f.token, id)
	}
	// Counted once the scripts are known to Redis, as they are once the
	// API has run for a while.
	if w := f.send(f.token, "inv_0", nil); w.Code != http.StatusAccepted {
		t.Fatalf("send = %d %s", w.Code, w.Body)
	}
	for _, tt := range []struct {
		name    string
		id      string
		restart bool
		trips   int64
	}{
		{"token seen", "inv_1", false, 3},
		{"again", "inv_2", false, 3},
		// After a restart the API has not seen the token: it looks the
		// token up before its tenant, and reads the invoice after.
		{"token not seen", "inv_3", true, 4},
	} {
		if tt.restart {
			f.restart()
		}
		before := f.trips.Trips.Load()
		w := f.send(f.token, tt.id, nil)
		n := f.trips.Trips.Load() - before
		if w.Code != http.StatusAccepted {
			t.Fatalf("%s: send = %d %s", tt.name, w.Code, w.Body)
		}
		if n != tt.trips {
			t.Errorf("%s: a send took %d round trips, want %d", tt.name, n, tt.trips)
		}
	}
}

// TestCompatSendRoundTrips counts the round trips to Redis of the seed
// APIs' send routes, of an open invoice of a tenant without a payment
// gateway (Fluxrate's route would wait for the worker's link): the
// invoice and the settings are read with the token, once.
func TestCompatSendRoundTrips(t *testing.T) {
	t.Parallel()
	f := setupAPI(t)
	_, token := f.newTenantWith("Compat SRL", `{"email":{"fromEmail":"billing@acme.test"}}`)
	tests := []struct {
		name, route, body string
		trips             int64
	}{
		{"canonical", "/api/v1/invoices/%s/send", `{}`, 3},
		{"Fluxrate", "/api/v1/invoices/%s/send-email", `{}`, 3},
		{"Storno", "/api/v1/invoices/%s/email", `{"to":"ana@example.com"}`, 3},
		// Infinity's takes the emails before it finalizes a draft, and
		// answers with the invoice's deliveries.
		{"Infinity", "/v1/invoices/%s/send", `{}`, 7},
	}
	for i, tt := range append(tests[:1:1], tests...) {
		id := fmt.Sprintf("inv_%d", i)
		f.newOpenInvoice(token, id)
		before := f.trips.Trips.Load()
		w := f.do("POST", fmt.Sprintf(tt.route, id), token, tt.body, nil)
		n := f.trips.Trips.Load() - before
		if w.Code/100 != 2 {
			t.Fatalf("%s: %d %s", tt.name, w.Code, w.Body)
		}
		// The first send, the canonical one again, is not counted: it
		// loads the scripts.
		if i > 0 && n != tt.trips {
			t.Errorf("%s: a send took %d round trips, want %d", tt.name, n, tt.trips)
		}
	}
}

// TestSendAuth: the invoice a send reads with its token is used only
// when the token still names the tenant it was read for. A token
// deleted in Redis, a tenant deleted, or a header naming another tenant
// is refused before anything is stored or queued; a token never sends
// another tenant's invoice, the API having seen the token or not.
// ACME has invoices inv_1 and inv_a, Other an inv_1 of its own, all
// open; each case is tried on each route that sends.
func TestSendAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// change runs after the API has seen both tokens (or been
		// restarted since).
		change func(f *fixture, other store.Tenant)
		// other: Other's token sends, not ACME's.
		other  bool
		id     string
		header http.Header
		// status is the answer's; 200 stands for any success (the
		// canonical route answers 202, the seed APIs' 200).
		status int
		// acme and others are the sends ACME's and Other's inv_1 have after.
		acme, others int
	}{
		{name: "the token's own invoice", id: "inv_1", status: http.StatusOK, acme: 1},
		{name: "another tenant's token, its own invoice of the same id", other: true, id: "inv_1", status: http.StatusOK, others: 1},
		{name: "another tenant's token, an id it does not have", other: true, id: "inv_a", status: http.StatusNotFound},
		{
			name:   "token deleted",
			change: func(f *fixture, _ store.Tenant) { f.del(tokenKeyOf(f.token)) },
			id:     "inv_1", status: http.StatusUnauthorized,
		},
		{
			name:   "tenant deleted",
			change: func(f *fixture, _ store.Tenant) { f.del("ivd:{" + f.tenant.ID + "}:tenant") },
			id:     "inv_1", status: http.StatusUnauthorized,
		},
		{name: "X-Tenant-ID of another tenant", header: http.Header{"X-Tenant-Id": {"ten_other"}}, id: "inv_1", status: http.StatusForbidden},
		{
			// Tokens never move, but were one to, it would send only
			// what its new tenant has.
			name: "token moved to another tenant",
			change: func(f *fixture, other store.Tenant) {
				if err := f.rdb.Set(context.Background(), tokenKeyOf(f.token), other.ID, 0).Err(); err != nil {
					f.t.Fatal(err)
				}
			},
			id: "inv_a", status: http.StatusNotFound,
		},
	}
	routes := []struct{ name, path, body string }{
		{"canonical", "/api/v1/invoices/%s/send", `{}`},
		{"Fluxrate", "/api/v1/invoices/%s/send-email", `{}`},
		{"Storno", "/api/v1/invoices/%s/email", `{"to":"ana@example.com"}`},
		{"Infinity", "/v1/invoices/%s/send", `{}`},
	}
	for _, tt := range tests {
		for _, route := range routes {
			for _, seen := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s, %s, token seen %v", tt.name, route.name, seen), func(t *testing.T) {
					t.Parallel()
					f := setupAPI(t)
					// Without a payment gateway, whose link Fluxrate's
					// route would wait for.
					const settings = `{"email":{"fromEmail":"billing@acme.test"}}`
					if w := f.do("PUT", "/api/v1/settings", f.token, settings, nil); w.Code != http.StatusOK {
						t.Fatalf("PUT settings: %d %s", w.Code, w.Body)
					}
					other, otherToken := f.newTenantWith("Other SRL", settings)
					f.newOpenInvoice(f.token, "inv_1")
					f.newOpenInvoice(f.token, "inv_a")
					f.newOpenInvoice(otherToken, "inv_1")
					if !seen {
						f.restart()
					}
					if tt.change != nil {
						tt.change(f, other)
					}
					token := f.token
					if tt.other {
						token = otherToken
					}
					_, queued := f.sendsOf(f.tenant.ID, "inv_1")
					w := f.do("POST", fmt.Sprintf(route.path, tt.id), token, route.body, tt.header)
					if got := w.Code; got != tt.status && (tt.status != http.StatusOK || got/100 != 2) {
						t.Fatalf("send = %d %s, want %d", w.Code, w.Body, tt.status)
					}
					acme, tasks := f.sendsOf(f.tenant.ID, "inv_1")
					tasks -= queued
					acmeA, _ := f.sendsOf(f.tenant.ID, "inv_a")
					others, _ := f.sendsOf(other.ID, "inv_1")
					if acme != tt.acme || acmeA != 0 || others != tt.others || tasks != tt.acme+tt.others {
						t.Errorf("sends: ACME's inv_1 %d, inv_a %d, Other's inv_1 %d, tasks queued %d; want %d, 0, %d, %d",
							acme, acmeA, others, tasks, tt.acme, tt.others, tt.acme+tt.others)
					}
				})
			}
		}
	}
}

// tokenKeyOf is the key of an API token in Redis.
func tokenKeyOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "ivd:token:" + hex.EncodeToString(sum[:])
}

// del deletes key from Redis, which must have it.
func (f *fixture) del(key string) {
	f.t.Helper()
	if n, err := f.rdb.Del(context.Background(), key).Result(); err != nil || n != 1 {
		f.t.Fatalf("DEL %s = %d, %v", key, n, err)
	}
}
