// Package twilio sends SMS through Twilio's Messages API with twilio-go.
//
// Errors are classified here and nowhere else, from the HTTP status and
// Twilio's error code: 429 or code 20429 is throttling (providers.RetryAfter);
// 408 and 5xx are transient; any other 4xx is permanent with the code
// "twilio_<code>" (for example an invalid To number, 21211; an unsubscribed
// recipient, 21610; bad credentials, 20003); network errors, timeouts and a
// canceled ctx are transient.
package twilio

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/invoiced/invoiced/providers"
)

// DefaultTimeout bounds one send when Config.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// DefaultRetryAfter is the wait asked for when Twilio throttles a send
// without a usable Retry-After header.
const DefaultRetryAfter = time.Second

// MaxRetryAfter caps the wait a Retry-After header can ask for, so a bad
// header cannot park a delivery for days.
const MaxRetryAfter = time.Hour

// Config configures a Sender.
type Config struct {
	// AccountSID is "AC" followed by 32 hex digits. Required.
	AccountSID string
	// AuthToken is the account's auth token. Required. It appears in no
	// error this package returns.
	AuthToken string
	// From is the sender: an E.164 number such as "+40712345678", or an
	// alphanumeric sender ID of up to 11 letters, digits and spaces with
	// at least one letter. Set exactly one of From and MessagingServiceSID.
	From string
	// MessagingServiceSID is "MG" followed by 32 hex digits; Twilio picks
	// the sender from the service's pool.
	MessagingServiceSID string
	// StatusCallback is the absolute http or https URL Twilio posts
	// delivery status to, e.g. https://invoiced.example/callbacks/twilio.
	// Optional.
	StatusCallback string
	// BaseURL replaces Twilio's API base, https://api.twilio.com, for
	// example with a test server's URL. A path in it prefixes the API's
	// paths. Optional.
	BaseURL string
	// Timeout bounds one send, from connecting to reading Twilio's answer.
	// Defaults to DefaultTimeout (15s).
	Timeout time.Duration
}

// messageAPI is the part of twilio-go a Sender uses.
type messageAPI interface {
	CreateMessage(*openapi.CreateMessageParams) (*openapi.ApiV2010Message, error)
}

var _ messageAPI = (*openapi.ApiService)(nil)

// Sender sends SMS through one Twilio account. It is safe for concurrent
// use.
type Sender struct {
	cfg  Config
	base *url.URL // nil sends to Twilio itself
	// transport carries every request. Sharing http.DefaultTransport lets
	// Senders built per tenant or per send reuse connections.
	transport http.RoundTripper
	// newAPIFunc builds the SDK client for one send on top of hc; tests
	// replace it.
	newAPIFunc func(hc *http.Client) messageAPI
	nowFunc    func() time.Time
}

