package razorpay

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/providers/razorpay/razorpaytest"
)

// setup starts a fake Razorpay and returns it with a Config that sends to
// it.
func setup(t testing.TB) (*razorpaytest.Server, Config) {
	t.Helper()
	srv := razorpaytest.Start(t)
	return srv, Config{
		KeyID: razorpaytest.KeyID, KeySecret: razorpaytest.KeySecret,
		BaseURL: srv.URL(), Timeout: 5 * time.Second,
	}
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
		Amount: 113050, Currency: "INR",
		CustomerName: "Ana Popescu", CustomerEmail: "ana@example.com",
		Description:    "Invoice INV-1001",
		IdempotencyKey: "invoiced-ten_1-inv_1001-1130.50",
		SuccessURL:     "https://invoiced.example/i/tok_abc",
	}
}

func TestCreatePaymentLink(t *testing.T) {
	t.Parallel()
	srv, cfg := setup(t)
	now := time.Now()
	l := newLinker(t, cfg)
	l.nowFunc = func() time.Time { return now }
	r := newRequest()
	r.ExpiresAt = now.Add(30 * 24 * time.Hour)

	link, err := l.CreatePaymentLink(context.Background(), r)
	if err != nil {
		t.Fatalf("CreatePaymentLink: %v", err)
	}
	links := srv.Links()
	if len(links) != 1 {
		t.Fatalf("the fake has %d links, want 1", len(links))
	}
	got := links[0]
	if link.ID != got.ID || link.URL != got.ShortURL || !strings.HasPrefix(link.URL, "https://rzp.io/i/") {
		t.Errorf("link %+v, want the fake's %s %s", link, got.ID, got.ShortURL)
	}
	if link.ExpiresAt == nil || !link.ExpiresAt.Equal(r.ExpiresAt.Truncate(time.Second)) {
		t.Errorf("ExpiresAt = %v, want %v", link.ExpiresAt, r.ExpiresAt.Truncate(time.Second))
	}

	var body map[string]any
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"amount":          float64(113050),
		"currency":        "INR",
		"accept_partial":  false,
		"description":     "Invoice INV-1001",
		"customer":        map[string]any{"name": "Ana Popescu", "email": "ana@example.com"},
		"notify":          map[string]any{"sms": false, "email": false},
		"reminder_enable": false,
		"reference_id":    ReferenceID(r),
		"expire_by":       float64(r.ExpiresAt.Unix()),
		"callback_url":    "https://invoiced.example/i/tok_abc",
		"callback_method": "get",
		"notes":           map[string]any{"tenant_id": "ten_1", "invoice_id": "inv_1001", "invoice_number": "INV-1001"},
	}
	wantJSON, _ := json.Marshal(want)
	gotJSON, _ := json.Marshal(body)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("request body\n %s\nwant\n %s", gotJSON, wantJSON)
	}
}

func TestCreatePaymentLinkOptionalFields(t *testing.T) {
	t.Parallel()
	srv, cfg := setup(t)
	r := newRequest()
	r.CustomerName, r.CustomerEmail, r.SuccessURL, r.Description = "", "", "", ""
	if _, err := newLinker(t, cfg).CreatePaymentLink(context.Background(), r); err != nil {
		t.Fatalf("CreatePaymentLink: %v", err)
	}
	var body map[string]any
	_ = json.Unmarshal(srv.Links()[0].Body, &body)
	for _, field := range []string{"customer", "callback_url", "callback_method"} {
		if v, ok := body[field]; ok {
			t.Errorf("body has %s = %v, want it left out", field, v)
		}
	}
	if body["description"] != "Invoice INV-1001" {
		t.Errorf("description = %v, want the invoice number", body["description"])
	}
}

