// Package sestest runs the Amazon SES v2 emulator aws-ses-v2-local for
// tests and reads what it stored.
//
// The emulator is an npm package declared in this folder's package.json
// and locked in package-lock.json. Install it with
//
//	(cd providers/ses/sestest && npm ci --no-audit --no-fund)
//
// Without it, Start skips the test outside CI; with CI=true it runs that
// install itself, and fails the test if it cannot.
//
// What the emulator does with SES v2 SendEmail and raw content (read from
// its source, dist/v2/sendEmail.js): it parses the MIME message with
// mailparser and stores From, Reply-To, To, Cc, Bcc, Subject, the text and
// HTML bodies and the attachments as found in the message's headers and
// parts. It ignores the request's Destination, FromEmailAddress and
// ConfigurationSetName, and answers a MessageId of its own ("ses-…"). It
// does not implement GetEmailIdentity: Start answers that one itself, in
// front of the emulator, as SES documents it.
package sestest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Package is the npm package the emulator comes from.
const Package = "aws-ses-v2-local"

const (
	startTimeout = 30 * time.Second
	stopTimeout  = 5 * time.Second
	// startTries bounds restarts when the free port found is taken before
	// the emulator binds it.
	startTries = 3
)

// installMu keeps two tests in one binary from running npm ci at once;
// lockFile does the same across test binaries.
var installMu sync.Mutex

// Start runs the emulator on a free 127.0.0.1 port and returns the base
// URL, e.g. "http://127.0.0.1:41237", for ses.Config.Endpoint. It waits
// until the emulator answers its health check and stops it when t ends.
// Each call starts its own emulator with an empty store.
//
// GetEmailIdentity, which the emulator lacks, is answered in front of it:
// every email address is a verified identity except those in unverified,
// which SES does not know (404 NotFoundException), as it knows no domain.
// Every SES call is recorded with the access key that signed it (see
// Requests).
//
// Without the emulator installed, Start skips t, or with CI=true installs
// it (npm ci) first. It also skips, or fails with CI=true, when node is
// not on PATH.
func Start(t testing.TB, unverified ...string) string {
	t.Helper()
	bin := executable(t)
	var lastErr error
	for range startTries {
		endpoint, err := start(t, bin)
		if err == nil {
			return withIdentities(t, endpoint, unverified)
		}
		lastErr = err
	}
	t.Fatalf("sestest: %s did not start: %v", Package, lastErr)
	return ""
}

const (
	// identityPath is the path of SES v2's GetEmailIdentity.
	identityPath = "/v2/email/identities/"
	// apiPrefix starts the path of every SES v2 call.
	apiPrefix = "/v2/"
	// requestsPath is where Requests reads what was called.
	requestsPath = "/sestest/requests"
)

// Request is one SES API call made to an emulator.
type Request struct {
	Method string
	// Path is the call's unescaped path, e.g.
	// "/v2/email/identities/billing@acme.test".
	Path string
	// AccessKeyID is the access key that signed the call, read from its
	// Authorization header; empty for an unsigned call.
	AccessKeyID string
}

// Requests returns every SES API call made to the emulator at endpoint,
// oldest first: those Start answers itself (GetEmailIdentity) and those
// it passes on, whatever the answer. Reading the emulator's store is not
// one.
func Requests(t testing.TB, endpoint string) []Request {
	t.Helper()
	resp, err := http.Get(endpoint + requestsPath)
	if err != nil {
		t.Fatalf("sestest: GET %s: %v", requestsPath, err)
	}
	defer resp.Body.Close()
	var out []Request
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("sestest: GET %s: %v", requestsPath, err)
	}
	return out
}

