package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/render/ubl"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// bodyOf returns the request body that idempotent already read and bounded,
// what is left of it: the bytes idempotent read, not a copy, so the
// caller must not change them.
func bodyOf(r *http.Request) []byte {
	if b, ok := r.Body.(*boundedBody); ok {
		rest := b.body[len(b.body)-b.Len():]
		_, _ = b.Seek(0, io.SeekEnd)
		return rest
	}
	b, _ := io.ReadAll(r.Body)
	return b
}

// boundedBody is a request body that idempotent read whole, for bodyOf.
type boundedBody struct {
	*bytes.Reader
	body []byte
}

// Close implements io.Closer; there is nothing to close.
func (*boundedBody) Close() error { return nil }

type lineRequest struct {
	Description        string `json:"description"`
	Quantity           string `json:"quantity"`
	Unit               string `json:"unit"`
	UnitPrice          string `json:"unitPrice"`
	TaxRate            string `json:"taxRate"`
	DiscountRate       string `json:"discountRate"`
	TaxCategory        string `json:"taxCategory"`
	TaxExemptionReason string `json:"taxExemptionReason"`
	TaxExemptionCode   string `json:"taxExemptionCode"`
}

// line returns the invoice line l describes.
func (l lineRequest) line() invoice.Line {
	return invoice.Line{
		Description: l.Description, Quantity: l.Quantity, Unit: l.Unit,
		UnitPrice: l.UnitPrice, TaxRate: l.TaxRate, DiscountRate: l.DiscountRate,
		TaxCategory: l.TaxCategory, TaxExemptionReason: l.TaxExemptionReason, TaxExemptionCode: l.TaxExemptionCode,
	}
}

// invoiceRequest is what a client may send for an invoice; computed fields
// (totals, status) are refused as unknown.
type invoiceRequest struct {
	ID                string                    `json:"id"`
	Number            string                    `json:"number"`
	Currency          string                    `json:"currency"`
	IssueDate         string                    `json:"issueDate"`
	DueDate           string                    `json:"dueDate"`
	Language          string                    `json:"language"`
	Reference         string                    `json:"reference"`
	AutoAdvance       *bool                     `json:"autoAdvance"`
	Customer          invoice.Customer          `json:"customer"`
	Lines             []lineRequest             `json:"lines"`
	Notes             string                    `json:"notes"`
	Terms             string                    `json:"terms"`
	AmountPaid        string                    `json:"amountPaid"`
	Profile           string                    `json:"profile"`
	OrderReference    string                    `json:"orderReference"`
	ContractReference string                    `json:"contractReference"`
	Delivery          *invoice.Delivery         `json:"delivery"`
	Period            *invoice.Period           `json:"period"`
	Allowances        []invoice.AllowanceCharge `json:"allowances"`
	Charges           []invoice.AllowanceCharge `json:"charges"`
	TaxCurrency       string                    `json:"taxCurrency"`
	TaxExchangeRate   string                    `json:"taxExchangeRate"`
}

// invoiceView is an invoice as the API returns it.
type invoiceView struct {
	*invoice.Invoice
	PublicURL    string          `json:"publicUrl"`
	PublicPDFURL string          `json:"publicPdfUrl"`
	Deliveries   []*deliveryView `json:"deliveries"`
}

