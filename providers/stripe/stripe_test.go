package stripe

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	stripego "github.com/stripe/stripe-go/v85"

	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/providers/stripe/stripetest"
)

const returnURL = "https://invoiced.example/i/tok_abc"

// recorded is one request as the recorder saw it.
type recorded struct {
	Method string
	Path   string
	Header http.Header
	Form   url.Values
}

// recorder is an HTTP server that records each request and passes it on
// to a real peer.
type recorder struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []recorded
}

func newRecorder(t testing.TB, upstream string) *recorder {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		rec.mu.Lock()
		rec.got = append(rec.got, recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Form: form})
		rec.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) requests() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recorded(nil), rec.got...)
}

// setup puts a recorder in front of stripe-mock at mock and returns it
// with a Config that sends to it. stripe-mock keeps no state, so the
// subtests of a test share one.
func setup(t testing.TB, mock string) (*recorder, Config) {
	t.Helper()
	rec := newRecorder(t, mock)
	return rec, Config{SecretKey: stripetest.TestKey, APIBase: rec.srv.URL, Timeout: 5 * time.Second}
}

func newLinker(t testing.TB, cfg Config) *Linker {
	t.Helper()
	l, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return l
}

func newRequest() *providers.PaymentRequest {
	return &providers.PaymentRequest{
		TenantID: "ten_1", InvoiceID: "inv_1001", Number: "INV-1001",
		Amount: 113050, Currency: "EUR",
		CustomerName: "Ana Popescu", CustomerEmail: "ana@example.com",
		Description:    "Invoice INV-1001",
		IdempotencyKey: "invoiced-ten_1-inv_1001-1130.50",
		SuccessURL:     returnURL + "?paid=1", CancelURL: returnURL,
	}
}

// assertForm fails t unless form holds exactly want.
func assertForm(t *testing.T, form url.Values, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := form[k]; len(got) != 1 || got[0] != v {
			t.Errorf("form %s = %q, want %q", k, got, v)
		}
	}
	for k, v := range form {
		if _, ok := want[k]; !ok {
			t.Errorf("form has unexpected %s = %q", k, v)
		}
	}
}

