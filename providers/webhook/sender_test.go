package webhook

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers"
)

// received is what a test receiver saw of one request.
type received struct {
	header http.Header
	body   []byte
	method string
}

// setup starts a receiver that answers with h and records requests, and a
// Sender whose client may reach it, with its clock fixed at now.
func setup(t *testing.T, timeout time.Duration, now time.Time, h http.HandlerFunc) (*Sender, string, func() []received) {
	t.Helper()
	var (
		mu   sync.Mutex
		reqs []received
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, received{header: r.Header.Clone(), body: b, method: r.Method})
		mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	host := srv.Listener.Addr().(*net.TCPAddr).AddrPort().Addr()
	client := newClient(ClientConfig{
		Timeout:   timeout,
		AllowNets: []netip.Prefix{netip.PrefixFrom(host, host.BitLen())},
	}, loopbackOnly(t))
	s := NewSender(client, "invoiced-webhooks/1.0")
	s.nowFunc = func() time.Time { return now }
	return s, srv.URL, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), reqs...)
	}
}

func TestDeliverSignsTheRequest(t *testing.T) {
	t.Parallel()
	ts := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	s, url, reqs := setup(t, 5*time.Second, ts, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	secret := NewSecret()
	body := []byte(`{"type":"invoice.sent","data":{"id":"inv_1001"}}`)

	res, err := s.Deliver(context.Background(), url+"/hooks?token=abc", secret, "evt_1", ts, body)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if res.StatusCode != http.StatusNoContent || res.Duration <= 0 {
		t.Errorf("Result = %+v, want 204 with a duration", res)
	}
	got := reqs()
	if len(got) != 1 {
		t.Fatalf("receiver saw %d requests, want 1", len(got))
	}
	r := got[0]
	if r.method != http.MethodPost {
		t.Errorf("method = %s, want POST", r.method)
	}
	for k, want := range map[string]string{
		"Content-Type":  "application/json",
		"User-Agent":    "invoiced-webhooks/1.0",
		HeaderID:        "evt_1",
		HeaderTimestamp: strconv.FormatInt(ts.Unix(), 10),
	} {
		if v := r.header.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if string(r.body) != string(body) {
		t.Errorf("body = %s, want %s", r.body, body)
	}
	if err := Verify(secret, r.header, r.body, ts.Add(time.Second), 0); err != nil {
		t.Errorf("receiver's Verify: %v", err)
	}
}

func TestDeliverClassifiesAnswers(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		status        int
		header        map[string]string
		body          string
		wantOK        bool
		wantPermanent bool
		wantGone      bool
		wantRetry     time.Duration // a providers.RetryAfter error with this delay
		wantSnippet   string
		wantInError   string
	}{
		{name: "200", status: 200, body: `{"received":true}`, wantOK: true, wantSnippet: `{"received":true}`},
		{name: "202", status: 202, wantOK: true},
		{name: "500", status: 500, body: "boom", wantSnippet: "boom", wantInError: "500 Internal Server Error"},
		{name: "400", status: 400, wantInError: "400 Bad Request"},
		{name: "404", status: 404, wantInError: "404 Not Found"},
		{name: "410 gone", status: 410, wantPermanent: true, wantGone: true},
		{name: "429 seconds", status: 429, header: map[string]string{"Retry-After": "120"}, wantRetry: 2 * time.Minute},
		{name: "503 seconds", status: 503, header: map[string]string{"Retry-After": " 30 "}, wantRetry: 30 * time.Second},
		{name: "429 date", status: 429, header: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, wantRetry: 90 * time.Second},
		{name: "503 date", status: 503, header: map[string]string{"Retry-After": now.Add(10 * time.Minute).Format(http.TimeFormat)}, wantRetry: 10 * time.Minute},
		{name: "429 capped", status: 429, header: map[string]string{"Retry-After": "86400"}, wantRetry: MaxRetryAfter},
		{name: "503 capped date", status: 503, header: map[string]string{"Retry-After": now.Add(48 * time.Hour).Format(http.TimeFormat)}, wantRetry: MaxRetryAfter},
		{name: "429 without Retry-After", status: 429, wantInError: "429"},
		{name: "503 with a past date", status: 503, header: map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, wantInError: "503"},
		{name: "429 with garbage", status: 429, header: map[string]string{"Retry-After": "soon"}, wantInError: "429"},
		{name: "500 with Retry-After", status: 500, header: map[string]string{"Retry-After": "60"}, wantInError: "500"},
		{name: "302 not followed", status: 302, header: map[string]string{"Location": "http://127.0.0.1:1/next?token=x"}, wantInError: "redirects are not followed"},
		{name: "long answer", status: 500, body: strings.Repeat("é", 1000), wantSnippet: strings.Repeat("é", 512)},
		{name: "long answer cut mid-rune", status: 500, body: "a" + strings.Repeat("é", 1000), wantSnippet: "a" + strings.Repeat("é", 511) + "\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, url, _ := setup(t, 5*time.Second, now, func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			res, err := s.Deliver(context.Background(), url+"/hook?token=s3cr3t", NewSecret(), "evt_1", now, []byte(`{}`))
			if res.StatusCode != tt.status {
				t.Errorf("StatusCode = %d, want %d", res.StatusCode, tt.status)
			}
			if tt.wantSnippet != "" && res.ResponseSnippet != tt.wantSnippet {
				t.Errorf("ResponseSnippet = %q (%d bytes), want %d bytes", res.ResponseSnippet, len(res.ResponseSnippet), len(tt.wantSnippet))
			}
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Deliver: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Deliver succeeded, want an error")
			}
			if got := providers.IsPermanent(err); got != tt.wantPermanent {
				t.Errorf("IsPermanent(%v) = %t, want %t", err, got, tt.wantPermanent)
			}
			if got := errors.Is(err, ErrGone); got != tt.wantGone {
				t.Errorf("errors.Is(%v, ErrGone) = %t, want %t", err, got, tt.wantGone)
			}
			d, ok := providers.RetryDelay(err)
			if ok != (tt.wantRetry > 0) || d != tt.wantRetry {
				t.Errorf("RetryDelay(%v) = %s, %t; want %s", err, d, ok, tt.wantRetry)
			}
			if res.RetryAfter != tt.wantRetry {
				t.Errorf("Result.RetryAfter = %s, want %s", res.RetryAfter, tt.wantRetry)
			}
			if !strings.Contains(err.Error(), tt.wantInError) {
				t.Errorf("error %q does not contain %q", err, tt.wantInError)
			}
			if strings.Contains(err.Error(), "token=") {
				t.Errorf("error %q repeats the URL's query", err)
			}
		})
	}
}

