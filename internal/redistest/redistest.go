// Package redistest starts real redis-server processes for tests.
package redistest

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RequireTool skips the test when the command name is not installed, naming
// it; under CI (CI=true) a missing tool fails the test instead, so a missing
// install step cannot hide behind a skip.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI but not installed: %v", name, err)
	}
	t.Skipf("%s is not installed; skipping", name)
	return ""
}

// Server is a redis-server started for one test.
type Server struct {
	Addr string
	Dir  string
	// Password is the server's requirepass, if extra set one.
	Password string
	cmd      *exec.Cmd
	tls      *tls.Config // for a server started with StartTLS
	bin      string
	args     []string
	env      []string
}

// Start runs a fresh redis-server on a free loopback port, with its data in
// a temporary folder, and stops it when the test ends. extra are more
// redis-server arguments, e.g. "--appendonly", "yes"; with "--requirepass",
// PW the server's own clients log in with PW.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	return StartEnv(t, nil, extra...)
}

// StartEnv is Start with env added to the server's environment (such as
// an LD_PRELOAD), again on Restart.
func StartEnv(t testing.TB, env []string, extra ...string) *Server {
	t.Helper()
	bin := RequireTool(t, "redis-server")
	port := FreePort(t)
	dir := t.TempDir()
	args := append([]string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "no",
	}, extra...)
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir, bin: bin, args: args, env: env}
	for i, a := range extra[:max(len(extra)-1, 0)] {
		if a == "--requirepass" {
			s.Password = extra[i+1]
		}
	}
	s.start(t, bin)
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(t testing.TB, bin string) {
	t.Helper()
	s.cmd = exec.Command(bin, s.args...)
	if s.env != nil {
		s.cmd.Env = append(os.Environ(), s.env...)
	}
	logf, err := os.OpenFile(filepath.Join(s.Dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := pingTLS(context.Background(), s.Addr, s.Password, s.tls); err == nil {
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
			t.Fatalf("redis-server on %s did not answer: %s", s.Addr, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (SIGKILL, as a crash would).
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// Restart starts the server again, on the same port with the same data
// folder, after Stop; with "--appendonly", "yes" it loads what it had.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.start(t, s.bin)
}

// URL returns the server's redis:// URL.
func (s *Server) URL() string { return fmt.Sprintf("redis://%s/0", s.Addr) }

// Client returns a client for the server, closed when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Password: s.Password, TLSConfig: s.tls})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// The ports FreePort hands out lie below Linux's ephemeral range (32768
// and up), so that no outgoing connection of the machine takes one between
// FreePort and the listen that follows, and it never hands out one twice
// in a process.
const freePortLow, freePortHigh = 20000, 32767

var handedOut struct {
	sync.Mutex
	ports map[int]bool
}

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago and
// that no other test of this process was given.
func FreePort(t testing.TB) int {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
	for range 1000 {
		port := freePortLow + rand.IntN(freePortHigh-freePortLow+1)
		if handedOut.ports[port] {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l.Close()
		handedOut.ports[port] = true
		return port
	}
	t.Fatal("no free port found")
	return 0
}