func TestCreatePaymentLink(t *testing.T) {
	t.Parallel()
	rec, cfg := setup(t, stripetest.Start(t))
	r := newRequest()
	link, err := newLinker(t, cfg).CreatePaymentLink(context.Background(), r)
	if err != nil {
		t.Fatalf("CreatePaymentLink: %v", err)
	}

	u, err := url.Parse(link.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		t.Errorf("URL = %q, want an https URL", link.URL)
	} else if got := u.Query().Get("prefilled_email"); got != r.CustomerEmail {
		t.Errorf("URL %q has prefilled_email %q, want %q", link.URL, got, r.CustomerEmail)
	}
	if !strings.HasPrefix(link.ID, "plink_") {
		t.Errorf("ID = %q, want a Payment Link id", link.ID)
	}
	if link.ExpiresAt != nil {
		t.Errorf("ExpiresAt = %v, want nil: Payment Links do not expire", link.ExpiresAt)
	}

	reqs := rec.requests()
	if len(reqs) != 1 {
		t.Fatalf("stripe-mock got %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if got.Method != http.MethodPost || got.Path != "/v1/payment_links" {
		t.Errorf("request %s %s, want POST /v1/payment_links", got.Method, got.Path)
	}
	if k := got.Header.Get("Idempotency-Key"); k != r.IdempotencyKey {
		t.Errorf("Idempotency-Key = %q, want %q", k, r.IdempotencyKey)
	}
	if a := got.Header.Get("Authorization"); a != "Bearer "+stripetest.TestKey {
		t.Errorf("Authorization = %q", a)
	}
	if v := got.Header.Get("Stripe-Version"); v != stripego.APIVersion {
		t.Errorf("Stripe-Version = %q, want %q", v, stripego.APIVersion)
	}
	assertForm(t, got.Form, map[string]string{
		"line_items[0][price_data][currency]":           "eur",
		"line_items[0][price_data][unit_amount]":        "113050",
		"line_items[0][price_data][product_data][name]": "Invoice INV-1001",
		"line_items[0][quantity]":                       "1",
		"metadata[tenant_id]":                           "ten_1",
		"metadata[invoice_id]":                          "inv_1001",
		"metadata[invoice_number]":                      "INV-1001",
		"payment_intent_data[description]":              "Invoice INV-1001",
		"payment_intent_data[metadata][tenant_id]":      "ten_1",
		"payment_intent_data[metadata][invoice_id]":     "inv_1001",
		"payment_intent_data[metadata][invoice_number]": "INV-1001",
		"restrictions[completed_sessions][limit]":       "1",
		"after_completion[type]":                        "redirect",
		"after_completion[redirect][url]":               r.SuccessURL,
	})
}

func TestCreateCheckoutSession(t *testing.T) {
	t.Parallel()
	mock := stripetest.Start(t)
	now := time.Now()
	tests := []struct {
		name        string
		edit        func(*Config, *providers.PaymentRequest)
		wantExpiry  time.Time // zero: expires_at not sent
		wantSuccess string
		wantCancel  string
		noEmail     bool
	}{
		{
			name:        "request's URLs, no expiry",
			wantSuccess: returnURL + "?paid=1", wantCancel: returnURL,
		},
		{
			name: "ReturnURL when the request has none",
			edit: func(c *Config, r *providers.PaymentRequest) {
				c.ReturnURL, r.SuccessURL, r.CancelURL = "https://acme.test/back", "", ""
			},
			wantSuccess: "https://acme.test/back", wantCancel: "https://acme.test/back",
		},
		{
			name:        "expiry within the window",
			edit:        func(_ *Config, r *providers.PaymentRequest) { r.ExpiresAt = now.Add(2 * time.Hour) },
			wantExpiry:  now.Add(2 * time.Hour),
			wantSuccess: returnURL + "?paid=1", wantCancel: returnURL,
		},
		{
			name:        "expiry too soon is raised to 31 minutes",
			edit:        func(_ *Config, r *providers.PaymentRequest) { r.ExpiresAt = now.Add(time.Minute) },
			wantExpiry:  now.Add(MinSessionExpiry + time.Second - 1),
			wantSuccess: returnURL + "?paid=1", wantCancel: returnURL,
		},
		{
			name:        "expiry in the past is raised to 31 minutes",
			edit:        func(_ *Config, r *providers.PaymentRequest) { r.ExpiresAt = now.Add(-time.Hour) },
			wantExpiry:  now.Add(MinSessionExpiry + time.Second - 1),
			wantSuccess: returnURL + "?paid=1", wantCancel: returnURL,
		},
		{
			name:        "a due date a month away is capped below 24 hours",
			edit:        func(_ *Config, r *providers.PaymentRequest) { r.ExpiresAt = now.AddDate(0, 1, 0) },
			wantExpiry:  now.Add(MaxSessionExpiry),
			wantSuccess: returnURL + "?paid=1", wantCancel: returnURL,
		},
		{
			name:        "no customer email",
			edit:        func(_ *Config, r *providers.PaymentRequest) { r.CustomerEmail = "" },
			wantSuccess: returnURL + "?paid=1", wantCancel: returnURL,
			noEmail: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, cfg := setup(t, mock)
			cfg.Mode = ModeCheckoutSession
			r := newRequest()
			if tt.edit != nil {
				tt.edit(&cfg, r)
			}
			l := newLinker(t, cfg)
			l.nowFunc = func() time.Time { return now }
			link, err := l.CreatePaymentLink(context.Background(), r)
			if err != nil {
				t.Fatalf("CreatePaymentLink: %v", err)
			}
			if u, err := url.Parse(link.URL); err != nil || u.Scheme != "https" || u.Host == "" {
				t.Errorf("URL = %q, want an https URL", link.URL)
			}
			if !strings.HasPrefix(link.ID, "cs_") {
				t.Errorf("ID = %q, want a Checkout Session id", link.ID)
			}

			reqs := rec.requests()
			if len(reqs) != 1 || reqs[0].Path != "/v1/checkout/sessions" {
				t.Fatalf("requests %+v, want one POST /v1/checkout/sessions", reqs)
			}
			got := reqs[0]
			if k := got.Header.Get("Idempotency-Key"); k != r.IdempotencyKey {
				t.Errorf("Idempotency-Key = %q, want %q", k, r.IdempotencyKey)
			}
			want := map[string]string{
				"mode":                                          "payment",
				"line_items[0][price_data][currency]":           "eur",
				"line_items[0][price_data][unit_amount]":        "113050",
				"line_items[0][price_data][product_data][name]": "Invoice INV-1001",
				"line_items[0][quantity]":                       "1",
				"metadata[tenant_id]":                           "ten_1",
				"metadata[invoice_id]":                          "inv_1001",
				"metadata[invoice_number]":                      "INV-1001",
				"payment_intent_data[description]":              "Invoice INV-1001",
				"payment_intent_data[metadata][tenant_id]":      "ten_1",
				"payment_intent_data[metadata][invoice_id]":     "inv_1001",
				"payment_intent_data[metadata][invoice_number]": "INV-1001",
				"customer_email":                                "ana@example.com",
				"success_url":                                   tt.wantSuccess,
				"cancel_url":                                    tt.wantCancel,
			}
			if tt.noEmail {
				delete(want, "customer_email")
			}
			if !tt.wantExpiry.IsZero() {
				want["expires_at"] = strconv.FormatInt(tt.wantExpiry.Unix(), 10)
			}
			assertForm(t, got.Form, want)

			// stripe-mock reflects expires_at into its answer.
			if !tt.wantExpiry.IsZero() {
				if link.ExpiresAt == nil || link.ExpiresAt.Unix() != tt.wantExpiry.Unix() {
					t.Errorf("ExpiresAt = %v, want %v", link.ExpiresAt, tt.wantExpiry.Truncate(time.Second))
				}
				if d := tt.wantExpiry.Sub(now); d < 30*time.Minute || d > 24*time.Hour {
					t.Errorf("expiry %s from now is outside Stripe's window", d)
				}
			}
		})
	}
}

