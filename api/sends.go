package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/render/ubl"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

var errTaskIDConflict = asynq.ErrTaskIDConflict

// Limits on a send request.
const (
	maxRecipients = 50
	maxSubjectLen = 998 // RFC 5322 line limit
	maxMessageLen = 20000
	maxNoteLen    = 2000
	maxScheduleIn = 366 * 24 * time.Hour
	// scheduleSlack lets a scheduledAt a little in the past (clock skew)
	// mean "now".
	scheduleSlack = 5 * time.Minute
)

// addressList accepts a JSON array of addresses or one comma-separated
// string.
type addressList []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *addressList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*l = nil
		return nil
	}
	var list []string
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				list = append(list, part)
			}
		}
	} else if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("must be an array of addresses or a comma-separated string")
	}
	*l = list
	return nil
}

// sendRequest is the canonical send body, a superset of the seed APIs'.
type sendRequest struct {
	SendVia     []string          `json:"sendVia"`
	Email       string            `json:"email"`
	To          string            `json:"to"`
	Cc          addressList       `json:"cc"`
	Bcc         addressList       `json:"bcc"`
	ReplyTo     string            `json:"replyTo"`
	Phone       string            `json:"phone"`
	Subject     string            `json:"subject"`
	Message     string            `json:"message"`
	Body        string            `json:"body"`
	Note        string            `json:"note"`
	Variables   map[string]string `json:"variables"`
	AttachPDF   *bool             `json:"attachPdf"`
	AttachXML   *bool             `json:"attachXml"`
	Language    string            `json:"language"`
	ScheduledAt string            `json:"scheduledAt"`
	TestMode    bool              `json:"testMode"`
}

// sendView is the canonical send answer, in Auxvault's shape: sentTo is
// one address, the email's when the send emails, else the phone's, and
// recipients has every channel's.
type sendView struct {
	InvoiceID string `json:"invoiceId"`
	SendID    string `json:"sendId"`
	// Kind is send, resend, auto (emailed when the grace period finalized
	// the invoice) or reminder.
	Kind       string          `json:"kind"`
	SentVia    []string        `json:"sentVia"`
	SentTo     string          `json:"sentTo"`
	Recipients []recipientView `json:"recipients"`
	// SentAt is when the send was accepted, or its scheduledAt when it
	// waits for that.
	SentAt time.Time `json:"sentAt"`
	// DeliveryStatus is the status its deliveries start with: scheduled
	// or queued, and canceled once a scheduled send is canceled.
	DeliveryStatus string     `json:"deliveryStatus"`
	Status         string     `json:"status"`
	ScheduledAt    *time.Time `json:"scheduledAt"`
	DeliveryIDs    []string   `json:"deliveryIds"`
	TestMode       bool       `json:"testMode,omitempty"`
}

// recipientView is where one channel of a send goes.
type recipientView struct {
	Method string `json:"method"`
	SentTo string `json:"sentTo"`
}

func newSendView(s *store.Send) sendView {
	v := sendView{InvoiceID: s.InvoiceID, SendID: s.ID, Kind: s.Kind, SentVia: []string{}, Recipients: []recipientView{},
		SentAt: s.CreatedAt, Status: string(s.Status), ScheduledAt: s.ScheduledAt, DeliveryIDs: s.DeliveryIDs, TestMode: s.TestMode}
	if s.ScheduledAt != nil {
		v.SentAt = *s.ScheduledAt
	}
	switch s.Status {
	case store.SendScheduled:
		v.DeliveryStatus = string(store.DeliveryScheduled)
	case store.SendCanceled:
		v.DeliveryStatus = string(store.DeliveryCanceled)
	default:
		v.DeliveryStatus = string(store.DeliveryQueued)
	}
	for _, ch := range s.Channels {
		to := s.Email
		if ch == store.ChannelSMS {
			to = s.Phone
		}
		v.SentVia = append(v.SentVia, string(ch))
		v.Recipients = append(v.Recipients, recipientView{Method: string(ch), SentTo: to})
		if v.SentTo == "" || ch == store.ChannelEmail {
			v.SentTo = to
		}
	}
	return v
}