func TestExpiryIsClamped(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 8, 31, 10, 0, 0, 500, time.UTC)
	tests := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"zero asks for the longest", time.Time{}, now.Add(MaxExpiry)},
		{"a year is cut to 180 days", now.AddDate(1, 0, 0), now.Add(MaxExpiry)},
		{"six calendar months and a day is cut", now.AddDate(0, 6, 1), now.Add(MaxExpiry)},
		{"30 days is kept", now.Add(30 * 24 * time.Hour), now.Add(30 * 24 * time.Hour)},
		{"one minute is raised", now.Add(time.Minute), now.Add(MinExpiry + time.Second)},
		{"the past is raised", now.Add(-time.Hour), now.Add(MinExpiry + time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, cfg := setup(t)
			srv.SetNow(func() time.Time { return now })
			l := newLinker(t, cfg)
			l.nowFunc = func() time.Time { return now }
			r := newRequest()
			r.ExpiresAt = tt.at
			link, err := l.CreatePaymentLink(context.Background(), r)
			if err != nil {
				t.Fatalf("CreatePaymentLink: %v", err)
			}
			want := tt.want.Truncate(time.Second)
			if got := srv.Links()[0].ExpireBy; got != want.Unix() {
				t.Errorf("expire_by = %s, want %s", time.Unix(got, 0).UTC(), want)
			}
			if link.ExpiresAt == nil || !link.ExpiresAt.Equal(want) {
				t.Errorf("ExpiresAt = %v, want %v", link.ExpiresAt, want)
			}
			if d := want.Sub(now); d < 15*time.Minute || d > 181*24*time.Hour {
				t.Errorf("expiry %s from now is outside Razorpay's window", d)
			}
		})
	}
}

func TestDuplicateReferenceReturnsTheFirstLink(t *testing.T) {
	t.Parallel()
	srv, cfg := setup(t)
	l := newLinker(t, cfg)
	first, err := l.CreatePaymentLink(context.Background(), newRequest())
	if err != nil {
		t.Fatalf("first CreatePaymentLink: %v", err)
	}
	// The same request again, as after a lost answer; and from another
	// Linker, as from another worker.
	for _, l := range []*Linker{l, newLinker(t, cfg)} {
		again, err := l.CreatePaymentLink(context.Background(), newRequest())
		if err != nil {
			t.Fatalf("repeated CreatePaymentLink: %v", err)
		}
		if again.ID != first.ID || again.URL != first.URL || !again.ExpiresAt.Equal(*first.ExpiresAt) {
			t.Errorf("repeat = %+v, want the first link %+v", again, first)
		}
	}
	if n := len(srv.Links()); n != 1 {
		t.Errorf("the fake has %d links, want 1", n)
	}
	if n := srv.Requests(); n != 5 {
		t.Errorf("the fake got %d requests, want 5 (create, then create and fetch twice)", n)
	}

	// Another idempotency key (the worker's changes with the amount due)
	// is another link.
	r := newRequest()
	r.Amount, r.IdempotencyKey = 50000, "invoiced-ten_1-inv_1001-500.00"
	other, err := l.CreatePaymentLink(context.Background(), r)
	if err != nil || other.ID == first.ID {
		t.Errorf("CreatePaymentLink with a new key = %+v, %v; want a new link", other, err)
	}
}

func TestDuplicateReferenceThatCannotBeReused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prep   func(*razorpaytest.Server, *providers.PaymentLink)
		edit   func(*providers.PaymentRequest)
		want   string
		reused bool
	}{
		{name: "expired", prep: func(s *razorpaytest.Server, l *providers.PaymentLink) { s.SetStatus(l.ID, "expired") }, want: "razorpay_link_expired"},
		{name: "cancelled", prep: func(s *razorpaytest.Server, l *providers.PaymentLink) { s.SetStatus(l.ID, "cancelled") }, want: "razorpay_link_cancelled"},
		{name: "same key, other amount", edit: func(r *providers.PaymentRequest) { r.Amount = 1000 }, want: "razorpay_reference_conflict"},
		{name: "paid is returned", prep: func(s *razorpaytest.Server, l *providers.PaymentLink) { s.SetStatus(l.ID, "paid") }, reused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, cfg := setup(t)
			l := newLinker(t, cfg)
			first, err := l.CreatePaymentLink(context.Background(), newRequest())
			if err != nil {
				t.Fatal(err)
			}
			if tt.prep != nil {
				tt.prep(srv, first)
			}
			r := newRequest()
			if tt.edit != nil {
				tt.edit(r)
			}
			again, err := l.CreatePaymentLink(context.Background(), r)
			if tt.reused {
				if err != nil || again.ID != first.ID {
					t.Errorf("CreatePaymentLink = %+v, %v; want the first link", again, err)
				}
				return
			}
			assertClass(t, err, wantClass{permanent: tt.want})
		})
	}
}

