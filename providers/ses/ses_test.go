package ses

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	netmail "net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/invoiced/invoiced/providers"
)

func newEmail() *providers.Email {
	return &providers.Email{
		MessageID: "delivery-42@invoiced.test",
		FromEmail: "billing@acme.test",
		FromName:  "Acme Billing",
		ReplyTo:   "accounts@acme.test",
		To:        []string{"Ann Buyer <ann@customer.test>"},
		Cc:        []string{"ap@customer.test"},
		Bcc:       []string{"archive@acme.test"},
		Subject:   "Invoice INV-0042 — €120.00 due",
		Text:      "Your invoice INV-0042 is attached.",
		HTML:      "<p>Your invoice <b>INV-0042</b> is attached.</p>",
		Attachments: []providers.Attachment{{
			Filename: "INV-0042.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.7\n\x00\x01binary\xff"),
		}},
		Headers: map[string]string{"X-Invoiced-Delivery": "dlv_42"},
	}
}

// fakeSES records what a Sender asks and answers as configured.
type fakeSES struct {
	mu sync.Mutex
	// sendErr is returned by SendEmail when set.
	sendErr error
	sent    []*sesv2.SendEmailInput
	// identities maps identity names to VerifiedForSendingStatus; a name
	// not in it is NotFoundException.
	identities map[string]bool
	// identityErr is returned by GetEmailIdentity when set.
	identityErr error
	// gate, when set, holds GetEmailIdentity until it is closed.
	gate    chan struct{}
	lookups []string
}

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, in)
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	return &sesv2.SendEmailOutput{MessageId: aws.String(fmt.Sprintf("ses-%d", len(f.sent)))}, nil
}

func (f *fakeSES) GetEmailIdentity(_ context.Context, in *sesv2.GetEmailIdentityInput, _ ...func(*sesv2.Options)) (*sesv2.GetEmailIdentityOutput, error) {
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := aws.ToString(in.EmailIdentity)
	f.lookups = append(f.lookups, name)
	if f.identityErr != nil {
		return nil, f.identityErr
	}
	verified, ok := f.identities[name]
	if !ok {
		return nil, sdkError(404, &types.NotFoundException{Message: aws.String("Email identity " + name + " does not exist.")})
	}
	return &sesv2.GetEmailIdentityOutput{VerifiedForSendingStatus: verified}, nil
}

func (f *fakeSES) sends() []*sesv2.SendEmailInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

// takeLookups returns the identities looked up since the last call.
func (f *fakeSES) takeLookups() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.lookups
	f.lookups = nil
	return l
}

// sdkError wraps apiErr the way the SDK's client returns a service error.
func sdkError(status int, apiErr error) error {
	return &smithy.OperationError{
		ServiceID:     "SESv2",
		OperationName: "SendEmail",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      apiErr,
			},
			RequestID: "req-0001",
		},
	}
}

// clock is a settable time for the identity cache.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// setup returns a Sender for cfg (defaults filled in, Region set) calling
// a fake, with a settable clock.
func setup(t *testing.T, cfg Config) (*Sender, *fakeSES, *clock) {
	t.Helper()
	if cfg.Region == "" {
		cfg.Region = "eu-west-1"
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Fatalf("withDefaults: %v", err)
	}
	fake := &fakeSES{identities: map[string]bool{}}
	clk := &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	s := newSender(cfg, fake)
	s.nowFunc = clk.Now
	return s, fake, clk
}