// buildSend validates req against the invoice and returns the send to
// create. Recipients fall back to the customer's email and phone.
func buildSend(req *sendRequest, inv *invoice.Invoice, kind string, now time.Time) (*store.Send, *Error) {
	fe := invoice.FieldErrors{}
	send := &store.Send{
		ID: store.NewID("snd"), TenantID: inv.TenantID, InvoiceID: inv.ID, Kind: kind,
		Cc: req.Cc, Bcc: req.Bcc, ReplyTo: req.ReplyTo, Subject: req.Subject,
		Message: firstNonEmpty(req.Message, req.Body), Note: req.Note, Variables: req.Variables,
		AttachPDF: req.AttachPDF == nil || *req.AttachPDF, AttachXML: req.AttachXML != nil && *req.AttachXML,
		Language: req.Language, TestMode: req.TestMode,
	}
	via := req.SendVia
	if len(via) == 0 {
		via = []string{string(store.ChannelEmail)}
	}
	seen := map[store.Channel]bool{}
	for i, ch := range via {
		c := store.Channel(ch)
		if c != store.ChannelEmail && c != store.ChannelSMS {
			fe[fmt.Sprintf("sendVia[%d]", i)] = fmt.Sprintf("%q is not one of email, sms", ch)
			continue
		}
		if !seen[c] {
			seen[c] = true
			send.Channels = append(send.Channels, c)
		}
	}
	if req.Email != "" && req.To != "" && req.Email != req.To {
		fe["to"] = "is an alias of email; send one of them"
	}
	if seen[store.ChannelEmail] {
		send.Email = firstNonEmpty(req.Email, req.To, inv.Customer.Email)
		field := "email"
		if req.Email == "" && req.To != "" {
			field = "to"
		}
		if send.Email == "" {
			fe["email"] = "no recipient: set email, or the customer's email on the invoice"
		} else if err := invoice.CheckEmail(send.Email); err != nil {
			fe[field] = err.Error()
		}
	}
	if seen[store.ChannelSMS] {
		phone := firstNonEmpty(req.Phone, inv.Customer.Phone)
		if phone == "" {
			fe["phone"] = "no recipient: set phone, or the customer's phone on the invoice"
		} else if e164, err := invoice.NormalizePhone(phone, inv.Customer.Address.Country); err != nil {
			fe["phone"] = err.Error()
		} else {
			send.Phone = e164
		}
	}
	checkList := func(field string, list []string) {
		if len(list) > maxRecipients {
			fe[field] = fmt.Sprintf("has %d addresses, the limit is %d", len(list), maxRecipients)
		}
		for i, addr := range list {
			if err := invoice.CheckEmail(addr); err != nil {
				fe[fmt.Sprintf("%s[%d]", field, i)] = err.Error()
			}
		}
	}
	checkList("cc", req.Cc)
	checkList("bcc", req.Bcc)
	if req.ReplyTo != "" {
		if err := invoice.CheckEmail(req.ReplyTo); err != nil {
			fe["replyTo"] = err.Error()
		}
	}
	if err := invoice.CheckText(req.Subject, maxSubjectLen, false); err != nil {
		fe["subject"] = err.Error()
	}
	if req.Message != "" && req.Body != "" && req.Message != req.Body {
		fe["body"] = "is an alias of message; send one of them"
	}
	if err := invoice.CheckText(send.Message, maxMessageLen, true); err != nil {
		field := "message"
		if req.Message == "" {
			field = "body"
		}
		fe[field] = err.Error()
	}
	if err := invoice.CheckText(req.Note, maxNoteLen, true); err != nil {
		fe["note"] = err.Error()
	}
	for k, v := range req.Variables {
		if err := invoice.CheckText(v, 1000, true); err != nil {
			fe["variables."+k] = err.Error()
		}
	}
	if req.Language != "" && !invoice.ValidLanguage(req.Language) {
		fe["language"] = "must be a language code like en or ro"
	}
	if req.ScheduledAt != "" {
		at, err := time.Parse(time.RFC3339, req.ScheduledAt)
		switch {
		case err != nil:
			fe["scheduledAt"] = "must be an RFC 3339 time like 2026-12-01T09:00:00Z"
		case at.Before(now.Add(-scheduleSlack)):
			fe["scheduledAt"] = "is in the past"
		case at.After(now.Add(maxScheduleIn)):
			fe["scheduledAt"] = "is more than a year ahead"
		case at.After(now):
			at = at.UTC()
			send.ScheduledAt = &at
		}
	}
	if len(fe) > 0 {
		return nil, errValidation("the send request has invalid fields", fe)
	}
	return send, nil
}