func TestReferenceID(t *testing.T) {
	t.Parallel()
	base := newRequest()
	ref := ReferenceID(base)
	if !strings.HasPrefix(ref, "inv_1001-") || len(ref) != len("inv_1001-")+16 {
		t.Errorf("ReferenceID = %q, want inv_1001-<16 hex>", ref)
	}
	if ReferenceID(newRequest()) != ref {
		t.Error("ReferenceID differs for the same request")
	}
	for name, edit := range map[string]func(*providers.PaymentRequest){
		"tenant":          func(r *providers.PaymentRequest) { r.TenantID = "ten_2" },
		"idempotency key": func(r *providers.PaymentRequest) { r.IdempotencyKey += "x" },
		"no key, amount":  func(r *providers.PaymentRequest) { r.IdempotencyKey, r.Amount = "", 1 },
	} {
		r := newRequest()
		edit(r)
		if ReferenceID(r) == ref {
			t.Errorf("another %s gives the same reference %q", name, ref)
		}
	}
	long := newRequest()
	long.InvoiceID = "inv/2026 11/ünïcode-and-a-very-long-invoice-identifier"
	got := ReferenceID(long)
	if len(got) > MaxReferenceID || !strings.HasPrefix(got, "inv_2026_11_") || strings.ContainsAny(got, "/ ü") {
		t.Errorf("ReferenceID for a long, odd invoice id = %q (%d chars)", got, len(got))
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	const secret = "verySecretValue123"
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"minimal", Config{KeyID: "rzp_live_abc", KeySecret: secret}, ""},
		{"no key id", Config{KeySecret: secret}, "KeyID is required"},
		{"not a key id", Config{KeyID: "key_abc", KeySecret: secret}, "KeyID"},
		{"key id with a colon", Config{KeyID: "rzp_test_a:b", KeySecret: secret}, "KeyID"},
		{"no secret", Config{KeyID: "rzp_test_abc"}, "KeySecret is required"},
		{"secret with a space", Config{KeyID: "rzp_test_abc", KeySecret: secret + " x"}, "KeySecret"},
		{"relative BaseURL", Config{KeyID: "rzp_test_abc", KeySecret: secret, BaseURL: "api.razorpay.com"}, "BaseURL"},
		{"BaseURL with credentials", Config{KeyID: "rzp_test_abc", KeySecret: secret, BaseURL: "https://u:p@api.razorpay.com"}, "BaseURL"},
		{"negative timeout", Config{KeyID: "rzp_test_abc", KeySecret: secret, Timeout: -1}, "Timeout"},
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
				assertNoSecret(t, err, secret)
				return
			}
			if l.cfg.Timeout != DefaultTimeout || l.base.String() != DefaultBaseURL {
				t.Errorf("defaults: Timeout %s, base %s", l.cfg.Timeout, l.base)
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

func assertNoSecret(t *testing.T, err error, secret string) {
	t.Helper()
	if err != nil && secret != "" && strings.Contains(err.Error(), secret) {
		t.Errorf("error %q contains the key secret", err)
	}
}

func TestCreatePaymentLinkClassifiesRazorpayErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		code, desc string
		want       wantClass
	}{
		{"bad request", 400, "BAD_REQUEST_ERROR", "The amount must be atleast INR 1.00", wantClass{permanent: "razorpay_http_400"}},
		{"rate limited", 429, "BAD_REQUEST_ERROR", "Too many requests", wantClass{retryAfter: DefaultRetryAfter}},
		{"server error", 500, "SERVER_ERROR", "We are facing some trouble completing your request at the moment. Please try again shortly.", wantClass{}},
		{"gateway error", 502, "GATEWAY_ERROR", "Gateway error", wantClass{}},
		{"unavailable", 503, "SERVER_ERROR", "Service unavailable", wantClass{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, cfg := setup(t)
			srv.FailNext(1, tt.status, tt.code, tt.desc)
			_, err := newLinker(t, cfg).CreatePaymentLink(context.Background(), newRequest())
			assertClass(t, err, tt.want)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tt.status || apiErr.Code != tt.code || apiErr.Description != tt.desc {
				t.Errorf("error %q does not wrap Razorpay's error %d %s", err, tt.status, tt.code)
			}
			if !strings.Contains(err.Error(), tt.desc) {
				t.Errorf("error %q lacks Razorpay's description", err)
			}
			if n := srv.Requests(); n != 1 {
				t.Errorf("the fake got %d requests, want 1", n)
			}
		})
	}
}

