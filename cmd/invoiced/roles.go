package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/sync/errgroup"

	"github.com/invoiced/invoiced/internal/wiring"
	"github.com/invoiced/invoiced/worker"
)

// connect opens Redis (from INVOICED_REDIS_URL, or opt when given) and the
// clients every role shares.
func connect(cfg config, log *zap.Logger, opt asynq.RedisConnOpt) (*wiring.Deps, error) {
	if opt == nil {
		var err error
		if opt, err = parseRedisURL(cfg.RedisURL); err != nil {
			return nil, fmt.Errorf("INVOICED_REDIS_URL: %w", err)
		}
	}
	return wiring.Connect(cfg, log, opt)
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
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
		if isTerminal(os.Stderr) { // colours for a person, none for a file or a collector
			zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		}
		zc.DisableStacktrace = true
	default:
		return nil, fmt.Errorf("INVOICED_LOG_FORMAT=%q: want json or console", cfg.LogFormat)
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	log, err := zc.Build()
	if err != nil {
		return nil, err
	}
	redis.SetLogger(worker.NewAsynqLogger(log.Named("redis")))
	return log, nil
}

// connectProduction loads the production configuration, checks it, and
// connects to the configured Redis with a logger named for role.
func connectProduction(role string) (config, *wiring.Deps, error) {
	cfg, err := loadConfig(false)
	if err != nil {
		return cfg, nil, err
	}
	if err := requireProduction(cfg); err != nil {
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
// The roles are built by package wiring, as the end-to-end tests build
// them.
func runRole(ctx context.Context, role string) error {
	stopProfile, err := startCPUProfile(os.Getenv("INVOICED_CPU_PROFILE"))
	if err != nil {
		return err
	}
	defer stopProfile()
	cfg, d, err := connectProduction(role)
	if err != nil {
		return err
	}
	defer func() { _ = d.Log.Sync() }()
	defer d.Close()
	g, ctx := errgroup.WithContext(ctx)
	if err := wiring.StartOps(ctx, g, cfg, d); err != nil {
		return err
	}
	g.Go(func() error {
		switch role {
		case "api":
			return wiring.ServeAPI(ctx, cfg, d, nil)
		case "worker":
			return wiring.ServeWorker(ctx, cfg, d)
		default:
			return wiring.ServeScheduler(ctx, cfg, d)
		}
	})
	return g.Wait()
}

// startCPUProfile writes this process's CPU profile (pprof) to path until
// stop is called, which the roles do when they shut down; an empty path
// profiles nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("INVOICED_CPU_PROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("INVOICED_CPU_PROFILE: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