// queueSend builds the send that req asks for and starts it. settings are
// the tenant's, or nil to read them.
func (a *API) queueSend(r *http.Request, inv *invoice.Invoice, req *sendRequest, kind string, settings *store.Settings) (*store.Send, *Error) {
	send, apiErr := buildSend(req, inv, kind, a.st.Now())
	if apiErr != nil {
		return nil, apiErr
	}
	if apiErr := a.startSend(r, inv, send, settings); apiErr != nil {
		return nil, apiErr
	}
	return send, nil
}

// startSend checks that the invoice can be sent the way asked, stores the
// send with its deliveries and enqueues it. A tenant with no email provider
// gets email_not_configured, and its draft is still finalized. settings
// are the tenant's, or nil to read them.
func (a *API) startSend(r *http.Request, inv *invoice.Invoice, send *store.Send, settings *store.Settings) *Error {
	budget, apiErr := a.vetSend(r, inv, send, settings)
	if apiErr != nil {
		return apiErr
	}
	return a.enqueueSend(r, send, budget)
}

// checkSend refuses a send that cannot go out (vetSend), and an email
// over the tenant's hourly limit (takeEmails), which it counts. given are
// the tenant's settings, or nil to read them.
func (a *API) checkSend(r *http.Request, inv *invoice.Invoice, send *store.Send, given *store.Settings) *Error {
	budget, apiErr := a.vetSend(r, inv, send, given)
	if apiErr != nil || budget == nil {
		return apiErr
	}
	return a.takeEmails(r, send, *budget)
}

// emailBudget is what a send takes from its tenant's hourly email budget:
// emails (one per recipient: to, cc and bcc) of limit.
type emailBudget struct{ emails, limit int }

// vetSend refuses a send that cannot go out: a void invoice, a channel
// with no provider or an unverified sender (checkChannels), attachments
// that cannot be made, or more recipients than the tenant's whole hourly
// limit. It returns what the send takes from the hourly budget, nil when
// it takes nothing (no email, or a test send). given are the tenant's
// settings, or nil to read them.
func (a *API) vetSend(r *http.Request, inv *invoice.Invoice, send *store.Send, given *store.Settings) (*emailBudget, *Error) {
	ctx := r.Context()
	if !inv.Status.Sendable() {
		return nil, &Error{Status: http.StatusUnprocessableEntity, Code: CodeNotSendable,
			Message: fmt.Sprintf("invoice %s is %s and cannot be sent", inv.ID, inv.Status)}
	}
	var settings store.Settings
	if given != nil {
		settings = *given
	} else {
		var err error
		if settings, err = a.st.Settings(ctx, inv.TenantID); err != nil {
			return nil, errInternal(err)
		}
	}
	if apiErr := a.checkChannels(r, inv, send, settings); apiErr != nil {
		return nil, apiErr
	}
	if !containsChannel(send.Channels, store.ChannelEmail) {
		return nil, nil
	}
	if apiErr := a.checkAttachments(inv, send, settings); apiErr != nil {
		return nil, apiErr
	}
	if send.TestMode {
		return nil, nil
	}
	limit := settings.Defaults.EmailLimit(a.cfg.MaxEmailsPerHour)
	if apiErr := tooManyRecipients("the send", "", len(send.Cc), len(send.Bcc), limit); apiErr != nil {
		return nil, apiErr
	}
	return &emailBudget{emails: 1 + len(send.Cc) + len(send.Bcc), limit: limit}, nil
}

// checkAttachments refuses, with 422 invoice_not_renderable naming each
// field, an email whose attachments could not be rendered: a PDF with
// characters no font of the deployment can draw, or an e-invoice that its
// profile does not allow yet. The worker would fail the delivery at once;
// the client hears it now, and the invoice or the settings can change.
func (a *API) checkAttachments(inv *invoice.Invoice, send *store.Send, settings store.Settings) *Error {
	if send.AttachPDF {
		if gc, ok := a.cfg.PDF.(pdf.GlyphChecker); ok {
			var ge *pdf.GlyphError
			if err := gc.CheckGlyphs(pdf.Document{Invoice: inv, Seller: settings.Branding.Seller, Bank: settings.Bank}); errors.As(err, &ge) {
				return errGlyphs(inv, ge)
			}
		}
	}
	if send.AttachXML {
		doc := ubl.Document{Invoice: inv, Seller: settings.Branding.Seller, Bank: settings.Bank}
		if fe := ubl.Requirements(doc); fe != nil {
			apiErr := errProfile(http.StatusUnprocessableEntity, CodeNotRenderable, doc.ProfileName(), fe)
			apiErr.Message = fmt.Sprintf("the UBL XML of invoice %s cannot be attached: %s", inv.ID, apiErr.Message)
			return apiErr
		}
	}
	return nil
}