func TestDeliverFailures(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	ok := func(http.ResponseWriter, *http.Request) {}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name          string
		handler       http.HandlerFunc
		ctx           context.Context
		url           func(base string) string
		secret        string
		noEventID     bool
		sender        func(s *Sender) *Sender
		wantPermanent bool
		wantIs        error
		wantTimeout   bool
	}{
		{name: "client timeout", handler: slow, wantTimeout: true},
		{name: "canceled ctx", handler: ok, ctx: canceled, wantIs: context.Canceled},
		{
			name: "forbidden address", handler: ok, wantPermanent: true, wantIs: ErrForbiddenAddress,
			sender: func(*Sender) *Sender {
				return NewSender(newClient(ClientConfig{Timeout: time.Second}, loopbackOnly(t)), "")
			},
		},
		{name: "malformed URL", handler: ok, url: func(string) string { return "ftp://example.com/" }, wantPermanent: true, wantIs: ErrInvalidURL},
		{name: "URL with credentials", handler: ok, url: func(b string) string { return strings.Replace(b, "://", "://u:p@", 1) }, wantPermanent: true, wantIs: ErrInvalidURL},
		{name: "invalid secret", handler: ok, secret: "whsec_c2hvcnQ=", wantPermanent: true, wantIs: ErrInvalidSecret},
		{name: "empty event id", handler: ok, noEventID: true, wantPermanent: true},
		{
			name: "connection refused", handler: ok,
			url: func(b string) string {
				// A port on the receiver's address that nothing listens on.
				host, _, _ := net.SplitHostPort(strings.TrimPrefix(b, "http://"))
				ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
				if err != nil {
					t.Fatal(err)
				}
				_ = ln.Close()
				return "http://" + ln.Addr().String() + "/"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, base, reqs := setup(t, 200*time.Millisecond, now, tt.handler)
			if tt.sender != nil {
				s = tt.sender(s)
			}
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			url := base + "/hook?token=s3cr3t"
			if tt.url != nil {
				url = tt.url(base)
			}
			secret := tt.secret
			if secret == "" {
				secret = NewSecret()
			}
			eventID := "evt_1"
			if tt.noEventID {
				eventID = ""
			}
			_, err := s.Deliver(ctx, url, secret, eventID, now, []byte(`{}`))
			if err == nil {
				t.Fatal("Deliver succeeded, want an error")
			}
			if got := providers.IsPermanent(err); got != tt.wantPermanent {
				t.Errorf("IsPermanent(%v) = %t, want %t", err, got, tt.wantPermanent)
			}
			if _, ok := providers.RetryDelay(err); ok {
				t.Errorf("RetryDelay(%v) found a delay", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Deliver = %v, want %v", err, tt.wantIs)
			}
			var ne net.Error
			if tt.wantTimeout && (!errors.As(err, &ne) || !ne.Timeout()) {
				t.Errorf("Deliver = %v, want a timeout", err)
			}
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), secret[len(SecretPrefix):]) {
				t.Errorf("error %q repeats the URL's query or the secret", err)
			}
			if tt.wantPermanent && !errors.Is(err, ErrForbiddenAddress) && len(reqs()) != 0 {
				t.Errorf("a request was sent for an invalid delivery")
			}
		})
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"1", time.Second},
		{"3600", time.Hour},
		{"3601", time.Hour},
		{"99999999999999999999", 0},
		{"9223372036854775807", time.Hour},
		{now.Add(2 * time.Minute).Format(http.TimeFormat), 2 * time.Minute},
		{"Sat, 21 Nov 2026 09:05:00 GMT", 5 * time.Minute},
		{"Saturday, 21-Nov-26 09:05:00 GMT", 5 * time.Minute},
		{"Sat Nov 21 09:05:00 2026", 5 * time.Minute},
		{now.Add(-time.Second).Format(http.TimeFormat), 0},
		{"1.5", 0},
		{"tomorrow", 0},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			t.Parallel()
			if got := retryDelay(tt.header, now); got != tt.want {
				t.Errorf("retryDelay(%q) = %s, want %s", tt.header, got, tt.want)
			}
		})
	}
}