func TestCheckoutSessionNeedsSuccessURL(t *testing.T) {
	t.Parallel()
	srv, seen := rawServer(t, 200, nil, `{}`)
	r := newRequest()
	r.SuccessURL = ""
	_, err := newLinker(t, Config{SecretKey: stripetest.TestKey, APIBase: srv.URL, Mode: ModeCheckoutSession}).
		CreatePaymentLink(context.Background(), r)
	assertClass(t, err, wantClass{permanent: "invalid_request"})
	if len(seen) != 0 {
		t.Error("a request went to Stripe")
	}
}

func TestCreatePaymentLinkAmounts(t *testing.T) {
	t.Parallel()
	mock := stripetest.Start(t)
	tests := []struct {
		currency string
		amount   int64
		want     string // unit_amount sent
	}{
		{"EUR", 113050, "113050"},
		{"JPY", 5000, "5000"},
		{"ISK", 5000, "500000"}, // Stripe counts ISK in hundredths
		{"KWD", 1234560, "1234560"},
	}
	for _, tt := range tests {
		t.Run(tt.currency, func(t *testing.T) {
			t.Parallel()
			rec, cfg := setup(t, mock)
			r := newRequest()
			r.Currency, r.Amount = tt.currency, tt.amount
			if _, err := newLinker(t, cfg).CreatePaymentLink(context.Background(), r); err != nil {
				t.Fatalf("CreatePaymentLink: %v", err)
			}
			form := rec.requests()[0].Form
			if got := form.Get("line_items[0][price_data][unit_amount]"); got != tt.want {
				t.Errorf("unit_amount = %s, want %s", got, tt.want)
			}
			if got := form.Get("line_items[0][price_data][currency]"); got != strings.ToLower(tt.currency) {
				t.Errorf("currency = %s, want %s", got, strings.ToLower(tt.currency))
			}
		})
	}
}

func TestCreatePaymentLinkRefusesBadRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*providers.PaymentRequest)
	}{
		{"no tenant", func(r *providers.PaymentRequest) { r.TenantID = "" }},
		{"no invoice", func(r *providers.PaymentRequest) { r.InvoiceID = "" }},
		{"no number", func(r *providers.PaymentRequest) { r.Number = "" }},
		{"zero amount", func(r *providers.PaymentRequest) { r.Amount = 0 }},
		{"negative amount", func(r *providers.PaymentRequest) { r.Amount = -5 }},
		{"lower-case currency", func(r *providers.PaymentRequest) { r.Currency = "eur" }},
		{"unknown currency", func(r *providers.PaymentRequest) { r.Currency = "ABC" }},
		{"three decimals not ending in 0", func(r *providers.PaymentRequest) { r.Currency, r.Amount = "KWD", 1235 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, seen := rawServer(t, 200, nil, `{}`)
			r := newRequest()
			tt.edit(r)
			_, err := newLinker(t, Config{SecretKey: stripetest.TestKey, APIBase: srv.URL}).CreatePaymentLink(context.Background(), r)
			assertClass(t, err, wantClass{permanent: "invalid_request"})
			if len(seen) != 0 {
				t.Error("a request went to Stripe")
			}
		})
	}
	t.Run("nil request", func(t *testing.T) {
		t.Parallel()
		_, err := newLinker(t, Config{SecretKey: stripetest.TestKey}).CreatePaymentLink(context.Background(), nil)
		assertClass(t, err, wantClass{permanent: "invalid_request"})
	})
}

func TestLongIdempotencyKeyIsHashed(t *testing.T) {
	t.Parallel()
	rec, cfg := setup(t, stripetest.Start(t))
	r := newRequest()
	r.IdempotencyKey = strings.Repeat("k", 300)
	if _, err := newLinker(t, cfg).CreatePaymentLink(context.Background(), r); err != nil {
		t.Fatalf("CreatePaymentLink: %v", err)
	}
	got := rec.requests()[0].Header.Get("Idempotency-Key")
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(got) {
		t.Errorf("Idempotency-Key = %q, want sha256:<hex>", got)
	}
}

func TestWrongKeyAgainstStripeMock(t *testing.T) {
	t.Parallel()
	rec, cfg := setup(t, stripetest.Start(t))
	// stripe-mock refuses live keys and quotes the Authorization header
	// in its message.
	cfg.SecretKey = "sk_live_abcdefghijklmnop"
	_, err := newLinker(t, cfg).CreatePaymentLink(context.Background(), newRequest())
	assertClass(t, err, wantClass{permanent: "stripe_http_401"})
	assertNoKey(t, err, cfg.SecretKey)
	if len(rec.requests()) != 1 {
		t.Errorf("stripe-mock got %d requests, want 1", len(rec.requests()))
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	const key = "sk_test_secretvalue123"
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // empty: New succeeds
	}{
		{"minimal", Config{SecretKey: key}, ""},
		{"restricted key", Config{SecretKey: "rk_test_abc"}, ""},
		{"checkout sessions", Config{SecretKey: key, Mode: ModeCheckoutSession, ReturnURL: returnURL}, ""},
		{"no key", Config{}, "SecretKey is required"},
		{"publishable key", Config{SecretKey: "pk_test_abc"}, "secret key"},
		{"key with a newline", Config{SecretKey: key + "\n"}, "secret key"},
		{"unknown mode", Config{SecretKey: key, Mode: "invoice"}, "Mode"},
		{"relative ReturnURL", Config{SecretKey: key, ReturnURL: "/i/abc"}, "ReturnURL"},
		{"ftp APIBase", Config{SecretKey: key, APIBase: "ftp://stripe.test"}, "APIBase"},
		{"APIBase with a query", Config{SecretKey: key, APIBase: "http://127.0.0.1:12111?x=1"}, "APIBase"},
		{"APIBase with credentials", Config{SecretKey: key, APIBase: "http://u:p@127.0.0.1:12111"}, "APIBase"},
		{"negative timeout", Config{SecretKey: key, Timeout: -time.Second}, "Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := New(tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("New error %v, want one mentioning %q", err, tt.wantErr)
			case err != nil:
				assertNoKey(t, err, strings.TrimSpace(tt.cfg.SecretKey))
				return
			}
			if l.cfg.Timeout != DefaultTimeout || l.cfg.APIBase != DefaultAPIBase {
				t.Errorf("defaults: Timeout %s, APIBase %q", l.cfg.Timeout, l.cfg.APIBase)
			}
			if tt.cfg.Mode == "" && l.cfg.Mode != ModePaymentLink {
				t.Errorf("default Mode = %q, want %q", l.cfg.Mode, ModePaymentLink)
			}
		})
	}
}