// tooManyRecipients refuses with 400, naming its cc and bcc fields (under
// prefix), a send (what) whose recipients — to, cc and bcc — are more than
// limit, the whole hourly budget: it could never go out.
func tooManyRecipients(what, prefix string, cc, bcc, limit int) *Error {
	n := 1 + cc + bcc
	if n <= limit {
		return nil
	}
	msg := fmt.Sprintf("%s has %d recipients (to, cc and bcc), more than the %d emails per hour this tenant may send", what, n, limit)
	fe := invoice.FieldErrors{}
	if cc > 0 {
		fe[prefix+"cc"] = msg
	}
	if bcc > 0 {
		fe[prefix+"bcc"] = msg
	}
	return errValidation(msg, fe)
}

// takeEmails takes the send's emails from the tenant's hourly budget
// (vetSend says how many). A send that does not fit what is left is
// refused whole with 429 (refusedEmails), and takes nothing.
func (a *API) takeEmails(r *http.Request, send *store.Send, budget emailBudget) *Error {
	took, err := a.st.TakeEmails(r.Context(), send.TenantID, budget.emails, budget.limit)
	if err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "rate limiter unavailable; retry shortly", cause: err}
	}
	return refusedEmails(took, budget)
}

// refusedEmails is the 429 of a take of budget's emails that did not fit
// the hourly limit, nil for one that did.
func refusedEmails(took store.EmailTake, budget emailBudget) *Error {
	if took.OK {
		return nil
	}
	// Retry-After is in whole seconds: round up, so a retry on time fits.
	retry := max(took.RetryAfter.Truncate(time.Second)+time.Second, time.Second)
	recipients := "1 recipient"
	if budget.emails > 1 {
		recipients = fmt.Sprintf("%d recipients", budget.emails)
	}
	return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, RetryAfter: retry,
		Message: fmt.Sprintf("this tenant may send %d emails per hour and has %d left; this send has %s; retry in %s",
			budget.limit, took.Left, recipients, retry)}
}

// enqueueSend stores a checked send with its deliveries and enqueues it.
// budget, when set, is what the send takes from the hourly email budget,
// taken in the same step as the send is stored (store.CreateSendTaking):
// a send that does not fit is refused with 429 and not stored.
func (a *API) enqueueSend(r *http.Request, send *store.Send, budget *emailBudget) *Error {
	ctx := r.Context()
	if budget == nil {
		if _, _, err := a.st.CreateSend(ctx, send); err != nil {
			return errInternal(err)
		}
		return a.enqueueSendTask(ctx, send)
	}
	_, _, took, err := a.st.CreateSendTaking(ctx, send, budget.emails, budget.limit)
	if err != nil {
		return errInternal(err)
	}
	if apiErr := refusedEmails(took, *budget); apiErr != nil {
		return apiErr
	}
	return a.enqueueSendTask(ctx, send)
}

// enqueueSendTask enqueues the task of a stored send. If that fails, the
// send's deliveries are failed, so none waits for a task that never comes.
func (a *API) enqueueSendTask(ctx context.Context, send *store.Send) *Error {
	var at time.Time
	if send.ScheduledAt != nil {
		at = *send.ScheduledAt
	}
	task, err := tasks.NewSendTask(tasks.SendPayload{TenantID: send.TenantID, InvoiceID: send.InvoiceID, SendID: send.ID, DeliveryIDs: send.DeliveryIDs}, at)
	if err == nil {
		_, err = a.cfg.Enqueuer.EnqueueContext(ctx, task)
	}
	if err != nil && !isTaskConflict(err) {
		// Close the stored send honestly rather than leave it queued with
		// no task behind it; the client retries and gets a new one.
		for _, id := range send.DeliveryIDs {
			if d, changed, err := a.st.Transition(ctx, send.TenantID, id, store.DeliveryFailed, "api", "could not be queued", nil); err == nil && changed {
				a.emitDelivery(ctx, d)
			}
		}
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "the send could not be queued; retry with the same Idempotency-Key", cause: err}
	}
	return nil
}

