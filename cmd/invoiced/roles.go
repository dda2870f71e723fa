package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/sync/errgroup"

	"github.com/invoiced/invoiced/api"
	"github.com/invoiced/invoiced/internal/metrics"
	"github.com/invoiced/invoiced/internal/wiring"
	"github.com/invoiced/invoiced/providers/outbox"
	"github.com/invoiced/invoiced/providers/ses/sns"
	"github.com/invoiced/invoiced/providers/webhook"
	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
	"github.com/invoiced/invoiced/worker"
)

// deps are the connections every role shares, and the process's metrics.
type deps struct {
	log      *zap.Logger
	metrics  *metrics.Metrics
	redisOpt asynq.RedisConnOpt
	rdb      redis.UniversalClient
	store    *store.Store
	client   *asynq.Client
	pdf      *pdf.Cache
	ses      *wiring.SESSenders
}

// connect opens Redis (from INVOICED_REDIS_URL, or opt when given) and the
// shared clients.
func connect(cfg config, log *zap.Logger, opt asynq.RedisConnOpt) (*deps, error) {
	if opt == nil {
		var err error
		if opt, err = parseRedisURL(cfg.RedisURL); err != nil {
			return nil, fmt.Errorf("INVOICED_REDIS_URL: %w", err)
		}
	}
	rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, errors.New("unsupported redis connection option")
	}
	st, err := store.New(rdb, store.Config{SecretKey: cfg.SecretKey})
	if err != nil {
		return nil, err
	}
	renderer, err := pdf.New(pdf.WithLogger(log.Named("pdf")))
	if err != nil {
		return nil, err
	}
	m := metrics.New()
	return &deps{
		log: log, metrics: m, redisOpt: opt, rdb: rdb, store: st,
		client: asynq.NewClient(opt),
		pdf:    pdf.NewCache(m.TimePDF(renderer), cfg.PDFCacheSize),
		ses:    wiring.NewSESSenders(cfg.SESEndpoint),
	}, nil
}

func (d *deps) close() {
	_ = d.client.Close()
	_ = d.rdb.Close()
}

func newLogger(cfg config) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("INVOICED_LOG_LEVEL=%q: want debug, info, warn or error", cfg.LogLevel)
	}
	var zc zap.Config
	switch cfg.LogFormat {
	case "json":
		zc = zap.NewProductionConfig()
	case "console":
		zc = zap.NewDevelopmentConfig()
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		zc.DisableStacktrace = true
	default:
		return nil, fmt.Errorf("INVOICED_LOG_FORMAT=%q: want json or console", cfg.LogFormat)
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	log, err := zc.Build()
	if err != nil {
		return nil, err
	}
	redis.SetLogger(redisLogger{log.Named("redis").Sugar()})
	return log, nil
}

// connectProduction loads the production configuration, checks it, and
// connects to the configured Redis with a logger named for role.
func connectProduction(role string) (config, *deps, error) {
	cfg, err := loadConfig(false)
	if err != nil {
		return cfg, nil, err
	}
	if err := cfg.requireProduction(); err != nil {
		return cfg, nil, err
	}
	log, err := newLogger(cfg)
	if err != nil {
		return cfg, nil, err
	}
	d, err := connect(cfg, log.With(zap.String("role", role)), nil)
	return cfg, d, err
}

// runRole runs one production role, and its metrics listener unless
// INVOICED_METRICS_ADDR is off, until ctx is canceled or either fails.
func runRole(ctx context.Context, role string) error {
	cfg, d, err := connectProduction(role)
	if err != nil {
		return err
	}
	defer func() { _ = d.log.Sync() }()
	defer d.close()
	g, ctx := errgroup.WithContext(ctx)
	if err := startOps(ctx, g, cfg, d); err != nil {
		return err
	}
	g.Go(func() error {
		switch role {
		case "api":
			return serveAPI(ctx, cfg, d)
		case "worker":
			return serveWorker(ctx, cfg, d)
		default:
			return serveScheduler(ctx, cfg, d)
		}
	})
	return g.Wait()
}

// startOps serves the process's /metrics and the probes /healthz and
// /readyz (Redis reachable) on cfg.MetricsAddr, unless it is empty, in g
// until ctx is canceled. They need no authentication: the address is
// meant for Prometheus and Kubernetes inside the cluster, not for the
// internet. An address already in use is an error before anything starts.
func startOps(ctx context.Context, g *errgroup.Group, cfg config, d *deps) error {
	if cfg.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("INVOICED_METRICS_ADDR=%s: %w (set another address, or off)", cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		pingCtx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := d.store.Ping(pingCtx); err != nil {
			writeStatus(w, http.StatusServiceUnavailable, "redis is not reachable")
			return
		}
		writeStatus(w, http.StatusOK, "ready")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: zap.NewStdLog(d.log)}
	d.log.Info("metrics listening", zap.String("addr", ln.Addr().String()))
	g.Go(func() error {
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		select {
		case err := <-errc:
			return fmt.Errorf("metrics listener: %w", err)
		case <-ctx.Done():
		}
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	})
	return nil
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": status})
}

