// Package razorpay creates invoice payment links with Razorpay's Payment
// Links API (POST /v1/payment_links), over plain HTTPS with basic auth,
// and cancels them (POST /v1/payment_links/{id}/cancel) once their invoice
// is paid another way or voided.
//
// # Idempotency
//
// Razorpay has no Idempotency-Key header, but it refuses a second link
// with a reference_id already used in the account. Each request's
// reference_id is derived from its tenant, invoice and idempotency key
// (see ReferenceID), and when Razorpay answers that the reference id
// already exists, CreatePaymentLink fetches the link that has it (GET
// /v1/payment_links?reference_id=…) and returns that one. A retry after
// a lost answer therefore returns the first link instead of failing.
//
// # Expiry
//
// Razorpay wants expire_by at least 15 minutes ahead and at most six
// months after creation. A request's ExpiresAt is clamped into
// [now+MinExpiry, now+MaxExpiry]; a zero ExpiresAt asks for MaxExpiry,
// so that the link's expiry is always known and reported.
//
// # Errors
//
// Errors are classified here and nowhere else, from the HTTP status: 429
// is throttling (providers.RetryAfter); 408 and 5xx are transient; any
// other 4xx is permanent with the code "razorpay_http_<status>" (Razorpay
// answers a bad request 400 and bad keys 401, both with the code
// BAD_REQUEST_ERROR). Network errors, timeouts and a canceled ctx are
// transient. A request refused before calling Razorpay is permanent with
// the code "invalid_request". No error contains the key secret.
package razorpay

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/invoiced/invoiced/money"
	"github.com/invoiced/invoiced/providers"
)

// DefaultBaseURL is Razorpay's API, used when Config.BaseURL is empty.
const DefaultBaseURL = "https://api.razorpay.com"

// DefaultTimeout bounds one call to CreatePaymentLink when Config.Timeout
// is zero.
const DefaultTimeout = 30 * time.Second

// DefaultRetryAfter is the wait asked for when Razorpay throttles a
// request without a usable Retry-After header.
const DefaultRetryAfter = 5 * time.Second

// MaxRetryAfter caps the wait a Retry-After header can ask for.
const MaxRetryAfter = time.Hour

// The window expire_by is clamped into, measured from the Linker's clock.
// MinExpiry is Razorpay's 15 minutes plus one for latency and clock skew.
// MaxExpiry is Razorpay's six months counted as 180 days, shorter than
// any six calendar months.
const (
	MinExpiry = 16 * time.Minute
	MaxExpiry = 180 * 24 * time.Hour
)

// MaxReferenceID is the longest reference_id Razorpay accepts.
const MaxReferenceID = 40

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 1 << 20

// Config configures a Linker.
type Config struct {
	// KeyID is the API key id, "rzp_test_…" or "rzp_live_…". Required.
	KeyID string
	// KeySecret is the key's secret. Required. It appears in no error this
	// package returns.
	KeySecret string
	// BaseURL replaces Razorpay's API base, https://api.razorpay.com, for
	// example with a test server's URL. A path in it prefixes the API's
	// paths. Optional.
	BaseURL string
	// Timeout bounds one CreatePaymentLink, including the fetch of an
	// existing link. Defaults to DefaultTimeout (30s).
	Timeout time.Duration
}

// Linker creates payment links in one Razorpay account. It is safe for
// concurrent use.
type Linker struct {
	cfg     Config
	base    *url.URL
	client  *http.Client
	nowFunc func() time.Time
}