// checkChannels refuses a send that could not be delivered: no provider
// for a channel, or a sender address the provider has not verified.
// testMode needs neither, since it only writes to the outbox.
func (a *API) checkChannels(r *http.Request, inv *invoice.Invoice, send *store.Send, settings store.Settings) *Error {
	if send.TestMode {
		return nil
	}
	ctx := r.Context()
	if containsChannel(send.Channels, store.ChannelEmail) {
		provider := firstNonEmpty(settings.Email.Provider, a.cfg.DefaultEmailProvider)
		if provider == "" {
			if _, apiErr := a.finalize(ctx, inv, "send"); apiErr != nil {
				return apiErr
			}
			return &Error{Status: http.StatusUnprocessableEntity, Code: CodeEmailNotConfigured,
				Message: "the invoice was finalized but not emailed: no email provider is configured; set settings.email.provider"}
		}
		if apiErr := a.checkSender(r, inv.TenantID, settings.Email); apiErr != nil {
			return apiErr
		}
	}
	if containsChannel(send.Channels, store.ChannelSMS) && firstNonEmpty(settings.SMS.Provider, a.cfg.DefaultSMSProvider) == "" {
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeSMSNotConfigured,
			Message: "no SMS provider is configured; set settings.sms.provider"}
	}
	return nil
}

// checkSender answers 403 when the tenant's own provider has not verified
// its from address, or when SES would send it with the deployment's AWS
// credentials and may not (checkDeploymentSES), before asking SES.
func (a *API) checkSender(r *http.Request, tenantID string, e store.EmailSettings) *Error {
	ctx := r.Context()
	if e.Provider == store.ProviderSES && e.SES != nil && !e.SES.OwnCredentials() {
		tenant, err := a.st.Tenant(ctx, tenantID)
		if err != nil {
			return errInternal(err)
		}
		if apiErr := a.checkDeploymentSES(tenant, e); apiErr != nil {
			return apiErr
		}
	}
	var verified bool
	var err error
	switch {
	case e.Provider == store.ProviderSMTP:
		verified, err = a.st.SenderVerified(ctx, tenantID, store.SenderIdentity(e))
	case e.Provider == store.ProviderSES && a.cfg.SESVerified != nil && e.SES != nil:
		verified, err = a.cfg.SESVerified(ctx, *e.SES, e.FromEmail)
	default:
		return nil
	}
	if err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "could not check the sender's verification; retry shortly", cause: err}
	}
	if verified {
		return nil
	}
	msg := fmt.Sprintf("%s is not verified for sending: POST /api/v1/settings/email/verify to mail it a code", e.FromEmail)
	if e.Provider == store.ProviderSES {
		msg = fmt.Sprintf("%s (or its domain) is not a verified identity in Amazon SES %s", e.FromEmail, e.SES.Region)
	}
	return &Error{Status: http.StatusForbidden, Code: CodeSenderNotVerified, Message: msg}
}

func containsChannel(list []store.Channel, c store.Channel) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

// sendInvoice handles POST …/send, and resendInvoice POST …/resend: the same
// body; a draft is finalized first by the worker.
func (a *API) sendInvoice(w http.ResponseWriter, r *http.Request) *Error {
	return a.canonicalSend(w, r, store.SendKindSend)
}

func (a *API) resendInvoice(w http.ResponseWriter, r *http.Request) *Error {
	return a.canonicalSend(w, r, store.SendKindResend)
}

func (a *API) canonicalSend(w http.ResponseWriter, r *http.Request, kind string) *Error {
	inv, settings, apiErr := a.loadInvoiceForSend(r)
	if apiErr != nil {
		return apiErr
	}
	var req sendRequest
	if err := decodeJSON(bodyOf(r), &req, true); err != nil {
		return err
	}
	send, apiErr := a.queueSend(r, inv, &req, kind, &settings)
	if apiErr != nil {
		return apiErr
	}
	writeData(w, http.StatusAccepted, newSendView(send))
	return nil
}

