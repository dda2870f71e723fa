// Package stripe creates invoice payment links with Stripe, through
// stripe-go, and verifies the webhooks that report them paid.
//
// # Payment Links or Checkout Sessions
//
// By default (ModePaymentLink) a request creates a Stripe Payment Link
// object (POST /v1/payment_links). An invoice's link is printed in its
// PDF, encoded in its QR code and sent in emails that are read days or
// weeks later, and a Payment Link does not expire. It is created
// with restrictions.completed_sessions.limit=1, so it deactivates itself
// once paid and an invoice cannot be paid twice through it. Stripe copies
// the link's metadata to the Checkout Session each payment creates, so
// checkout.session.completed carries tenant_id and invoice_id either way.
// The answer's ExpiresAt is nil, and a request's ExpiresAt and CancelURL
// are not used: Payment Links have neither.
//
// ModeCheckoutSession creates a Checkout Session (POST
// /v1/checkout/sessions) instead: a one-off page that Stripe lets live
// from 30 minutes to 24 hours, for callers that create the link just
// before the payer uses it. The request's ExpiresAt is clamped into that
// window (see MinSessionExpiry and MaxSessionExpiry); a zero ExpiresAt
// lets Stripe choose, which is 24 hours. The answer's ExpiresAt is the
// expiry Stripe reports.
//
// DeactivatePaymentLink switches a link off again (a Payment Link is set
// inactive, a Checkout Session expired) once its invoice is paid another
// way or voided.
//
// # Errors
//
// Errors are classified here and nowhere else, from the HTTP status and
// Stripe's error code: 429 (rate_limit, lock_timeout) is throttling
// (providers.RetryAfter); 408, 409 (an idempotency key in use by a
// request still running) and 5xx are transient; any other 4xx is
// permanent with the code "stripe_<code>" (for example
// stripe_parameter_invalid_integer), or "stripe_http_<status>" when Stripe
// names none (stripe_http_401 for a bad key). Network errors, timeouts
// and a canceled ctx are transient. A request this package refuses before
// calling Stripe is permanent with the code "invalid_request". No error
// contains the secret key.
package stripe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v85"

	"github.com/invoiced/invoiced/money"
	"github.com/invoiced/invoiced/providers"
)

// Mode is the kind of Stripe object a Linker creates.
type Mode string

const (
	// ModePaymentLink creates a Payment Link object: a reusable URL that
	// does not expire, limited to one completed payment.
	ModePaymentLink Mode = "payment_link"
	// ModeCheckoutSession creates a Checkout Session that expires within
	// 24 hours.
	ModeCheckoutSession Mode = "checkout_session"
)

// DefaultAPIBase is Stripe's API, used when Config.APIBase is empty.
const DefaultAPIBase = stripego.APIURL

// DefaultTimeout bounds one request when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// DefaultRetryAfter is the wait asked for when Stripe throttles a request
// without a usable Retry-After header, which is how Stripe usually does.
const DefaultRetryAfter = 5 * time.Second

// MaxRetryAfter caps the wait a Retry-After header can ask for.
const MaxRetryAfter = time.Hour

// Stripe accepts a Checkout Session's expires_at from 30 minutes to 24
// hours after it creates the session. A request's ExpiresAt is clamped to
// these bounds, measured from the Linker's clock when the request is
// built; the minute of margin on each side absorbs latency and clock skew
// so that Stripe never refuses the value.
const (
	MinSessionExpiry = 31 * time.Minute
	MaxSessionExpiry = 24*time.Hour - time.Minute
)

// maxIdempotencyKey is the longest Idempotency-Key Stripe accepts.
const maxIdempotencyKey = 255

// Config configures a Linker.
type Config struct {
	// SecretKey is a secret ("sk_…") or restricted ("rk_…") key. Required.
	// It appears in no error this package returns.
	SecretKey string
	// Mode picks the object created for a request. Defaults to
	// ModePaymentLink.
	Mode Mode
	// ReturnURL is where the payer goes after paying (and, for Checkout
	// Sessions, after canceling) when the request names no SuccessURL or
	// CancelURL. An absolute http or https URL. Optional; a Checkout
	// Session request that ends up with no success URL is refused as
	// permanent, since Stripe requires one. A Payment Link without one
	// shows Stripe's own confirmation page.
	ReturnURL string
	// APIBase replaces Stripe's API base, https://api.stripe.com, for
	// example with stripe-mock's URL. Optional.
	APIBase string
	// Timeout bounds one request, from connecting to reading Stripe's
	// answer. Defaults to DefaultTimeout (30s).
	Timeout time.Duration
}

