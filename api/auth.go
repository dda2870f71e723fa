package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
)

type tenantKey struct{}

func withTenant(ctx context.Context, t store.Tenant) context.Context {
	return context.WithValue(ctx, tenantKey{}, t)
}

// tenantFrom returns the authenticated tenant.
func tenantFrom(ctx context.Context) store.Tenant {
	t, _ := ctx.Value(tenantKey{}).(store.Tenant)
	return t
}

// requestToken finds the API token in the Authorization bearer header, the
// x-api-token header or the access_token cookie, in that order, and says
// whether it came from the cookie. An Authorization header of another
// scheme (a browser's cached Basic credentials) carries no API token.
func requestToken(r *http.Request) (token string, fromCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok), false
		}
	}
	if tok := r.Header.Get("X-Api-Token"); tok != "" {
		return strings.TrimSpace(tok), false
	}
	if c, err := r.Cookie("access_token"); err == nil {
		return c.Value, true
	}
	return "", false
}

// crossSite reports whether r is a state-changing request that a browser
// sent from another site. Browsers say where a request came from in
// Sec-Fetch-Site, and in Origin for every cross-origin POST; clients other
// than browsers send neither and are never refused.
//
// Such a request is a forgery when the browser added its credentials by
// itself — the access_token cookie, or cached Basic credentials — since
// the page that sent it never saw them; callers refuse it then. A request
// whose token came from a header a page had to set is not one.
func crossSite(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host)
}

// errCrossSite refuses a cross-site request authenticated by credentials
// the browser added by itself.
var errCrossSite = &Error{Status: http.StatusForbidden, Code: CodeForbidden,
	Message: "a request from another site cannot use the browser's access_token cookie or Basic credentials: send the token in the Authorization: Bearer header"}

// authenticate resolves the token's tenant. X-Tenant-ID or X-Company, when
// sent, must name that tenant: by its id, or by its company UUID
// (Tenant.CompanyID). The headers only confirm the tenant the token
// already chose, which is why a company UUID need not be unique.
func (a *API) authenticate(next handlerFunc) http.Handler {
	return a.authenticateReading(false, next)
}

// authenticateSend is authenticate for the routes that send the invoice
// in their path ({id}): the invoice and the tenant's settings are read
// with the token and its tenant, in the same round trip
// (store.TenantAndInvoiceForSend), for the handler to take with
// invoiceForSend. They are read for the tenant the token names and kept
// whatever the request's fate, which a refusal (401, 403) or a replayed
// Idempotency-Key leaves unused.
func (a *API) authenticateSend(next handlerFunc) http.Handler {
	return a.authenticateReading(true, next)
}

// authenticateReading is authenticate, and authenticateSend when
// readsInvoice.
func (a *API) authenticateReading(readsInvoice bool, next handlerFunc) http.Handler {
	return a.wrap(func(w http.ResponseWriter, r *http.Request) *Error {
		token, fromCookie := requestToken(r)
		if token == "" {
			return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
				Message: "missing API token: send Authorization: Bearer <token>, x-api-token, or the access_token cookie"}
		}
		if fromCookie && crossSite(r) {
			return errCrossSite
		}
		ctx := r.Context()
		var t store.Tenant
		var err error
		if id := r.PathValue("id"); readsInvoice && invoice.ValidID(id) {
			read := &invoiceRead{id: id}
			t, read.InvoiceRead, err = a.st.TenantAndInvoiceForSend(ctx, token, id)
			ctx = context.WithValue(ctx, invoiceReadKey{}, read)
		} else {
			t, err = a.st.TenantByToken(ctx, token)
		}
		if errors.Is(err, store.ErrNotFound) {
			return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "the API token is not valid"}
		}
		if err != nil {
			return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "authentication is unavailable; retry shortly", cause: err}
		}
		for _, h := range []string{"X-Tenant-ID", "X-Company"} {
			if ref := r.Header.Get(h); ref != "" && !t.NamedBy(ref) {
				return &Error{Status: http.StatusForbidden, Code: CodeForbidden,
					Message: h + " names neither the token's tenant id nor its companyId"}
			}
		}
		return next(w, r.WithContext(withTenant(ctx, t)))
	})
}

type invoiceReadKey struct{}

// invoiceRead is the invoice id that authenticateSend read, with its
// tenant's settings.
type invoiceRead struct {
	id string
	store.InvoiceRead
}

// loadInvoiceForSend is loadInvoice for the routes of authenticateSend:
// it returns the settings too (invoiceForSend).
func (a *API) loadInvoiceForSend(r *http.Request) (*invoice.Invoice, store.Settings, *Error) {
	id := r.PathValue("id")
	if !invoice.ValidID(id) {
		return nil, store.Settings{}, errNotFound("invoice")
	}
	inv, settings, err := a.invoiceForSend(r, id)
	if err != nil {
		return nil, store.Settings{}, asError(err, "invoice")
	}
	return inv, settings, nil
}

// invoiceForSend returns the authenticated tenant's invoice id with the
// tenant's settings, as store.InvoiceForSend does: those
// authenticateSend read with the token, else read now.
func (a *API) invoiceForSend(r *http.Request, id string) (*invoice.Invoice, store.Settings, error) {
	ctx := r.Context()
	if read, ok := ctx.Value(invoiceReadKey{}).(*invoiceRead); ok && read.id == id {
		return read.Invoice, read.Settings, read.Err
	}
	return a.st.InvoiceForSend(ctx, tenantFrom(ctx).ID, id)
}