// cancelSend handles DELETE …/sends/{sendId}: a scheduled send that has not
// started is canceled with its deliveries; anything later is a 409.
func (a *API) cancelSend(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	sendID := r.PathValue("sendId")
	if !invoice.ValidID(sendID) {
		return errNotFound("send")
	}
	send, err := a.st.CancelSend(r.Context(), inv.TenantID, inv.ID, sendID)
	if err != nil {
		return asError(err, "send")
	}
	// The send task would see the cancellation and do nothing; deleting it
	// frees the queue.
	_ = a.cfg.Tasks.DeleteTask(tasks.QueueCritical, tasks.SendTaskID(inv.TenantID, sendID))
	writeData(w, http.StatusOK, newSendView(send))
	return nil
}

// listScheduledSends handles GET /api/v1/scheduled-sends?limit=&startingAfter=:
// the tenant's sends waiting for their time, across all invoices, soonest
// first, a page at a time. Each leaves the list when it starts or is
// canceled (DELETE …/sends/{sendId}).
func (a *API) listScheduledSends(w http.ResponseWriter, r *http.Request) *Error {
	q := r.URL.Query()
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return errField("limit", fmt.Sprintf("must be a whole number from 1 to %d", maxListLimit))
		}
		limit = n
	}
	var after *store.SendCursor
	if v := q.Get("startingAfter"); v != "" {
		c, err := store.ParseSendCursor(v)
		if err != nil {
			return errField("startingAfter", "must be the nextCursor of an earlier page")
		}
		after = &c
	}
	sends, next, err := a.st.ScheduledSends(r.Context(), tenantFrom(r.Context()).ID, after, limit)
	if err != nil {
		return errInternal(err)
	}
	views := make([]sendView, 0, len(sends))
	for _, s := range sends {
		views = append(views, newSendView(s))
	}
	var cursor *string
	if next != nil {
		c := next.String()
		cursor = &c
	}
	writeData(w, http.StatusOK, map[string]any{"sends": views, "hasMore": cursor != nil, "nextCursor": cursor})
	return nil
}

// deliveryView is one delivery with its history, in Auxvault's shape. A
// time that has not come (not yet sent, delivered, opened or clicked; an
// SMS is never opened) is left out, not null.
type deliveryView struct {
	ID          string             `json:"id"`
	SendID      string             `json:"sendId"`
	Method      string             `json:"method"`
	SentTo      string             `json:"sentTo"`
	Cc          []string           `json:"cc,omitempty"`
	Status      string             `json:"status"`
	SentAt      *time.Time         `json:"sentAt,omitempty"`
	DeliveredAt *time.Time         `json:"deliveredAt,omitempty"`
	OpenedAt    *time.Time         `json:"openedAt,omitempty"`
	ClickedAt   *time.Time         `json:"clickedAt,omitempty"`
	Error       string             `json:"error,omitempty"`
	Provider    string             `json:"provider,omitempty"`
	ProviderID  string             `json:"providerId,omitempty"`
	TestMode    bool               `json:"testMode,omitempty"`
	CreatedAt   time.Time          `json:"createdAt"`
	History     []store.Transition `json:"history"`
	// RepeatsNotKept counts repeats past the first store.MaxRepeats.
	RepeatsNotKept int             `json:"repeatsNotKept,omitempty"`
	Attempts       []store.Attempt `json:"attempts"`
}

func newDeliveryView(d *store.Delivery) *deliveryView {
	v := &deliveryView{
		ID: d.ID, SendID: d.SendID, Method: string(d.Channel), SentTo: d.To, Cc: d.Cc,
		Status: string(d.Status), SentAt: d.SentAt, DeliveredAt: d.DeliveredAt,
		OpenedAt: d.OpenedAt, ClickedAt: d.ClickedAt, Error: d.Error, Provider: d.Provider, ProviderID: d.ProviderID,
		TestMode: d.TestMode, CreatedAt: d.CreatedAt, History: d.History, RepeatsNotKept: d.RepeatsNotKept, Attempts: d.Attempts,
	}
	if v.Attempts == nil {
		v.Attempts = []store.Attempt{}
	}
	return v
}

func (a *API) deliveryStatus(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	ds, err := a.st.InvoiceDeliveries(r.Context(), inv.TenantID, inv.ID)
	if err != nil {
		return errInternal(err)
	}
	views := make([]*deliveryView, 0, len(ds))
	for _, d := range ds {
		views = append(views, newDeliveryView(d))
	}
	writeData(w, http.StatusOK, map[string]any{"invoiceId": inv.ID, "invoiceStatus": inv.Status, "deliveries": views})
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