// Linker creates payment links in one Stripe account. It is safe for
// concurrent use.
type Linker struct {
	cfg     Config
	client  *stripego.Client
	nowFunc func() time.Time
}

// New returns a Linker for cfg after filling in the documented defaults.
// It rejects a missing SecretKey or one that is not a secret or restricted
// key, an unknown Mode, a ReturnURL or APIBase that is not an absolute
// http(s) URL (APIBase may carry no credentials, query or fragment), and
// a negative Timeout. No error repeats the SecretKey.
func New(cfg Config) (*Linker, error) {
	switch {
	case cfg.SecretKey == "":
		return nil, errors.New("stripe: SecretKey is required")
	case !strings.HasPrefix(cfg.SecretKey, "sk_") && !strings.HasPrefix(cfg.SecretKey, "rk_"),
		strings.ContainsAny(cfg.SecretKey, " \t\r\n"):
		return nil, errors.New("stripe: SecretKey must be a secret key (sk_…) or a restricted key (rk_…)")
	}
	switch cfg.Mode {
	case "":
		cfg.Mode = ModePaymentLink
	case ModePaymentLink, ModeCheckoutSession:
	default:
		return nil, fmt.Errorf("stripe: Mode %q is not %q or %q", cfg.Mode, ModePaymentLink, ModeCheckoutSession)
	}
	if cfg.ReturnURL != "" {
		if _, err := parseHTTPURL(cfg.ReturnURL); err != nil {
			return nil, fmt.Errorf("stripe: ReturnURL: %w", err)
		}
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	base, err := parseHTTPURL(cfg.APIBase)
	if err != nil {
		return nil, fmt.Errorf("stripe: APIBase: %w", err)
	}
	if base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return nil, errors.New("stripe: APIBase must not carry credentials, a query or a fragment")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("stripe: Timeout %s is negative", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}

	hc := &http.Client{
		// http.DefaultTransport lets Linkers built per tenant share
		// connections.
		Transport: answerTransport{next: http.DefaultTransport},
		Timeout:   cfg.Timeout,
		// Stripe does not redirect API calls; a redirect is an answer to
		// classify.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	backend := stripego.GetBackendWithConfig(stripego.APIBackend, &stripego.BackendConfig{
		HTTPClient: hc,
		URL:        stripego.String(cfg.APIBase),
		// The worker retries with backoff after classifying; retries
		// inside stripe-go would hide the answer and double the wait.
		MaxNetworkRetries: stripego.Int64(0),
		// Errors are returned and logged once by the caller, not printed
		// by stripe-go.
		LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull},
	})
	client := stripego.NewClient(cfg.SecretKey, stripego.WithBackends(&stripego.Backends{
		API: backend, Connect: backend, Uploads: backend, MeterEvents: backend,
	}))
	return &Linker{cfg: cfg, client: client, nowFunc: time.Now}, nil
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

// CreatePaymentLink creates a Payment Link or a Checkout Session (see
// Config.Mode) for r's amount: one line item "Invoice <Number>" in r's
// currency, with metadata tenant_id, invoice_id and invoice_number on the
// object and on the PaymentIntent it leads to.
//
// r.IdempotencyKey is sent as the Idempotency-Key header, so a retry
// within Stripe's 24 hours returns the first object; a key longer than
// Stripe's 255 characters is sent as "sha256:" and its hex digest. With
// no key, stripe-go sends a random one.
//
// A Payment Link's URL carries r.CustomerEmail as the prefilled_email
// query parameter, which fills in the payer's email on Stripe's page; a
// Checkout Session gets it as customer_email.
//
// Amounts are in the currency's ISO 4217 minor unit, as in
// providers.PaymentRequest. ISK is sent in hundredths, which is how
// Stripe counts it; a three-decimal currency (BHD, JOD, KWD, OMR, TND)
// must end in 0, as Stripe requires, or the request is refused.
//
// A ctx that is already done sends nothing. The request is bounded by
// Config.Timeout; reaching it gives a transient error that wraps
// context.DeadlineExceeded and says "timed out".
func (l *Linker) CreatePaymentLink(ctx context.Context, r *providers.PaymentRequest) (*providers.PaymentLink, error) {
	if err := validRequest(r); err != nil {
		return nil, providers.Permanent("invalid_request", fmt.Errorf("stripe: %w", err))
	}
	amount, err := stripeAmount(r.Amount, r.Currency)
	if err != nil {
		return nil, providers.Permanent("invalid_request", fmt.Errorf("stripe: %w", err))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("stripe: request not started: %w", err)
	}
	reqCtx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	ans := &answer{}
	reqCtx = context.WithValue(reqCtx, answerKey{}, ans)

	if l.cfg.Mode == ModeCheckoutSession {
		return l.createCheckoutSession(ctx, reqCtx, ans, r, amount)
	}
	return l.createPaymentLink(ctx, reqCtx, ans, r, amount)
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
	return nil
}

