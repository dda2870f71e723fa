package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/invoiced/invoiced/store"
)

// call sends one API request with body as JSON (raw when it is []byte)
// and returns the status and the response body.
func (r *runner) call(ctx context.Context, method, path, token string, body any) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.apiURL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// createTenant creates the run's tenant with the walkthrough's branding,
// bank account and static payment links, email through the deployment's
// default provider, and no hourly cap that a run could reach.
func (r *runner) createTenant(ctx context.Context) error {
	status, body, err := r.call(ctx, "POST", "/admin/v1/tenants", r.adminToken, map[string]any{"name": "Loadtest SRL"})
	if err != nil || status != http.StatusCreated {
		return fmt.Errorf("create tenant: %d %s %v", status, body, err)
	}
	var created struct {
		Data struct{ ID, Token string } `json:"data"`
	}
	if err := json.Unmarshal(body, &created); err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	r.tenantID, r.token = created.Data.ID, created.Data.Token
	settings := map[string]any{
		"branding": map[string]any{"name": "ACME SRL", "vatId": "RO18547290", "email": "billing@acme.test",
			"address": map[string]any{"line1": "Str. Memorandumului 28", "city": "Cluj-Napoca", "postalCode": "400114", "country": "RO"}},
		"bank":     map[string]any{"iban": "RO49AAAA1B31007593840000", "bic": "AAAARO22", "bankName": "Banca Demo", "holder": "ACME SRL"},
		"email":    map[string]any{"fromEmail": "billing@acme.test", "fromName": "ACME Billing"},
		"payments": map[string]any{"gateway": "static", "static": map[string]any{"urlTemplate": "https://pay.acme.test/{invoiceId}?amount={amount}&currency={currency}"}},
		"defaults": map[string]any{"language": "en", "gracePeriod": "1h", "autoEmailOnFinalize": false, "emailsPerHour": 1_000_000_000},
	}
	status, body, err = r.call(ctx, "PUT", "/api/v1/settings", r.token, settings)
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("tenant settings: %d %s %v", status, body, err)
	}
	return nil
}

// createInvoices creates every pass's invoices as drafts that wait for
// their send, each with its own customer address.
func (r *runner) createInvoices(ctx context.Context, ids [][]string) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Clients)
	for p := range ids {
		for i, id := range ids[p] {
			g.Go(func() error {
				body := invoiceBody(id, p*len(ids[p])+i+1, r.cfg.Lines)
				status, resp, err := r.call(gctx, "POST", "/api/v1/invoices", r.token, body)
				if err != nil || status != http.StatusCreated {
					return fmt.Errorf("create %s: %d %s %v", id, status, resp, err)
				}
				return nil
			})
		}
	}
	return g.Wait()
}

// invoiceBody is a draft EUR invoice with lines lines at three VAT rates,
// customer n's address, and no automatic finalization.
func invoiceBody(id string, n, lines int) map[string]any {
	items := []struct{ desc, qty, unit, price, tax string }{
		{"Consulting", "10", "h", "95.00", "19"},
		{"Hosting, monthly", "1", "mo", "49.90", "19"},
		{"Training materials", "3", "pcs", "12.50", "9"},
		{"Books", "2", "pcs", "35.00", "5"},
	}
	ls := make([]any, lines)
	for i := range ls {
		it := items[i%len(items)]
		ls[i] = map[string]any{"description": it.desc, "quantity": it.qty, "unit": it.unit, "unitPrice": it.price, "taxRate": it.tax}
	}
	return map[string]any{
		"id": id, "number": "LT-" + strings.TrimPrefix(id, "lt_"), "currency": "EUR",
		"issueDate": "2026-11-21", "dueDate": "2026-12-21", "language": "en", "autoAdvance": false,
		"customer": map[string]any{"name": "Customer " + strconv.Itoa(n), "email": fmt.Sprintf("customer%d@example.com", n),
			"address": map[string]any{"line1": "Str. Lalelelor 5", "city": "Cluj-Napoca", "postalCode": "400000", "country": "RO"}},
		"lines": ls,
		"notes": "Thank you!",
	}
}

// sendResult is one POST …/send as the client saw it.
type sendResult struct {
	start, end time.Time
	status     int
	delivery   string
	err        string
}

// sendBody asks for the canonical send: email to the customer, PDF
// attached.
var sendBody = []byte(`{}`)