var (
	accountSIDPattern = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	serviceSIDPattern = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	e164Pattern       = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	alphaIDPattern    = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	alnumPattern      = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// New returns a Sender for cfg after filling in the documented defaults.
// It rejects a missing or malformed AccountSID, a missing AuthToken or one
// with characters other than letters and digits (twilio-go refuses those),
// both or neither of From and MessagingServiceSID, a malformed From or
// MessagingServiceSID, a StatusCallback or BaseURL that is not an absolute
// http(s) URL (BaseURL may carry no credentials, query or fragment), and a
// negative Timeout. No error repeats the AuthToken.
func New(cfg Config) (*Sender, error) {
	if cfg.AccountSID == "" {
		return nil, errors.New("twilio: AccountSID is required")
	}
	if !accountSIDPattern.MatchString(cfg.AccountSID) {
		return nil, fmt.Errorf("twilio: AccountSID %q must be AC followed by 32 hex digits", cfg.AccountSID)
	}
	if cfg.AuthToken == "" {
		return nil, errors.New("twilio: AuthToken is required")
	}
	if !alnumPattern.MatchString(cfg.AuthToken) {
		return nil, errors.New("twilio: AuthToken must contain only letters and digits")
	}
	switch {
	case cfg.From == "" && cfg.MessagingServiceSID == "":
		return nil, errors.New("twilio: set one of From and MessagingServiceSID")
	case cfg.From != "" && cfg.MessagingServiceSID != "":
		return nil, errors.New("twilio: set only one of From and MessagingServiceSID, not both")
	case cfg.From != "" && !validFrom(cfg.From):
		return nil, fmt.Errorf("twilio: From %q must be an E.164 number like +40712345678 or an alphanumeric sender ID of up to 11 characters", cfg.From)
	case cfg.MessagingServiceSID != "" && !serviceSIDPattern.MatchString(cfg.MessagingServiceSID):
		return nil, fmt.Errorf("twilio: MessagingServiceSID %q must be MG followed by 32 hex digits", cfg.MessagingServiceSID)
	}
	if cfg.StatusCallback != "" {
		if _, err := parseHTTPURL(cfg.StatusCallback); err != nil {
			return nil, fmt.Errorf("twilio: StatusCallback: %w", err)
		}
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("twilio: Timeout %s is negative", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	s := &Sender{cfg: cfg, transport: http.DefaultTransport, nowFunc: time.Now}
	s.newAPIFunc = s.sdk
	if cfg.BaseURL != "" {
		base, err := parseHTTPURL(cfg.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("twilio: BaseURL: %w", err)
		}
		if base.User != nil || base.RawQuery != "" || base.Fragment != "" {
			return nil, errors.New("twilio: BaseURL must not carry credentials, a query or a fragment")
		}
		base.Path = strings.TrimSuffix(base.Path, "/")
		base.RawPath = ""
		s.base = base
	}
	return s, nil
}

func validFrom(from string) bool {
	if strings.HasPrefix(from, "+") {
		return e164Pattern.MatchString(from)
	}
	return alphaIDPattern.MatchString(from) && strings.ContainsFunc(from, func(r rune) bool {
		return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z'
	})
}

func parseHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q must be an absolute http or https URL", raw)
	}
	return u, nil
}

// sdk builds twilio-go's Api service for one send. The request handler is
// made directly, not with client.NewRequestHandler, so TWILIO_EDGE and
// TWILIO_REGION in the environment do not redirect sends.
func (s *Sender) sdk(hc *http.Client) messageAPI {
	c := &client.Client{
		Credentials: client.NewCredentials(s.cfg.AccountSID, s.cfg.AuthToken),
		HTTPClient:  hc,
	}
	c.SetAccountSid(s.cfg.AccountSID)
	return openapi.NewApiService(&client.RequestHandler{Client: c})
}

// SendSMS creates a Twilio message for m and returns its SID ("SM…").
//
// The message goes to m.To with m.Body. It is sent from m.From when set,
// else from Config.From; a configured MessagingServiceSID is always sent,
// and Twilio picks the sender from the service when there is no From.
// Config.StatusCallback, when set, goes with every message.
//
// twilio-go takes no context, so each send gets its own HTTP client whose
// transport binds the request to ctx, and whose Timeout and context
// deadline are Config.Timeout. Canceling ctx aborts the request in flight
// with a transient error that wraps ctx.Err(); reaching the timeout does
// the same with an error that wraps context.DeadlineExceeded and says
// "timed out". A ctx that is already done sends nothing.
//
// A message Twilio answered without a SID is a transient error: whether it
// was accepted is unknown, and the worker's retry policy decides.
func (s *Sender) SendSMS(ctx context.Context, m *providers.SMS) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("twilio: send not started: %w", err)
	}
	sendCtx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()

	params := &openapi.CreateMessageParams{}
	params.SetTo(m.To)
	params.SetBody(m.Body)
	if from := cmp.Or(m.From, s.cfg.From); from != "" {
		params.SetFrom(from)
	}
	if s.cfg.MessagingServiceSID != "" {
		params.SetMessagingServiceSid(s.cfg.MessagingServiceSID)
	}
	if s.cfg.StatusCallback != "" {
		params.SetStatusCallback(s.cfg.StatusCallback)
	}

	rt := &sendTransport{ctx: sendCtx, base: s.base, next: s.transport}
	hc := &http.Client{
		Transport: rt,
		Timeout:   s.cfg.Timeout,
		// Twilio does not redirect API calls; a redirect is an answer to
		// classify, as twilio-go's own client does.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	msg, err := s.newAPIFunc(hc).CreateMessage(params)
	if err != nil {
		return "", s.classify(ctx, rt, err)
	}
	if msg == nil || msg.Sid == nil || *msg.Sid == "" {
		return "", fmt.Errorf("twilio: create message: HTTP %d answer has no message SID", rt.status)
	}
	return *msg.Sid, nil
}

