// Package loadtest runs a whole invoiced deployment on one machine — a
// redis-server, the api and worker processes of the invoiced binary, and
// an SMTP server that takes every message — pushes invoices through it,
// and measures what a send costs: the API's enqueue latency, the time from
// enqueue to sent, throughput and worker memory. Beside them it measures,
// on the same machine, the two ceilings a send cannot beat: how fast the
// same workers run tasks that do nothing, and how fast the invoice's PDF
// renders.
//
// The processes get only the INVOICED_ variables the run sets. The
// deployment's default email provider is SMTP to the in-process server
// without TLS, so TLS handshakes stay out of the figures and no sender
// needs verifying.
package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// Config configures a run. Zero fields get the defaults documented on
// each.
type Config struct {
	// Binary is the invoiced executable. The run starts `Binary api` and
	// `Binary worker`. Required.
	Binary string
	// NoopWorker is the command line of the asynq ceiling's worker, a
	// process that calls ServeNoop (the load test's own executable with
	// an argument that says so). Required.
	NoopWorker []string
	// Sends is the number of invoices each pass creates and sends.
	// Defaults to 1000.
	Sends int
	// Rates are the passes, in order. Defaults to one full-speed pass.
	Rates []Rate
	// Clients is the number of concurrent HTTP clients. Defaults to 64.
	Clients int
	// Workers is the number of worker processes. Defaults to 1.
	Workers int
	// Concurrency is each worker's INVOICED_WORKER_CONCURRENCY. Defaults
	// to 20, the worker's own default.
	Concurrency int
	// Lines is the number of lines of each invoice. Defaults to 10.
	Lines int
	// RedisURL is a Redis to use instead of starting a redis-server from
	// PATH. No invoiced worker may be using it: the run pauses and fills
	// the ordinary queues.
	RedisURL string
	// NoopTasks is the number of no-op tasks that measure the asynq
	// ceiling. Defaults to 20000.
	NoopTasks int
	// RenderTime is how long the render-only rate is measured. Defaults
	// to 5s.
	RenderTime time.Duration
	// Timeout bounds each pass: its sends, their emails and the queues
	// draining. Defaults to 5m.
	Timeout time.Duration
	// ProfileDir, when set, is where the api and each worker write their
	// CPU profile for the whole run, as NAME.cpu.pprof (worker-1, …), by
	// INVOICED_CPU_PROFILE.
	ProfileDir string
	// Status, when set, receives a line as each phase starts and ends.
	Status io.Writer
	// Bar redraws a progress line on Status during each pass.
	Bar bool
}

