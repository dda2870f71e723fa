package wiring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/invoiced/invoiced/api"
	"github.com/invoiced/invoiced/internal/metrics"
	"github.com/invoiced/invoiced/providers/outbox"
	"github.com/invoiced/invoiced/providers/ses/sns"
	"github.com/invoiced/invoiced/providers/webhook"
	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
	"github.com/invoiced/invoiced/worker"
)

// Deps are the connections every role of a process shares, and the
// process's metrics.
type Deps struct {
	Log      *zap.Logger
	Metrics  *metrics.Metrics
	RedisOpt asynq.RedisConnOpt
	Redis    redis.UniversalClient
	Store    *store.Store
	Client   *asynq.Client
	PDF      *pdf.Cache
	SES      *SESSenders
	// AsynqLog is what the process's asynq server and scheduler log
	// through: one report of Redis trouble per interval for both.
	AsynqLog *worker.AsynqLogger
}

// Connect opens Redis through opt and builds the clients the roles share.
func Connect(cfg Config, log *zap.Logger, opt asynq.RedisConnOpt) (*Deps, error) {
	cfg = cfg.WithDefaults()
	rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, errors.New("unsupported redis connection option")
	}
	st, err := store.New(rdb, store.Config{SecretKey: cfg.SecretKey, RequireDurable: cfg.RequireDurableRedis})
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	renderer, err := pdf.New(pdf.WithLogger(log.Named("pdf")), pdf.WithFontDir(cfg.FontDir))
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	warnIfEvicting(log, st)
	if err := checkDurable(log, st, cfg.RequireDurableRedis); err != nil {
		_ = rdb.Close()
		return nil, err
	}
	m := metrics.New()
	return &Deps{
		Log: log, Metrics: m, RedisOpt: opt, Redis: rdb, Store: st,
		Client:   asynq.NewClient(opt),
		PDF:      pdf.NewCache(m.TimePDF(renderer), cfg.PDFCacheSize),
		SES:      NewSESSenders(cfg.SESEndpoint, cfg.SESSharedCredentials),
		AsynqLog: worker.NewAsynqLogger(log),
	}, nil
}

// warnIfEvicting says at startup, once, that Redis may evict keys: under
// such a maxmemory-policy invoices, sends and queued tasks vanish without
// an error, and /readyz answers 503 until the policy is noeviction. A
// Redis not reachable yet is left to /readyz and the roles' own retries.
func warnIfEvicting(log *zap.Logger, st *store.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if m, err := st.Memory(ctx); err == nil && m.Evicting() {
		log.Warn("redis may evict keys: set maxmemory-policy to noeviction, or invoices, sends and queued tasks can vanish",
			zap.String("maxmemory_policy", m.Policy), zap.Int64("maxmemory", m.Max))
	}
}

// asynqLog is d.AsynqLog, or one of its own for Deps not made by Connect.
func (d *Deps) asynqLog() *worker.AsynqLogger {
	if d.AsynqLog == nil {
		return worker.NewAsynqLogger(d.Log)
	}
	return d.AsynqLog
}

// checkDurable says at startup, once, that Redis may lose acknowledged
// writes in a machine crash: a 202 then does not promise that the send
// survives, and a task kept from before the crash may email again what the
// lost writes had sent. With require it refuses such a Redis instead, and
// one that will not say (CONFIG GET refused). A Redis not reachable yet
// is left to /readyz, which applies the same rule.
func checkDurable(log *zap.Logger, st *store.Store, require bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := st.CheckDurable(ctx)
	switch {
	case err == nil, !errors.Is(err, store.ErrNotDurable):
		return nil
	case require:
		return fmt.Errorf("INVOICED_REDIS_REQUIRE_FSYNC: %w", err)
	}
	p, perr := st.Persistence(ctx)
	if perr != nil {
		log.Info("cannot tell whether redis fsyncs every write", zap.Error(perr))
		return nil
	}
	log.Warn("redis may lose acknowledged sends in a machine crash: set appendonly yes and appendfsync always",
		zap.Bool("appendonly", p.AOF), zap.String("appendfsync", p.Fsync))
	return nil
}

// Close closes the connections.
func (d *Deps) Close() {
	_ = d.Client.Close()
	_ = d.Redis.Close()
}

