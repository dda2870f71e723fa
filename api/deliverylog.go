package api

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/invoiced/invoiced/store"
)

// deliveryLogQuery reads the filters shared by GET /api/v1/deliveries and
// its export: status, channel, and the creation-time range since (from,
// inclusive) and until (to, exclusive), each a timestamp or a date.
func deliveryLogQuery(r *http.Request) (store.DeliveryQuery, *Error) {
	v := r.URL.Query()
	var q store.DeliveryQuery
	fe := map[string]string{}
	if s := v.Get("status"); s != "" {
		q.Status = store.DeliveryStatus(s)
		if !q.Status.Valid() {
			fe["status"] = "must be one of scheduled, queued, sent, delivered, opened, clicked, bounced, failed, canceled"
		}
	}
	if c := v.Get("channel"); c != "" {
		q.Channel = store.Channel(c)
		if q.Channel != store.ChannelEmail && q.Channel != store.ChannelSMS {
			fe["channel"] = "must be email or sms"
		}
	}
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		s := v.Get(f.name)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t, err = time.Parse(time.DateOnly, s)
		}
		if err != nil {
			fe[f.name] = "must be a timestamp like 2026-11-01T00:00:00Z or a date like 2026-11-01"
			continue
		}
		*f.to = t
	}
	if fe["since"] == "" && fe["until"] == "" && !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		fe["until"] = "must be after since"
	}
	if len(fe) > 0 {
		return q, errValidation(fmt.Sprintf("invalid delivery query (%d problems)", len(fe)), fe)
	}
	return q, nil
}

// deliveryLogView is a delivery of the log: the invoice's delivery view
// with the invoice it belongs to.
type deliveryLogView struct {
	InvoiceID string `json:"invoiceId"`
	*deliveryView
}

// listDeliveries handles GET /api/v1/deliveries: the tenant's deliveries
// across invoices, newest first, filtered and paged from the delivery
// log's indexes.
func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request) *Error {
	q, apiErr := deliveryLogQuery(r)
	if apiErr != nil {
		return apiErr
	}
	q.Limit = 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return errField("limit", fmt.Sprintf("must be a whole number from 1 to %d", maxListLimit))
		}
		q.Limit = n
	}
	if v := r.URL.Query().Get("startingAfter"); v != "" {
		c, err := store.ParseDeliveryCursor(v)
		if err != nil {
			return errField("startingAfter", "must be the nextCursor of an earlier page")
		}
		q.After = &c
	}
	ds, next, err := a.st.QueryDeliveries(r.Context(), tenantFrom(r.Context()).ID, q)
	if err != nil {
		return errInternal(err)
	}
	views := make([]deliveryLogView, 0, len(ds))
	for _, d := range ds {
		views = append(views, deliveryLogView{InvoiceID: d.InvoiceID, deliveryView: newDeliveryView(d)})
	}
	var cursor *string
	if next != nil {
		c := next.String()
		cursor = &c
	}
	writeData(w, http.StatusOK, map[string]any{"deliveries": views, "hasMore": cursor != nil, "nextCursor": cursor})
	return nil
}

// exportPage is how many deliveries the export reads from Redis at a time.
const exportPage = 500

// csvColumns are the export's CSV columns, in order.
var csvColumns = []string{"id", "invoiceId", "sendId", "channel", "to", "status", "createdAt", "sentAt", "deliveredAt",
	"openedAt", "clickedAt", "provider", "providerId", "error", "testMode"}

// exportDeliveries handles GET /api/v1/deliveries/export: the delivery
// log of a period, oldest first, streamed as NDJSON (one delivery view a
// line, the default) or CSV (format=csv), a page of the log at a time so
// that neither side holds the whole period.
func (a *API) exportDeliveries(w http.ResponseWriter, r *http.Request) *Error {
	q, apiErr := deliveryLogQuery(r)
	if apiErr != nil {
		return apiErr
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "ndjson"
	}
	if format != "ndjson" && format != "csv" {
		return errField("format", "must be ndjson or csv")
	}
	q.Oldest, q.Limit = true, exportPage
	tenantID := tenantFrom(r.Context()).ID
	ds, next, err := a.st.QueryDeliveries(r.Context(), tenantID, q)
	if err != nil {
		return errInternal(err)
	}

	name := "deliveries." + format
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	enc := json.NewEncoder(w)
	if format == "csv" {
		_ = cw.Write(csvColumns)
	}
	flusher, _ := w.(http.Flusher)
	for {
		for _, d := range ds {
			if format == "csv" {
				_ = cw.Write(csvRow(d))
			} else if err := enc.Encode(deliveryLogView{InvoiceID: d.InvoiceID, deliveryView: newDeliveryView(d)}); err != nil {
				return nil // the client went away
			}
		}
		cw.Flush()
		if flusher != nil {
			flusher.Flush()
		}
		if next == nil || r.Context().Err() != nil {
			return nil
		}
		q.After = next
		if ds, next, err = a.st.QueryDeliveries(r.Context(), tenantID, q); err != nil {
			// The status line is gone: a truncated body is all that can
			// say so; the log says why.
			a.log.Error("delivery export cut short", zap.String("tenant_id", tenantID), zap.Error(err))
			return nil
		}
	}
}

func csvRow(d *store.Delivery) []string {
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return []string{d.ID, d.InvoiceID, d.SendID, string(d.Channel), cell(d.To), string(d.Status), d.CreatedAt.UTC().Format(time.RFC3339Nano),
		ts(d.SentAt), ts(d.DeliveredAt), ts(d.OpenedAt), ts(d.ClickedAt), d.Provider, cell(d.ProviderID), cell(d.Error), strconv.FormatBool(d.TestMode)}
}

// cell keeps a text a spreadsheet would read as a formula (a provider's
// error message starting with "=", say) a text, with a leading quote.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
