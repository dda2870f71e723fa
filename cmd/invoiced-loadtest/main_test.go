package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/invoiced/invoiced/internal/loadtest"
	"github.com/invoiced/invoiced/internal/redistest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// built holds the binaries the tests run, built once per test process.
var built struct {
	once sync.Once
	dir  string
	err  error
}

// buildBinaries builds invoiced-loadtest and, beside it, the production
// invoiced (as `make build` does, so the run finds it without -bin) the
// first time a test asks, and returns the load test's path.
func buildBinaries(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "invoiced-loadtest-bin-"); built.err != nil {
			return
		}
		for _, b := range []struct{ name, pkg string }{
			{"invoiced-loadtest", "."},
			{"invoiced", "github.com/invoiced/invoiced/cmd/invoiced"},
		} {
			if out, err := exec.Command("go", "build", "-o", filepath.Join(built.dir, b.name), b.pkg).CombinedOutput(); err != nil {
				built.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
				return
			}
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return filepath.Join(built.dir, "invoiced-loadtest")
}

// TestLoadtest runs invoiced-loadtest end to end at a small size — its
// own redis-server, api, two worker processes and SMTP sink — and checks
// that the report adds up: every send delivered exactly once, percentiles
// in order, the ceiling and the ratios computed from what was measured.
// Speed itself is never asserted.
func TestLoadtest(t *testing.T) {
	if testing.Short() {
		t.Skip("the load test builds and runs the binary; skipped with -short")
	}
	redistest.RequireTool(t, "redis-server")
	bin := buildBinaries(t)
	const sends = 200
	cmd := exec.Command(bin, "-n", "200", "-rate", "0,50%", "-workers", "2", "-concurrency", "10",
		"-clients", "16", "-noop-tasks", "2000", "-render-time", "300ms", "-timeout", "2m", "-json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("loadtest: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	var rep loadtest.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("the report is not JSON: %v\n%s", err, stdout.String())
	}
	if !strings.Contains(stderr.String(), "pass 2/2") || strings.Contains(stderr.String(), "\r") {
		t.Errorf("stderr, not a terminal, should have phase lines and no progress bar:\n%q", stderr.String())
	}

	s, c := rep.Setup, rep.Ceilings
	if s.Sends != sends || s.Workers != 2 || s.Concurrency != 10 || s.EmailBytes < 10_000 {
		t.Errorf("setup = %+v", s)
	}
	if len(rep.Passes) != 2 {
		t.Fatalf("%d passes, want 2", len(rep.Passes))
	}
	for i, p := range rep.Passes {
		if p.Sends != sends || p.Accepted != sends || p.EnqueueErrors != 0 || p.Delivered != sends ||
			p.Missing != 0 || p.Duplicates != 0 || p.Failed != 0 {
			t.Errorf("pass %d: %d sends, %d accepted, %d enqueue errors (%s), %d delivered, %d missing, %d duplicates, %d failed; want every one of %d delivered once",
				i+1, p.Sends, p.Accepted, p.EnqueueErrors, p.FirstError, p.Delivered, p.Missing, p.Duplicates, p.Failed, sends)
		}
		if !(0 < p.EnqueueP50Ms && p.EnqueueP50Ms <= p.EnqueueP99Ms && p.EnqueueP99Ms <= p.EnqueueMaxMs) {
			t.Errorf("pass %d: enqueue p50 %v, p99 %v, max %v out of order", i+1, p.EnqueueP50Ms, p.EnqueueP99Ms, p.EnqueueMaxMs)
		}
		if !(0 < p.SentP50Ms && p.SentP50Ms <= p.SentP99Ms && p.SentP99Ms <= p.SentMaxMs) {
			t.Errorf("pass %d: enqueue→sent p50 %v, p99 %v, max %v out of order", i+1, p.SentP50Ms, p.SentP99Ms, p.SentMaxMs)
		}
		// A send is at least its invoice:send task, which sends the email.
		if p.ThroughputPerSec <= 0 || p.EnqueuePerSec <= 0 || p.TasksPerSend < 1 {
			t.Errorf("pass %d: throughput %v/s, enqueued %v/s, %v tasks per send", i+1, p.ThroughputPerSec, p.EnqueuePerSec, p.TasksPerSend)
		}
		if !near(p.OfCeiling, p.ThroughputPerSec/c.SendsPerSec) {
			t.Errorf("pass %d: of ceiling %v, want %v / %v", i+1, p.OfCeiling, p.ThroughputPerSec, c.SendsPerSec)
		}
		if p.WorkerRSSMaxMiB <= 0 || p.APIRSSMaxMiB <= 0 || p.CPUSec["workers"] <= 0 {
			t.Errorf("pass %d: worker RSS %v MiB, api RSS %v MiB, CPU %v", i+1, p.WorkerRSSMaxMiB, p.APIRSSMaxMiB, p.CPUSec)
		}
	}
	if p1, p2 := rep.Passes[0], rep.Passes[1]; p1.TargetPerSec != 0 || !near(p2.TargetPerSec, p1.ThroughputPerSec/2) {
		t.Errorf("pass 2 ran at %v/s, want half of pass 1's %v/s", p2.TargetPerSec, p1.ThroughputPerSec)
	}
	if c.NoopTasks != 2000 || c.NoopTasksPerSec <= 0 || c.RendersPerSec <= 0 || c.RenderGoroutines < 1 || c.PDFBytes < 10_000 {
		t.Errorf("ceilings = %+v", c)
	}
	if c.TasksPerSend != rep.Passes[0].TasksPerSend || !near(c.AsynqSendsPerSec, c.NoopTasksPerSec/c.TasksPerSend) {
		t.Errorf("asynq ceiling %v sends/s from %v tasks/s and %v tasks per send", c.AsynqSendsPerSec, c.NoopTasksPerSec, c.TasksPerSend)
	}
	if c.SendsPerSec != math.Min(c.AsynqSendsPerSec, c.RendersPerSec) {
		t.Errorf("ceiling %v, want the lower of %v and %v", c.SendsPerSec, c.AsynqSendsPerSec, c.RendersPerSec)
	}
	if want := map[bool]string{true: "render", false: "asynq"}[c.RendersPerSec < c.AsynqSendsPerSec]; c.Bound != want {
		t.Errorf("bound %q, want %q", c.Bound, want)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

func TestLoadtestFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-rate", "50%"},
		{"-rate", "fast"},
		{"-n", "0"},
		{"-workers", "-1"},
		{"extra"},
		{"-bogus"},
		{"-bin", "/nonexistent/invoiced", "-n", "1"},
	} {
		var stderr bytes.Buffer
		if err := run(t.Context(), args, &bytes.Buffer{}, &stderr); err == nil {
			t.Errorf("loadtest %v succeeded", args)
		}
	}
	var stderr bytes.Buffer
	if err := run(t.Context(), []string{"-h"}, &bytes.Buffer{}, &stderr); err != nil {
		t.Errorf("-h: %v", err)
	}
	for _, want := range []string{"enqueue→sent", "-redis-url", "-rate", "noop-tasks", "-bin"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("-h does not mention %q", want)
		}
	}
}