// stripeAmount converts minor units of ISO 4217 to the amount Stripe
// expects: the same, except ISK, which Stripe keeps as a two-decimal
// currency. Three-decimal currencies must end in 0.
func stripeAmount(minor int64, code string) (int64, error) {
	cur, err := money.ParseCurrency(code)
	if err != nil {
		return 0, err
	}
	switch {
	case cur.Code == "ISK":
		if minor > (1<<63-1)/100 {
			return 0, fmt.Errorf("amount %d ISK is too large", minor)
		}
		return minor * 100, nil
	case cur.Digits == 3 && minor%10 != 0:
		return 0, fmt.Errorf("amount %s %s: Stripe needs three-decimal amounts to end in 0",
			money.Format(minor, cur.Digits), cur.Code)
	}
	return minor, nil
}

// isoAmount undoes stripeAmount for an amount Stripe reports.
func isoAmount(amount int64, code string) int64 {
	if strings.EqualFold(code, "ISK") {
		return amount / 100
	}
	return amount
}

// metadata tags the object and its PaymentIntent with where it came from;
// ParseWebhook reads it back from the Checkout Session.
func metadata(r *providers.PaymentRequest) map[string]string {
	return map[string]string{
		"tenant_id":      r.TenantID,
		"invoice_id":     r.InvoiceID,
		"invoice_number": r.Number,
	}
}

func productName(r *providers.PaymentRequest) string { return "Invoice " + r.Number }

// productDescription is r.Description unless it only repeats the name.
func productDescription(r *providers.PaymentRequest) *string {
	if r.Description == "" || r.Description == productName(r) {
		return nil
	}
	return stripego.String(r.Description)
}

func idempotencyKey(p *stripego.Params, key string) {
	if key == "" {
		return
	}
	if len(key) > maxIdempotencyKey {
		sum := sha256.Sum256([]byte(key))
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	p.SetIdempotencyKey(key)
}

func (l *Linker) createPaymentLink(ctx, reqCtx context.Context, ans *answer, r *providers.PaymentRequest, amount int64) (*providers.PaymentLink, error) {
	md := metadata(r)
	params := &stripego.PaymentLinkCreateParams{
		LineItems: []*stripego.PaymentLinkCreateLineItemParams{{
			PriceData: &stripego.PaymentLinkCreateLineItemPriceDataParams{
				Currency:   stripego.String(strings.ToLower(r.Currency)),
				UnitAmount: stripego.Int64(amount),
				ProductData: &stripego.PaymentLinkCreateLineItemPriceDataProductDataParams{
					Name:        stripego.String(productName(r)),
					Description: productDescription(r),
				},
			},
			Quantity: stripego.Int64(1),
		}},
		Metadata: md,
		PaymentIntentData: &stripego.PaymentLinkCreatePaymentIntentDataParams{
			Description: stripego.String(productName(r)),
			Metadata:    md,
		},
		Restrictions: &stripego.PaymentLinkCreateRestrictionsParams{
			CompletedSessions: &stripego.PaymentLinkCreateRestrictionsCompletedSessionsParams{
				Limit: stripego.Int64(1),
			},
		},
	}
	if success := firstNonEmpty(r.SuccessURL, l.cfg.ReturnURL); success != "" {
		params.AfterCompletion = &stripego.PaymentLinkCreateAfterCompletionParams{
			Type:     stripego.String("redirect"),
			Redirect: &stripego.PaymentLinkCreateAfterCompletionRedirectParams{URL: stripego.String(success)},
		}
	}
	idempotencyKey(&params.Params, r.IdempotencyKey)

	link, err := l.client.V1PaymentLinks.Create(reqCtx, params)
	if err != nil {
		return nil, l.classify(ctx, "create payment link", ans, err)
	}
	if link == nil || link.ID == "" || link.URL == "" {
		return nil, fmt.Errorf("stripe: create payment link: HTTP %d answer has no id or url", ans.status)
	}
	u, err := withPrefilledEmail(link.URL, r.CustomerEmail)
	if err != nil {
		return nil, fmt.Errorf("stripe: create payment link: answer's url: %w", err)
	}
	return &providers.PaymentLink{URL: u, ID: link.ID}, nil
}

// DeactivatePaymentLink switches off the link with id, which this package
// created: a Payment Link ("plink_…") is updated to active=false, a
// Checkout Session ("cs_…") is expired. It is for an invoice paid another
// way, or voided, whose link could otherwise still take a payment.
// Deactivating a Payment Link twice succeeds; expiring a Checkout Session
// that is complete or already expired is a permanent error from Stripe
// (stripe_http_400). Another id is refused as permanent with the code
// "invalid_request". Errors are classified as CreatePaymentLink's are.
func (l *Linker) DeactivatePaymentLink(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stripe: request not started: %w", err)
	}
	reqCtx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	ans := &answer{}
	reqCtx = context.WithValue(reqCtx, answerKey{}, ans)
	switch {
	case strings.HasPrefix(id, "plink_"):
		_, err := l.client.V1PaymentLinks.Update(reqCtx, id, &stripego.PaymentLinkUpdateParams{Active: stripego.Bool(false)})
		if err != nil {
			return l.classify(ctx, "deactivate payment link", ans, err)
		}
	case strings.HasPrefix(id, "cs_"):
		_, err := l.client.V1CheckoutSessions.Expire(reqCtx, id, &stripego.CheckoutSessionExpireParams{})
		if err != nil {
			return l.classify(ctx, "expire checkout session", ans, err)
		}
	default:
		return providers.Permanent("invalid_request", fmt.Errorf("stripe: %q is not a Payment Link or Checkout Session id", id))
	}
	return nil
}