func (c *Config) fill() error {
	if c.Binary == "" {
		return errors.New("loadtest: Binary is required")
	}
	if len(c.NoopWorker) == 0 {
		return errors.New("loadtest: NoopWorker is required")
	}
	defaults := []struct {
		v    *int
		def  int
		name string
	}{
		{&c.Sends, 1000, "sends"}, {&c.Clients, 64, "clients"}, {&c.Workers, 1, "workers"},
		{&c.Concurrency, 20, "concurrency"}, {&c.Lines, 10, "lines"}, {&c.NoopTasks, 20000, "noop tasks"},
	}
	for _, d := range defaults {
		if *d.v < 0 {
			return fmt.Errorf("loadtest: %s must not be negative", d.name)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.Lines > 1000 {
		return errors.New("loadtest: at most 1000 lines")
	}
	if len(c.Rates) == 0 {
		c.Rates = []Rate{{}}
	}
	if c.RenderTime <= 0 {
		c.RenderTime = 5 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.Status == nil {
		c.Status, c.Bar = io.Discard, false
	}
	return nil
}

// Run starts the deployment, measures it and stops it. It returns what it
// measured so far along with any error; a run whose sends were not all
// delivered exactly once is not an error here (see Report.Complete). On
// an error the processes' logs are kept and the error names their folder.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	started := time.Now()
	rep := &Report{Setup: Setup{
		Sends: cfg.Sends, Clients: cfg.Clients, Workers: cfg.Workers, Concurrency: cfg.Concurrency,
		CPUs: runtime.NumCPU(), InvoiceLines: cfg.Lines, LoadBefore: loadAverage(),
	}}
	dir, err := os.MkdirTemp("", "invoiced-loadtest-")
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, dir: dir, fl: &fleet{dir: dir}}
	err = r.run(ctx, rep)
	r.close()
	rep.Setup.LoadAfter = loadAverage()
	rep.Setup.ElapsedSec = time.Since(started).Seconds()
	if err != nil {
		return rep, fmt.Errorf("%w\n(the processes' logs are in %s)", err, dir)
	}
	_ = os.RemoveAll(dir)
	return rep, nil
}

// runner is one run's state.
type runner struct {
	cfg Config
	dir string
	fl  *fleet

	sink      *sink
	redisOpt  asynq.RedisConnOpt
	rdb       redis.UniversalClient
	st        *store.Store
	insp      *asynq.Inspector
	env       []string // the roles' environment
	apiURL    string
	client    *http.Client
	token     string
	tenantID  string
	rss       *rssSampler
	apiProc   *proc
	redisProc *proc // nil with -redis-url
	workers   []*proc
	// adminToken guards the api's admin routes for the run.
	adminToken string
}

func (r *runner) run(ctx context.Context, rep *Report) error {
	cfg := r.cfg
	redisURL := cfg.RedisURL
	if redisURL == "" {
		r.statusf("starting redis-server")
		var err error
		if redisURL, r.redisProc, err = r.fl.startRedis(ctx); err != nil {
			return err
		}
	}
	if err := r.connect(ctx, redisURL, rep); err != nil {
		return err
	}
	if err := r.startAPI(ctx); err != nil {
		return err
	}
	if err := r.createTenant(ctx); err != nil {
		return err
	}

	ids := make([][]string, len(cfg.Rates))
	for p := range ids {
		ids[p] = make([]string, cfg.Sends)
		for i := range ids[p] {
			ids[p][i] = fmt.Sprintf("lt_%d_%06d", p+1, i+1)
		}
	}
	r.statusf("creating %s invoices of %d lines", count(cfg.Sends*len(cfg.Rates)), cfg.Lines)
	if err := r.createInvoices(ctx, ids); err != nil {
		return err
	}

	r.statusf("asynq ceiling: %s no-op tasks through %d process(es) × concurrency %d", count(cfg.NoopTasks), cfg.Workers, cfg.Concurrency)
	noop, err := r.asynqCeiling(ctx)
	if err != nil {
		return fmt.Errorf("asynq ceiling: %w", err)
	}
	rep.Ceilings.NoopTasks, rep.Ceilings.NoopTasksPerSec = cfg.NoopTasks, noop
	r.statusf("  %s tasks/s", count(int(noop)))

	r.rss = newRSSSampler(100 * time.Millisecond)
	if err := r.startWorkers(ctx); err != nil {
		return err
	}
	var peak float64
	for p, rate := range cfg.Rates {
		target := rate.PerSecond
		if rate.OfPeak > 0 {
			target = rate.OfPeak * peak
		}
		label := fmt.Sprintf("pass %d/%d", p+1, len(cfg.Rates))
		if target > 0 {
			r.statusf("%s: %s sends at %.0f/s", label, count(cfg.Sends), target)
		} else {
			r.statusf("%s: %s sends at full speed", label, count(cfg.Sends))
		}
		pass, err := r.pass(ctx, label, target, ids[p])
		pass.Rate = rate.String()
		rep.Passes = append(rep.Passes, pass)
		if err != nil {
			return err
		}
		r.statusf("  %s/s, enqueue p99 %s, enqueue→sent p99 %s", count(int(pass.ThroughputPerSec)), ms(pass.EnqueueP99Ms), ms(pass.SentP99Ms))
		if target == 0 {
			peak = pass.ThroughputPerSec
		}
	}
	rep.Setup.EmailBytes = r.sink.meanSize()
	for _, w := range r.workers {
		r.rss.unwatch(w.pid())
		w.stop(30 * time.Second)
	}

	r.statusf("render-only rate for %s", r.cfg.RenderTime)
	c := &rep.Ceilings
	c.RendersPerSec, c.RenderGoroutines, c.PDFBytes, err = r.renderCeiling(ctx, ids[0][0])
	if err != nil {
		return fmt.Errorf("render ceiling: %w", err)
	}
	r.statusf("  %s renders/s", count(int(c.RendersPerSec)))

	c.TasksPerSend = rep.Passes[0].TasksPerSend
	c.AsynqSendsPerSec = c.NoopTasksPerSec
	if c.TasksPerSend > 0 {
		c.AsynqSendsPerSec = c.NoopTasksPerSec / c.TasksPerSend
	}
	c.SendsPerSec, c.Bound = c.AsynqSendsPerSec, "asynq"
	if c.RendersPerSec < c.AsynqSendsPerSec {
		c.SendsPerSec, c.Bound = c.RendersPerSec, "render"
	}
	for i := range rep.Passes {
		if c.SendsPerSec > 0 {
			rep.Passes[i].OfCeiling = rep.Passes[i].ThroughputPerSec / c.SendsPerSec
		}
	}
	return nil
}

// connect opens the clients the run itself uses on Redis.
func (r *runner) connect(ctx context.Context, redisURL string, rep *Report) error {
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return fmt.Errorf("redis URL: %w", err)
	}
	rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return errors.New("unsupported redis URL")
	}
	r.redisOpt, r.rdb = opt, rdb
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	version := "redis"
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			version += " " + v
		}
	}
	if r.cfg.RedisURL == "" {
		rep.Setup.Redis = version + " started for the run"
	} else {
		rep.Setup.Redis = version + " given with -redis-url"
	}
	key, admin := make([]byte, 32), make([]byte, 24)
	_, _ = rand.Read(key)
	_, _ = rand.Read(admin)
	r.adminToken = hex.EncodeToString(admin)
	if r.st, err = store.New(rdb, store.Config{SecretKey: key}); err != nil {
		return err
	}
	r.insp = asynq.NewInspector(opt)
	if r.sink, err = startSink(); err != nil {
		return fmt.Errorf("smtp sink: %w", err)
	}
	apiPort, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(apiPort)
	r.apiURL = "http://" + addr
	r.env = childEnv(
		"INVOICED_REDIS_URL="+redisURL,
		"INVOICED_SECRET_KEY="+hex.EncodeToString(key),
		"INVOICED_ADMIN_TOKEN="+r.adminToken,
		"INVOICED_ADDR="+addr,
		"INVOICED_PUBLIC_URL="+r.apiURL,
		"INVOICED_DEFAULT_EMAIL_PROVIDER=smtp",
		"INVOICED_DEFAULT_SMTP_URL=smtp://127.0.0.1:"+strconv.Itoa(r.sink.port())+"?tls=none",
		"INVOICED_WORKER_CONCURRENCY="+strconv.Itoa(r.cfg.Concurrency),
		"INVOICED_OUTBOX_DIR="+filepath.Join(r.dir, "outbox"),
		"INVOICED_LOG_LEVEL=warn",
		"INVOICED_SHUTDOWN_TIMEOUT=20s",
		// A run sends far more in an hour than any tenant may: the
		// ceiling is lifted so the run's tenant can lift its own limit.
		"INVOICED_MAX_EMAILS_PER_HOUR=1000000000",
		// The processes share this machine: no probe listeners, whose
		// default port only one of them could have.
		"INVOICED_METRICS_ADDR=off",
	)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = r.cfg.Clients * 2
	tr.MaxIdleConnsPerHost = r.cfg.Clients * 2
	tr.Proxy = nil
	r.client = &http.Client{Transport: tr, Timeout: time.Minute}
	return nil
}