func serveAPI(ctx context.Context, cfg config, d *deps) error {
	inspector := asynq.NewInspector(d.redisOpt)
	defer inspector.Close()
	verifier, err := sns.NewVerifier(sns.Config{})
	if err != nil {
		return err
	}
	var monitoring http.Handler
	if cfg.AdminToken != "" {
		mon := asynqmon.New(asynqmon.Options{RootPath: "/monitoring", RedisConnOpt: d.redisOpt, ReadOnly: true})
		defer mon.Close()
		monitoring = mon
	}
	a, err := api.New(api.Config{
		Store: d.store, Enqueuer: d.client, Tasks: inspector, PDF: d.pdf, Logger: d.log,
		AdminToken: cfg.AdminToken, DefaultEmailProvider: cfg.DefaultEmailProvider,
		DefaultSMSProvider: cfg.DefaultSMSProvider, SESVerified: d.ses.Verified,
		TwilioValidator: wiring.ValidTwilioSignature, WebhookAllowNets: cfg.WebhookAllowNets, TrustedProxies: cfg.TrustedProxies,
		SES:           wiring.SESCallbacks{Verifier: verifier},
		PublicBaseURL: cfg.PublicURL, MaxBodyBytes: cfg.MaxBodyBytes,
		Metrics: d.metrics, MetricsHandler: d.metrics.Handler(), Monitoring: monitoring,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          zap.NewStdLog(d.log),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	d.log.Info("api listening", zap.String("addr", cfg.Addr))
	select {
	case err := <-errc:
		return fmt.Errorf("api: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	d.log.Info("api shutting down")
	return srv.Shutdown(shutdownCtx)
}

func serveWorker(ctx context.Context, cfg config, d *deps) error {
	box, err := outbox.New(cfg.OutboxDir)
	if err != nil {
		return err
	}
	smtpSenders := wiring.NewSMTPSenders(nil)
	defer smtpSenders.Close()
	w, err := worker.New(worker.Config{
		Store: d.store, Enqueuer: d.client, PDF: d.pdf, Logger: d.log,
		Outbox: box, SMSOutbox: box, SMTPFunc: smtpSenders.EmailSender, SESFunc: d.ses.EmailSender,
		TwilioFunc:           wiring.TwilioSenders{APIURL: cfg.TwilioAPIURL, CallbackURL: cfg.PublicURL + "/callbacks/twilio"}.SMSSender,
		DefaultEmailProvider: cfg.DefaultEmailProvider, DefaultSMTP: cfg.DefaultSMTP,
		DefaultSMSProvider: cfg.DefaultSMSProvider, DefaultFromEmail: cfg.DefaultFromEmail,
		EmailMaxPerSecond: cfg.EmailMaxPerSecond, SMSMaxPerSecond: cfg.SMSMaxPerSecond,
		MaxDeliveryRetries: cfg.DeliveryMaxRetries,
		PaymentFunc:        wiring.PaymentLinkers{StripeAPIBase: cfg.StripeAPIBase, RazorpayURL: cfg.RazorpayAPIURL, ReturnURL: cfg.PublicURL}.Linker,
		Webhooks:           webhook.NewSender(webhook.NewClient(webhook.ClientConfig{AllowNets: cfg.WebhookAllowNets}), "invoiced-webhooks/1"),
		PublicBaseURL:      cfg.PublicURL,
		Metrics:            d.metrics,
		SendTimeout:        cfg.SendTimeout,
	})
	if err != nil {
		return err
	}
	// Handlers run on base, not on ctx: SIGTERM stops fetching and lets
	// them finish for up to the shutdown timeout.
	base, abandon := context.WithCancel(context.Background())
	defer abandon()
	sc := worker.ServerConfig(cfg.Concurrency, d.log)
	sc.ShutdownTimeout = cfg.ShutdownTimeout
	sc.BaseContext = func() context.Context { return base }
	srv := asynq.NewServer(d.redisOpt, sc)
	if err := srv.Start(w.Mux()); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	d.log.Info("worker started", zap.Int("concurrency", cfg.Concurrency), zap.String("outbox", cfg.OutboxDir))
	<-ctx.Done()
	d.log.Info("worker shutting down: finishing in-flight tasks", zap.Duration("timeout", cfg.ShutdownTimeout))
	srv.Shutdown()
	// asynq has put the tasks that did not finish in time back on the
	// queue, without canceling their handlers. Stop those now; provider
	// calls under way run on and are recorded, so the requeued tasks find
	// their deliveries sent.
	abandon()
	if err := w.Stop(context.Background()); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	return nil
}

// serveScheduler runs the periodic tasks. The scheduler is also the one
// process that reports the queues' sizes, so they are not repeated by
// every api and worker.
func serveScheduler(ctx context.Context, cfg config, d *deps) error {
	inspector := asynq.NewInspector(d.redisOpt)
	defer inspector.Close()
	d.metrics.WatchQueues(inspector)
	sch := asynq.NewScheduler(d.redisOpt, &asynq.SchedulerOpts{Logger: d.log.Sugar(), LogLevel: asynq.WarnLevel})
	spec := "@every " + cfg.SweepInterval.String()
	for _, task := range []*asynq.Task{tasks.NewSweepFinalizeTask(), tasks.NewSweepEventsTask(), tasks.NewSweepDeliveriesTask()} {
		if _, err := sch.Register(spec, task); err != nil {
			return fmt.Errorf("scheduler: %w", err)
		}
	}
	if err := sch.Start(); err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	d.log.Info("scheduler started", zap.String("sweep", spec))
	<-ctx.Done()
	sch.Shutdown()
	return nil
}

// redisLogger sends go-redis's own messages (Sentinel failovers, pool
// problems) to zap instead of stderr.
type redisLogger struct{ log *zap.SugaredLogger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Infof(format, v...)
}