func (a *API) createInvoice(w http.ResponseWriter, r *http.Request) *Error {
	ctx := r.Context()
	tenant := tenantFrom(ctx)
	var req invoiceRequest
	if err := decodeJSON(bodyOf(r), &req, false); err != nil {
		return err
	}
	settings, err := a.st.Settings(ctx, tenant.ID)
	if err != nil {
		return errInternal(err)
	}
	inv, apiErr := newInvoice(tenant.ID, &req, settings)
	if apiErr != nil {
		return apiErr
	}
	created, err := a.st.SaveDraft(ctx, inv, settings.Defaults.Grace())
	if err != nil {
		return asError(err, "invoice")
	}
	if inv.FinalizeAt != nil {
		a.enqueueFinalize(ctx, inv)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeData(w, status, a.view(r, inv, nil))
	return nil
}

// newInvoice returns the invoice of tenant that req describes, validated
// and computed, with a generated id when req has none and the e-invoice
// profile of req, else the tenant's default (settings), else
// invoice.ProfileEN16931.
func newInvoice(tenantID string, req *invoiceRequest, settings store.Settings) (*invoice.Invoice, *Error) {
	inv := &invoice.Invoice{
		ID: req.ID, TenantID: tenantID, Type: invoice.TypeInvoice, Number: req.Number, Currency: req.Currency,
		IssueDate: req.IssueDate, DueDate: req.DueDate, Language: req.Language,
		Reference: req.Reference, AutoAdvance: req.AutoAdvance == nil || *req.AutoAdvance,
		Customer: req.Customer, Notes: req.Notes, Terms: req.Terms, AmountPaid: req.AmountPaid,
		Profile: req.Profile, OrderReference: req.OrderReference, ContractReference: req.ContractReference,
		Delivery: req.Delivery, Period: req.Period, Allowances: req.Allowances, Charges: req.Charges,
		TaxCurrency: req.TaxCurrency, TaxExchangeRate: req.TaxExchangeRate,
	}
	if inv.ID == "" {
		inv.ID = store.NewID("inv")
	} else if !invoice.ValidID(inv.ID) {
		return nil, errField("id", "must be 1-64 letters, digits, '_', '.' or '-'")
	}
	if inv.IssueDate == "" {
		inv.IssueDate = time.Now().UTC().Format(time.DateOnly)
	}
	if inv.Profile == "" {
		inv.Profile = settings.Defaults.Profile()
	}
	for _, l := range req.Lines {
		inv.Lines = append(inv.Lines, l.line())
	}
	if fe := invoice.Validate(inv); fe != nil {
		return nil, errValidation("the invoice has invalid fields", fe)
	}
	if err := invoice.Compute(inv); err != nil {
		return nil, errValidation(err.Error(), nil)
	}
	if req.Profile != "" || settings.Defaults.EinvoiceProfile != "" {
		doc := ubl.Document{Invoice: inv, Seller: settings.Branding.Seller, Bank: settings.Bank}
		if fe := ubl.Requirements(doc); fe != nil {
			return nil, errProfile(http.StatusBadRequest, CodeValidation, inv.Profile, fe)
		}
	}
	return inv, nil
}

// errProfile answers what e-invoice profile needs that the invoice or the
// tenant's settings lack (fe, from ubl.Requirements), naming each field:
// an invoice's ("customer.endpoint") or a setting ("branding.endpoint").
func errProfile(status int, code, profile string, fe invoice.FieldErrors) *Error {
	fields := make(map[string]string, len(fe))
	names := make([]string, 0, len(fe))
	for field, msg := range fe {
		where := ""
		if strings.HasPrefix(field, "branding.") || strings.HasPrefix(field, "bank.") {
			where = ", in the settings (PUT /api/v1/settings)"
		}
		fields[field] = fmt.Sprintf("is required by the %s profile%s: %s", profile, where, msg)
		names = append(names, field)
	}
	sort.Strings(names)
	verb := "are"
	if len(names) == 1 {
		verb = "is"
	}
	return &Error{Status: status, Code: code, Fields: fields,
		Message: fmt.Sprintf("%s %s required by the %s profile", strings.Join(names, ", "), verb, profile)}
}

// enqueueFinalize schedules the draft's finalization. A failure is logged,
// not returned: the invoice is stored, and the finalize sweep picks up any
// draft past its grace period that has no task.
func (a *API) enqueueFinalize(ctx context.Context, inv *invoice.Invoice) {
	p := tasks.FinalizePayload{TenantID: inv.TenantID, InvoiceID: inv.ID, Reason: tasks.ReasonGrace}
	task, err := tasks.NewFinalizeTask(p, *inv.FinalizeAt)
	if err == nil {
		_, err = a.cfg.Enqueuer.EnqueueContext(ctx, task)
	}
	if err != nil && !isTaskConflict(err) {
		a.log.Warn("finalize task not enqueued; the sweep will finalize the draft",
			zap.String("tenant_id", inv.TenantID), zap.String("invoice_id", inv.ID), zap.Error(err))
	}
}

func (a *API) view(r *http.Request, inv *invoice.Invoice, ds []*store.Delivery) invoiceView {
	withType(inv)
	v := invoiceView{Invoice: inv, PublicURL: a.publicURL(inv), PublicPDFURL: a.publicPDFURL(inv), Deliveries: []*deliveryView{}}
	for _, d := range ds {
		v.Deliveries = append(v.Deliveries, newDeliveryView(d))
	}
	return v
}

// withType spells out the type of an invoice stored before types existed.
func withType(inv *invoice.Invoice) {
	if inv.Type == "" {
		inv.Type = invoice.TypeInvoice
	}
}

// maxListLimit is the largest page GET /api/v1/invoices hands out.
const maxListLimit = 100

// invoiceListItem is an invoice as a listing shows it: without its
// deliveries, which GET …/{id} and …/delivery-status show.
type invoiceListItem struct {
	*invoice.Invoice
	PublicURL    string `json:"publicUrl"`
	PublicPDFURL string `json:"publicPdfUrl"`
}

// listInvoices handles GET /api/v1/invoices?status=&customerEmail=&customerId=&limit=&startingAfter=:
// the tenant's invoices, newest first, a page at a time, each filter read
// from its own index (store.ListInvoices). Only with both customerEmail
// and customerId may a page hold fewer than limit invoices, even none,
// while hasMore is true: it looks at a bounded number of invoices, and
// nextCursor goes on from there.
func (a *API) listInvoices(w http.ResponseWriter, r *http.Request) *Error {
	q := r.URL.Query()
	query := store.InvoiceQuery{
		Limit: 20, Status: invoice.Status(q.Get("status")), After: q.Get("startingAfter"),
		CustomerEmail: q.Get("customerEmail"), CustomerID: q.Get("customerId"),
	}
	if query.Status != "" && !query.Status.Valid() {
		return errField("status", "must be draft, open, paid or void")
	}
	if query.CustomerEmail != "" {
		if err := invoice.CheckEmail(query.CustomerEmail); err != nil {
			return errField("customerEmail", err.Error())
		}
	}
	if query.CustomerID != "" {
		if err := invoice.CheckExternalID(query.CustomerID); err != nil {
			return errField("customerId", err.Error())
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return errField("limit", fmt.Sprintf("must be a whole number from 1 to %d", maxListLimit))
		}
		query.Limit = n
	}
	if query.After != "" && !invoice.ValidID(query.After) {
		return errField("startingAfter", "must be an invoice id from an earlier page's nextCursor")
	}
	tenant := tenantFrom(r.Context())
	page, err := a.st.ListInvoices(r.Context(), tenant.ID, query)
	if errors.Is(err, store.ErrBadCursor) {
		return errField("startingAfter", "names no invoice of yours")
	}
	if err != nil {
		return errInternal(err)
	}
	items := make([]invoiceListItem, 0, len(page.Invoices))
	for _, inv := range page.Invoices {
		withType(inv)
		items = append(items, invoiceListItem{Invoice: inv, PublicURL: a.publicURL(inv), PublicPDFURL: a.publicPDFURL(inv)})
	}
	var next *string
	if page.NextCursor != "" {
		next = &page.NextCursor
	}
	writeData(w, http.StatusOK, map[string]any{"invoices": items, "hasMore": next != nil, "nextCursor": next})
	return nil
}

// loadInvoice returns the tenant's invoice named in the path; another
// tenant's invoice is simply not found.
func (a *API) loadInvoice(r *http.Request) (*invoice.Invoice, *Error) {
	id := r.PathValue("id")
	if !invoice.ValidID(id) {
		return nil, errNotFound("invoice")
	}
	inv, err := a.st.Invoice(r.Context(), tenantFrom(r.Context()).ID, id)
	if err != nil {
		return nil, asError(err, "invoice")
	}
	return inv, nil
}

func (a *API) getInvoice(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	ds, err := a.st.InvoiceDeliveries(r.Context(), inv.TenantID, inv.ID)
	if err != nil {
		return errInternal(err)
	}
	writeData(w, http.StatusOK, a.view(r, inv, ds))
	return nil
}

// finalizeInvoice moves a draft to open without emailing it. Finalizing an
// open invoice again returns it unchanged.
func (a *API) finalizeInvoice(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	if err := decodeJSON(bodyOf(r), &struct{}{}, true); err != nil {
		return err
	}
	inv, apiErr = a.finalize(r.Context(), inv, "api")
	if apiErr != nil {
		return apiErr
	}
	writeData(w, http.StatusOK, a.view(r, inv, nil))
	return nil
}

// finalize makes a draft open (by names who asked: api, send), emits
// invoice.finalized and requests its payment link; an invoice already
// finalized is returned as it is now.
func (a *API) finalize(ctx context.Context, inv *invoice.Invoice, by string) (*invoice.Invoice, *Error) {
	inv, changed, err := a.st.Finalize(ctx, inv.TenantID, inv.ID, by)
	if err != nil {
		return nil, asError(err, "invoice")
	}
	if changed {
		a.emitFinalized(ctx, inv)
		if err := a.queuePaymentLink(ctx, inv); err != nil {
			a.log.Warn("payment link not requested", zap.String("invoice_id", inv.ID), zap.Error(err))
		}
		// The waiting grace-period task would find the invoice open and
		// do nothing; deleting it just keeps the queue tidy.
		_ = a.cfg.Tasks.DeleteTask(tasks.QueueDefault, tasks.FinalizeTaskID(inv.TenantID, inv.ID))
	}
	return inv, nil
}

// voidInvoice handles POST …/void: a draft or open invoice becomes void.
// Its scheduled sends are canceled, a send or delivery already queued
// fails instead of going out, a draft is never finalized, and its payment
// link is switched off at the gateway. Voiding a void invoice returns it
// unchanged; a paid one is 409.
func (a *API) voidInvoice(w http.ResponseWriter, r *http.Request) *Error {
	ctx := r.Context()
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	if err := decodeJSON(bodyOf(r), &struct{}{}, true); err != nil {
		return err
	}
	inv, changed, err := a.st.Void(ctx, inv.TenantID, inv.ID)
	if err != nil {
		return asError(err, "invoice")
	}
	ds, err := a.st.InvoiceDeliveries(ctx, inv.TenantID, inv.ID)
	if err != nil {
		return errInternal(err)
	}
	if changed {
		a.emit(ctx, inv.TenantID, inv.ID, []string{store.EventInvoiceVoided}, map[string]any{
			"invoiceId": inv.ID, "number": inv.Number, "total": inv.Total, "currency": inv.Currency,
		})
		a.queueDeactivateLink(ctx, inv)
		_ = a.cfg.Tasks.DeleteTask(tasks.QueueDefault, tasks.FinalizeTaskID(inv.TenantID, inv.ID))
	}
	// Also on a repeated void, so a cancellation cut short by an error
	// is finished. A send left uncanceled still cannot go out: its task
	// finds the invoice void and fails its deliveries.
	n, err := a.cancelScheduled(ctx, inv, ds, "")
	if err != nil {
		return errInternal(err)
	}
	if n > 0 {
		if ds, err = a.st.InvoiceDeliveries(ctx, inv.TenantID, inv.ID); err != nil {
			return errInternal(err)
		}
	}
	writeData(w, http.StatusOK, a.view(r, inv, ds))
	return nil
}

// cancelScheduled cancels the invoice's scheduled sends (of kind only,
// when it is set), given the invoice's deliveries ds, removes their tasks,
// and returns how many it canceled.
func (a *API) cancelScheduled(ctx context.Context, inv *invoice.Invoice, ds []*store.Delivery, kind string) (int, error) {
	seen := map[string]bool{}
	n := 0
	for _, d := range ds {
		if d.Status != store.DeliveryScheduled || seen[d.SendID] {
			continue
		}
		seen[d.SendID] = true
		if kind != "" {
			send, err := a.st.Send(ctx, inv.TenantID, d.SendID)
			if err != nil {
				return n, err
			}
			if send.Kind != kind {
				continue
			}
		}
		_, err := a.st.CancelSend(ctx, inv.TenantID, inv.ID, d.SendID)
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return n, err
		}
		_ = a.cfg.Tasks.DeleteTask(tasks.QueueCritical, tasks.SendTaskID(inv.TenantID, d.SendID))
		n++
	}
	return n, nil
}

