package ses

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/invoiced/invoiced/providers"
)

// These tests run the real SDK client against an httptest server answering
// as SES's REST-JSON API does, so what they check holds for the bytes on
// the wire: the request the SDK builds, how it decodes SES's errors, that
// it does not retry, and that Timeout bounds a call.

// answer is one canned SES response.
type answer struct {
	status    int
	errorType string // X-Amzn-ErrorType, as SES sends it
	body      string
	delay     time.Duration
}

type request struct {
	method, path, auth string
	body               []byte
}

// sesServer answers every request with the answer for its path (or 200 {}).
type sesServer struct {
	*httptest.Server
	answers map[string]answer

	mu       sync.Mutex
	requests []request
}

func startSES(t *testing.T, answers map[string]answer) *sesServer {
	t.Helper()
	s := &sesServer{answers: answers}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, request{r.Method, r.URL.EscapedPath(), r.Header.Get("Authorization"), body})
		s.mu.Unlock()
		a, ok := s.answers[r.URL.EscapedPath()]
		if !ok {
			a = answer{status: 200, body: "{}"}
		}
		if a.delay > 0 {
			select {
			case <-time.After(a.delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-RequestId", "2c1e8f3a-0000-4000-8000-000000000001")
		if a.errorType != "" {
			w.Header().Set("X-Amzn-ErrorType", a.errorType+":http://internal.amazon.com/coral/com.amazonaws.sesv2/")
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sesServer) calls() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func newWireSender(t *testing.T, srv *sesServer, cfg Config) *Sender {
	t.Helper()
	cfg.Region, cfg.AccessKeyID, cfg.SecretAccessKey, cfg.Endpoint = "eu-west-1", "AKIDEXAMPLE", "secret", srv.URL
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

const sendPath = "/v2/email/outbound-emails"

func TestWireSendEmail(t *testing.T) {
	t.Parallel()
	srv := startSES(t, map[string]answer{
		sendPath: {status: 200, body: `{"MessageId":"0102019a-example-000000"}`},
	})
	s := newWireSender(t, srv, Config{ConfigurationSet: "invoiced-events"})
	e := newEmail()

	id, err := s.SendEmail(context.Background(), e)
	if err != nil {
		t.Fatalf("SendEmail: %v", err)
	}
	if id != "0102019a-example-000000" {
		t.Errorf("provider ID = %q", id)
	}
	calls := srv.calls()
	if len(calls) != 1 || calls[0].method != http.MethodPost || calls[0].path != sendPath {
		t.Fatalf("requests = %+v, want one POST %s", calls, sendPath)
	}
	if !strings.HasPrefix(calls[0].auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") ||
		!strings.Contains(calls[0].auth, "/eu-west-1/ses/aws4_request") {
		t.Errorf("Authorization = %q, want SigV4 for ses in eu-west-1", calls[0].auth)
	}

	var body struct {
		Content struct {
			Raw struct{ Data []byte } // base64 in JSON
		}
		Destination struct {
			ToAddresses, CcAddresses, BccAddresses []string
		}
		FromEmailAddress     string
		ConfigurationSetName string
	}
	if err := json.Unmarshal(calls[0].body, &body); err != nil {
		t.Fatalf("request body: %v\n%s", err, calls[0].body)
	}
	d := body.Destination
	if !slices.Equal(d.ToAddresses, []string{"ann@customer.test"}) ||
		!slices.Equal(d.CcAddresses, []string{"ap@customer.test"}) ||
		!slices.Equal(d.BccAddresses, []string{"archive@acme.test"}) {
		t.Errorf("Destination = %+v", d)
	}
	if body.FromEmailAddress != "billing@acme.test" || body.ConfigurationSetName != "invoiced-events" {
		t.Errorf("FromEmailAddress %q, ConfigurationSetName %q", body.FromEmailAddress, body.ConfigurationSetName)
	}
	checkRaw(t, body.Content.Raw.Data, e)
}

func TestWireSendEmailErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer answer
		class  errorClass
		code   string
	}{
		{
			name:   "message rejected",
			answer: answer{status: 400, errorType: "MessageRejected", body: `{"message":"Email address is not verified. The following identities failed the check in region EU-WEST-1: billing@acme.test"}`},
			class:  permanent, code: "MessageRejected",
		},
		{
			name:   "configuration set missing",
			answer: answer{status: 404, errorType: "NotFoundException", body: `{"message":"Configuration set <invoiced-events> does not exist."}`},
			class:  permanent, code: "NotFoundException",
		},
		{
			name:   "code in the body only",
			answer: answer{status: 400, body: `{"__type":"com.amazonaws.sesv2#SendingPausedException","message":"Sending paused for this account."}`},
			class:  permanent, code: "SendingPausedException",
		},
		{
			name:   "rate exceeded",
			answer: answer{status: 429, errorType: "TooManyRequestsException", body: `{"message":"Maximum sending rate exceeded."}`},
			class:  throttled, code: "TooManyRequestsException",
		},
		{
			name:   "daily quota",
			answer: answer{status: 400, errorType: "LimitExceededException", body: `{"message":"Daily message quota exceeded."}`},
			class:  throttled, code: "LimitExceededException",
		},
		{
			name:   "internal failure",
			answer: answer{status: 500, errorType: "InternalFailure", body: `{"message":"An internal error occurred."}`},
			class:  transient, code: "InternalFailure",
		},
		{
			name:   "gateway without a body",
			answer: answer{status: 502},
			class:  transient,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startSES(t, map[string]answer{sendPath: tt.answer})
			s := newWireSender(t, srv, Config{})

			_, err := s.SendEmail(context.Background(), newEmail())
			if err == nil {
				t.Fatal("SendEmail succeeded")
			}
			if got := classOf(err); got != tt.class {
				t.Errorf("class = %s, want %s: %v", got, tt.class, err)
			}
			if tt.code != "" {
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.code || !strings.Contains(err.Error(), tt.code) {
					t.Errorf("error %q does not carry code %s", err, tt.code)
				}
			}
			// The SDK retries 429 and 5xx by itself unless told not to.
			if n := len(srv.calls()); n != 1 {
				t.Errorf("%d requests for one SendEmail, want 1 (SDK retries off)", n)
			}
		})
	}
}

func TestWireTimeout(t *testing.T) {
	t.Parallel()
	srv := startSES(t, map[string]answer{
		sendPath: {status: 200, body: `{"MessageId":"late"}`, delay: 5 * time.Second},
	})
	s := newWireSender(t, srv, Config{Timeout: 200 * time.Millisecond})

	start := time.Now()
	_, err := s.SendEmail(context.Background(), newEmail())
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("SendEmail succeeded past its timeout")
	}
	if got := classOf(err); got != transient {
		t.Errorf("class = %s, want transient: %v", got, err)
	}
	if elapsed > 2*time.Second {
		t.Errorf("SendEmail returned after %s; Timeout is 200ms", elapsed)
	}
	if n := len(srv.calls()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestWireCanceledContext(t *testing.T) {
	t.Parallel()
	srv := startSES(t, map[string]answer{
		sendPath: {status: 200, body: `{"MessageId":"late"}`, delay: 5 * time.Second},
	})
	s := newWireSender(t, srv, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	_, err := s.SendEmail(ctx, newEmail())
	if !errors.Is(err, context.DeadlineExceeded) || classOf(err) != transient {
		t.Fatalf("SendEmail: %v, want a transient error wrapping context.DeadlineExceeded", err)
	}
}

func TestWireIdentityVerified(t *testing.T) {
	t.Parallel()
	srv := startSES(t, map[string]answer{
		"/v2/email/identities/billing%40acme.test": {
			status: 404, errorType: "NotFoundException", body: `{"message":"Email identity billing@acme.test does not exist."}`,
		},
		"/v2/email/identities/acme.test": {
			status: 200, body: `{"IdentityType":"DOMAIN","VerifiedForSendingStatus":true,"VerificationStatus":"SUCCESS"}`,
		},
		"/v2/email/identities/acme.test%40acme.test": {status: 403, errorType: "AccessDeniedException", body: `{"message":"denied"}`},
	})
	s := newWireSender(t, srv, Config{})

	ok, err := s.IdentityVerified(context.Background(), "billing@acme.test")
	if err != nil || !ok {
		t.Fatalf("IdentityVerified = %v, %v; want verified through the domain", ok, err)
	}
	var paths []string
	for _, c := range srv.calls() {
		paths = append(paths, c.method+" "+c.path)
	}
	want := []string{"GET /v2/email/identities/billing%40acme.test", "GET /v2/email/identities/acme.test"}
	if !slices.Equal(paths, want) {
		t.Errorf("requests %q, want %q", paths, want)
	}

	_, err = s.IdentityVerified(context.Background(), "acme.test@acme.test")
	var perr *providers.PermanentError
	if !errors.As(err, &perr) || perr.Code != "AccessDeniedException" {
		t.Errorf("IdentityVerified with access denied: %v, want permanent AccessDeniedException", err)
	}
}