// New returns a Linker for cfg after filling in the documented defaults.
// It rejects a missing KeyID or one that does not start with "rzp_" or
// holds a colon or space, a missing KeySecret or one with spaces, a
// BaseURL that is not an absolute http(s) URL without credentials, query
// or fragment, and a negative Timeout. No error repeats the KeySecret.
func New(cfg Config) (*Linker, error) {
	switch {
	case cfg.KeyID == "":
		return nil, errors.New("razorpay: KeyID is required")
	case !strings.HasPrefix(cfg.KeyID, "rzp_") || strings.ContainsAny(cfg.KeyID, ": \t\r\n"):
		return nil, fmt.Errorf("razorpay: KeyID %q must be a key id like rzp_live_… or rzp_test_…", cfg.KeyID)
	case cfg.KeySecret == "":
		return nil, errors.New("razorpay: KeySecret is required")
	case strings.ContainsAny(cfg.KeySecret, " \t\r\n"):
		return nil, errors.New("razorpay: KeySecret must not contain spaces")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(cfg.BaseURL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("razorpay: BaseURL %q is not a URL: %w", cfg.BaseURL, err)
	case (base.Scheme != "http" && base.Scheme != "https") || base.Host == "":
		return nil, fmt.Errorf("razorpay: BaseURL %q must be an absolute http or https URL", cfg.BaseURL)
	case base.User != nil || base.RawQuery != "" || base.Fragment != "":
		return nil, errors.New("razorpay: BaseURL must not carry credentials, a query or a fragment")
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawPath = ""
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("razorpay: Timeout %s is negative", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Linker{
		cfg:  cfg,
		base: base,
		client: &http.Client{
			// http.DefaultTransport lets Linkers built per tenant share
			// connections; the timeout comes from each call's ctx.
			Transport: http.DefaultTransport,
			// Razorpay does not redirect API calls; a redirect is an
			// answer to classify.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		nowFunc: time.Now,
	}, nil
}

// ReferenceID returns the reference_id CreatePaymentLink sends for r: the
// invoice id with characters other than letters, digits, "-" and "_"
// replaced by "_" and cut to 23 characters, then "-" and the first 16 hex
// digits of a SHA-256 of the tenant id, invoice id and idempotency key
// (or, without a key, the amount and currency). It is at most 40
// characters, the same for the same request, and different for another
// tenant, invoice or key: the worker's key names the amount due, so a
// changed amount gets a new link.
func ReferenceID(r *providers.PaymentRequest) string {
	key := r.IdempotencyKey
	if key == "" {
		key = strconv.FormatInt(r.Amount, 10) + " " + r.Currency
	}
	sum := sha256.Sum256([]byte(r.TenantID + "\x00" + r.InvoiceID + "\x00" + key))
	prefix := []byte(r.InvoiceID)
	if len(prefix) > 23 {
		prefix = prefix[:23]
	}
	for i, c := range prefix {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			prefix[i] = '_'
		}
	}
	return string(prefix) + "-" + hex.EncodeToString(sum[:8])
}

// createRequest is the body of POST /v1/payment_links.
type createRequest struct {
	Amount         int64             `json:"amount"`
	Currency       string            `json:"currency"`
	AcceptPartial  bool              `json:"accept_partial"`
	Description    string            `json:"description"`
	Customer       *customer         `json:"customer,omitempty"`
	Notify         notify            `json:"notify"`
	ReminderEnable bool              `json:"reminder_enable"`
	ReferenceID    string            `json:"reference_id"`
	ExpireBy       int64             `json:"expire_by"`
	CallbackURL    string            `json:"callback_url,omitempty"`
	CallbackMethod string            `json:"callback_method,omitempty"`
	Notes          map[string]string `json:"notes"`
}

type customer struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

type notify struct {
	SMS   bool `json:"sms"`
	Email bool `json:"email"`
}

// link is the part of Razorpay's Payment Link entity this package reads.
// Other fields are left alone: Razorpay sends some of them ("customer",
// "notes") as [] when empty.
type link struct {
	ID          string `json:"id"`
	ShortURL    string `json:"short_url"`
	Status      string `json:"status"`
	ReferenceID string `json:"reference_id"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	ExpireBy    int64  `json:"expire_by"`
}

// CreatePaymentLink creates a Razorpay Payment Link for r's amount, in
// minor units of r's currency, that accepts no partial payments and sends
// no SMS, email or reminders of its own: invoiced sends the invoice. The
// customer's name and email, when set, are shown on Razorpay's page; r's
// SuccessURL, when set, is the callback_url the payer returns to (with
// callback_method "get"). Notes carry tenant_id, invoice_id and
// invoice_number.
//
// When the reference_id (see ReferenceID) is already taken, the link that
// holds it is returned if it is for the same amount and currency and is
// not expired or cancelled; otherwise the error is permanent, with the
// code "razorpay_reference_conflict", "razorpay_link_expired" or
// "razorpay_link_cancelled".
//
// A ctx that is already done sends nothing. The call is bounded by
// Config.Timeout; reaching it gives a transient error that wraps
// context.DeadlineExceeded and says "timed out".
func (l *Linker) CreatePaymentLink(ctx context.Context, r *providers.PaymentRequest) (*providers.PaymentLink, error) {
	if err := validRequest(r); err != nil {
		return nil, providers.Permanent("invalid_request", fmt.Errorf("razorpay: %w", err))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("razorpay: request not started: %w", err)
	}
	callCtx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()

	expireBy := l.expireBy(r.ExpiresAt)
	body := createRequest{
		Amount:        r.Amount,
		Currency:      r.Currency,
		AcceptPartial: false,
		Description:   firstNonEmpty(r.Description, "Invoice "+r.Number),
		Notify:        notify{SMS: false, Email: false},
		ReferenceID:   ReferenceID(r),
		ExpireBy:      expireBy.Unix(),
		Notes: map[string]string{
			"tenant_id":      r.TenantID,
			"invoice_id":     r.InvoiceID,
			"invoice_number": r.Number,
		},
	}
	if r.CustomerName != "" || r.CustomerEmail != "" {
		body.Customer = &customer{Name: r.CustomerName, Email: r.CustomerEmail}
	}
	if r.SuccessURL != "" {
		body.CallbackURL, body.CallbackMethod = r.SuccessURL, "get"
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("razorpay: create payment link: %w", err)
	}

	var created link
	err = l.call(ctx, callCtx, "create payment link", http.MethodPost, "/v1/payment_links", nil, payload, &created)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.duplicateReference() {
		return l.existing(ctx, callCtx, body)
	}
	if err != nil {
		return nil, err
	}
	return l.paymentLink(created, expireBy, "create payment link")
}

// DeactivatePaymentLink cancels the link with id (POST
// /v1/payment_links/{id}/cancel), for an invoice paid another way, or
// voided, whose link could otherwise still take a payment. A link that
// is already cancelled or expired is left as it is and is no error. A
// link that was paid meanwhile is a permanent error with the code
// "razorpay_link_paid": the invoice has been paid twice and one payment
// needs a refund. Other errors are classified as CreatePaymentLink's are.
func (l *Linker) DeactivatePaymentLink(ctx context.Context, id string) error {
	if id == "" || strings.ContainsAny(id, "/?#") {
		return providers.Permanent("invalid_request", fmt.Errorf("razorpay: %q is not a payment link id", id))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("razorpay: request not started: %w", err)
	}
	callCtx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	path := "/v1/payment_links/" + id
	var canceled link
	err := l.call(ctx, callCtx, "cancel payment link", http.MethodPost, path+"/cancel", nil, []byte("{}"), &canceled)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		return err
	}
	// Razorpay refuses to cancel a link that is no longer open; its
	// status says whether that is done already or a payment came in.
	var found link
	if ferr := l.call(ctx, callCtx, "fetch payment link", http.MethodGet, path, nil, nil, &found); ferr != nil {
		return err
	}
	switch found.Status {
	case "cancelled", "expired":
		return nil
	case "paid":
		return providers.Permanent("razorpay_link_paid", fmt.Errorf(
			"razorpay: payment link %s was paid before it could be cancelled: the invoice is paid twice, refund one payment", id))
	}
	return err
}

func validRequest(r *providers.PaymentRequest) error {
	switch {
	case r == nil:
		return errors.New("no payment request")
	case r.TenantID == "" || r.InvoiceID == "":
		return errors.New("the payment request needs a TenantID and an InvoiceID")
	case r.Number == "":
		return fmt.Errorf("invoice %s has no number", r.InvoiceID)
	case r.Amount <= 0:
		return fmt.Errorf("amount %d must be positive", r.Amount)
	}
	_, err := money.ParseCurrency(r.Currency)
	return err
}

// expireBy clamps at into [now+MinExpiry, now+MaxExpiry], truncated to
// the second Razorpay counts in; a zero at gives now+MaxExpiry.
func (l *Linker) expireBy(at time.Time) time.Time {
	now := l.nowFunc()
	lo, hi := now.Add(MinExpiry), now.Add(MaxExpiry)
	switch {
	case at.IsZero(), at.After(hi):
		at = hi
	case at.Before(lo):
		// Rounded up so that truncation keeps it inside the window.
		at = lo.Add(time.Second - 1)
	}
	return at.Truncate(time.Second)
}

// existing fetches the link that holds sent's reference_id.
func (l *Linker) existing(ctx, callCtx context.Context, sent createRequest) (*providers.PaymentLink, error) {
	const op = "fetch payment link by reference_id"
	var list struct {
		PaymentLinks []link `json:"payment_links"`
	}
	query := url.Values{"reference_id": {sent.ReferenceID}}
	if err := l.call(ctx, callCtx, op, http.MethodGet, "/v1/payment_links", query, nil, &list); err != nil {
		return nil, err
	}
	for _, found := range list.PaymentLinks {
		if found.ReferenceID != sent.ReferenceID {
			continue
		}
		switch {
		case found.Amount != sent.Amount || !strings.EqualFold(found.Currency, sent.Currency):
			return nil, providers.Permanent("razorpay_reference_conflict", fmt.Errorf(
				"razorpay: reference_id %s already holds link %s for %d %s, not %d %s",
				sent.ReferenceID, found.ID, found.Amount, found.Currency, sent.Amount, sent.Currency))
		case found.Status == "expired", found.Status == "cancelled":
			return nil, providers.Permanent("razorpay_link_"+found.Status, fmt.Errorf(
				"razorpay: reference_id %s already holds link %s, which is %s; a new link needs a new idempotency key",
				sent.ReferenceID, found.ID, found.Status))
		}
		return l.paymentLink(found, time.Unix(sent.ExpireBy, 0), op)
	}
	// Razorpay said the reference exists but does not list it yet.
	return nil, fmt.Errorf("razorpay: %s: Razorpay reports reference_id %s as taken but lists no link with it", op, sent.ReferenceID)
}

// paymentLink checks an answered link and converts it. sentExpiry is used
// when the answer has no expire_by.
func (l *Linker) paymentLink(pl link, sentExpiry time.Time, op string) (*providers.PaymentLink, error) {
	if pl.ID == "" || pl.ShortURL == "" {
		return nil, fmt.Errorf("razorpay: %s: answer has no id or short_url", op)
	}
	at := sentExpiry.UTC()
	if pl.ExpireBy > 0 {
		at = time.Unix(pl.ExpireBy, 0).UTC()
	}
	return &providers.PaymentLink{URL: pl.ShortURL, ID: pl.ID, ExpiresAt: &at}, nil
}

// APIError is an error answer from Razorpay: its HTTP status and the
// fields of its error JSON,
// {"error":{"code":"BAD_REQUEST_ERROR","description":"…","field":"…","source":"…","step":"…","reason":"…"}}.
type APIError struct {
	Op          string
	Status      int
	Code        string
	Description string
	Field       string
	Source      string
	Step        string
	Reason      string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "razorpay: %s: HTTP %d", e.Op, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " (field %s)", e.Field)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.Reason != "" && e.Reason != "NA" {
		fmt.Fprintf(&b, " [reason %s]", e.Reason)
	}
	return b.String()
}

// duplicateReference reports Razorpay's refusal of a reference_id that an
// earlier link holds. The description's wording is matched loosely
// ("reference id" or "reference_id", "already exists").
func (e *APIError) duplicateReference() bool {
	if e.Status != http.StatusBadRequest {
		return false
	}
	d := strings.ToLower(e.Description)
	return strings.Contains(d, "reference") && strings.Contains(d, "already exist")
}

// call sends one request and decodes a 2xx answer into out. ctx is the
// caller's; callCtx adds the Linker's timeout.
func (l *Linker) call(ctx, callCtx context.Context, op, method, path string, query url.Values, body []byte, out any) error {
	u := *l.base
	u.Path += path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(callCtx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("razorpay: %s: %w", op, err)
	}
	req.SetBasicAuth(l.cfg.KeyID, l.cfg.KeySecret)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := l.client.Do(req)
	if err != nil {
		return l.transportError(ctx, op, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return l.transportError(ctx, op, err)
	}

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if err := json.Unmarshal(answer, out); err != nil {
			// Unknown whether Razorpay acted: transient.
			return fmt.Errorf("razorpay: %s: HTTP %d answer is not the expected JSON: %w", op, resp.StatusCode, err)
		}
		return nil
	}
	return l.classify(op, resp, answer)
}

// transportError is a call that got no complete answer: a canceled ctx,
// a timeout or a network error. All are transient. The request's URL
// carries no credentials, so err cannot name the secret.
func (l *Linker) transportError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return fmt.Errorf("razorpay: %s: %w", op, err)
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout() {
		return fmt.Errorf("razorpay: %s: timed out after %s: %w", op, l.cfg.Timeout, err)
	}
	return fmt.Errorf("razorpay: %s: %w", op, err)
}

// classify turns a non-2xx answer into a providers error.
func (l *Linker) classify(op string, resp *http.Response, answer []byte) error {
	status := resp.StatusCode
	var parsed struct {
		Error *struct {
			Code        string `json:"code"`
			Description string `json:"description"`
			Field       string `json:"field"`
			Source      string `json:"source"`
			Step        string `json:"step"`
			Reason      string `json:"reason"`
		} `json:"error"`
	}
	var err error
	if json.Unmarshal(answer, &parsed) == nil && parsed.Error != nil {
		e := parsed.Error
		err = &APIError{
			Op: op, Status: status, Code: e.Code, Description: l.scrub(e.Description),
			Field: e.Field, Source: e.Source, Step: e.Step, Reason: e.Reason,
		}
	} else {
		// An answer that is not Razorpay's error JSON, e.g. from a proxy.
		sample := strings.Join(strings.Fields(string(answer)), " ")
		if len(sample) > 200 {
			sample = sample[:200] + "…"
		}
		err = fmt.Errorf("razorpay: %s: HTTP %d: %s", op, status, l.scrub(sample))
	}
	switch {
	case status == http.StatusTooManyRequests:
		return providers.RetryAfter(l.retryDelay(resp.Header.Get("Retry-After")), err)
	case status >= 500, status == http.StatusRequestTimeout:
		return err
	case status >= 400:
		return providers.Permanent("razorpay_http_"+strconv.Itoa(status), err)
	}
	// A 1xx or 3xx answer: unknown, so transient.
	return err
}

func (l *Linker) scrub(s string) string {
	return strings.ReplaceAll(s, l.cfg.KeySecret, "[redacted]")
}

// retryDelay reads a Retry-After header, in seconds or as an HTTP date,
// capped at MaxRetryAfter. A missing, malformed, zero or past value gives
// DefaultRetryAfter.
func (l *Linker) retryDelay(header string) time.Duration {
	return providers.ParseRetryAfter(header, l.nowFunc(), DefaultRetryAfter, MaxRetryAfter)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