// wantClass is how an error should be classified.
type wantClass struct {
	permanent  string        // the PermanentError code, or empty
	retryAfter time.Duration // the RetryAfter delay, or 0
}

func assertClass(t *testing.T, err error, want wantClass) {
	t.Helper()
	if err == nil {
		t.Fatal("CreatePaymentLink succeeded, want an error")
	}
	var perm *providers.PermanentError
	isPerm := errors.As(err, &perm)
	delay, isRetryAfter := providers.RetryDelay(err)
	switch {
	case want.permanent != "":
		if !isPerm || perm.Code != want.permanent {
			t.Errorf("error %q: want permanent %s", err, want.permanent)
		}
	case want.retryAfter != 0:
		if !isRetryAfter || delay != want.retryAfter || isPerm {
			t.Errorf("error %q: want retry after %s (got %s, %t)", err, want.retryAfter, delay, isRetryAfter)
		}
	default:
		if isPerm || isRetryAfter {
			t.Errorf("error %q: want transient, got permanent %t, retry-after %t", err, isPerm, isRetryAfter)
		}
	}
}

// assertNoKey fails t when err's text includes the secret key.
func assertNoKey(t *testing.T, err error, key string) {
	t.Helper()
	if err != nil && key != "" && strings.Contains(err.Error(), key) {
		t.Errorf("error %q contains the secret key", err)
	}
}

