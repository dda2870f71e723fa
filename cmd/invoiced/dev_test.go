package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/redistest"
)

// startDev runs `invoiced dev` in dir on addr and waits until it serves;
// it returns the process's output so far, as it grows.
func startDev(t *testing.T, bin, dir, addr string) *syncBuffer {
	t.Helper()
	cmd := exec.Command(bin, "dev")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "INVOICED_ADDR="+addr, "INVOICED_REDIS_URL=", "INVOICED_ADMIN_TOKEN=",
		"INVOICED_METRICS_ADDR=", "INVOICED_LOG_FORMAT=console", "INVOICED_OUTBOX_DIR=")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Stop with Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("invoiced dev did not start:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return out
}

// ansi matches a terminal colour escape.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestDevSecondInstance starts invoiced dev, then a second one on the same
// address in the same folder, as a second `make run` would: the second
// stops at once, saying the address is taken and how to move, without
// touching the first one's token, which keeps working. Neither writes
// colours into output that is not a terminal.
func TestDevSecondInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildDevBinary(t)
	dir := t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	first := startDev(t, bin, dir, addr)
	token, err := os.ReadFile(filepath.Join(dir, "var", "dev-token"))
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	second := exec.CommandContext(ctx, bin, "dev")
	second.Dir = dir
	second.Env = append(os.Environ(), "INVOICED_ADDR="+addr, "INVOICED_REDIS_URL=", "INVOICED_ADMIN_TOKEN=", "INVOICED_METRICS_ADDR=", "INVOICED_LOG_FORMAT=console")
	out, err := second.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("the second invoiced dev on a taken address: %v (timed out: %v)\n%s", err, ctx.Err() != nil, out)
	}
	if !strings.Contains(string(out), "already in use") || !strings.Contains(string(out), "INVOICED_ADDR") {
		t.Errorf("the second invoiced dev says %q; want the address in use and INVOICED_ADDR named", out)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "var", "dev-token")); string(again) != string(token) {
		t.Errorf("the second invoiced dev rewrote var/dev-token")
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/settings", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the first invoiced dev answers its own token %d, want 200", resp.StatusCode)
	}
	for name, b := range map[string]string{"first": first.String(), "second": string(out)} {
		if ansi.MatchString(b) {
			t.Errorf("the %s invoiced dev wrote colour escapes into a pipe:\n%q", name, b)
		}
	}
}

// TestHelpStartsNothing asks every command for its help with Redis
// unreachable: each prints its usage and exits 0 at once, and dev binds
// no address.
func TestHelpStartsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildBinary(t)
	addr := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	for _, args := range [][]string{
		{"dev", "--help"}, {"api", "--help"}, {"worker", "--help"}, {"scheduler", "-h"},
		{"tenant", "--help"}, {"tenant", "create", "--help"}, {"tenant", "update", "-h"}, {"healthcheck", "--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Dir = t.TempDir()
			cmd.Env = append(os.Environ(), "INVOICED_ADDR="+addr, "INVOICED_REDIS_URL=redis://127.0.0.1:1/0", "INVOICED_SECRET_KEY="+strings.Repeat("ab", 32))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("exit %v:\n%s", err, out)
			}
			if !strings.Contains(strings.ToLower(string(out)), "usage") || !strings.Contains(string(out), args[0]) {
				t.Errorf("no usage of %s:\n%s", args[0], out)
			}
			if _, err := os.Stat(filepath.Join(cmd.Dir, "var")); err == nil {
				t.Errorf("%s wrote var/", args[0])
			}
		})
	}
	if _, err := exec.Command(bin, "worker", "now").CombinedOutput(); err == nil {
		t.Error("worker with an argument ran")
	}
}

// TestWorkerWithRedisDown runs a worker whose Redis is not there: it
// waits, saying so in a line or two for its Redis clients, not a line per
// component per second, and no stack trace.
func TestWorkerWithRedisDown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "worker")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "INVOICED_REDIS_URL=redis://127.0.0.1:"+strconv.Itoa(redistest.FreePort(t))+"/0",
		"INVOICED_SECRET_KEY="+strings.Repeat("ab", 32), "INVOICED_METRICS_ADDR=off")
	out, _ := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var trouble int
	for _, l := range lines {
		if strings.Contains(l, "redis is not reachable") {
			trouble++
		}
	}
	if trouble == 0 || trouble > 2 || len(lines) > 6 {
		t.Errorf("%d lines, %d saying Redis is not reachable, in 6 s; want one or two:\n%s", len(lines), trouble, out)
	}
	for _, bad := range []string{"goroutine ", "panic", "stacktrace"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("the output holds %q:\n%s", bad, out)
		}
	}
}
