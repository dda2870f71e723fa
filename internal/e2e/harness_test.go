package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/invoiced/invoiced/api"
	"github.com/invoiced/invoiced/internal/mailtest"
	"github.com/invoiced/invoiced/internal/metrics"
	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/internal/wiring"
	"github.com/invoiced/invoiced/providers/razorpay/razorpaytest"
	"github.com/invoiced/invoiced/providers/ses/sestest"
	"github.com/invoiced/invoiced/providers/ses/sns"
	"github.com/invoiced/invoiced/providers/ses/sns/snstest"
	"github.com/invoiced/invoiced/providers/smtp/smtptest"
	"github.com/invoiced/invoiced/providers/stripe/stripetest"
	"github.com/invoiced/invoiced/providers/twilio/twiliotest"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

const adminToken = "admin-secret-for-tests"

// loopback lets webhooks and tenants' SMTP settings reach the tests'
// receivers and SMTP servers on 127.0.0.1, as an on-premises allow-list
// would.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// unverifiedSender is the one address SES does not accept in these tests.
const unverifiedSender = "unverified@acme.test"

// harness is a whole invoiced (API, worker, and the sweep on demand) on a
// real redis-server, with the outbox in a temporary folder.
type harness struct {
	t         testing.TB
	URL       string
	Outbox    string
	Store     *store.Store
	Client    *asynq.Client
	Inspector *asynq.Inspector
	SMTP      *smtptest.Server
	Twilio    *twiliotest.Server
	// SNS signs SES event notifications as Amazon SNS would.
	SNS *snstest.Server
	// SESEndpoint is the SES v2 emulator's URL, with options.ses.
	SESEndpoint string
	// StripeBase is stripe-mock's URL, with options.stripe.
	StripeBase string
	Razorpay   *razorpaytest.Server
	// API is the API under test.
	API *api.API
	// Logs holds every log entry at debug level and above.
	Logs *observer.ObservedLogs
	// RedisAddr is the redis-server's address, for tests that reach
	// under the store.
	RedisAddr string
	// Metrics is the API's and the worker's, served at /metrics.
	Metrics *metrics.Metrics
	// Redis is the redis-server everything runs on.
	Redis *redistest.Server
}

type options struct {
	noWorker   bool
	ses        bool // start the SES v2 emulator
	sesShared  bool // wiring.Config.SESSharedCredentials
	maxRetries int  // wiring.Config.DeliveryMaxRetries
	stripe     bool // start stripe-mock
	maxBody    int64
	defaultNil bool // no default email provider
	noAdmin    bool // no admin token: no admin API, /metrics or /monitoring/
	redisArgs  []string
	// smtpAllowNets, when not nil, replaces the SMTP allow-list (loopback,
	// for the test server) with its prefixes.
	smtpAllowNets []netip.Prefix
	defaultSMTP   bool // the deployment's SMTP server is h.SMTP
	// maxEmailsPerHour is wiring.Config.MaxEmailsPerHour, the operator's
	// ceiling on a tenant's hourly email limit.
	maxEmailsPerHour int
	// requireDurable is wiring.Config.RequireDurableRedis.
	requireDurable bool
	// fontDir is wiring.Config.FontDir, the PDFs' fallback fonts.
	fontDir string
}

// setup builds invoiced with the constructors cmd/invoiced uses
// (package wiring), from a configuration pointing at the tests' peers.
func setup(t testing.TB, opts ...func(*options)) *harness {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	srv := redistest.Start(t, o.redisArgs...)
	redisOpt := asynq.RedisClientOpt{Addr: srv.Addr}
	observed, logs := observer.New(zap.DebugLevel)
	log := zap.New(zapcore.NewTee(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Core(), observed))
	h := &harness{t: t, Outbox: t.TempDir(), Logs: logs, RedisAddr: srv.Addr, Redis: srv}
	h.SMTP = smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "s3cret"})
	h.Twilio = twiliotest.Start(t)
	h.SNS = snstest.NewServer(t)
	if o.ses {
		// SES knows every address as a verified identity but this one.
		h.SESEndpoint = sestest.Start(t, unverifiedSender)
	}
	if o.stripe {
		h.StripeBase = stripetest.Start(t)
	}
	h.Razorpay = razorpaytest.Start(t)

	// The API's URL goes into links the worker writes, so it listens
	// before the API exists.
	var handler http.Handler
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(hs.Close)
	h.URL = hs.URL
	cfg := wiring.Config{
		AdminToken:           adminToken,
		SecretKey:            bytes.Repeat([]byte{7}, 32),
		OutboxDir:            h.Outbox,
		DefaultEmailProvider: store.ProviderOutbox,
		DefaultSMSProvider:   store.SMSProviderOutbox,
		DeliveryMaxRetries:   o.maxRetries,
		SESEndpoint:          h.SESEndpoint,
		SESSharedCredentials: o.sesShared,
		TwilioAPIURL:         h.Twilio.URL(),
		StripeAPIBase:        h.StripeBase,
		RazorpayAPIURL:       h.Razorpay.URL(),
		WebhookAllowNets:     loopback,
		SMTPAllowNets:        loopback,
		WebhookTimeout:       2 * time.Second,
		SMTPRootCAs:          h.SMTP.ClientTLSConfig().RootCAs,
		SNS:                  sns.Config{HTTPClient: h.SNS.Client(), Roots: h.SNS.Roots()},
		PublicURL:            hs.URL,
		Concurrency:          10,
		// Retry quickly so transient failures resolve within a test; the
		// classification and attempt records are what is under test.
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 200 * time.Millisecond },
		MaxBodyBytes:   o.maxBody,
		PDFCacheSize:   64,
		FontDir:        o.fontDir,

		MaxEmailsPerHour:    o.maxEmailsPerHour,
		RequireDurableRedis: o.requireDurable,
	}
	if o.defaultNil {
		cfg.DefaultEmailProvider = ""
	}
	if o.noAdmin {
		cfg.AdminToken = ""
	}
	if o.smtpAllowNets != nil {
		cfg.SMTPAllowNets = o.smtpAllowNets
	}
	if o.defaultSMTP {
		cfg.DefaultEmailProvider = store.ProviderSMTP
		cfg.DefaultSMTP = &store.SMTPSettings{Host: h.SMTP.Host(), Port: h.SMTP.Port(), Username: "mailer", Password: "s3cret", TLS: "starttls"}
	}
	d, err := wiring.Connect(cfg, log, redisOpt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	h.Store, h.Client, h.Metrics = d.Store, d.Client, d.Metrics
	h.Inspector = asynq.NewInspector(redisOpt)
	t.Cleanup(func() { _ = h.Inspector.Close() })
	h.Metrics.WatchQueues(h.Inspector)
	a, err := wiring.NewAPI(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	handler = a.Handler()
	h.API = a.API

	if o.noWorker {
		return h
	}
	w, err := wiring.NewWorker(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Shutdown() })
	return h
}

