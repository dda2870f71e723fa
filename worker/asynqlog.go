package worker

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// redisTroubleEvery is how often a worker says that Redis is unavailable
// while it stays so.
const redisTroubleEvery = 30 * time.Second

// redisTroubles are the phrases of asynq's log lines when Redis cannot
// take its commands, and what each means for an operator.
var redisTroubles = []struct{ phrase, reason string }{
	{"OOM command not allowed", "out of memory (maxmemory reached under noeviction)"},
	{"READONLY", "read-only (a replica, or a failover in progress)"},
	{"MISCONF", "failing to persist to disk"},
	{"LOADING", "loading its data"},
	{"CLUSTERDOWN", "cluster down"},
	{"connection refused", "not reachable"},
	{"i/o timeout", "not answering"},
	{"no such host", "not reachable (its host name does not resolve)"},
	{"connection reset", "not reachable"},
	{"EOF", "not reachable"},
}

// AsynqLogger is the logger asynq's server and scheduler components
// (fetching, lease renewal, forwarding of scheduled tasks, heartbeat) and
// go-redis's pool write to. Each of them logs its own failure every second
// or so while Redis is unavailable; this logger says it once per
// redisTroubleEvery for all that share it, in one line naming the reason,
// at warn level (no stack trace), and passes everything else on. asynq
// and go-redis resume by themselves once Redis takes commands again.
type AsynqLogger struct {
	log *zap.SugaredLogger

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// NewAsynqLogger wraps log for asynq.Config.Logger and redis.SetLogger.
func NewAsynqLogger(log *zap.Logger) *AsynqLogger {
	return &AsynqLogger{log: log.WithOptions(zap.AddCallerSkip(1)).Sugar()}
}

// Debug implements asynq.Logger.
func (l *AsynqLogger) Debug(args ...any) { l.log.Debug(args...) }

// Info implements asynq.Logger.
func (l *AsynqLogger) Info(args ...any) { l.log.Info(args...) }

// Warn implements asynq.Logger.
func (l *AsynqLogger) Warn(args ...any) {
	if !l.trouble(args) {
		l.log.Warn(args...)
	}
}

// Error implements asynq.Logger.
func (l *AsynqLogger) Error(args ...any) {
	if !l.trouble(args) {
		l.log.Error(args...)
	}
}

// Fatal implements asynq.Logger.
func (l *AsynqLogger) Fatal(args ...any) { l.log.Fatal(args...) }

// Printf takes go-redis's own messages (pool and Sentinel problems).
func (l *AsynqLogger) Printf(_ context.Context, format string, v ...any) {
	if msg := fmt.Sprintf(format, v...); !l.trouble([]any{msg}) {
		l.log.Info(msg)
	}
}

// trouble reports whether the line is about Redis being unavailable, and
// logs the one line per interval that stands for all of them.
func (l *AsynqLogger) trouble(args []any) bool {
	msg := fmt.Sprint(args...)
	reason := ""
	for _, t := range redisTroubles {
		if strings.Contains(msg, t.phrase) {
			reason = t.reason
			break
		}
	}
	if reason == "" {
		return false
	}
	l.mu.Lock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < redisTroubleEvery {
		l.suppressed++
		l.mu.Unlock()
		return true
	}
	suppressed := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	l.log.Desugar().Warn("redis is "+reason+": tasks wait and resume by themselves once it takes commands again",
		zap.String("error", msg), zap.Int("similar_lines_suppressed", suppressed),
		zap.Duration("next_report_in", redisTroubleEvery))
	return true
}