// rawServer answers every request with status, header and body, and
// passes each request it gets to the channel.
func rawServer(t *testing.T, status int, header http.Header, body string) (*httptest.Server, chan *http.Request) {
	t.Helper()
	seen := make(chan *http.Request, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case seen <- r:
		default:
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func TestCreatePaymentLinkClassifiesStripeErrors(t *testing.T) {
	t.Parallel()
	const key = "sk_test_51SecretKeyForTests"
	later := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name     string
		status   int
		header   http.Header
		body     string
		want     wantClass
		wantText []string
	}{
		{
			name:   "invalid integer",
			status: 400,
			body:   `{"error":{"type":"invalid_request_error","code":"parameter_invalid_integer","message":"Invalid integer: abc","param":"line_items[0][price_data][unit_amount]","doc_url":"https://stripe.com/docs/error-codes/parameter-invalid-integer"}}`,
			header: http.Header{"Request-Id": {"req_123"}},
			want:   wantClass{permanent: "stripe_parameter_invalid_integer"},
			wantText: []string{"HTTP 400", "invalid_request_error", "parameter_invalid_integer",
				"param line_items[0][price_data][unit_amount]", "Invalid integer: abc", "req_123"},
		},
		{
			name:     "bad key",
			status:   401,
			body:     `{"error":{"type":"authentication_error","message":"Invalid API Key provided: ` + key + `"}}`,
			want:     wantClass{permanent: "stripe_http_401"},
			wantText: []string{"HTTP 401", "authentication_error", "Invalid API Key provided: [redacted]"},
		},
		{
			name:     "key lacks a permission",
			status:   403,
			body:     `{"error":{"type":"invalid_request_error","message":"The provided key does not have the required permissions for this endpoint."}}`,
			want:     wantClass{permanent: "stripe_http_403"},
			wantText: []string{"HTTP 403", "required permissions"},
		},
		{
			name:     "idempotency key reused with other parameters",
			status:   400,
			body:     `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}`,
			want:     wantClass{permanent: "stripe_http_400"},
			wantText: []string{"idempotency_error", "same parameters"},
		},
		{
			name:     "idempotency key in use",
			status:   409,
			body:     `{"error":{"type":"invalid_request_error","code":"idempotency_key_in_use","message":"There is currently another in-progress request using this Idempotent Key."}}`,
			want:     wantClass{},
			wantText: []string{"HTTP 409", "idempotency_key_in_use"},
		},
		{
			name:     "rate limited",
			status:   429,
			body:     `{"error":{"type":"rate_limit_error","message":"Too many requests made to the API too quickly"}}`,
			want:     wantClass{retryAfter: DefaultRetryAfter},
			wantText: []string{"HTTP 429", "Too many requests"},
		},
		{
			name:   "rate limited with Retry-After",
			status: 429,
			header: http.Header{"Retry-After": {"7"}},
			body:   `{"error":{"type":"rate_limit_error","message":"Too many requests made to the API too quickly"}}`,
			want:   wantClass{retryAfter: 7 * time.Second},
		},
		{
			name:   "lock timeout",
			status: 429,
			body:   `{"error":{"type":"invalid_request_error","code":"lock_timeout","message":"This object cannot be accessed right now because another API request or Stripe process is currently accessing it."}}`,
			want:   wantClass{retryAfter: DefaultRetryAfter},
		},
		{
			name:   "empty 429 with an HTTP-date Retry-After",
			status: 429,
			header: http.Header{"Retry-After": {later.Format(http.TimeFormat)}},
			want:   wantClass{retryAfter: 90 * time.Second},
		},
		{
			name:     "api error",
			status:   500,
			body:     `{"error":{"type":"api_error","message":"An unknown error occurred"}}`,
			want:     wantClass{},
			wantText: []string{"HTTP 500", "api_error"},
		},
		{
			name:     "HTML 502 from a proxy",
			status:   502,
			body:     "<html>Bad Gateway</html>",
			want:     wantClass{},
			wantText: []string{"HTTP 502"},
		},
		{
			name:     "HTML 404",
			status:   404,
			body:     "<html>Not Found</html>",
			want:     wantClass{permanent: "stripe_http_404"},
			wantText: []string{"HTTP 404"},
		},
		{
			name:     "200 without an id",
			status:   200,
			body:     `{"object":"payment_link"}`,
			want:     wantClass{},
			wantText: []string{"no id or url"},
		},
		{
			name:     "redirect",
			status:   302,
			header:   http.Header{"Location": {"https://example.com/"}},
			want:     wantClass{},
			wantText: []string{"HTTP 302"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, seen := rawServer(t, tt.status, tt.header, tt.body)
			l := newLinker(t, Config{SecretKey: key, APIBase: srv.URL})
			l.nowFunc = func() time.Time { return later.Add(-90 * time.Second) }
			_, err := l.CreatePaymentLink(context.Background(), newRequest())
			assertClass(t, err, tt.want)
			for _, s := range tt.wantText {
				if err != nil && !strings.Contains(err.Error(), s) {
					t.Errorf("error %q, want it to mention %q", err, s)
				}
			}
			assertNoKey(t, err, key)
			var se *stripego.Error
			if strings.HasPrefix(tt.body, `{"error"`) && !errors.As(err, &se) {
				t.Errorf("error %q does not wrap *stripe.Error", err)
			}
			if len(seen) != 1 {
				t.Errorf("the server got %d requests, want 1 (no retries inside stripe-go)", len(seen))
			}
		})
	}
}

// TestCreatePaymentLinkConnectionRefused runs before the parallel tests,
// whose servers could otherwise be given the port it frees.
func TestCreatePaymentLinkConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = newLinker(t, Config{SecretKey: stripetest.TestKey, APIBase: "http://" + addr}).
		CreatePaymentLink(context.Background(), newRequest())
	assertClass(t, err, wantClass{})
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("error %q, want connection refused", err)
	}
}

// hangingServer accepts requests and never answers until the client goes
// away or the test ends.
func hangingServer(t *testing.T) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv
}

