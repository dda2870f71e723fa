package twilio

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/providers/twilio/twiliotest"
)

const (
	serviceSID  = "MG0123456789abcdef0123456789abcdef"
	callbackURL = "https://invoiced.example/callbacks/twilio"
)

// setup starts a fake Twilio and returns it with a Config that sends to it
// from a number.
func setup(t testing.TB) (*twiliotest.Server, Config) {
	t.Helper()
	srv := twiliotest.Start(t)
	return srv, Config{
		AccountSID:     twiliotest.AccountSID,
		AuthToken:      twiliotest.AuthToken,
		From:           "+15005550006",
		StatusCallback: callbackURL,
		BaseURL:        srv.URL(),
		Timeout:        5 * time.Second,
	}
}

func newSender(t testing.TB, cfg Config) *Sender {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func newSMS() *providers.SMS {
	return &providers.SMS{ID: "dlv_1", To: "+40712345678", Body: "Invoice INV-1001 for 1130.50 EUR: https://invoiced.example/i/abc"}
}

func TestSendSMS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		edit        func(*Config, *providers.SMS)
		wantFrom    string
		wantService string
		wantStatus  string // what Twilio answered
		noCallback  bool
	}{
		{
			name:     "from number",
			wantFrom: "+15005550006",
		},
		{
			name:     "alphanumeric sender ID",
			edit:     func(c *Config, _ *providers.SMS) { c.From = "ACME SRL" },
			wantFrom: "ACME SRL",
		},
		{
			name:        "messaging service",
			edit:        func(c *Config, _ *providers.SMS) { c.From, c.MessagingServiceSID = "", serviceSID },
			wantService: serviceSID,
		},
		{
			name:     "message From overrides the config",
			edit:     func(_ *Config, m *providers.SMS) { m.From = "+15005550009" },
			wantFrom: "+15005550009",
		},
		{
			name: "message From with a messaging service",
			edit: func(c *Config, m *providers.SMS) {
				c.From, c.MessagingServiceSID, m.From = "", serviceSID, "+15005550009"
			},
			wantFrom:    "+15005550009",
			wantService: serviceSID,
		},
		{
			name:       "no status callback",
			edit:       func(c *Config, _ *providers.SMS) { c.StatusCallback = "" },
			wantFrom:   "+15005550006",
			noCallback: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, cfg := setup(t)
			m := newSMS()
			if tt.edit != nil {
				tt.edit(&cfg, m)
			}
			id, err := newSender(t, cfg).SendSMS(context.Background(), m)
			if err != nil {
				t.Fatalf("SendSMS: %v", err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("the fake got %d messages, want 1", len(msgs))
			}
			got := msgs[0]
			if id != got.SID || !strings.HasPrefix(id, "SM") {
				t.Errorf("SendSMS = %q, want the fake's SID %q", id, got.SID)
			}
			if got.To != m.To || got.Body != m.Body {
				t.Errorf("To, Body = %q, %q; want %q, %q", got.To, got.Body, m.To, m.Body)
			}
			if got.From != tt.wantFrom || got.MessagingServiceSID != tt.wantService {
				t.Errorf("From, MessagingServiceSid = %q, %q; want %q, %q",
					got.From, got.MessagingServiceSID, tt.wantFrom, tt.wantService)
			}
			_, hasFrom := got.Form["From"]
			_, hasService := got.Form["MessagingServiceSid"]
			if hasFrom != (tt.wantFrom != "") || hasService != (tt.wantService != "") {
				t.Errorf("form %v: From sent %t, MessagingServiceSid sent %t", got.Form, hasFrom, hasService)
			}
			_, hasCallback := got.Form["StatusCallback"]
			switch {
			case tt.noCallback && hasCallback:
				t.Errorf("StatusCallback = %q, want none", got.StatusCallback)
			case !tt.noCallback && got.StatusCallback != callbackURL:
				t.Errorf("StatusCallback = %q, want %q", got.StatusCallback, callbackURL)
			}
			if !strings.HasPrefix(got.UserAgent, "twilio-go/") {
				t.Errorf("User-Agent = %q, want twilio-go's", got.UserAgent)
			}
		})
	}
}

