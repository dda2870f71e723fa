// Package api is invoiced's thin HTTP enqueue API: it authenticates,
// validates, stores and enqueues. It never delivers anything itself; the
// only rendering it does is for the read-only PDF endpoints.
package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/store"
)

// Enqueuer puts tasks on the queue; *asynq.Client is one.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// TaskDeleter removes a waiting task; *asynq.Inspector is one.
type TaskDeleter interface {
	DeleteTask(queue, id string) error
}

// PDFRenderer renders invoice PDFs; *pdf.Cache is one.
type PDFRenderer interface {
	Render(doc pdf.Document) ([]byte, error)
}

// Metrics counts the delivery statuses the API records (provider
// callbacks, tracking, sends that could not be queued);
// *metrics.Metrics is one.
type Metrics interface {
	DeliveryStatus(d *store.Delivery)
}

// noMetrics is the Metrics of an API configured without any.
type noMetrics struct{}

func (noMetrics) DeliveryStatus(*store.Delivery) {}

// Config configures the API.
type Config struct {
	Store    *store.Store
	Enqueuer Enqueuer
	Tasks    TaskDeleter
	PDF      PDFRenderer
	Logger   *zap.Logger
	// AdminToken protects /admin/v1. Empty disables the admin API.
	AdminToken string
	// DefaultEmailProvider is what tenants without an email provider use;
	// empty means none, and their sends answer email_not_configured.
	DefaultEmailProvider string
	// DefaultSMSProvider is what tenants without an SMS provider use;
	// empty means none.
	DefaultSMSProvider string
	// SESVerified reports whether SES has verified identity (an address,
	// or its domain) for the account in settings. Nil skips the check.
	SESVerified func(ctx context.Context, settings store.SESSettings, identity string) (bool, error)
	// SESSharedCredentials lets a tenant whose ses settings carry no
	// access key of its own send with the deployment's AWS credentials,
	// as the identities the operator granted it
	// (store.Tenant.SESIdentities) and no others. Off, such settings are
	// refused (400 naming email.ses.accessKeyId; 403 at send for one
	// stored before).
	SESSharedCredentials bool
	// SES verifies SES event notifications from SNS. Nil disables
	// /callbacks/ses.
	SES SESCallbacks
	// TwilioValidator checks Twilio's callback signatures. Nil disables
	// /callbacks/twilio.
	TwilioValidator TwilioValidator
	// StripeEvents verifies Stripe webhooks. Nil disables
	// /callbacks/stripe/{tenant}.
	StripeEvents StripeEvents
	// WebhookAllowNets are internal networks webhook endpoints may point
	// at (on-premises installs).
	WebhookAllowNets []netip.Prefix
	// SMTPAllowNets are internal networks tenants' SMTP hosts may be on
	// (on-premises installs).
	SMTPAllowNets []netip.Prefix
	// TrustedProxies are the reverse proxies and load balancers in front
	// of the API. A request that comes through one of them is from the
	// address its X-Forwarded-For names (see clientIP); that is the
	// address kept with an open or a click. None by default:
	// X-Forwarded-For is ignored and the connection's peer is the client.
	TrustedProxies []netip.Prefix
	// PublicBaseURL is the externally visible base URL, used in links such
	// as publicPdfUrl. Defaults to http://localhost:8080.
	PublicBaseURL string
	// MaxBodyBytes limits request bodies. Defaults to 2 MiB.
	MaxBodyBytes int64
	// Ready reports whether the service can take requests; /readyz calls
	// it. Defaults to pinging Redis through the store.
	Ready func(context.Context) error
	// Metrics counts delivery status changes. Nil counts nothing.
	Metrics Metrics
	// MetricsHandler serves GET /metrics to holders of the admin token.
	// Nil, or an empty AdminToken, leaves /metrics out (404).
	MetricsHandler http.Handler
	// MaxEmailsPerHour is the operator's ceiling on a tenant's hourly
	// email limit: PUT /settings refuses a larger defaults.emailsPerHour,
	// and a tenant that set more before the ceiling was lowered gets the
	// ceiling. Defaults to store.DefaultMaxEmailsPerHour.
	MaxEmailsPerHour int
	// RetentionDays is how many days an invoice is kept once final when
	// its tenant sets no defaults.retentionDays; GET /settings shows it.
	// Defaults to store.DefaultRetentionDays.
	RetentionDays int
	// Monitoring serves the queue dashboard under /monitoring/ to holders
	// of the admin token; it must expect that path prefix. Nil, or an
	// empty AdminToken, leaves /monitoring/ out (404).
	Monitoring http.Handler
}

// API serves invoiced's HTTP routes.
type API struct {
	cfg Config
	log *zap.Logger
	st  *store.Store
}