func TestNew(t *testing.T) {
	t.Parallel()
	s, err := New(context.Background(), Config{Region: "eu-west-1", AccessKeyID: "x", SecretAccessKey: "y"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if s.cfg.Timeout != 30*time.Second || s.cfg.MaxMessageBytes != 40<<20 || s.cfg.IdentityCacheTTL != 5*time.Minute {
		t.Errorf("defaults: Timeout %s, MaxMessageBytes %d, IdentityCacheTTL %s; want 30s, %d, 5m",
			s.cfg.Timeout, s.cfg.MaxMessageBytes, s.cfg.IdentityCacheTTL, 40<<20)
	}
	client := s.api.(*sesv2.Client)
	if got := client.Options().Retryer.MaxAttempts(); got != 1 {
		t.Errorf("SDK retryer makes %d attempts, want 1", got)
	}
	if got := client.Options().Region; got != "eu-west-1" {
		t.Errorf("Region = %q", got)
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no region", Config{}, "Region is required"},
		{"bad region", Config{Region: "eu west 1"}, "not a region name"},
		{"key without secret", Config{Region: "eu-west-1", AccessKeyID: "x"}, "both AccessKeyID and SecretAccessKey"},
		{"secret without key", Config{Region: "eu-west-1", SecretAccessKey: "y"}, "both AccessKeyID and SecretAccessKey"},
		{"token without keys", Config{Region: "eu-west-1", SessionToken: "t"}, "SessionToken needs"},
		{"relative endpoint", Config{Region: "eu-west-1", Endpoint: "127.0.0.1:8005"}, "not an absolute http or https URL"},
		{"ftp endpoint", Config{Region: "eu-west-1", Endpoint: "ftp://127.0.0.1"}, "not an absolute http or https URL"},
		{"negative timeout", Config{Region: "eu-west-1", Timeout: -time.Second}, "Timeout -1s is negative"},
		{"negative size", Config{Region: "eu-west-1", MaxMessageBytes: -1}, "MaxMessageBytes -1 is negative"},
		{"negative TTL", Config{Region: "eu-west-1", IdentityCacheTTL: -time.Minute}, "IdentityCacheTTL -1m0s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestSendEmail(t *testing.T) {
	t.Parallel()
	s, fake, _ := setup(t, Config{ConfigurationSet: "invoiced-events"})
	e := newEmail()

	id, err := s.SendEmail(context.Background(), e)
	if err != nil {
		t.Fatalf("SendEmail: %v", err)
	}
	if id != "ses-1" {
		t.Errorf("provider ID = %q, want SES's MessageId ses-1", id)
	}
	sent := fake.sends()
	if len(sent) != 1 {
		t.Fatalf("%d SendEmail calls, want 1", len(sent))
	}
	in := sent[0]
	if got := aws.ToString(in.FromEmailAddress); got != "billing@acme.test" {
		t.Errorf("FromEmailAddress = %q", got)
	}
	if got := aws.ToString(in.ConfigurationSetName); got != "invoiced-events" {
		t.Errorf("ConfigurationSetName = %q, want invoiced-events", got)
	}
	d := in.Destination
	if !slices.Equal(d.ToAddresses, []string{"ann@customer.test"}) ||
		!slices.Equal(d.CcAddresses, []string{"ap@customer.test"}) ||
		!slices.Equal(d.BccAddresses, []string{"archive@acme.test"}) {
		t.Errorf("Destination = to %q cc %q bcc %q", d.ToAddresses, d.CcAddresses, d.BccAddresses)
	}
	if in.Content == nil || in.Content.Raw == nil || in.Content.Simple != nil || in.Content.Template != nil {
		t.Fatalf("Content is not raw only: %+v", in.Content)
	}
	checkRaw(t, in.Content.Raw.Data, e)
}

// checkRaw parses a raw message and checks it against e: headers without
// Bcc, and the attachment intact.
func checkRaw(t *testing.T, raw []byte, e *providers.Email) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("raw message does not parse: %v\n%s", err, raw)
	}
	h := msg.Header
	var dec mime.WordDecoder
	if subject, err := dec.DecodeHeader(h.Get("Subject")); err != nil || subject != e.Subject {
		t.Errorf("Subject = %q (%v), want %q", subject, err, e.Subject)
	}
	if got := h.Get("Message-Id"); got != "<"+e.MessageID+">" {
		t.Errorf("Message-ID = %q", got)
	}
	if got := h.Get("X-Invoiced-Delivery"); got != "dlv_42" {
		t.Errorf("X-Invoiced-Delivery = %q", got)
	}
	if _, ok := h["Bcc"]; ok {
		t.Errorf("raw message has a Bcc header: %q", h["Bcc"])
	}
	for _, bcc := range e.Bcc {
		if bytes.Contains(raw, []byte(bcc)) {
			t.Errorf("raw message names Bcc recipient %s", bcc)
		}
	}

	_, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var found bool
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		if p.FileName() != e.Attachments[0].Filename {
			continue
		}
		found = true
		// multipart.Reader does not undo base64; read the raw part.
		data, _ := io.ReadAll(p)
		if p.Header.Get("Content-Transfer-Encoding") != "base64" || len(data) == 0 {
			t.Errorf("attachment part: encoding %q, %d bytes", p.Header.Get("Content-Transfer-Encoding"), len(data))
		}
	}
	if !found {
		t.Errorf("no attachment named %s in the raw message", e.Attachments[0].Filename)
	}
}

func TestSendEmailWithoutConfigurationSet(t *testing.T) {
	t.Parallel()
	s, fake, _ := setup(t, Config{})
	if _, err := s.SendEmail(context.Background(), newEmail()); err != nil {
		t.Fatalf("SendEmail: %v", err)
	}
	if got := fake.sends()[0].ConfigurationSetName; got != nil {
		t.Errorf("ConfigurationSetName = %q, want none", *got)
	}
}

func TestSendEmailSizeLimit(t *testing.T) {
	t.Parallel()
	e := newEmail()
	e.Attachments[0].Data = bytes.Repeat([]byte{0xA5}, 30_000)

	// The raw size, as SendEmail measures it.
	s, fake, _ := setup(t, Config{})
	if _, err := s.SendEmail(context.Background(), e); err != nil {
		t.Fatalf("SendEmail: %v", err)
	}
	size := int64(len(fake.sends()[0].Content.Raw.Data))
	if size < 40_000 {
		t.Fatalf("raw message is %d bytes; the attachment should make it over 40 KB", size)
	}

	tests := []struct {
		name    string
		limit   int64
		refused bool
	}{
		{"at the limit", size, false},
		{"one byte over", size - 1, true},
		{"far over", 1024, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, fake, _ := setup(t, Config{MaxMessageBytes: tt.limit})
			_, err := s.SendEmail(context.Background(), e)
			calls := len(fake.sends())
			if !tt.refused {
				if err != nil || calls != 1 {
					t.Fatalf("SendEmail: %v, %d SES calls; want it sent", err, calls)
				}
				return
			}
			if calls != 0 {
				t.Errorf("SES called %d times for a message over the limit", calls)
			}
			var perr *providers.PermanentError
			if !errors.As(err, &perr) || perr.Code != "message_too_large" {
				t.Fatalf("SendEmail: %v, want permanent message_too_large", err)
			}
			for _, want := range []string{fmt.Sprintf("%d bytes", size), fmt.Sprintf("limit of %s (%d bytes)", mib(tt.limit), tt.limit)} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

func TestSendEmailRefusedBeforeSES(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*providers.Email)
		code string
	}{
		{
			name: "invalid address",
			edit: func(e *providers.Email) { e.To = []string{"not an address"} },
			code: "invalid_address",
		},
		{
			name: "header injection",
			edit: func(e *providers.Email) { e.Subject = "Invoice\r\nBcc: victim@example.com" },
			code: "invalid_header",
		},
		{
			name: "51 recipients",
			edit: func(e *providers.Email) {
				for i := range 48 {
					e.Bcc = append(e.Bcc, fmt.Sprintf("copy%d@acme.test", i))
				}
			},
			code: "too_many_recipients",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, fake, _ := setup(t, Config{})
			e := newEmail()
			tt.edit(e)
			_, err := s.SendEmail(context.Background(), e)
			var perr *providers.PermanentError
			if !errors.As(err, &perr) || perr.Code != tt.code {
				t.Fatalf("SendEmail: %v, want permanent %s", err, tt.code)
			}
			if n := len(fake.sends()); n != 0 {
				t.Errorf("SES called %d times", n)
			}
		})
	}
}

func TestSendEmailFiftyRecipients(t *testing.T) {
	t.Parallel()
	s, fake, _ := setup(t, Config{})
	e := newEmail()
	for i := range 47 {
		e.Bcc = append(e.Bcc, fmt.Sprintf("copy%d@acme.test", i))
	}
	if _, err := s.SendEmail(context.Background(), e); err != nil {
		t.Fatalf("SendEmail with 50 recipients: %v", err)
	}
	if got := len(fake.sends()[0].Destination.BccAddresses); got != 48 {
		t.Errorf("%d Bcc addresses in the Destination, want 48", got)
	}
}

// errorClass is what classify makes of an error.
type errorClass int

const (
	transient errorClass = iota
	permanent
	throttled
)

func (c errorClass) String() string {
	return [...]string{"transient", "permanent", "throttled"}[c]
}

func classOf(err error) errorClass {
	if providers.IsPermanent(err) {
		return permanent
	}
	if _, ok := providers.RetryDelay(err); ok {
		return throttled
	}
	return transient
}

func TestSendEmailClassifiesErrors(t *testing.T) {
	t.Parallel()
	msg := aws.String
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	tests := []struct {
		name  string
		err   error
		class errorClass
		code  string        // kept in the chain and named in the message
		delay time.Duration // for throttled
	}{
		{"message rejected", sdkError(400, &types.MessageRejected{Message: msg("Email address is not verified.")}), permanent, "MessageRejected", 0},
		{"mail-from not verified", sdkError(400, &types.MailFromDomainNotVerifiedException{Message: msg("MAIL FROM domain is not verified")}), permanent, "MailFromDomainNotVerifiedException", 0},
		{"account suspended", sdkError(400, &types.AccountSuspendedException{}), permanent, "AccountSuspendedException", 0},
		{"sending paused", sdkError(400, &types.SendingPausedException{}), permanent, "SendingPausedException", 0},
		{"configuration set missing", sdkError(404, &types.NotFoundException{Message: msg("Configuration set <x> does not exist.")}), permanent, "NotFoundException", 0},
		{"bad request", sdkError(400, &types.BadRequestException{}), permanent, "BadRequestException", 0},
		{"access denied", sdkError(403, &smithy.GenericAPIError{Code: "AccessDeniedException"}), permanent, "AccessDeniedException", 0},
		{"unknown key", sdkError(403, &smithy.GenericAPIError{Code: "UnrecognizedClientException"}), permanent, "UnrecognizedClientException", 0},
		{"too many requests", sdkError(429, &types.TooManyRequestsException{Message: msg("Maximum sending rate exceeded.")}), throttled, "TooManyRequestsException", time.Second},
		{"throttling", sdkError(400, &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}), throttled, "Throttling", time.Second},
		{"throttling exception", sdkError(400, &smithy.GenericAPIError{Code: "ThrottlingException"}), throttled, "ThrottlingException", time.Second},
		{"limit exceeded", sdkError(400, &types.LimitExceededException{Message: msg("Limit exceeded")}), throttled, "LimitExceededException", time.Minute},
		{"daily quota", sdkError(400, &types.LimitExceededException{Message: msg("Daily message quota exceeded.")}), throttled, "LimitExceededException", time.Hour},
		{"daily quota as throttling", sdkError(400, &smithy.GenericAPIError{Code: "Throttling", Message: "Daily message quota exceeded."}), throttled, "Throttling", time.Hour},
		{"internal failure", sdkError(500, &smithy.GenericAPIError{Code: "InternalFailure", Fault: smithy.FaultServer}), transient, "InternalFailure", 0},
		{"service unavailable", sdkError(503, &smithy.GenericAPIError{Code: "ServiceUnavailable"}), transient, "ServiceUnavailable", 0},
		{"unknown code", sdkError(400, &smithy.GenericAPIError{Code: "SomethingNew"}), transient, "SomethingNew", 0},
		{"network", &smithy.OperationError{ServiceID: "SESv2", OperationName: "SendEmail", Err: &smithyhttp.RequestSendError{Err: netErr}}, transient, "", 0},
		{"deadline", &smithy.OperationError{ServiceID: "SESv2", OperationName: "SendEmail", Err: context.DeadlineExceeded}, transient, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, fake, _ := setup(t, Config{})
			fake.sendErr = tt.err

			_, err := s.SendEmail(context.Background(), newEmail())
			if err == nil {
				t.Fatal("SendEmail succeeded")
			}
			if got := classOf(err); got != tt.class {
				t.Errorf("class = %s, want %s: %v", got, tt.class, err)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error does not wrap the SDK's error: %v", err)
			}
			if d, _ := providers.RetryDelay(err); d != tt.delay {
				t.Errorf("retry delay = %s, want %s", d, tt.delay)
			}
			if tt.code == "" {
				return
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.code {
				t.Errorf("no smithy.APIError with code %s in the chain", tt.code)
			}
			if !strings.Contains(err.Error(), tt.code) {
				t.Errorf("error %q does not name %s", err, tt.code)
			}
			var perr *providers.PermanentError
			if tt.class == permanent && (!errors.As(err, &perr) || perr.Code != tt.code) {
				t.Errorf("PermanentError code = %v, want %s", perr, tt.code)
			}
		})
	}
}

