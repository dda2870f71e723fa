// Package stripetest runs stripe-mock, Stripe's mock of its API, for
// tests.
//
// stripe-mock is a Go program, pinned here to Version. Install it with
//
//	go install github.com/stripe/stripe-mock@v0.203.0
//
// Start finds it on PATH, in $(go env GOBIN) or in $(go env GOPATH)/bin.
// Without it, Start skips the test outside CI; with CI=true it runs that
// install itself, and fails the test if it cannot.
//
// What stripe-mock does (read from its source, server/server.go): it
// validates each request's parameters against Stripe's OpenAPI spec
// (unknown or malformed parameters get Stripe's 400 invalid_request_error)
// and requires an Authorization header with a test key, then answers with
// the spec's fixture for the resource, reflecting some parameters into
// it. It keeps no state: a created object cannot be fetched back, and
// metadata is not echoed. It copies an Idempotency-Key header into its
// answer's headers without acting on it.
package stripetest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Module and Version name the stripe-mock that tests run.
const (
	Module  = "github.com/stripe/stripe-mock"
	Version = "v0.203.0"
)

// InstallCommand installs the pinned stripe-mock.
const InstallCommand = "go install " + Module + "@" + Version

// TestKey is a key stripe-mock accepts. Any "sk_test_…" key does.
const TestKey = "sk_test_123"

const (
	binary       = "stripe-mock"
	startTimeout = 30 * time.Second
	stopTimeout  = 5 * time.Second
)

// installMu keeps two tests in one binary from installing at once.
var installMu sync.Mutex

// Start runs stripe-mock on a free 127.0.0.1 port and returns its base
// URL, e.g. "http://127.0.0.1:41237", for stripe.Config.APIBase. It waits
// until stripe-mock answers and stops it when t ends. Each call starts its
// own process.
//
// Without stripe-mock installed, Start skips t, or with CI=true installs
// it (InstallCommand) first.
func Start(t testing.TB) string {
	t.Helper()
	bin := executable(t)
	base, err := start(t, bin)
	if err != nil {
		t.Fatalf("stripetest: %s did not start: %v", bin, err)
	}
	return base
}

// Find returns the path of an installed stripe-mock: the one on PATH, else
// the one in $(go env GOBIN), else in the first $(go env GOPATH)/bin.
func Find() (string, error) {
	if path, err := exec.LookPath(binary); err == nil {
		return path, nil
	}
	dir, err := installDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, binary)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s is not on PATH or in %s", binary, dir)
	}
	return path, nil
}

// installDir is where go install puts binaries.
func installDir() (string, error) {
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOBIN GOPATH: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) == 2 && lines[0] != "" {
		return lines[0], nil
	}
	if len(lines) == 2 && lines[1] != "" {
		return filepath.Join(filepath.SplitList(lines[1])[0], "bin"), nil
	}
	return "", errors.New("go env reports neither GOBIN nor GOPATH")
}

func inCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// executable finds stripe-mock, installing it in CI.
func executable(t testing.TB) string {
	t.Helper()
	installMu.Lock()
	defer installMu.Unlock()
	path, err := Find()
	if err == nil {
		return path
	}
	if !inCI() {
		t.Skipf("stripetest: %v; run %s (with CI=true this test installs it)", err, InstallCommand)
	}
	t.Logf("stripetest: %v; running %s", err, InstallCommand)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", Module+"@"+Version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stripetest: %s: %v\n%s", InstallCommand, err, out)
	}
	path, err = Find()
	if err != nil {
		t.Fatalf("stripetest: %s ran, but: %v", InstallCommand, err)
	}
	return path
}

// listeningPrefix starts the line stripe-mock prints once its HTTP
// listener is open, followed by the address.
const listeningPrefix = "Listening for HTTP at address: "

// start runs one stripe-mock and waits for it to answer. Both listeners
// take a port the kernel picks: with -http-addr alone, stripe-mock also
// opens HTTPS on its default port 12112, which parallel tests would fight
// over.
func start(t testing.TB, bin string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	var output syncBuffer
	cmd.Stderr = &output
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start: %w", err)
	}
	exited := make(chan struct{})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			output.Write([]byte(line + "\n"))
			if a, ok := strings.CutPrefix(line, listeningPrefix); ok {
				select {
				case addr <- strings.TrimSpace(a):
				default:
				}
			}
		}
		_, _ = io.Copy(&output, stdout)
	}()
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-exited:
		return "", fmt.Errorf("exited: %v\n%s", waitErr, output.String())
	case <-time.After(startTimeout):
		stop()
		return "", fmt.Errorf("printed no %q within %s\n%s", listeningPrefix, startTimeout, output.String())
	}
	if err := waitReady(base, exited); err != nil {
		stop()
		return "", fmt.Errorf("%w\n%s", err, output.String())
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("stripetest: stripe-mock output:\n%s", output.String())
		}
	})
	return base, nil
}

// waitReady asks stripe-mock for a list of charges until it answers 200.
func waitReady(base string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/charges", nil)
		req.Header.Set("Authorization", "Bearer "+TestKey)
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /v1/charges: HTTP %d", resp.StatusCode)
		}
		lastErr = err
		select {
		case <-exited:
			return fmt.Errorf("exited while starting: %v", lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("did not answer within %s: %v", startTimeout, lastErr)
}

// maxOutput bounds the output kept for failure messages: stripe-mock
// prints a line per request, and a benchmark sends many.
const maxOutput = 64 << 10

// syncBuffer collects the start of a process's output from two
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxOutput - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