func TestCreatePaymentLinkWrongSecret(t *testing.T) {
	t.Parallel()
	srv, cfg := setup(t)
	cfg.KeySecret = "wrongSecretButWellFormed"
	_, err := newLinker(t, cfg).CreatePaymentLink(context.Background(), newRequest())
	assertClass(t, err, wantClass{permanent: "razorpay_http_401"})
	assertNoSecret(t, err, cfg.KeySecret)
	if !strings.Contains(err.Error(), "api key provided is invalid") {
		t.Errorf("error %q lacks Razorpay's description", err)
	}
	if len(srv.Links()) != 0 {
		t.Error("the fake created a link with a wrong secret")
	}
}

func TestCreatePaymentLinkRefusesBadRequests(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string]func(*providers.PaymentRequest){
		"no tenant":        func(r *providers.PaymentRequest) { r.TenantID = "" },
		"no invoice":       func(r *providers.PaymentRequest) { r.InvoiceID = "" },
		"no number":        func(r *providers.PaymentRequest) { r.Number = "" },
		"zero amount":      func(r *providers.PaymentRequest) { r.Amount = 0 },
		"lower currency":   func(r *providers.PaymentRequest) { r.Currency = "inr" },
		"unknown currency": func(r *providers.PaymentRequest) { r.Currency = "ABC" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, cfg := setup(t)
			r := newRequest()
			edit(r)
			_, err := newLinker(t, cfg).CreatePaymentLink(context.Background(), r)
			assertClass(t, err, wantClass{permanent: "invalid_request"})
			if srv.Requests() != 0 {
				t.Error("a refused request went to Razorpay")
			}
		})
	}
}

// rawServer answers every request with status, header and body.
func rawServer(t *testing.T, status int, header http.Header, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCreatePaymentLinkClassifiesOtherAnswers(t *testing.T) {
	t.Parallel()
	later := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name     string
		status   int
		header   http.Header
		body     string
		want     wantClass
		wantText string
	}{
		{"HTML 502 from a proxy", 502, nil, "<html>Bad Gateway</html>", wantClass{}, "HTTP 502: <html>Bad Gateway</html>"},
		{"HTML 404", 404, nil, "<html>Not Found</html>", wantClass{permanent: "razorpay_http_404"}, "HTTP 404"},
		{"429 with Retry-After seconds", 429, http.Header{"Retry-After": {"7"}}, "", wantClass{retryAfter: 7 * time.Second}, "HTTP 429"},
		{"429 with an HTTP-date Retry-After", 429, http.Header{"Retry-After": {later.Format(http.TimeFormat)}}, "", wantClass{retryAfter: 90 * time.Second}, "HTTP 429"},
		{"huge Retry-After", 429, http.Header{"Retry-After": {"999999999999"}}, "", wantClass{retryAfter: MaxRetryAfter}, "HTTP 429"},
		{"408", 408, nil, "", wantClass{}, "HTTP 408"},
		{"200 without an id", 200, nil, `{"status":"created"}`, wantClass{}, "no id or short_url"},
		{"200 that is not JSON", 200, nil, `<html>`, wantClass{}, "not the expected JSON"},
		{"redirect", 302, http.Header{"Location": {"https://example.com/"}}, "", wantClass{}, "HTTP 302"},
		{"error echoing the secret", 400, nil, `{"error":{"code":"BAD_REQUEST_ERROR","description":"bad key ` + razorpaytest.KeySecret + `"}}`,
			wantClass{permanent: "razorpay_http_400"}, "bad key [redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, cfg := setup(t)
			cfg.BaseURL = rawServer(t, tt.status, tt.header, tt.body).URL
			l := newLinker(t, cfg)
			l.nowFunc = func() time.Time { return later.Add(-90 * time.Second) }
			_, err := l.CreatePaymentLink(context.Background(), newRequest())
			assertClass(t, err, tt.want)
			if err != nil && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q, want it to mention %q", err, tt.wantText)
			}
			assertNoSecret(t, err, cfg.KeySecret)
		})
	}
}