// New returns the API for cfg.
func New(cfg Config) (*API, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("api: Store is required")
	case cfg.Enqueuer == nil:
		return nil, errors.New("api: Enqueuer is required")
	case cfg.Tasks == nil:
		return nil, errors.New("api: Tasks (an asynq inspector) is required")
	case cfg.PDF == nil:
		return nil, errors.New("api: PDF renderer is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	trusted := make([]netip.Prefix, 0, len(cfg.TrustedProxies))
	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return nil, fmt.Errorf("api: TrustedProxies: %v is not a valid prefix", p)
		}
		trusted = append(trusted, p.Masked())
	}
	cfg.TrustedProxies = trusted
	if cfg.PublicBaseURL == "" {
		cfg.PublicBaseURL = "http://localhost:8080"
	}
	cfg.PublicBaseURL = strings.TrimRight(cfg.PublicBaseURL, "/")
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 2 << 20
	}
	switch {
	case cfg.MaxEmailsPerHour < 0:
		return nil, fmt.Errorf("api: MaxEmailsPerHour %d is negative", cfg.MaxEmailsPerHour)
	case cfg.MaxEmailsPerHour == 0:
		cfg.MaxEmailsPerHour = store.DefaultMaxEmailsPerHour
	}
	if cfg.Ready == nil {
		cfg.Ready = cfg.Store.Ready
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	return &API{cfg: cfg, log: cfg.Logger, st: cfg.Store}, nil
}

// handlerFunc is a route handler that returns its error instead of writing
// it, so every error goes out in the same shape.
type handlerFunc func(w http.ResponseWriter, r *http.Request) *Error

// routeMux is an http.ServeMux that keeps the patterns it was given.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// Handler returns the routes.
func (a *API) Handler() http.Handler { return a.recoverPanics(a.routes()) }

// Routes returns the pattern of every route Handler serves, such as
// "POST /api/v1/invoices" or "/monitoring/", in the order they were
// added; the catch-all that answers 404 is left out. The routes that
// depend on the configuration (/metrics, /monitoring/) are listed only
// when they are served.
func (a *API) Routes() []string {
	m := a.routes()
	return m.patterns[:len(m.patterns)-1]
}