// sendTransport carries the one request of a send. It points the request
// at the Sender's BaseURL, binds it to the send's ctx (which twilio-go
// cannot pass), and keeps the answer's status and Retry-After header,
// which twilio-go drops from its errors.
type sendTransport struct {
	ctx  context.Context
	base *url.URL
	next http.RoundTripper

	status     int
	retryAfter string
}

func (t *sendTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(t.ctx)
	if t.base != nil {
		r.URL.Scheme = t.base.Scheme
		r.URL.Host = t.base.Host
		r.URL.Path = t.base.Path + r.URL.Path
		r.URL.RawPath = ""
		r.Host = ""
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	t.status = resp.StatusCode
	t.retryAfter = resp.Header.Get("Retry-After")
	return resp, nil
}

// classify turns a failed CreateMessage into a providers error. ctx is
// the caller's, without the Sender's timeout. The status is the HTTP
// answer's when there was one; errors twilio-go makes itself (such as
// refusing credentials) carry their own.
func (s *Sender) classify(ctx context.Context, rt *sendTransport, err error) error {
	status, code := rt.status, 0
	var restErr *client.TwilioRestError
	var restErrV1 *client.RestErrorV1
	switch {
	case errors.As(err, &restErr):
		code = restErr.Code
		if status == 0 {
			status = restErr.Status
		}
	case errors.As(err, &restErrV1):
		code = restErrV1.Code
		if status == 0 {
			status = restErrV1.HttpStatusCode
		}
	}

	if status == 0 {
		// No answer from Twilio: a canceled ctx, a timeout or a network
		// error. All are transient.
		if ctxErr := ctx.Err(); ctxErr != nil {
			if !errors.Is(err, ctxErr) {
				err = fmt.Errorf("%w (%w)", ctxErr, err)
			}
			return fmt.Errorf("twilio: create message: %w", err)
		}
		var netErr net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout() {
			return fmt.Errorf("twilio: create message%s: timed out after %s: %w", s.via(), s.cfg.Timeout, err)
		}
		return fmt.Errorf("twilio: create message%s: %w", s.via(), err)
	}

	wrapped := fmt.Errorf("twilio: create message: %w", err)
	if code == 0 {
		// An answer that is not Twilio's error JSON, e.g. from a proxy.
		wrapped = fmt.Errorf("twilio: create message: HTTP %d: %w", status, err)
	}
	switch {
	case status == http.StatusTooManyRequests || code == 20429:
		return providers.RetryAfter(s.retryDelay(rt.retryAfter), wrapped)
	case status >= 500, status == http.StatusRequestTimeout:
		return wrapped
	case status >= 400 && code != 0:
		return providers.Permanent("twilio_"+strconv.Itoa(code), wrapped)
	case status >= 400:
		return providers.Permanent("twilio_http_"+strconv.Itoa(status), wrapped)
	}
	// A 2xx or 3xx answer twilio-go could not read: unknown, so transient.
	return wrapped
}

// via names the BaseURL in errors about reaching it, since twilio-go's
// errors name api.twilio.com whatever host was dialed.
func (s *Sender) via() string {
	if s.base == nil {
		return ""
	}
	return " via " + s.base.String()
}

// retryDelay reads a Retry-After header, in seconds or as an HTTP date,
// capped at MaxRetryAfter. A missing, malformed, zero or past value gives
// DefaultRetryAfter.
func (s *Sender) retryDelay(header string) time.Duration {
	return providers.ParseRetryAfter(header, s.nowFunc(), DefaultRetryAfter, MaxRetryAfter)
}