// profiled is the environment of the process name: the run's, and the
// file of its CPU profile when the run keeps them.
func (r *runner) profiled(name string) []string {
	if r.cfg.ProfileDir == "" {
		return r.env
	}
	return append(slices.Clip(r.env), "INVOICED_CPU_PROFILE="+filepath.Join(r.cfg.ProfileDir, name+".cpu.pprof"))
}

func (r *runner) startAPI(ctx context.Context) error {
	r.statusf("starting invoiced api")
	p, err := r.fl.start("api", r.cfg.Binary, []string{"api"}, r.profiled("api"))
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", r.apiURL+"/readyz", nil)
		if resp, err := r.client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if err := r.fl.check(); err != nil {
			return err
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the api did not become ready; the end of its log:\n%s", logTail(p.logPath, 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.apiProc = p
	return nil
}

// startWorkers starts the worker processes and waits until each has
// registered with asynq.
func (r *runner) startWorkers(ctx context.Context) error {
	r.statusf("starting %d invoiced worker(s)", r.cfg.Workers)
	r.rss.watch(r.apiProc.pid(), "api")
	var procs []*proc
	for i := range r.cfg.Workers {
		name := fmt.Sprintf("worker-%d", i+1)
		p, err := r.fl.start(name, r.cfg.Binary, []string{"worker"}, r.profiled(name))
		if err != nil {
			return err
		}
		procs = append(procs, p)
		r.rss.watch(p.pid(), "worker")
	}
	r.workers = procs
	return r.waitRegistered(ctx, procs)
}

// waitRegistered waits until every one of procs runs an asynq server.
func (r *runner) waitRegistered(ctx context.Context, procs []*proc) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		servers, err := r.insp.Servers()
		if err != nil {
			return err
		}
		up := map[int]bool{}
		for _, s := range servers {
			if s.Status == "active" {
				up[s.PID] = true
			}
		}
		all := true
		for _, p := range procs {
			all = all && up[p.pid()]
		}
		if all {
			return nil
		}
		if err := r.fl.check(); err != nil {
			return err
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the workers did not start; the end of %s's log:\n%s", procs[0].name, logTail(procs[0].logPath, 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *runner) close() {
	if r.rss != nil {
		r.rss.close()
	}
	r.fl.stopAll()
	if r.sink != nil {
		r.sink.close()
	}
	if r.insp != nil {
		_ = r.insp.Close()
	}
	if r.rdb != nil {
		_ = r.rdb.Close()
	}
}

func (r *runner) statusf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Status, format+"\n", args...)
}