func TestIdentityVerified(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		identities map[string]bool
		identity   string
		want       bool
		lookups    []string
	}{
		{
			name:       "verified address",
			identities: map[string]bool{"billing@acme.test": true},
			identity:   "billing@acme.test",
			want:       true,
			lookups:    []string{"billing@acme.test"},
		},
		{
			name:       "domain fallback",
			identities: map[string]bool{"acme.test": true},
			identity:   "billing@acme.test",
			want:       true,
			lookups:    []string{"billing@acme.test", "acme.test"},
		},
		{
			name:       "parent domain",
			identities: map[string]bool{"acme.test": true},
			identity:   "billing@Mail.Acme.Test",
			want:       true,
			lookups:    []string{"billing@mail.acme.test", "mail.acme.test", "acme.test"},
		},
		{
			name:       "pending address on a verified domain",
			identities: map[string]bool{"billing@acme.test": false, "acme.test": true},
			identity:   "billing@acme.test",
			want:       true,
			lookups:    []string{"billing@acme.test", "acme.test"},
		},
		{
			name:       "unverified domain",
			identities: map[string]bool{"acme.test": false},
			identity:   "billing@acme.test",
			want:       false,
			lookups:    []string{"billing@acme.test", "acme.test"},
		},
		{
			name:     "unknown",
			identity: "billing@acme.test",
			want:     false,
			lookups:  []string{"billing@acme.test", "acme.test"},
		},
		{
			name:       "domain",
			identities: map[string]bool{"acme.test": true},
			identity:   "acme.test",
			want:       true,
			lookups:    []string{"acme.test"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, fake, _ := setup(t, Config{})
			fake.identities = tt.identities
			got, err := s.IdentityVerified(context.Background(), tt.identity)
			if err != nil {
				t.Fatalf("IdentityVerified: %v", err)
			}
			if got != tt.want {
				t.Errorf("IdentityVerified(%q) = %v, want %v", tt.identity, got, tt.want)
			}
			if l := fake.takeLookups(); !slices.Equal(l, tt.lookups) {
				t.Errorf("looked up %q, want %q", l, tt.lookups)
			}
		})
	}
}