func (a *API) routes() *routeMux {
	mux := &routeMux{ServeMux: http.NewServeMux()}
	tenant := func(pattern string, h handlerFunc) {
		mux.Handle(pattern, a.authenticate(a.idempotent(h)))
	}
	// sending is tenant for a route that sends the invoice in its path,
	// which is read with the token (authenticateSend).
	sending := func(pattern string, h handlerFunc) {
		mux.Handle(pattern, a.authenticateSend(a.idempotent(h)))
	}

	mux.Handle("POST /admin/v1/tenants", a.adminOnly(a.idempotent(a.createTenant)))
	mux.Handle("PATCH /admin/v1/tenants/{tenant}", a.adminOnly(a.updateTenant))

	tenant("GET /api/v1/settings", a.getSettings)
	tenant("PUT /api/v1/settings", a.putSettings)
	tenant("POST /api/v1/settings/email/verify", a.verifySender)
	tenant("GET /api/v1/invoices/{id}/email-defaults", a.emailDefaults)
	tenant("GET /api/v1/invoices", a.listInvoices)
	tenant("POST /api/v1/invoices", a.createInvoice)
	mux.Handle("POST /api/v1/invoices/batch", a.authenticate(a.idempotentWithin(max(a.cfg.MaxBodyBytes, MaxBatchBodyBytes), a.createInvoices)))
	tenant("GET /api/v1/invoices/{id}", a.getInvoice)
	tenant("POST /api/v1/invoices/{id}/finalize", a.finalizeInvoice)
	sending("POST /api/v1/invoices/{id}/send", a.sendInvoice)
	sending("POST /api/v1/invoices/{id}/resend", a.resendInvoice)
	tenant("DELETE /api/v1/invoices/{id}/sends/{sendId}", a.cancelSend)
	tenant("GET /api/v1/scheduled-sends", a.listScheduledSends)
	tenant("GET /api/v1/deliveries", a.listDeliveries)
	tenant("GET /api/v1/deliveries/export", a.exportDeliveries)
	tenant("GET /api/v1/invoices/{id}/delivery-status", a.deliveryStatus)
	tenant("GET /api/v1/invoices/{id}/pdf", a.invoicePDF)
	tenant("GET /api/v1/invoices/{id}/emails", a.invoiceEmails)
	tenant("GET /api/v1/invoices/{id}/xml", a.invoiceXML)
	tenant("GET /api/v1/invoices/{id}/payment-link", a.paymentLink)
	tenant("GET /api/v1/invoices/{id}/qr-code", a.qrCode)
	tenant("POST /api/v1/invoices/{id}/mark-paid", a.markPaid)
	tenant("POST /api/v1/invoices/{id}/void", a.voidInvoice)
	tenant("POST /api/v1/invoices/{id}/credit-notes", a.createCreditNote)

	tenant("GET /api/v1/webhooks", a.listWebhooks)
	tenant("POST /api/v1/webhooks", a.createWebhook)
	tenant("GET /api/v1/webhooks/{id}", a.getWebhook)
	tenant("DELETE /api/v1/webhooks/{id}", a.deleteWebhook)
	tenant("GET /api/v1/webhooks/{id}/attempts", a.webhookAttempts)
	tenant("POST /api/v1/webhooks/{id}/replay", a.replayWebhook)
	tenant("GET /api/v1/suppressions", a.listSuppressions)
	tenant("DELETE /api/v1/suppressions/{address}", a.deleteSuppression)

	sending("POST /api/v1/invoices/{id}/send-email", a.fluxrateSendEmail)
	sending("POST /api/v1/invoices/{id}/email", a.stornoEmail)
	tenant("GET /v1/invoices/{id}", a.infinityGetInvoice)
	sending("POST /v1/invoices/{id}/send", a.infinitySend)

	mux.Handle("GET /i/{token}", tokenGranted(a.wrap(a.hosted)))
	mux.Handle("GET /i/{token}/pdf", tokenGranted(a.wrap(a.publicPDF)))
	mux.Handle("GET /i/{token}/qr-code", tokenGranted(a.wrap(a.publicQRCode)))
	mux.Handle("GET /i/{token}/logo", tokenGranted(a.wrap(a.publicLogo)))
	mux.Handle("GET /t/o/{token}", tokenGranted(http.HandlerFunc(a.trackOpen)))
	mux.Handle("POST /callbacks/ses", a.wrap(a.sesCallback))
	mux.Handle("POST /callbacks/twilio", a.wrap(a.twilioCallback))
	mux.Handle("POST /callbacks/stripe/{tenant}", a.wrap(a.stripeCallback))
	mux.Handle("GET /t/c/{token}", tokenGranted(a.wrap(a.trackClick)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.Handle("GET /readyz", a.wrap(a.readyz))
	mux.HandleFunc("GET /openapi.yaml", openAPI)
	if a.cfg.AdminToken != "" && a.cfg.MetricsHandler != nil {
		mux.Handle("GET /metrics", a.operatorOnly(a.cfg.MetricsHandler))
	}
	if a.cfg.AdminToken != "" && a.cfg.Monitoring != nil {
		mux.Handle("/monitoring/", a.operatorOnly(a.cfg.Monitoring))
	}
	// The catch-all stays last: Routes leaves it out.
	mux.Handle("/", a.wrap(func(w http.ResponseWriter, r *http.Request) *Error {
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "no route for " + r.Method + " " + r.URL.Path}
	}))
	return mux
}

// tokenGranted marks the answers of the pages a signed token in the path
// opens (/i/…, /t/…): never stored by a browser or a shared cache, where
// the next user of the machine or the proxy would find the invoice, and
// never sniffed into another content type.
func tokenGranted(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// logPath is r's path as logs may show it: the signed token of a
// token-granted page (/i/{token}…, /t/o/{token}, /t/c/{token}) opens an
// invoice to whoever holds it, so it is replaced by "[token]".
func logPath(r *http.Request) string {
	tok := r.PathValue("token")
	if tok == "" {
		return r.URL.Path
	}
	return strings.Replace(r.URL.Path, tok, "[token]", 1)
}

// wrap turns a handlerFunc into an http.Handler that writes its error.
func (a *API) wrap(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// recoverPanics turns a panic into a 500 with no stack trace in the body.
func (a *API) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.log.Error("panic in handler", zap.Any("panic", v), zap.String("path", logPath(r)), zap.ByteString("stack", debug.Stack()))
				a.writeError(w, r, errInternal(nil))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) *Error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.cfg.Ready(ctx); err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: store.NotReadyReason(err), RetryAfter: 5 * time.Second, cause: err}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// operatorOnly guards the operators' pages (/metrics, /monitoring/) with
// the admin token, as a bearer token or, since a browser cannot send one,
// as the password of HTTP Basic auth with any user name. A refusal asks
// the browser for that password. Since a browser adds cached Basic
// credentials by itself, a state-changing request from another site is
// refused whatever it carries.
func (a *API) operatorOnly(next http.Handler) http.Handler {
	return a.wrap(func(w http.ResponseWriter, r *http.Request) *Error {
		token, fromCookie := requestToken(r)
		_, password, basic := r.BasicAuth()
		if basic {
			token = password
		}
		if (basic || fromCookie) && crossSite(r) {
			return errCrossSite
		}
		if a.cfg.AdminToken == "" || token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(a.cfg.AdminToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="invoiced operators", charset="UTF-8"`)
			return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
				Message: "the admin token is required: send it as a bearer token, or as the password of HTTP Basic auth"}
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

func (a *API) adminOnly(next handlerFunc) http.Handler {
	return a.wrap(func(w http.ResponseWriter, r *http.Request) *Error {
		token, fromCookie := requestToken(r)
		if a.cfg.AdminToken == "" {
			return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "the admin API is disabled: set INVOICED_ADMIN_TOKEN"}
		}
		if fromCookie && crossSite(r) {
			return errCrossSite
		}
		if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(a.cfg.AdminToken)) != 1 {
			return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "a valid admin token is required"}
		}
		r = r.WithContext(withTenant(r.Context(), store.Tenant{ID: "admin"}))
		return next(w, r)
	})
}