// assertNoToken fails t when err's text includes the auth token.
func assertNoToken(t *testing.T, err error, token string) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), token) {
		t.Errorf("error %q contains the auth token", err)
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
		t.Fatal("SendSMS succeeded, want an error")
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

func TestSendSMSClassifiesTwilioErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		code       int
		message    string
		retryAfter string
		want       wantClass
	}{
		{"invalid To", 400, 21211, "The 'To' number +4071234 is not a valid phone number.", "", wantClass{permanent: "twilio_21211"}},
		{"unsubscribed recipient", 400, 21610, "Attempt to send to unsubscribed recipient", "", wantClass{permanent: "twilio_21610"}},
		{"not a mobile number", 400, 21614, "'To' number is not a valid mobile number", "", wantClass{permanent: "twilio_21614"}},
		{"region not enabled", 400, 21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +40712345678.", "", wantClass{permanent: "twilio_21408"}},
		{"invalid From", 400, 21606, "The From phone number +15005550006 is not a valid, SMS-capable inbound phone number or short code for your account.", "", wantClass{permanent: "twilio_21606"}},
		{"From not usable", 400, 21659, "Source number +15005550006 is not a Twilio phone number or verified caller ID", "", wantClass{permanent: "twilio_21659"}},
		{"too many requests", 429, 20429, "Too Many Requests", "", wantClass{retryAfter: DefaultRetryAfter}},
		{"too many requests with Retry-After", 429, 20429, "Too Many Requests", "3", wantClass{retryAfter: 3 * time.Second}},
		{"huge Retry-After", 429, 20429, "Too Many Requests", "999999999999", wantClass{retryAfter: MaxRetryAfter}},
		{"bad Retry-After", 429, 20429, "Too Many Requests", "soon", wantClass{retryAfter: DefaultRetryAfter}},
		{"429 without a code", 429, 0, "Too Many Requests", "", wantClass{retryAfter: DefaultRetryAfter}},
		{"internal error", 500, 20500, "Internal Server Error", "", wantClass{}},
		{"unavailable", 503, 20503, "Service Unavailable", "", wantClass{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, cfg := setup(t)
			srv.FailNext(1, tt.status, tt.code, tt.message)
			srv.SetRetryAfter(tt.retryAfter)
			_, err := newSender(t, cfg).SendSMS(context.Background(), newSMS())
			assertClass(t, err, tt.want)
			if err == nil {
				return
			}
			var restErr *client.TwilioRestError
			if !errors.As(err, &restErr) || restErr.Code != tt.code || restErr.Status != tt.status {
				t.Errorf("error %q does not wrap Twilio's error %d", err, tt.code)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q lacks Twilio's message %q", err, tt.message)
			}
			assertNoToken(t, err, cfg.AuthToken)
			if srv.Requests() != 1 {
				t.Errorf("the fake got %d requests, want 1", srv.Requests())
			}
		})
	}
}

func TestSendSMSWrongCredentials(t *testing.T) {
	t.Parallel()
	srv, cfg := setup(t)
	cfg.AuthToken = "wrongTokenButWellFormed1234567890"
	_, err := newSender(t, cfg).SendSMS(context.Background(), newSMS())
	assertClass(t, err, wantClass{permanent: "twilio_20003"})
	assertNoToken(t, err, cfg.AuthToken)
	if !strings.Contains(err.Error(), "Authenticate") {
		t.Errorf("error %q lacks Twilio's message", err)
	}
	if len(srv.Messages()) != 0 {
		t.Error("the fake accepted a message with wrong credentials")
	}
}

// TestSendSMSFakeValidation sends what the fake, like Twilio, refuses.
func TestSendSMSFakeValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*providers.SMS)
		want string
	}{
		{"local number", func(m *providers.SMS) { m.To = "0712345678" }, "twilio_21211"},
		{"no To", func(m *providers.SMS) { m.To = "" }, "twilio_21604"},
		{"no body", func(m *providers.SMS) { m.Body = "" }, "twilio_21602"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, cfg := setup(t)
			m := newSMS()
			tt.edit(m)
			_, err := newSender(t, cfg).SendSMS(context.Background(), m)
			assertClass(t, err, wantClass{permanent: tt.want})
		})
	}
}