// pass sends every invoice of ids, at rate sends per second (0: as fast
// as the clients go), waits for every email and for the queues to drain,
// and measures.
func (r *runner) pass(ctx context.Context, label string, rate float64, ids []string) (Pass, error) {
	p := Pass{Sends: len(ids), TargetPerSec: rate}
	before, err := r.processed()
	if err != nil {
		return p, err
	}
	r.rss.take()
	cpuBefore := r.cpuByRole()
	started := time.Now()
	deadline := started.Add(r.cfg.Timeout)
	pctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	results := make([]sendResult, len(ids))
	jobs := make(chan int, len(ids))
	var enqueued atomic.Int64
	var wg sync.WaitGroup
	for range r.cfg.Clients {
		wg.Go(func() {
			for i := range jobs {
				res := &results[i]
				res.start = time.Now()
				status, body, err := r.call(pctx, "POST", "/api/v1/invoices/"+ids[i]+"/send", r.token, sendBody)
				res.end = time.Now()
				res.status = status
				switch {
				case err != nil:
					res.err = err.Error()
				case status != http.StatusAccepted:
					res.err = fmt.Sprintf("%d %s", status, bytes.TrimSpace(body))
				default:
					var sent struct {
						Data struct {
							DeliveryIDs []string `json:"deliveryIds"`
						} `json:"data"`
					}
					if err := json.Unmarshal(body, &sent); err != nil || len(sent.Data.DeliveryIDs) != 1 {
						res.err = fmt.Sprintf("202 without one delivery id: %s", body)
					} else {
						res.delivery = sent.Data.DeliveryIDs[0]
					}
				}
				enqueued.Add(1)
			}
		})
	}
	base := r.sink.count()
	stopBar := r.bar(label, len(ids), &enqueued, func() int { return r.sink.count() - base })
	defer stopBar()

	for i := range ids {
		if rate > 0 {
			at := started.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if d := time.Until(at); d > 0 {
				select {
				case <-time.After(d):
				case <-pctx.Done():
				}
			}
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	var dids []string
	for _, res := range results {
		if res.delivery != "" {
			dids = append(dids, res.delivery)
		} else if p.FirstError == "" {
			p.FirstError = res.err
		}
	}
	p.Accepted = len(dids)
	p.EnqueueErrors = len(ids) - p.Accepted

	// Wait for every email, then for the tasks that follow (the sent
	// status, event fan-outs) to finish.
	for {
		if _, missing, _ := r.sink.tally(dids); missing == 0 {
			break
		}
		if err := r.waitTick(pctx); err != nil {
			break // counted as missing below
		}
	}
	for idle := 0; idle < 2; {
		pending, active, err := r.queued(pctx, workerQueues()...)
		if err != nil || r.waitTick(pctx) != nil {
			break
		}
		if pending+active == 0 {
			idle++
		} else {
			idle = 0
		}
	}
	stopBar()
	p.ElapsedSec = time.Since(started).Seconds()
	p.CPUSec = map[string]float64{}
	for role, d := range r.cpuByRole() {
		p.CPUSec[role] = (d - cpuBefore[role]).Seconds()
	}
	if err := r.fl.check(); err != nil {
		return p, err
	}
	if err := ctx.Err(); err != nil {
		return p, err
	}
	p.Delivered, p.Missing, p.Duplicates = r.sink.tally(dids)

	after, err := r.processed()
	if err != nil {
		return p, err
	}
	if p.Accepted > 0 {
		p.TasksPerSend = float64(after-before) / float64(p.Accepted)
	}
	peaks := r.rss.take()
	p.WorkerRSSMaxMiB = float64(peaks["worker"]) / (1 << 20)
	p.APIRSSMaxMiB = float64(peaks["api"]) / (1 << 20)

	// Enqueue latency and rate, as the clients saw them.
	var enq []time.Duration
	first, lastEnd := time.Time{}, time.Time{}
	for _, res := range results {
		if res.delivery == "" {
			continue
		}
		enq = append(enq, res.end.Sub(res.start))
		if first.IsZero() || res.start.Before(first) {
			first = res.start
		}
		if res.end.After(lastEnd) {
			lastEnd = res.end
		}
	}
	if len(enq) > 0 {
		p.EnqueueP50Ms = millis(percentile(enq, 0.50))
		p.EnqueueP99Ms = millis(percentile(enq, 0.99))
		p.EnqueueMaxMs = millis(percentile(enq, 1))
		if d := lastEnd.Sub(first); d > 0 {
			p.EnqueuePerSec = float64(len(enq)) / d.Seconds()
		}
	}

	// Enqueue→sent, from what the API and the workers recorded.
	ds, err := r.deliveries(ctx, dids)
	if err != nil {
		return p, err
	}
	var sent []time.Duration
	var lastSent time.Time
	for _, d := range ds {
		if d.Status != store.DeliverySent || d.SentAt == nil {
			p.Failed++
			continue
		}
		sent = append(sent, d.SentAt.Sub(d.CreatedAt))
		if d.SentAt.After(lastSent) {
			lastSent = *d.SentAt
		}
	}
	if len(sent) > 0 {
		p.SentP50Ms = millis(percentile(sent, 0.50))
		p.SentP99Ms = millis(percentile(sent, 0.99))
		p.SentMaxMs = millis(percentile(sent, 1))
		if d := lastSent.Sub(first); d > 0 {
			p.ThroughputPerSec = float64(len(sent)) / d.Seconds()
		}
	}
	return p, nil
}

// waitTick sleeps a little, or returns why the pass must stop waiting.
func (r *runner) waitTick(ctx context.Context) error {
	if err := r.fl.check(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(20 * time.Millisecond):
		return nil
	}
}

// deliveries reads the deliveries ids from the store.
func (r *runner) deliveries(ctx context.Context, ids []string) ([]*store.Delivery, error) {
	out := make([]*store.Delivery, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, id := range ids {
		g.Go(func() error {
			d, err := r.st.Delivery(gctx, r.tenantID, id)
			out[i] = d
			return err
		})
	}
	return out, g.Wait()
}

// bar redraws "label [####----] sent/total" on Status until the returned
// function is called; it draws nothing unless Config.Bar is set. The
// returned function may be called more than once.
func (r *runner) bar(label string, total int, enqueued *atomic.Int64, sent func() int) func() {
	if !r.cfg.Bar {
		return func() {}
	}
	start := time.Now()
	draw := func() {
		n := min(sent(), total)
		const width = 30
		filled := width * n / max(total, 1)
		rate := float64(n) / math.Max(time.Since(start).Seconds(), 0.001)
		fmt.Fprintf(r.cfg.Status, "\r  %s [%s%s] %d/%d sent, %d enqueued, %.0f/s   ",
			label, strings.Repeat("#", filled), strings.Repeat("-", width-filled), n, total, enqueued.Load(), rate)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				draw()
				fmt.Fprintln(r.cfg.Status)
				return
			case <-t.C:
				draw()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(stop); <-done })
	}
}
