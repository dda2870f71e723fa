// Package metrics owns invoiced's Prometheus collectors. Each process
// makes one Metrics with its own registry (never the global default one,
// so tests may run several in one process) and hands it to the API and the
// worker, which declare the few methods they call.
package metrics

import (
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/store"
)

// noProvider labels a delivery that failed before any provider took it.
const noProvider = "none"

// slowBuckets reach past SDK timeouts: a provider call or a task that
// hangs shows up as such rather than in +Inf with the merely slow.
var slowBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Metrics holds the collectors of one process and the registry they are
// registered on. Its methods are safe for concurrent use.
type Metrics struct {
	reg             *prometheus.Registry
	deliveries      *prometheus.CounterVec
	providerCalls   *prometheus.HistogramVec
	pdfRenders      prometheus.Histogram
	webhookAttempts *prometheus.CounterVec
	tasks           *prometheus.HistogramVec
}

// New returns Metrics on a fresh registry that also holds the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "invoiced_deliveries_total",
			Help: "Delivery status changes this process recorded, by channel, provider and the status reached.",
		}, []string{"channel", "provider", "status"}),
		providerCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "invoiced_provider_call_duration_seconds",
			Help:    "Time a provider took to accept or refuse a message, by channel, provider and outcome (ok, transient, throttled, permanent).",
			Buckets: slowBuckets,
		}, []string{"channel", "provider", "outcome"}),
		pdfRenders: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "invoiced_pdf_render_duration_seconds",
			Help:    "Time to render one invoice PDF; PDFs served from the cache are not counted.",
			Buckets: prometheus.DefBuckets,
		}),
		webhookAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "invoiced_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome (delivered, retry, gave_up, gone).",
		}, []string{"outcome"}),
		tasks: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "invoiced_task_duration_seconds",
			Help:    "Time a worker spent on one task attempt, by task type and outcome (ok, transient, throttled, permanent).",
			Buckets: slowBuckets,
		}, []string{"type", "outcome"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.deliveries, m.providerCalls, m.pdfRenders, m.webhookAttempts, m.tasks,
	)
	return m
}

// Registry returns the registry the collectors are on, for tests and for
// adding collectors of one's own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// WatchQueues adds asynq's queue collector (asynq_queue_size,
// asynq_tasks_enqueued_total by state, asynq_queue_latency_seconds, …),
// which asks Redis for every queue's counts on each scrape. One process
// per deployment should watch the queues, or every series is repeated by
// each process that does.
func (m *Metrics) WatchQueues(inspector *asynq.Inspector) {
	m.reg.MustRegister(asynqmetrics.NewQueueMetricsCollector(inspector))
}

// DeliveryStatus counts d's move to its current status. Its provider is
// the one that took it, else the last one tried, else "none".
func (m *Metrics) DeliveryStatus(d *store.Delivery) {
	provider := d.Provider
	if provider == "" && len(d.Attempts) > 0 {
		provider = d.Attempts[len(d.Attempts)-1].Provider
	}
	if provider == "" {
		provider = noProvider
	}
	m.deliveries.WithLabelValues(string(d.Channel), provider, string(d.Status)).Inc()
}

// ProviderCall records one hand-over of a message to a provider.
func (m *Metrics) ProviderCall(channel store.Channel, provider, outcome string, took time.Duration) {
	if provider == "" {
		provider = noProvider
	}
	m.providerCalls.WithLabelValues(string(channel), provider, outcome).Observe(took.Seconds())
}

// TimePDF returns r timing each render. Given to pdf.NewCache, it times
// only the renders the cache asks for, never the PDFs it serves from
// memory.
func (m *Metrics) TimePDF(r pdf.DocumentRenderer) pdf.DocumentRenderer {
	return timedRenderer{r: r, m: m}
}

type timedRenderer struct {
	r pdf.DocumentRenderer
	m *Metrics
}

// CheckGlyphs is the renderer's, which takes no time worth counting.
func (t timedRenderer) CheckGlyphs(doc pdf.Document) error {
	if gc, ok := t.r.(pdf.GlyphChecker); ok {
		return gc.CheckGlyphs(doc)
	}
	return nil
}

func (t timedRenderer) Render(doc pdf.Document) ([]byte, error) {
	start := time.Now()
	b, err := t.r.Render(doc)
	t.m.pdfRenders.Observe(time.Since(start).Seconds())
	return b, err
}

// WebhookAttempt counts one attempt at delivering a webhook event.
func (m *Metrics) WebhookAttempt(outcome string) {
	m.webhookAttempts.WithLabelValues(outcome).Inc()
}

// TaskProcessed records one task attempt.
func (m *Metrics) TaskProcessed(taskType, outcome string, took time.Duration) {
	m.tasks.WithLabelValues(taskType, outcome).Observe(took.Seconds())
}