func TestIdentityVerifiedRejectsMalformed(t *testing.T) {
	t.Parallel()
	for _, ident := range []string{"", "billing@", "@acme.test", "billing@acme..test", "Ann <ann@acme.test>", ".acme.test"} {
		t.Run(ident, func(t *testing.T) {
			t.Parallel()
			s, fake, _ := setup(t, Config{})
			if _, err := s.IdentityVerified(context.Background(), ident); err == nil {
				t.Errorf("IdentityVerified(%q) succeeded", ident)
			}
			if l := fake.takeLookups(); len(l) != 0 {
				t.Errorf("looked up %q", l)
			}
		})
	}
}

func TestIdentityVerifiedCache(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		identities map[string]bool
		want       bool
		lookups    []string // for a call with nothing cached
	}{
		{"positive", map[string]bool{"billing@acme.test": true}, true, []string{"billing@acme.test"}},
		{"negative", map[string]bool{}, false, []string{"billing@acme.test", "acme.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, fake, clk := setup(t, Config{IdentityCacheTTL: 10 * time.Minute})
			fake.identities = tt.identities
			check := func(when string, lookups []string) {
				t.Helper()
				got, err := s.IdentityVerified(context.Background(), "billing@acme.test")
				if err != nil || got != tt.want {
					t.Fatalf("%s: IdentityVerified = %v, %v; want %v", when, got, err, tt.want)
				}
				if l := fake.takeLookups(); !slices.Equal(l, lookups) {
					t.Errorf("%s: looked up %q, want %q", when, l, lookups)
				}
			}
			check("first call", tt.lookups)
			clk.Advance(10*time.Minute - time.Nanosecond)
			check("within the TTL", nil)
			clk.Advance(time.Nanosecond)
			check("at the TTL", tt.lookups)
		})
	}
}