// With returns a copy of d that logs to log.
func (d *Deps) With(log *zap.Logger) *Deps {
	c := *d
	c.Log = log
	return &c
}

// APIRole is the HTTP API with everything it was built with.
type APIRole struct {
	API     *api.API
	closers []func()
}

// Handler returns the API's routes.
func (r *APIRole) Handler() http.Handler { return r.API.Handler() }

// Close releases what NewAPI opened.
func (r *APIRole) Close() {
	for _, c := range r.closers {
		c()
	}
}

// NewAPI builds the API role: the store, the queue, the PDF cache, the
// provider callbacks (SES through SNS, Twilio, Stripe), the queue
// dashboard and /metrics when there is an admin token.
func NewAPI(cfg Config, d *Deps) (*APIRole, error) {
	cfg = cfg.WithDefaults()
	role := &APIRole{}
	inspector := asynq.NewInspector(d.RedisOpt)
	role.closers = append(role.closers, func() { _ = inspector.Close() })
	verifier, err := sns.NewVerifier(cfg.SNS)
	if err != nil {
		role.Close()
		return nil, err
	}
	var monitoring http.Handler
	if cfg.AdminToken != "" {
		mon := asynqmon.New(asynqmon.Options{RootPath: "/monitoring", RedisConnOpt: d.RedisOpt, ReadOnly: true})
		role.closers = append(role.closers, func() { _ = mon.Close() })
		monitoring = mon
	}
	role.API, err = api.New(api.Config{
		Store: d.Store, Enqueuer: d.Client, Tasks: inspector, PDF: d.PDF, Logger: d.Log,
		AdminToken: cfg.AdminToken, DefaultEmailProvider: cfg.DefaultEmailProvider,
		DefaultSMSProvider: cfg.DefaultSMSProvider, SESVerified: d.SES.Verified, SESSharedCredentials: cfg.SESSharedCredentials,
		TwilioValidator: ValidTwilioSignature, WebhookAllowNets: cfg.WebhookAllowNets, SMTPAllowNets: cfg.SMTPAllowNets, TrustedProxies: cfg.TrustedProxies,
		SES: SESCallbacks{Verifier: verifier}, StripeEvents: StripeEvents,
		PublicBaseURL: cfg.PublicURL, MaxBodyBytes: cfg.MaxBodyBytes, MaxEmailsPerHour: cfg.MaxEmailsPerHour,
		RetentionDays: cfg.RetentionDays,
		Metrics:       d.Metrics, MetricsHandler: d.Metrics.Handler(), Monitoring: monitoring,
	})
	if err != nil {
		role.Close()
		return nil, err
	}
	return role, nil
}

