package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/invoiced/invoiced/providers"
)

// MaxRetryAfter caps the wait a Retry-After header can ask for, so a bad
// header cannot park an event for days.
const MaxRetryAfter = time.Hour

// snippetBytes is how much of an answer's body Result keeps.
const snippetBytes = 1 << 10

// drainBytes is how much more of an answer is read, and thrown away, so the
// connection can be reused; a longer body closes it instead.
const drainBytes = 64 << 10

// ErrGone is matched by errors.Is when an endpoint answers 410 Gone: the
// receiver asks not to be sent anything more, and the caller disables the
// endpoint.
var ErrGone = errors.New("webhook endpoint is gone")

// Result describes one delivery attempt, successful or not.
type Result struct {
	// StatusCode is the answer's HTTP status, or 0 when none came.
	StatusCode int
	// Duration is the time from sending the request to reading the
	// answer's body (or failing).
	Duration time.Duration
	// ResponseSnippet is the first 1 KiB of the answer's body, with
	// invalid UTF-8 replaced, for the endpoint's delivery log.
	ResponseSnippet string
	// RetryAfter is the wait a 429 or 503 answer asked for with
	// Retry-After, in seconds or as an HTTP date, capped at MaxRetryAfter;
	// 0 when absent, unreadable or not in the future.
	RetryAfter time.Duration
}

// Sender delivers signed webhook events.
type Sender struct {
	client    *http.Client
	userAgent string
	nowFunc   func() time.Time
}

// NewSender returns a Sender that posts with client, which should come
// from NewClient so that tenants' URLs cannot reach internal addresses; a
// nil client means NewClient(ClientConfig{}). userAgent, when not empty,
// is sent as User-Agent.
func NewSender(client *http.Client, userAgent string) *Sender {
	if client == nil {
		client = NewClient(ClientConfig{})
	}
	return &Sender{client: client, userAgent: userAgent, nowFunc: time.Now}
}

// Deliver posts body, a JSON event, to endpointURL with Content-Type
// application/json and the webhook-id (eventID), webhook-timestamp (ts)
// and webhook-signature headers. Only a 2xx answer is success.
//
// ts should be the time of this attempt, not the event's creation:
// receivers reject timestamps more than a few minutes old, so a retry
// signed with the original time would be refused. eventID stays the same
// across retries so receivers can drop duplicates.
//
// Errors are classified here:
//   - 410 Gone wraps ErrGone and is permanent (providers.IsPermanent): the
//     caller disables the endpoint.
//   - 429 and 503 with a usable Retry-After are providers.RetryAfter with
//     that delay.
//   - A forbidden address (ErrForbiddenAddress), a malformed URL, an empty
//     eventID and an invalid secret are permanent: retrying cannot change
//     them, and the event fails at once with that reason. The endpoint is
//     not disabled, since its host may resolve elsewhere later.
//   - Any other answer, a 3xx (redirects are not followed), a timeout, a
//     network error or a canceled ctx is a plain error: the caller retries
//     on its Schedule.
//
// The Result is filled as far as the attempt got, also on error. No error
// repeats the secret or the URL's query string.
func (s *Sender) Deliver(ctx context.Context, endpointURL, secret, eventID string, ts time.Time, body []byte) (Result, error) {
	var res Result
	u, err := parseEndpoint(endpointURL)
	if err != nil {
		return res, providers.Permanent("invalid_url", err)
	}
	if eventID == "" {
		return res, providers.Permanent("invalid_event", errors.New("webhook: empty event id"))
	}
	sig, err := Sign(secret, eventID, ts, body)
	if err != nil {
		return res, providers.Permanent("invalid_secret", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return res, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderID, eventID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	if s.userAgent != "" {
		req.Header.Set("User-Agent", s.userAgent)
	}

	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		res.Duration = time.Since(start)
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = redact(u)
		}
		if errors.Is(err, ErrForbiddenAddress) {
			return res, providers.Permanent("forbidden_address", err)
		}
		return res, err
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, snippetBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainBytes))
	_ = resp.Body.Close()
	res.Duration = time.Since(start)
	res.StatusCode = resp.StatusCode
	res.ResponseSnippet = strings.ToValidUTF8(string(snippet), "\uFFFD")

	code := resp.StatusCode
	switch {
	case code >= 200 && code <= 299:
		return res, nil
	case code == http.StatusGone:
		return res, providers.Permanent(strconv.Itoa(code), fmt.Errorf("%s answered 410 Gone: %w", redact(u), ErrGone))
	case code >= 300 && code <= 399:
		return res, fmt.Errorf("%s answered %d %s; redirects are not followed (Location: %s)",
			redact(u), code, http.StatusText(code), redactLocation(u, resp.Header.Get("Location")))
	}
	err = fmt.Errorf("%s answered %d %s", redact(u), code, http.StatusText(code))
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		res.RetryAfter = retryDelay(resp.Header.Get("Retry-After"), s.nowFunc())
		if res.RetryAfter > 0 {
			return res, providers.RetryAfter(res.RetryAfter, err)
		}
	}
	return res, err
}

// retryDelay reads a Retry-After header, in seconds or as an HTTP date,
// capped at MaxRetryAfter. A missing, malformed, zero or past value gives 0:
// then the schedule decides.
func retryDelay(header string, now time.Time) time.Duration {
	return providers.ParseRetryAfter(header, now, 0, MaxRetryAfter)
}

// redact is the endpoint for messages: scheme, host and path, without the
// query, which receivers sometimes use for a token.
func redact(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

func redactLocation(base *url.URL, loc string) string {
	l, err := base.Parse(loc)
	if err != nil || loc == "" {
		return "none"
	}
	return redact(l)
}