// accessKeyID reads the access key out of a Signature Version 4
// Authorization header: "AWS4-HMAC-SHA256 Credential=AKID/date/region/ses/aws4_request, …".
func accessKeyID(authorization string) string {
	_, cred, ok := strings.Cut(authorization, "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(cred, "/")
	return key
}

// withIdentities serves GetEmailIdentity and passes everything else to
// the emulator at endpoint, and returns its own URL. It records every SES
// call for Requests.
func withIdentities(t testing.TB, endpoint string, unverified []string) string {
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	requests := []Request{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == requestsPath {
			mu.Lock()
			defer mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(requests)
			return
		}
		if strings.HasPrefix(r.URL.Path, apiPrefix) {
			mu.Lock()
			requests = append(requests, Request{Method: r.Method, Path: r.URL.Path, AccessKeyID: accessKeyID(r.Header.Get("Authorization"))})
			mu.Unlock()
		}
		rest, ok := strings.CutPrefix(r.URL.EscapedPath(), identityPath)
		if !ok || r.Method != http.MethodGet {
			proxy.ServeHTTP(w, r)
			return
		}
		name, err := url.PathUnescape(rest)
		w.Header().Set("Content-Type", "application/json")
		if err != nil || !strings.Contains(name, "@") || slices.Contains(unverified, name) {
			w.Header().Set("X-Amzn-ErrorType", "NotFoundException:http://internal.amazon.com/coral/com.amazonaws.sesv2/")
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{"message": "Email identity " + name + " does not exist."})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"IdentityType": "EMAIL_ADDRESS", "VerifiedForSendingStatus": true,
			"VerificationStatus": "SUCCESS", "FeedbackForwardingStatus": true})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Dir returns the folder holding package.json and node_modules.
func Dir() (string, error) {
	// The source file's folder, unless the test binary was built with
	// -trimpath; then the module root's copy, found from the working
	// directory, which go test sets to the package under test.
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		return filepath.Dir(file), nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "providers", "ses", "sestest"), nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

func inCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// executable finds the emulator's command, installing it in CI.
func executable(t testing.TB) string {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if inCI() {
			t.Fatalf("sestest: %s", msg)
		}
		t.Skipf("sestest: %s; skipping (with CI=true this fails)", msg)
	}
	if _, err := exec.LookPath("node"); err != nil {
		unavailable("node is not on PATH; the SES emulator %s needs it", Package)
	}
	dir, err := Dir()
	if err != nil {
		unavailable("cannot find the sestest folder: %v", err)
	}
	bin := filepath.Join(dir, "node_modules", ".bin", Package)

	// Test binaries of several packages may start the emulator at once;
	// one npm ci at a time, and nobody starts a half-installed emulator.
	installMu.Lock()
	defer installMu.Unlock()
	unlock, err := lockFile(filepath.Join(dir, ".install.lock"))
	if err != nil {
		t.Fatalf("sestest: %v", err)
	}
	defer unlock()
	// npm writes node_modules/.package-lock.json last, so an install that
	// was cut short is not taken for a complete one.
	if installed(dir, bin) {
		return bin
	}
	if !inCI() {
		t.Skipf("sestest: the SES emulator %s is not installed; run (cd %s && npm ci --no-audit --no-fund)", Package, dir)
	}
	t.Logf("sestest: installing %s with npm ci in %s", Package, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sestest: npm ci in %s: %v\n%s", dir, err, out)
	}
	if !installed(dir, bin) {
		t.Fatalf("sestest: npm ci in %s did not install %s", dir, Package)
	}
	return bin
}

func installed(dir, bin string) bool {
	for _, path := range []string{bin, filepath.Join(dir, "node_modules", ".package-lock.json")} {
		if _, err := os.Stat(path); err != nil {
			return false
		}
	}
	return true
}

// start runs one emulator process and waits for it to answer. An error
// means it exited or never answered; the caller may try another port.
func start(t testing.TB, bin string) (string, error) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port))
	cmd.Env = emulatorEnv()
	var output syncBuffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
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

	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := client.Get(endpoint + "/health-check")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			return "", fmt.Errorf("exited (%v) before answering:\n%s", waitErr, output.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("no answer on %s within %s:\n%s", endpoint, startTimeout, output.String())
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("sestest: emulator output:\n%s", output.String())
		}
	})
	return endpoint, nil
}

// emulatorEnv is the test's environment without SMTP_TRANSPORT, which would
// make the emulator forward every message it stores to an SMTP server.
func emulatorEnv() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "SMTP_TRANSPORT=") {
			out = append(out, kv)
		}
	}
	return out
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Email is one message in the emulator's store, as GET /store lists it.
type Email struct {
	// MessageID is the id the emulator answered SendEmail with.
	MessageID string `json:"messageId"`
	// From and ReplyTo are the headers' text, display names included.
	From    string   `json:"from"`
	ReplyTo []string `json:"replyTo"`
	// Destination holds, for a raw message, the To, Cc and Bcc headers'
	// text: one string per header listing all its addresses, comma
	// separated.
	Destination struct {
		To  []string `json:"to"`
		Cc  []string `json:"cc"`
		Bcc []string `json:"bcc"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		Text string `json:"text"`
		HTML string `json:"html"`
	} `json:"body"`
	Attachments []Attachment `json:"attachments"`
	// At is when the emulator stored the message, in Unix seconds.
	At int64 `json:"at"`
}

// Attachment is one attachment of a stored Email.
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"contentType"`
	// Content is the attachment's bytes, decoded from the message's
	// transfer encoding.
	Content []byte `json:"content"`
	Size    int    `json:"size"`
}

// Emails returns every message the emulator at endpoint has stored, oldest
// first.
func Emails(t testing.TB, endpoint string) []Email {
	t.Helper()
	resp, err := http.Get(endpoint + "/store")
	if err != nil {
		t.Fatalf("sestest: GET /store: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sestest: GET /store: %s", resp.Status)
	}
	var store struct {
		Emails []Email `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatalf("sestest: GET /store: %v", err)
	}
	return store.Emails
}

// Find returns the stored message with the given MessageID, failing t when
// there is none.
func Find(t testing.TB, endpoint, messageID string) Email {
	t.Helper()
	emails := Emails(t, endpoint)
	for _, e := range emails {
		if e.MessageID == messageID {
			return e
		}
	}
	t.Fatalf("sestest: no message %q among the %d stored", messageID, len(emails))
	return Email{}
}

// Clear empties the emulator's store.
func Clear(t testing.TB, endpoint string) {
	t.Helper()
	resp, err := http.Post(endpoint+"/clear-store", "application/json", nil)
	if err != nil {
		t.Fatalf("sestest: POST /clear-store: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sestest: POST /clear-store: %s", resp.Status)
	}
}

// syncBuffer collects the emulator's output, written by exec's copying
// goroutine and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