// ServeAPI serves the API on ln, or on cfg.Addr when ln is nil, until ctx
// is canceled, then shuts down within cfg.ShutdownTimeout.
func ServeAPI(ctx context.Context, cfg Config, d *Deps, ln net.Listener) error {
	cfg = cfg.WithDefaults()
	role, err := NewAPI(cfg, d)
	if err != nil {
		return err
	}
	defer role.Close()
	if ln == nil {
		if ln, err = Listen(cfg.Addr); err != nil {
			return fmt.Errorf("api: %w", err)
		}
	}
	srv := &http.Server{
		Handler:           role.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          zap.NewStdLog(d.Log),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	d.Log.Info("api listening", zap.String("addr", ln.Addr().String()))
	select {
	case err := <-errc:
		return fmt.Errorf("api: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	d.Log.Info("api shutting down")
	return srv.Shutdown(shutdownCtx)
}

// WorkerRole is an asynq server running the worker's handlers, on a
// pool of as many goroutines as the server's concurrency.
type WorkerRole struct {
	Worker      *worker.Worker
	server      *asynq.Server
	asynqLog    *worker.AsynqLogger
	concurrency int
	pool        *worker.Pool
	smtp        *SMTPSenders
	log         *zap.Logger
	timeout     time.Duration
	abandon     context.CancelFunc
}

// NewWorker builds the worker role: the handlers with every provider
// wired in (outbox, SMTP, SES, Twilio, the payment gateways, webhooks),
// on an asynq server of cfg.Concurrency.
func NewWorker(cfg Config, d *Deps) (*WorkerRole, error) {
	cfg = cfg.WithDefaults()
	box, err := outbox.New(cfg.OutboxDir)
	if err != nil {
		return nil, err
	}
	smtpSenders := NewSMTPSenders(SMTPSendersConfig{RootCAs: cfg.SMTPRootCAs, AllowNets: cfg.SMTPAllowNets,
		DefaultMaxIdle: cfg.Concurrency})
	w, err := worker.New(worker.Config{
		Store: d.Store, Enqueuer: d.Client, PDF: d.PDF, Logger: d.Log,
		Outbox: box, SMSOutbox: box, SMTPFunc: smtpSenders.EmailSender, DefaultSMTPFunc: smtpSenders.DefaultEmailSender, SESFunc: d.SES.EmailSender,
		SESSharedCredentials: cfg.SESSharedCredentials,
		TwilioFunc:           TwilioSenders{APIURL: cfg.TwilioAPIURL, CallbackURL: cfg.PublicURL + "/callbacks/twilio"}.SMSSender,
		DefaultEmailProvider: cfg.DefaultEmailProvider, DefaultSMTP: cfg.DefaultSMTP,
		DefaultSMSProvider: cfg.DefaultSMSProvider, DefaultFromEmail: cfg.DefaultFromEmail,
		EmailMaxPerSecond: cfg.EmailMaxPerSecond, SMSMaxPerSecond: cfg.SMSMaxPerSecond,
		MaxEmailsPerHour:   cfg.MaxEmailsPerHour,
		RetentionDays:      cfg.RetentionDays,
		MaxDeliveryRetries: cfg.DeliveryMaxRetries,
		RetryDelay:         cfg.RetryDelayFunc,
		PaymentFunc:        NewWorkerPaymentLinkers(cfg).Linker,
		Webhooks: webhook.NewSender(webhook.NewClient(webhook.ClientConfig{AllowNets: cfg.WebhookAllowNets, Timeout: cfg.WebhookTimeout}),
			"invoiced-webhooks/1"),
		PublicBaseURL: cfg.PublicURL,
		Metrics:       d.Metrics,
		SendTimeout:   cfg.SendTimeout,
	})
	if err != nil {
		smtpSenders.Close()
		return nil, err
	}
	// Handlers run on base, not on the caller's context: Shutdown stops
	// fetching and lets them finish for up to the shutdown timeout.
	base, abandon := context.WithCancel(context.Background())
	sc := worker.ServerConfig(cfg.Concurrency, d.Log)
	sc.Logger = d.asynqLog()
	sc.ShutdownTimeout = cfg.ShutdownTimeout
	sc.RetryDelayFunc = cfg.RetryDelayFunc
	sc.BaseContext = func() context.Context { return base }
	concurrency := cfg.Concurrency
	if concurrency < 1 {
		concurrency = runtime.NumCPU() // asynq's own default
	}
	return &WorkerRole{Worker: w, server: asynq.NewServer(d.RedisOpt, sc), asynqLog: d.asynqLog(), concurrency: concurrency,
		smtp: smtpSenders, log: d.Log, timeout: cfg.ShutdownTimeout, abandon: abandon}, nil
}

// Start starts the pool and processing tasks on it.
func (r *WorkerRole) Start() error {
	pool, err := worker.NewPool(r.concurrency, r.asynqLog)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	if err := r.server.Start(pool.Handler(r.Worker.Mux())); err != nil {
		_ = pool.Stop(context.Background())
		return fmt.Errorf("worker: %w", err)
	}
	r.pool = pool
	return nil
}

// Shutdown stops fetching tasks, waits up to the shutdown timeout for
// those under way, then for the provider calls still running, and stops
// the pool.
func (r *WorkerRole) Shutdown() error {
	r.log.Info("worker shutting down: finishing in-flight tasks", zap.Duration("timeout", r.timeout))
	r.server.Shutdown()
	// asynq has put the tasks that did not finish in time back on the
	// queue, without canceling their handlers. Stop those now; provider
	// calls under way run on and are recorded, so the requeued tasks find
	// their deliveries sent.
	r.abandon()
	defer r.smtp.Close()
	err := r.Worker.Stop(context.Background())
	if r.pool != nil {
		// The handlers still running were abandoned above: they end
		// soon, and then the pool's goroutines.
		ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
		defer cancel()
		err = errors.Join(err, r.pool.Stop(ctx))
	}
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	return nil
}

// ServeWorker runs a worker until ctx is canceled.
func ServeWorker(ctx context.Context, cfg Config, d *Deps) error {
	cfg = cfg.WithDefaults()
	role, err := NewWorker(cfg, d)
	if err != nil {
		return err
	}
	if err := role.Start(); err != nil {
		return err
	}
	d.Log.Info("worker started", zap.Int("concurrency", cfg.Concurrency), zap.String("outbox", cfg.OutboxDir))
	<-ctx.Done()
	return role.Shutdown()
}

// NewScheduler builds the scheduler role: the periodic sweeps every
// cfg.SweepInterval. The scheduler is also the one process that reports
// the queues' sizes, so they are not repeated by every api and worker;
// closing the returned function stops that.
func NewScheduler(cfg Config, d *Deps) (*asynq.Scheduler, func(), error) {
	cfg = cfg.WithDefaults()
	inspector := asynq.NewInspector(d.RedisOpt)
	d.Metrics.WatchQueues(inspector)
	sch := asynq.NewScheduler(d.RedisOpt, &asynq.SchedulerOpts{Logger: d.asynqLog(), LogLevel: asynq.WarnLevel})
	spec := "@every " + cfg.SweepInterval.String()
	for _, task := range []*asynq.Task{tasks.NewSweepFinalizeTask(), tasks.NewSweepEventsTask(), tasks.NewSweepDeliveriesTask()} {
		if _, err := sch.Register(spec, task); err != nil {
			_ = inspector.Close()
			return nil, nil, fmt.Errorf("scheduler: %w", err)
		}
	}
	return sch, func() { _ = inspector.Close() }, nil
}

// ServeScheduler runs the scheduler until ctx is canceled.
func ServeScheduler(ctx context.Context, cfg Config, d *Deps) error {
	cfg = cfg.WithDefaults()
	sch, closeInspector, err := NewScheduler(cfg, d)
	if err != nil {
		return err
	}
	defer closeInspector()
	if err := sch.Start(); err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	d.Log.Info("scheduler started", zap.Duration("sweep_interval", cfg.SweepInterval))
	<-ctx.Done()
	sch.Shutdown()
	return nil
}

// Listen listens on addr (the API's INVOICED_ADDR). An address already in
// use is an error that says so and how to move: the common case is a
// second invoiced on the same machine.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is already in use (another invoiced?): set INVOICED_ADDR to a free address, e.g. INVOICED_ADDR=127.0.0.1:8081", addr)
	}
	return ln, err
}

// StartOps serves the process's /metrics and the probes /healthz and
// /readyz (Redis reachable, taking writes, not evicting, and with
// RequireDurableRedis fsyncing every write) on cfg.MetricsAddr, unless it
// is empty, in g until ctx is canceled. They need no authentication: the address is
// meant for Prometheus and Kubernetes inside the cluster, not for the
// internet. An address already in use is an error before anything starts.
func StartOps(ctx context.Context, g *errgroup.Group, cfg Config, d *Deps) error {
	if cfg.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("INVOICED_METRICS_ADDR=%s: %w (set another address, or off)", cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.Metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		pingCtx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := d.Store.Ready(pingCtx); err != nil {
			writeStatus(w, http.StatusServiceUnavailable, store.NotReadyReason(err))
			return
		}
		writeStatus(w, http.StatusOK, "ready")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: zap.NewStdLog(d.Log)}
	d.Log.Info("metrics listening", zap.String("addr", ln.Addr().String()))
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

// ServeDev runs the api (on ln, or cfg.Addr when ln is nil), a worker and
// the scheduler in one process (what `invoiced dev` runs), with the ops
// listener when cfg.MetricsAddr is set, until ctx is canceled or one of
// them fails.
func ServeDev(ctx context.Context, cfg Config, d *Deps, ln net.Listener) error {
	cfg = cfg.WithDefaults()
	g, ctx := errgroup.WithContext(ctx)
	if err := StartOps(ctx, g, cfg, d); err != nil {
		return err
	}
	g.Go(func() error { return ServeAPI(ctx, cfg, d, ln) })
	g.Go(func() error { return ServeWorker(ctx, cfg, d.With(d.Log.With(zap.String("role", "worker")))) })
	g.Go(func() error { return ServeScheduler(ctx, cfg, d) })
	return g.Wait()
}