func TestCreatePaymentLinkTimeout(t *testing.T) {
	t.Parallel()
	cfg := Config{SecretKey: stripetest.TestKey, APIBase: hangingServer(t).URL, Timeout: 100 * time.Millisecond}
	start := time.Now()
	_, err := newLinker(t, cfg).CreatePaymentLink(context.Background(), newRequest())
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("CreatePaymentLink took %s with a 100ms timeout", took)
	}
	assertClass(t, err, wantClass{})
	if !strings.Contains(err.Error(), "timed out after 100ms") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q, want it to say it timed out and wrap context.DeadlineExceeded", err)
	}
}

func TestCreatePaymentLinkCanceled(t *testing.T) {
	t.Parallel()
	cfg := Config{SecretKey: stripetest.TestKey, APIBase: hangingServer(t).URL}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := newLinker(t, cfg).CreatePaymentLink(ctx, newRequest())
	assertClass(t, err, wantClass{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %q does not wrap context.Canceled", err)
	}
}

func TestCreatePaymentLinkCanceledBeforeSending(t *testing.T) {
	t.Parallel()
	srv, seen := rawServer(t, 200, nil, `{}`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newLinker(t, Config{SecretKey: stripetest.TestKey, APIBase: srv.URL}).CreatePaymentLink(ctx, newRequest())
	assertClass(t, err, wantClass{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %q does not wrap context.Canceled", err)
	}
	if len(seen) != 0 {
		t.Error("a request went to Stripe")
	}
}

func TestDeactivatePaymentLink(t *testing.T) {
	t.Parallel()
	rec, cfg := setup(t, stripetest.Start(t))
	l := newLinker(t, cfg)
	ctx := context.Background()
	if err := l.DeactivatePaymentLink(ctx, "plink_1SomeLink"); err != nil {
		t.Fatalf("deactivate a Payment Link: %v", err)
	}
	if err := l.DeactivatePaymentLink(ctx, "cs_test_a1Session"); err != nil {
		t.Fatalf("expire a Checkout Session: %v", err)
	}
	err := l.DeactivatePaymentLink(ctx, "pi_123")
	assertClass(t, err, wantClass{permanent: "invalid_request"})

	reqs := rec.requests()
	if len(reqs) != 2 {
		t.Fatalf("stripe-mock got %d requests, want 2 (none for the unknown id)", len(reqs))
	}
	if r := reqs[0]; r.Method != http.MethodPost || r.Path != "/v1/payment_links/plink_1SomeLink" {
		t.Errorf("first request %s %s, want POST /v1/payment_links/plink_1SomeLink", r.Method, r.Path)
	}
	assertForm(t, reqs[0].Form, map[string]string{"active": "false"})
	if r := reqs[1]; r.Method != http.MethodPost || r.Path != "/v1/checkout/sessions/cs_test_a1Session/expire" {
		t.Errorf("second request %s %s, want POST /v1/checkout/sessions/cs_test_a1Session/expire", r.Method, r.Path)
	}
}

func TestDeactivatePaymentLinkClassifiesStripeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		id     string
		status int
		body   string
		want   wantClass
	}{
		{"session already complete", "cs_test_done", 400,
			`{"error":{"type":"invalid_request_error","message":"Only Checkout Sessions with a status in [\"open\"] can be expired."}}`,
			wantClass{permanent: "stripe_http_400"}},
		{"no such link", "plink_gone", 404,
			`{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such payment_link: 'plink_gone'"}}`,
			wantClass{permanent: "stripe_resource_missing"}},
		{"rate limited", "plink_busy", 429, `{"error":{"type":"rate_limit_error","message":"Too many requests"}}`,
			wantClass{retryAfter: DefaultRetryAfter}},
		{"stripe down", "plink_later", 503, `{"error":{"type":"api_error","message":"try again"}}`, wantClass{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, seen := rawServer(t, tt.status, nil, tt.body)
			l := newLinker(t, Config{SecretKey: stripetest.TestKey, APIBase: srv.URL, Timeout: 5 * time.Second})
			err := l.DeactivatePaymentLink(context.Background(), tt.id)
			assertClass(t, err, tt.want)
			if r := <-seen; !strings.Contains(r.URL.Path, tt.id) {
				t.Errorf("request path %s does not name %s", r.URL.Path, tt.id)
			}
		})
	}
}
