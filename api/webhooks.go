package api

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

type webhookRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// webhookView is an endpoint as the API shows it; the secret only on
// creation.
type webhookView struct {
	*store.WebhookEndpoint
	Secret string `json:"secret,omitempty"`
}

// newWebhookSecret returns a Standard Webhooks secret: "whsec_" and 32
// random bytes in base64.
func newWebhookSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:])
}

// checkWebhookURL refuses URLs that are not absolute http(s), carry
// credentials, or name a literal internal address. Host names are checked
// again where it counts, when the worker dials: after DNS, so rebinding
// cannot slip through.
func checkWebhookURL(raw string, allow []netip.Prefix) string {
	if len(raw) > 2048 {
		return "must be at most 2048 characters"
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return "must be an absolute https:// URL"
	case u.User != nil:
		return "must not contain credentials"
	case u.Fragment != "":
		return "must not contain a fragment"
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		ip = ip.Unmap()
		for _, p := range allow {
			if p.Contains(ip) {
				return ""
			}
		}
		if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() ||
			netip.MustParsePrefix("100.64.0.0/10").Contains(ip) {
			return "must not point at an internal address"
		}
	}
	return ""
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) *Error {
	var req webhookRequest
	if err := decodeJSON(bodyOf(r), &req, false); err != nil {
		return err
	}
	fe := map[string]string{}
	if problem := checkWebhookURL(req.URL, a.cfg.WebhookAllowNets); problem != "" {
		fe["url"] = problem
	}
	for i, ev := range req.Events {
		if !slices.Contains(store.EventTypes, ev) {
			fe[fmt.Sprintf("events[%d]", i)] = fmt.Sprintf("%q is not an event type", ev)
		}
	}
	if len(fe) > 0 {
		return errValidation("the webhook endpoint has invalid fields", fe)
	}
	e := &store.WebhookEndpoint{ID: store.NewID("whe"), URL: req.URL, Events: req.Events, Secret: newWebhookSecret(), CreatedAt: a.st.Now()}
	if e.Events == nil {
		e.Events = []string{}
	}
	if err := a.st.SaveEndpoint(r.Context(), tenantFrom(r.Context()).ID, e); err != nil {
		return errInternal(err)
	}
	writeData(w, http.StatusCreated, webhookView{WebhookEndpoint: e, Secret: e.Secret})
	return nil
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) *Error {
	list, err := a.st.Endpoints(r.Context(), tenantFrom(r.Context()).ID)
	if err != nil {
		return errInternal(err)
	}
	slices.SortFunc(list, func(x, y *store.WebhookEndpoint) int { return x.CreatedAt.Compare(y.CreatedAt) })
	writeData(w, http.StatusOK, list)
	return nil
}

func (a *API) loadWebhook(r *http.Request) (*store.WebhookEndpoint, *Error) {
	e, err := a.st.Endpoint(r.Context(), tenantFrom(r.Context()).ID, r.PathValue("id"))
	if err != nil {
		return nil, asError(err, "webhook endpoint")
	}
	return e, nil
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request) *Error {
	e, apiErr := a.loadWebhook(r)
	if apiErr != nil {
		return apiErr
	}
	writeData(w, http.StatusOK, e)
	return nil
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) *Error {
	err := a.st.DeleteEndpoint(r.Context(), tenantFrom(r.Context()).ID, r.PathValue("id"))
	if err != nil {
		return asError(err, "webhook endpoint")
	}
	writeData(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "deleted": true})
	return nil
}

// webhookAttempts handles GET /api/v1/webhooks/{id}/attempts?eventId=&limit=.
func (a *API) webhookAttempts(w http.ResponseWriter, r *http.Request) *Error {
	e, apiErr := a.loadWebhook(r)
	if apiErr != nil {
		return apiErr
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return errField("limit", "must be a whole number from 1 to 1000")
		}
		limit = n
	}
	list, err := a.st.WebhookAttempts(r.Context(), tenantFrom(r.Context()).ID, e.ID, r.URL.Query().Get("eventId"), limit)
	if err != nil {
		return errInternal(err)
	}
	writeData(w, http.StatusOK, list)
	return nil
}

type replayRequest struct {
	EventID string `json:"eventId"`
}

// replayWebhook handles POST /api/v1/webhooks/{id}/replay {"eventId"}: the
// event is delivered again, with its original webhook-id, on a fresh
// schedule. A disabled endpoint is re-enabled first.
func (a *API) replayWebhook(w http.ResponseWriter, r *http.Request) *Error {
	ctx := r.Context()
	tenant := tenantFrom(ctx)
	e, apiErr := a.loadWebhook(r)
	if apiErr != nil {
		return apiErr
	}
	var req replayRequest
	if err := decodeJSON(bodyOf(r), &req, false); err != nil {
		return err
	}
	ev, err := a.st.Event(ctx, tenant.ID, req.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return errField("eventId", "is not an event of the last 30 days")
	}
	if err != nil {
		return errInternal(err)
	}
	if e.Disabled {
		e.Disabled, e.DisabledWhy, e.DisabledAt = false, "", nil
		if err := a.st.SaveEndpoint(ctx, tenant.ID, e); err != nil {
			return errInternal(err)
		}
	}
	replay := strconv.FormatInt(time.Now().UnixNano(), 36)
	task, err := tasks.NewWebhookTask(tasks.WebhookPayload{TenantID: tenant.ID, EndpointID: e.ID, EventID: ev.ID, Attempt: 1, Replay: replay}, time.Time{})
	if err == nil {
		_, err = a.cfg.Enqueuer.EnqueueContext(ctx, task)
	}
	if err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "the replay could not be queued; retry", cause: err}
	}
	writeData(w, http.StatusAccepted, map[string]any{"endpointId": e.ID, "eventId": ev.ID, "status": "queued"})
	return nil
}

func (a *API) listSuppressions(w http.ResponseWriter, r *http.Request) *Error {
	list, err := a.st.Suppressions(r.Context(), tenantFrom(r.Context()).ID)
	if err != nil {
		return errInternal(err)
	}
	writeData(w, http.StatusOK, list)
	return nil
}

// deleteSuppression handles DELETE /api/v1/suppressions/{address}.
func (a *API) deleteSuppression(w http.ResponseWriter, r *http.Request) *Error {
	ctx := r.Context()
	tenantID := tenantFrom(ctx).ID
	addr := r.PathValue("address")
	found, _, err := a.st.Suppressed(ctx, tenantID, addr)
	if err != nil {
		return errInternal(err)
	}
	if found == "" {
		return errNotFound("suppressed address")
	}
	if err := a.st.Unsuppress(ctx, tenantID, addr); err != nil {
		return errInternal(err)
	}
	writeData(w, http.StatusOK, map[string]any{"address": addr, "deleted": true})
	return nil
}