func TestIdentityVerifiedSharesDomainLookup(t *testing.T) {
	t.Parallel()
	s, fake, _ := setup(t, Config{})
	fake.identities = map[string]bool{"acme.test": true}
	for _, addr := range []string{"billing@acme.test", "accounts@acme.test"} {
		if ok, err := s.IdentityVerified(context.Background(), addr); err != nil || !ok {
			t.Fatalf("IdentityVerified(%s) = %v, %v", addr, ok, err)
		}
	}
	want := []string{"billing@acme.test", "acme.test", "accounts@acme.test"}
	if l := fake.takeLookups(); !slices.Equal(l, want) {
		t.Errorf("looked up %q, want %q", l, want)
	}
}

func TestIdentityVerifiedErrorsAreNotCached(t *testing.T) {
	t.Parallel()
	s, fake, _ := setup(t, Config{})
	fake.identities = map[string]bool{"billing@acme.test": true}
	fake.identityErr = sdkError(429, &types.TooManyRequestsException{})

	_, err := s.IdentityVerified(context.Background(), "billing@acme.test")
	if d, ok := providers.RetryDelay(err); !ok || d != time.Second {
		t.Fatalf("IdentityVerified: %v, want throttled for 1s", err)
	}
	fake.mu.Lock()
	fake.identityErr = nil
	fake.mu.Unlock()
	ok, err := s.IdentityVerified(context.Background(), "billing@acme.test")
	if err != nil || !ok {
		t.Fatalf("after the error: %v, %v; want true", ok, err)
	}
	if l := fake.takeLookups(); len(l) != 2 {
		t.Errorf("looked up %q, want the address twice", l)
	}
}

func TestIdentityVerifiedConcurrent(t *testing.T) {
	t.Parallel()
	s, fake, _ := setup(t, Config{})
	fake.identities = map[string]bool{"billing@acme.test": true}
	fake.gate = make(chan struct{})

	const callers = 20
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			ok, err := s.IdentityVerified(context.Background(), "billing@acme.test")
			if err == nil && !ok {
				err = errors.New("not verified")
			}
			errs <- err
		})
	}
	// Let the callers pile up on the one lookup before it answers.
	time.Sleep(50 * time.Millisecond)
	close(fake.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if l := fake.takeLookups(); len(l) != 1 {
		t.Errorf("%d concurrent callers made %d lookups, want one shared", callers, len(l))
	}
}
