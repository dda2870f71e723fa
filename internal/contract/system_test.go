// Package contract holds the tests that hold the shipped invoiced binary
// to the documents its users' clients were written against: the four
// seed APIs' product documents (../shared/seeds in the workspace) and
// api/openapi.yaml. Every test here talks HTTP to real invoiced
// processes (api, worker, scheduler) on a real redis-server, built once
// per test run by TestMain.
package contract

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/mailtest"
	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/providers/razorpay/razorpaytest"
	"github.com/invoiced/invoiced/providers/stripe/stripetest"
	"github.com/invoiced/invoiced/providers/twilio/twiliotest"
)

// binary is the invoiced executable TestMain built.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "invoiced-contract-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "invoiced")
	build := exec.Command("go", "build", "-o", binary, "github.com/invoiced/invoiced/cmd/invoiced")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// adminToken is the systems' INVOICED_ADMIN_TOKEN.
const adminToken = "contract-admin-token"

// system is one invoiced deployment: the api, worker and scheduler roles
// as separate processes of the built binary, on their own redis-server,
// with email and SMS going to an outbox folder unless a tenant configures
// a provider, and stand-ins for the payment gateways and Twilio.
type system struct {
	URL    string
	Outbox string
	Redis  *redistest.Server
	// StripeBase is stripe-mock's URL when the system was started withStripe.
	StripeBase string
	Razorpay   *razorpaytest.Server
	Twilio     *twiliotest.Server
	logs       string
	env        []string
}

type options struct {
	stripe    bool
	noDefault bool // no default email provider: tenants without one cannot email
	env       []string
}

// withStripe starts stripe-mock and points the system's Stripe calls at it.
func withStripe(o *options) { o.stripe = true }

// withoutDefaultEmail leaves INVOICED_DEFAULT_EMAIL_PROVIDER unset.
func withoutDefaultEmail(o *options) { o.noDefault = true }

// withEnv adds environment variables (NAME=value) to every process.
func withEnv(kv ...string) func(*options) {
	return func(o *options) { o.env = append(o.env, kv...) }
}

// start runs a system for t, stopped when t ends.
func start(t *testing.T, opts ...func(*options)) *system {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	s := &system{Redis: redistest.Start(t), Outbox: t.TempDir(), logs: t.TempDir(),
		Razorpay: razorpaytest.Start(t), Twilio: twiliotest.Start(t)}
	port := redistest.FreePort(t)
	s.URL = "http://127.0.0.1:" + strconv.Itoa(port)
	s.env = append(os.Environ(),
		"INVOICED_REDIS_URL="+s.Redis.URL(),
		"INVOICED_SECRET_KEY="+hex.EncodeToString(bytes.Repeat([]byte{9}, 32)),
		"INVOICED_ADMIN_TOKEN="+adminToken,
		"INVOICED_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"INVOICED_PUBLIC_URL="+s.URL,
		"INVOICED_OUTBOX_DIR="+s.Outbox,
		"INVOICED_DEFAULT_SMS_PROVIDER=outbox",
		"INVOICED_METRICS_ADDR=off",
		"INVOICED_LOG_LEVEL=warn",
		"INVOICED_SWEEP_INTERVAL=2s",
		// The tests' webhook receivers listen on loopback.
		"INVOICED_WEBHOOK_ALLOW_NETS=127.0.0.1/32",
		"INVOICED_SMTP_ALLOW_NETS=127.0.0.1/32",
		"INVOICED_RAZORPAY_API_URL="+s.Razorpay.URL(),
		"INVOICED_TWILIO_API_URL="+s.Twilio.URL(),
	)
	if !o.noDefault {
		s.env = append(s.env, "INVOICED_DEFAULT_EMAIL_PROVIDER=outbox")
	}
	if o.stripe {
		s.StripeBase = stripetest.Start(t)
		s.env = append(s.env, "INVOICED_STRIPE_API_BASE="+s.StripeBase)
	}
	s.env = append(s.env, o.env...)
	for _, role := range []string{"api", "worker", "scheduler"} {
		s.run(t, role)
	}
	s.waitReady(t)
	return s
}

// run starts one role until t ends; SIGINT then stops it.
func (s *system) run(t *testing.T, role string) {
	t.Helper()
	logPath := filepath.Join(s.logs, role+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, role)
	cmd.Env = slices.Clone(s.env)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("invoiced %s log:\n%s", role, b)
		}
	})
}

func (s *system) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("invoiced api at %s not ready after 20s: %v", s.URL, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// response is one HTTP answer.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	// JSON is the decoded body when it is JSON.
	JSON any
}

// object returns the body as a JSON object, failing t otherwise.
func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.JSON.(map[string]any)
	if !ok {
		t.Fatalf("answer %d is not a JSON object: %s", r.Status, r.Raw)
	}
	return m
}

// do sends one request with exactly the headers and body given.
func (s *system) do(t *testing.T, method, path string, headers map[string]string, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.JSON); err != nil {
			t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	return r
}

// must fails t unless r has status want.
func must(t *testing.T, want int, r response) response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Raw)
	}
	return r
}

// bearer is the header set of a request with token.
func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}
}

// tenant creates a tenant through the admin API, PUTs settings when given,
// and returns its id and token.
func (s *system) tenant(t *testing.T, name string, settings any) (id, token string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name})
	r := must(t, http.StatusCreated, s.do(t, "POST", "/admin/v1/tenants", bearer(adminToken), string(body)))
	data, _ := r.object(t)["data"].(map[string]any)
	id, _ = data["id"].(string)
	token, _ = data["token"].(string)
	if id == "" || token == "" {
		t.Fatalf("no tenant id or token in %s", r.Raw)
	}
	if settings != nil {
		b, err := json.Marshal(settings)
		if err != nil {
			t.Fatal(err)
		}
		must(t, http.StatusOK, s.do(t, "PUT", "/api/v1/settings", bearer(token), string(b)))
	}
	return id, token
}

// invoice creates an invoice with the canonical API and returns its id.
func (s *system) invoice(t *testing.T, token string, inv map[string]any) string {
	t.Helper()
	b, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	r := must(t, http.StatusCreated, s.do(t, "POST", "/api/v1/invoices", bearer(token), string(b)))
	data, _ := r.object(t)["data"].(map[string]any)
	id, _ := data["id"].(string)
	return id
}

// emails waits until the outbox holds at least n emails and returns them.
func (s *system) emails(t *testing.T, n int) []mailtest.Email {
	t.Helper()
	var got []mailtest.Email
	eventually(t, 20*time.Second, fmt.Sprintf("%d emails in the outbox", n), func() bool {
		var err error
		got, err = mailtest.Outbox(s.Outbox)
		if err != nil {
			t.Fatal(err)
		}
		return len(got) >= n
	})
	return got
}

// eventually polls cond until it holds, failing t after timeout.
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

// acmeSettings are a tenant's settings with the outbox as email provider.
func acmeSettings() map[string]any {
	return map[string]any{
		"branding": map[string]any{"name": "ACME Corp", "vatId": "RO18547290", "email": "billing@acme.test",
			"address": map[string]any{"line1": "Str. Memorandumului 28", "city": "Cluj-Napoca", "postalCode": "400114", "country": "RO"}},
		"bank":     map[string]any{"iban": "RO49AAAA1B31007593840000", "bic": "AAAARO22", "bankName": "Banca Demo", "holder": "ACME Corp"},
		"email":    map[string]any{"provider": "outbox", "fromEmail": "billing@acme.test", "fromName": "ACME Billing"},
		"defaults": map[string]any{"language": "en", "gracePeriod": "1h", "autoEmailOnFinalize": false},
	}
}