func TestBaseURLWithPath(t *testing.T) {
	t.Parallel()
	seen := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.URL.Path
		_, _ = w.Write([]byte(`{"id":"plink_1","short_url":"https://rzp.io/i/x","status":"created"}`))
	}))
	t.Cleanup(srv.Close)
	_, cfg := setup(t)
	cfg.BaseURL = srv.URL + "/razorpay/"
	if _, err := newLinker(t, cfg).CreatePaymentLink(context.Background(), newRequest()); err != nil {
		t.Fatal(err)
	}
	if got := <-seen; got != "/razorpay/v1/payment_links" {
		t.Errorf("path %q, want /razorpay/v1/payment_links", got)
	}
}

func TestCreatePaymentLinkConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, cfg := setup(t)
	cfg.BaseURL = "http://" + addr
	_, err = newLinker(t, cfg).CreatePaymentLink(context.Background(), newRequest())
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
	_, cfg := setup(t)
	cfg.BaseURL = hangingServer(t).URL
	cfg.Timeout = 100 * time.Millisecond
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
	_, cfg := setup(t)
	cfg.BaseURL = hangingServer(t).URL
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
	srv, cfg := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newLinker(t, cfg).CreatePaymentLink(ctx, newRequest())
	assertClass(t, err, wantClass{})
	if !errors.Is(err, context.Canceled) || srv.Requests() != 0 {
		t.Errorf("error %q, %d requests; want context.Canceled and none", err, srv.Requests())
	}
}

func TestDeactivatePaymentLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// before is the link's status when it is deactivated.
		before    string
		wantCode  string // the permanent error's code, or none
		wantAfter string
	}{
		{"open link is cancelled", "created", "", "cancelled"},
		{"partly paid link is cancelled", "partially_paid", "", "cancelled"},
		{"already cancelled", "cancelled", "", "cancelled"},
		{"expired", "expired", "", "expired"},
		{"paid meanwhile", "paid", "razorpay_link_paid", "paid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, cfg := setup(t)
			l := newLinker(t, cfg)
			link, err := l.CreatePaymentLink(context.Background(), newRequest())
			if err != nil {
				t.Fatal(err)
			}
			if !srv.SetStatus(link.ID, tt.before) {
				t.Fatalf("link %s not on the server", link.ID)
			}
			err = l.DeactivatePaymentLink(context.Background(), link.ID)
			var perm *providers.PermanentError
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("DeactivatePaymentLink: %v", err)
			case tt.wantCode != "" && (!errors.As(err, &perm) || perm.Code != tt.wantCode):
				t.Fatalf("DeactivatePaymentLink = %v, want permanent %s", err, tt.wantCode)
			}
			if got := srv.Links()[0].Status; got != tt.wantAfter {
				t.Fatalf("link is %s afterwards, want %s", got, tt.wantAfter)
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		srv, cfg := setup(t)
		l := newLinker(t, cfg)
		err := l.DeactivatePaymentLink(context.Background(), "plink_missing")
		var perm *providers.PermanentError
		if !errors.As(err, &perm) || perm.Code != "razorpay_http_400" {
			t.Fatalf("unknown link: %v, want permanent razorpay_http_400", err)
		}
		if err := l.DeactivatePaymentLink(context.Background(), "../v1/payments"); !errors.As(err, &perm) || perm.Code != "invalid_request" {
			t.Fatalf("path in the id: %v, want permanent invalid_request", err)
		}
		srv.FailNext(1, http.StatusServiceUnavailable, "SERVER_ERROR", "try later")
		err = l.DeactivatePaymentLink(context.Background(), "plink_any")
		if err == nil || providers.IsPermanent(err) {
			t.Fatalf("a 503: %v, want a transient error", err)
		}
	})
}