// rawServer answers every request with status, header and body, and
// records the path and Host it was asked for.
func rawServer(t *testing.T, status int, header http.Header, body string) (*httptest.Server, chan *http.Request) {
	t.Helper()
	seen := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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

func TestSendSMSClassifiesOtherAnswers(t *testing.T) {
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
		{"HTML 502 from a proxy", 502, nil, "<html>Bad Gateway</html>", wantClass{}, "HTTP 502"},
		{"HTML 404", 404, nil, "<html>Not Found</html>", wantClass{permanent: "twilio_http_404"}, "HTTP 404"},
		{"empty 429 with an HTTP-date Retry-After", 429, http.Header{"Retry-After": {later.Format(http.TimeFormat)}}, "",
			wantClass{retryAfter: 90 * time.Second}, "HTTP 429"},
		{"201 without a SID", 201, nil, `{"status":"queued"}`, wantClass{}, "no message SID"},
		{"redirect", 302, http.Header{"Location": {"https://example.com/"}}, "", wantClass{}, "HTTP 302"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := rawServer(t, tt.status, tt.header, tt.body)
			_, cfg := setup(t)
			cfg.BaseURL = srv.URL
			s := newSender(t, cfg)
			s.nowFunc = func() time.Time { return later.Add(-90 * time.Second) }
			_, err := s.SendSMS(context.Background(), newSMS())
			assertClass(t, err, tt.want)
			if err != nil && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q, want it to mention %q", err, tt.wantText)
			}
			assertNoToken(t, err, cfg.AuthToken)
		})
	}
}

func TestBaseURLWithPath(t *testing.T) {
	t.Parallel()
	srv, seen := rawServer(t, 201, nil, `{"sid":"SM00000000000000000000000000000001"}`)
	_, cfg := setup(t)
	cfg.BaseURL = srv.URL + "/twilio/"
	id, err := newSender(t, cfg).SendSMS(context.Background(), newSMS())
	if err != nil || id != "SM00000000000000000000000000000001" {
		t.Fatalf("SendSMS = %q, %v", id, err)
	}
	r := <-seen
	wantPath := "/twilio/2010-04-01/Accounts/" + cfg.AccountSID + "/Messages.json"
	if r.URL.Path != wantPath || r.Host != strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("request went to Host %q path %q, want %q", r.Host, r.URL.Path, wantPath)
	}
}

func TestSendSMSConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	_, cfg := setup(t)
	cfg.BaseURL = "http://" + addr
	_, err = newSender(t, cfg).SendSMS(context.Background(), newSMS())
	assertClass(t, err, wantClass{})
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("error %q, want connection refused", err)
	}
	assertNoToken(t, err, cfg.AuthToken)
}

// hangingServer accepts requests and never answers until the client goes
// away or the test ends.
func hangingServer(t *testing.T) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server notices a closed connection only once the body is read.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	return srv
}

func TestSendSMSTimeout(t *testing.T) {
	t.Parallel()
	_, cfg := setup(t)
	cfg.BaseURL = hangingServer(t).URL
	cfg.Timeout = 100 * time.Millisecond
	start := time.Now()
	_, err := newSender(t, cfg).SendSMS(context.Background(), newSMS())
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("SendSMS took %s with a 100ms timeout", took)
	}
	assertClass(t, err, wantClass{})
	if !strings.Contains(err.Error(), "timed out after 100ms") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q, want it to say it timed out and wrap context.DeadlineExceeded", err)
	}
}

func TestSendSMSCanceled(t *testing.T) {
	t.Parallel()
	_, cfg := setup(t)
	cfg.BaseURL = hangingServer(t).URL
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := newSender(t, cfg).SendSMS(ctx, newSMS())
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("SendSMS took %s after ctx was canceled at 50ms", took)
	}
	assertClass(t, err, wantClass{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %q does not wrap context.Canceled", err)
	}
}