// cancelReminders cancels the scheduled reminders of an invoice that was
// just paid. A failure is logged: the payment is recorded, and a reminder
// left scheduled cancels itself when its time comes.
func (a *API) cancelReminders(ctx context.Context, inv *invoice.Invoice) {
	ds, err := a.st.InvoiceDeliveries(ctx, inv.TenantID, inv.ID)
	if err == nil {
		_, err = a.cancelScheduled(ctx, inv, ds, store.SendKindReminder)
	}
	if err != nil {
		a.log.Warn("reminders of a paid invoice not canceled", zap.String("tenant_id", inv.TenantID),
			zap.String("invoice_id", inv.ID), zap.Error(err))
	}
}

func (a *API) invoicePDF(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	return a.writePDF(w, r, inv, r.URL.Query().Get("language"))
}

func (a *API) writePDF(w http.ResponseWriter, r *http.Request, inv *invoice.Invoice, lang string) *Error {
	if lang != "" && !invoice.ValidLanguage(lang) {
		return errField("language", "must be a language code like en or ro")
	}
	settings, err := a.st.Settings(r.Context(), inv.TenantID)
	if err != nil {
		return errInternal(err)
	}
	if lang == "" {
		lang = inv.Language
	}
	if lang == "" {
		lang = settings.Defaults.Lang()
	}
	br := settings.Branding
	b, err := a.cfg.PDF.Render(pdf.Document{Invoice: inv, Seller: br.Seller, Bank: settings.Bank, Language: lang,
		Logo: br.Logo, Paper: br.PaperSize, Accent: br.AccentColor})
	var glyphs *pdf.GlyphError
	if errors.As(err, &glyphs) {
		return errGlyphs(inv, glyphs)
	}
	if err != nil {
		return a.errNotRenderable(inv, "PDF", err)
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="`+invoice.FileStem(inv.Number)+`.pdf"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}

// errNotRenderable answers a render that failed: 422, since rendering is
// deterministic and the same invoice fails again however often it is
// asked for; the invoice has to change. The failure is logged for the
// operator, as no 4xx otherwise is.
func (a *API) errNotRenderable(inv *invoice.Invoice, what string, err error) *Error {
	a.log.Warn("invoice not renderable", zap.String("tenant_id", inv.TenantID), zap.String("invoice_id", inv.ID),
		zap.String("document", what), zap.Error(err))
	return &Error{Status: http.StatusUnprocessableEntity, Code: CodeNotRenderable,
		Message: fmt.Sprintf("the %s of invoice %s could not be rendered: %v", what, inv.ID, err)}
}

// errGlyphs answers a PDF with characters that no font of the deployment
// can draw: 422, naming each field and its characters, so that the
// invoice or the settings can be changed (or the operator can add a font
// with INVOICED_FONT_DIR).
func errGlyphs(inv *invoice.Invoice, ge *pdf.GlyphError) *Error {
	fields := map[string]string{}
	for i, r := range ge.Runes {
		field := "invoice"
		if i < len(ge.Fields) && ge.Fields[i] != "" {
			field = ge.Fields[i]
		}
		if fields[field] == "" {
			fields[field] = "has characters that no font can draw:"
		}
		fields[field] += fmt.Sprintf(" %U %q", r, r)
	}
	return &Error{Status: http.StatusUnprocessableEntity, Code: CodeNotRenderable, Fields: fields,
		Message: fmt.Sprintf("the PDF of invoice %s could not be rendered: %s", inv.ID, strings.TrimPrefix(ge.Error(), "pdf: "))}
}

func isTaskConflict(err error) bool {
	return errors.Is(err, errTaskIDConflict)
}

// invoiceXML handles GET …/xml: the invoice as a UBL 2.1 e-invoice that
// conforms to EN 16931 and the invoice's profile. What the profile needs
// that the invoice or the tenant's settings lack, as settings changed
// since the invoice was made, is 422 naming each field.
func (a *API) invoiceXML(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	settings, err := a.st.Settings(r.Context(), inv.TenantID)
	if err != nil {
		return errInternal(err)
	}
	b, err := ubl.Render(ubl.Document{Invoice: inv, Seller: settings.Branding.Seller, Bank: settings.Bank})
	var missing *ubl.RequirementsError
	if errors.As(err, &missing) {
		// The settings changed since the invoice was made, or its
		// profile was never asked for: the invoice or the settings have
		// to change, as for any render that fails.
		apiErr := errProfile(http.StatusUnprocessableEntity, CodeNotRenderable, missing.Profile, missing.Fields)
		apiErr.Message = fmt.Sprintf("the UBL XML of invoice %s cannot be written: %s", inv.ID, apiErr.Message)
		return apiErr
	}
	if err != nil {
		return a.errNotRenderable(inv, "UBL XML", err)
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="`+invoice.FileStem(inv.Number)+`.xml"`)
	_, _ = w.Write(b)
	return nil
}