// withPrefilledEmail adds Stripe's prefilled_email parameter to a Payment
// Link's URL.
func withPrefilledEmail(raw, email string) (string, error) {
	if email == "" {
		return raw, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("prefilled_email", email)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func (l *Linker) createCheckoutSession(ctx, reqCtx context.Context, ans *answer, r *providers.PaymentRequest, amount int64) (*providers.PaymentLink, error) {
	success := firstNonEmpty(r.SuccessURL, l.cfg.ReturnURL)
	if success == "" {
		return nil, providers.Permanent("invalid_request", errors.New(
			"stripe: a Checkout Session needs a success URL: the request has no SuccessURL and Config.ReturnURL is empty"))
	}
	md := metadata(r)
	params := &stripego.CheckoutSessionCreateParams{
		Mode: stripego.String(string(stripego.CheckoutSessionModePayment)),
		LineItems: []*stripego.CheckoutSessionCreateLineItemParams{{
			PriceData: &stripego.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:   stripego.String(strings.ToLower(r.Currency)),
				UnitAmount: stripego.Int64(amount),
				ProductData: &stripego.CheckoutSessionCreateLineItemPriceDataProductDataParams{
					Name:        stripego.String(productName(r)),
					Description: productDescription(r),
				},
			},
			Quantity: stripego.Int64(1),
		}},
		Metadata: md,
		PaymentIntentData: &stripego.CheckoutSessionCreatePaymentIntentDataParams{
			Description: stripego.String(productName(r)),
			Metadata:    md,
		},
		SuccessURL: stripego.String(success),
	}
	if cancel := firstNonEmpty(r.CancelURL, l.cfg.ReturnURL); cancel != "" {
		params.CancelURL = stripego.String(cancel)
	}
	if r.CustomerEmail != "" {
		params.CustomerEmail = stripego.String(r.CustomerEmail)
	}
	if !r.ExpiresAt.IsZero() {
		params.ExpiresAt = stripego.Int64(l.sessionExpiry(r.ExpiresAt).Unix())
	}
	idempotencyKey(&params.Params, r.IdempotencyKey)

	s, err := l.client.V1CheckoutSessions.Create(reqCtx, params)
	if err != nil {
		return nil, l.classify(ctx, "create checkout session", ans, err)
	}
	if s == nil || s.ID == "" || s.URL == "" {
		return nil, fmt.Errorf("stripe: create checkout session: HTTP %d answer has no id or url", ans.status)
	}
	link := &providers.PaymentLink{URL: s.URL, ID: s.ID}
	if s.ExpiresAt > 0 {
		at := time.Unix(s.ExpiresAt, 0).UTC()
		link.ExpiresAt = &at
	}
	return link, nil
}

// sessionExpiry clamps at into [now+MinSessionExpiry, now+MaxSessionExpiry],
// truncated to the second Stripe counts in.
func (l *Linker) sessionExpiry(at time.Time) time.Time {
	now := l.nowFunc()
	lo, hi := now.Add(MinSessionExpiry), now.Add(MaxSessionExpiry)
	switch {
	case at.Before(lo):
		// Rounded up so that truncation keeps it inside the window.
		at = lo.Add(time.Second - 1)
	case at.After(hi):
		at = hi
	}
	return at.Truncate(time.Second)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// answerKey finds a request's *answer in its context.
type answerKey struct{}

// answer keeps what stripe-go drops from its errors: the HTTP status of
// an answer it could not read as Stripe's error JSON, and Retry-After.
type answer struct {
	status     int
	retryAfter string
}

// answerTransport records each answer's status in the *answer its
// request's context carries.
type answerTransport struct{ next http.RoundTripper }

func (t answerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if a, ok := req.Context().Value(answerKey{}).(*answer); ok {
		a.status = resp.StatusCode
		a.retryAfter = resp.Header.Get("Retry-After")
	}
	return resp, nil
}

// apiError is Stripe's error with a message of our own making: the text
// names the status, code, parameter, message and request id, never the
// key, while errors.As still finds the *stripe.Error.
type apiError struct {
	msg string
	err error
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.err }

// classify turns a failed call into a providers error. ctx is the
// caller's, without the Linker's timeout.
func (l *Linker) classify(ctx context.Context, op string, ans *answer, err error) error {
	status := ans.status
	var se *stripego.Error
	if errors.As(err, &se) && se.HTTPStatusCode != 0 {
		status = se.HTTPStatusCode
	}

	if status == 0 {
		// No answer: a canceled ctx, a timeout or a network error. All
		// are transient.
		if ctxErr := ctx.Err(); ctxErr != nil {
			if !errors.Is(err, ctxErr) {
				err = fmt.Errorf("%w (%w)", ctxErr, l.scrubbed(err))
			}
			return fmt.Errorf("stripe: %s: %w", op, err)
		}
		var netErr net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout() {
			return fmt.Errorf("stripe: %s: timed out after %s: %w", op, l.cfg.Timeout, l.scrubbed(err))
		}
		return fmt.Errorf("stripe: %s: %w", op, l.scrubbed(err))
	}

	code := ""
	var wrapped error
	if se != nil {
		code = string(se.Code)
		wrapped = &apiError{msg: l.describe(op, status, se), err: err}
	} else {
		// An answer that is not Stripe's error JSON, e.g. from a proxy.
		wrapped = fmt.Errorf("stripe: %s: HTTP %d: %w", op, status, l.scrubbed(err))
	}
	switch {
	case status == http.StatusTooManyRequests:
		return providers.RetryAfter(l.retryDelay(ans.retryAfter), wrapped)
	case status >= 500, status == http.StatusRequestTimeout, status == http.StatusConflict:
		return wrapped
	case status >= 400 && code != "":
		return providers.Permanent("stripe_"+code, wrapped)
	case status >= 400:
		return providers.Permanent("stripe_http_"+strconv.Itoa(status), wrapped)
	}
	// A 2xx or 3xx answer stripe-go could not read: unknown, so transient.
	return wrapped
}

// describe writes Stripe's error as one line, e.g. "stripe: create
// payment link: HTTP 400 invalid_request_error parameter_invalid_integer
// (param line_items[0][price_data][unit_amount]): Invalid integer: abc
// [request req_123]".
func (l *Linker) describe(op string, status int, se *stripego.Error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "stripe: %s: HTTP %d", op, status)
	for _, part := range []string{string(se.Type), string(se.Code)} {
		if part != "" {
			b.WriteString(" " + part)
		}
	}
	if se.Param != "" {
		fmt.Fprintf(&b, " (param %s)", se.Param)
	}
	if se.Msg != "" {
		b.WriteString(": " + l.scrub(se.Msg))
	}
	if se.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", se.RequestID)
	}
	return b.String()
}

func (l *Linker) scrub(s string) string {
	if l.cfg.SecretKey == "" {
		return s
	}
	return strings.ReplaceAll(s, l.cfg.SecretKey, "[redacted]")
}

// scrubbed returns err, or an error with err's text scrubbed of the key
// that still unwraps to err.
func (l *Linker) scrubbed(err error) error {
	if msg := err.Error(); l.cfg.SecretKey != "" && strings.Contains(msg, l.cfg.SecretKey) {
		return &apiError{msg: l.scrub(msg), err: err}
	}
	return err
}

// retryDelay reads a Retry-After header, in seconds or as an HTTP date,
// capped at MaxRetryAfter. A missing, malformed, zero or past value gives
// DefaultRetryAfter.
func (l *Linker) retryDelay(header string) time.Duration {
	return providers.ParseRetryAfter(header, l.nowFunc(), DefaultRetryAfter, MaxRetryAfter)
}