// queued returns the tasks pending and running in queues. It reads
// asynq's lists directly ("asynq:{queue}:pending" and ":active"), which
// costs Redis two LLENs per queue instead of the inspector's statistics
// script, so it can be polled often.
func (r *runner) queued(ctx context.Context, queues ...string) (pending, active int64, err error) {
	pipe := r.rdb.Pipeline()
	var p, a []*redis.IntCmd
	for _, q := range queues {
		p = append(p, pipe.LLen(ctx, "asynq:{"+q+"}:pending"))
		a = append(a, pipe.LLen(ctx, "asynq:{"+q+"}:active"))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, 0, err
	}
	for i := range p {
		pending += p[i].Val()
		active += a[i].Val()
	}
	return pending, active, nil
}

// processed is the number of tasks the workers' queues have processed
// since they were created.
func (r *runner) processed() (int, error) {
	existing, err := r.insp.Queues()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, q := range existing {
		if _, ok := tasks.Queues[q]; !ok {
			continue
		}
		info, err := r.insp.GetQueueInfo(q)
		if err != nil {
			return 0, err
		}
		n += info.ProcessedTotal
	}
	return n, nil
}

// workerQueues lists the queues the workers poll.
func workerQueues() []string {
	var qs []string
	for q := range tasks.Queues {
		qs = append(qs, q)
	}
	return qs
}

// cpuByRole is the CPU time used so far by the api, the workers (added
// up), redis-server when the run started it, and this process: the load
// generator and the SMTP server.
func (r *runner) cpuByRole() map[string]time.Duration {
	out := map[string]time.Duration{}
	add := func(role string, pid int) {
		if d, ok := cpuTime(pid); ok {
			out[role] += d
		}
	}
	add("api", r.apiProc.pid())
	for _, w := range r.workers {
		add("workers", w.pid())
	}
	if r.redisProc != nil {
		add("redis", r.redisProc.pid())
	}
	add("loadtest", os.Getpid())
	return out
}