// sweep runs one finalize sweep, as the scheduler would.
func (h *harness) sweep() {
	h.t.Helper()
	if _, err := h.Client.Enqueue(tasks.NewSweepFinalizeTask()); err != nil {
		h.t.Fatal(err)
	}
}

// response is a decoded JSON answer.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// data returns body.data as a map.
func (r response) data() map[string]any {
	d, _ := r.Body["data"].(map[string]any)
	return d
}

func (r response) errorCode() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (r response) errorFields() map[string]any {
	e, _ := r.Body["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

// do sends a request; body may be a string, []byte or any JSON value.
func (h *harness) do(method, path, token string, body any, headers ...string) response {
	h.t.Helper()
	var sent []byte
	switch b := body.(type) {
	case nil:
	case string:
		sent = []byte(b)
	case []byte:
		sent = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		sent = j
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(sent)
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	checkOpenAPI(h.t, method, path, req.Header, sent, resp.StatusCode, resp.Header, raw)
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.Body); err != nil {
			h.t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	return r
}

// must fails the test unless the response has the wanted status.
func (h *harness) must(want int, r response) response {
	h.t.Helper()
	if r.Status != want {
		h.t.Fatalf("status %d, want %d: %s", r.Status, want, r.Raw)
	}
	return r
}

// tenant creates a tenant through the admin API with settings and returns
// its token.
func (h *harness) tenant(name string, settings map[string]any) string {
	h.t.Helper()
	r := h.must(http.StatusCreated, h.do("POST", "/admin/v1/tenants", adminToken, map[string]any{"name": name}))
	token, _ := r.data()["token"].(string)
	if token == "" {
		h.t.Fatalf("no token in %s", r.Raw)
	}
	if settings != nil {
		h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, settings))
	}
	return token
}

func acmeSettings() map[string]any {
	return map[string]any{
		"branding": map[string]any{"name": "ACME SRL", "vatId": "RO18547290", "email": "billing@acme.test",
			"address": map[string]any{"line1": "Str. Memorandumului 28", "city": "Cluj-Napoca", "postalCode": "400114", "country": "RO"}},
		"bank":     map[string]any{"iban": "RO49AAAA1B31007593840000", "bic": "AAAARO22", "bankName": "Banca Demo", "holder": "ACME SRL"},
		"email":    map[string]any{"provider": "outbox", "fromEmail": "billing@acme.test", "fromName": "ACME Billing"},
		"defaults": map[string]any{"language": "en", "gracePeriod": "1h", "autoEmailOnFinalize": true},
	}
}

func sampleInvoice(id string) map[string]any {
	return map[string]any{
		"id": id, "number": "INV-" + strings.TrimPrefix(id, "inv_"), "currency": "EUR",
		"issueDate": "2026-11-21", "dueDate": "2026-12-21", "language": "en",
		"customer": map[string]any{"name": "Ana Popescu", "email": "ana@example.com", "phone": "+40712345678",
			"address": map[string]any{"line1": "Str. Lalelelor 5", "city": "Cluj-Napoca", "postalCode": "400000", "country": "RO"}},
		"lines": []any{map[string]any{"description": "Consulting", "quantity": "10", "unit": "h", "unitPrice": "95.00", "taxRate": "19"}},
		"notes": "Thank you!",
	}
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// emails returns the outbox's .eml files.
func (h *harness) emails() []string {
	files, _ := filepath.Glob(filepath.Join(h.Outbox, "email", "*.eml"))
	return files
}

// parsedEmail is an email read back from the outbox or an SMTP server.
type parsedEmail = mailtest.Email

func parseEmail(t testing.TB, raw []byte) parsedEmail {
	t.Helper()
	e, err := mailtest.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// verifySMTPSender runs the sender verification of a tenant whose provider
// is smtp: ask for a code, read it from the SMTP server, confirm it.
func (h *harness) verifySMTPSender(token string) {
	h.t.Helper()
	before := len(h.SMTP.Messages())
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/settings/email/verify", token, nil))
	msgs := h.SMTP.WaitForMessages(h.t, before+1, 10*time.Second)
	subject := parseEmail(h.t, msgs[before].Data).Header.Get("Subject")
	code := subject[strings.LastIndex(subject, " ")+1:]
	r := h.must(http.StatusOK, h.do("POST", "/api/v1/settings/email/verify", token, map[string]any{"code": code}))
	if r.data()["email"].(map[string]any)["senderVerified"] != true {
		h.t.Fatalf("not verified after confirming the code: %s", r.Raw)
	}
}