func TestSendSMSCanceledBeforeSending(t *testing.T) {
	t.Parallel()
	srv, cfg := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newSender(t, cfg).SendSMS(ctx, newSMS())
	assertClass(t, err, wantClass{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %q does not wrap context.Canceled", err)
	}
	if srv.Requests() != 0 {
		t.Errorf("the fake got %d requests, want none", srv.Requests())
	}
}

// fakeAPI stands in for twilio-go.
type fakeAPI struct {
	params *openapi.CreateMessageParams
	msg    *openapi.ApiV2010Message
	err    error
}

func (f *fakeAPI) CreateMessage(p *openapi.CreateMessageParams) (*openapi.ApiV2010Message, error) {
	f.params = p
	return f.msg, f.err
}

// TestSendSMSSDKErrors covers errors twilio-go returns without an HTTP
// answer, which carry their own status.
func TestSendSMSSDKErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want wantClass
	}{
		{"refused credentials", &client.TwilioRestError{Status: 400, Code: 21224, Message: "Invalid Password. Illegal chars"}, wantClass{permanent: "twilio_21224"}},
		{"v1 error", &client.RestErrorV1{HttpStatusCode: 400, Code: 21211, Message: "invalid To"}, wantClass{permanent: "twilio_21211"}},
		{"code 20429 alone", &client.TwilioRestError{Status: 400, Code: 20429, Message: "Too Many Requests"}, wantClass{retryAfter: DefaultRetryAfter}},
		{"v1 unavailable", &client.RestErrorV1{HttpStatusCode: 503, Code: 20503}, wantClass{}},
		{"unknown", errors.New("something odd"), wantClass{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, cfg := setup(t)
			cfg.From, cfg.MessagingServiceSID = "", serviceSID
			s := newSender(t, cfg)
			fake := &fakeAPI{err: tt.err}
			s.newAPIFunc = func(*http.Client) messageAPI { return fake }
			_, err := s.SendSMS(context.Background(), newSMS())
			assertClass(t, err, tt.want)
			if !errors.Is(err, tt.err) {
				t.Errorf("error %q does not wrap %q", err, tt.err)
			}
			p := fake.params
			if p == nil || *p.To != "+40712345678" || p.From != nil || *p.MessagingServiceSid != serviceSID || *p.StatusCallback != callbackURL {
				t.Errorf("params = %+v", p)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	const secret = "s3cretT0kenValue"
	valid := func() Config {
		return Config{AccountSID: twiliotest.AccountSID, AuthToken: secret, From: "+40712345678"}
	}
	tests := []struct {
		name     string
		edit     func(*Config)
		wantText string // empty: New succeeds
	}{
		{"valid", func(*Config) {}, ""},
		{"service", func(c *Config) { c.From, c.MessagingServiceSID = "", serviceSID }, ""},
		{"alphanumeric sender", func(c *Config) { c.From = "Acme" }, ""},
		{"base URL with path", func(c *Config) { c.BaseURL = "http://127.0.0.1:8080/twilio" }, ""},
		{"no account", func(c *Config) { c.AccountSID = "" }, "AccountSID is required"},
		{"bad account", func(c *Config) { c.AccountSID = "AC123" }, "AC followed by 32 hex digits"},
		{"no token", func(c *Config) { c.AuthToken = "" }, "AuthToken is required"},
		{"token with symbols", func(c *Config) { c.AuthToken = secret + "-!" }, "only letters and digits"},
		{"neither sender", func(c *Config) { c.From = "" }, "set one of From and MessagingServiceSID"},
		{"both senders", func(c *Config) { c.MessagingServiceSID = serviceSID }, "not both"},
		{"local From", func(c *Config) { c.From = "0712345678" }, "E.164"},
		{"From too long", func(c *Config) { c.From = "+4071234567890123" }, "E.164"},
		{"sender ID too long", func(c *Config) { c.From = "ACME Billing SRL" }, "E.164"},
		{"bad service", func(c *Config) { c.From, c.MessagingServiceSID = "", "MG1" }, "MG followed by 32 hex digits"},
		{"relative callback", func(c *Config) { c.StatusCallback = "/callbacks/twilio" }, "StatusCallback"},
		{"ftp base", func(c *Config) { c.BaseURL = "ftp://example.com" }, "BaseURL"},
		{"base with credentials", func(c *Config) { c.BaseURL = "https://u:p@example.com" }, "credentials"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid()
			tt.edit(&cfg)
			s, err := New(cfg)
			if tt.wantText == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if s.cfg.Timeout != DefaultTimeout {
					t.Errorf("Timeout = %s, want the default %s", s.cfg.Timeout, DefaultTimeout)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("New error = %v, want it to mention %q", err, tt.wantText)
			}
			assertNoToken(t, err, secret)
		})
	}
}

// BenchmarkSendFake sends one SMS after another to the in-process fake.
func BenchmarkSendFake(b *testing.B) {
	_, cfg := setup(b)
	s := newSender(b, cfg)
	m := newSMS()
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.SendSMS(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
}
