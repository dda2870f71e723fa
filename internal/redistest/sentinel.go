package redistest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartSentinel runs a Redis Sentinel (redis-server --sentinel) that
// monitors master under the name masterName, and returns its address. It
// logs in to a master with a password (Server.Password).
func StartSentinel(t testing.TB, master *Server, masterName string) string {
	t.Helper()
	return StartSentinelWithPassword(t, master, masterName, "")
}

// StartSentinelWithPassword is StartSentinel for a Sentinel that asks its
// own clients for password (none if empty).
func StartSentinelWithPassword(t testing.TB, master *Server, masterName, password string) string {
	t.Helper()
	return runSentinel(t, master, masterName, password, nil, nil)
}

// runSentinel starts a Sentinel that monitors master as masterName, asks
// its clients for password (none if empty) and, with files, speaks only
// TLS, and waits until it knows the master.
func runSentinel(t testing.TB, master *Server, masterName, password string, ca *TLSCA, files *TLSFiles) string {
	t.Helper()
	bin := RequireTool(t, "redis-server")
	port := FreePort(t)
	dir := t.TempDir()
	host, masterPort, _ := net.SplitHostPort(master.Addr)
	body := fmt.Sprintf("bind 127.0.0.1\ndir %s\nsentinel monitor %s %s %s 1\nsentinel down-after-milliseconds %s 5000\n",
		dir, masterName, host, masterPort, masterName)
	var tlsCfg *tls.Config
	if files != nil {
		body += fmt.Sprintf("port 0\ntls-port %d\ntls-cert-file %s\ntls-key-file %s\ntls-ca-cert-file %s\ntls-auth-clients no\ntls-replication yes\n",
			port, files.Cert, files.Key, files.CA)
		tlsCfg = &tls.Config{RootCAs: ca.Pool, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	} else {
		body += fmt.Sprintf("port %d\n", port)
	}
	if master.Password != "" {
		body += fmt.Sprintf("sentinel auth-pass %s %s\n", masterName, master.Password)
	}
	if password != "" {
		body += fmt.Sprintf("requirepass %s\n", password)
	}
	conf := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, conf, "--sentinel")
	logf, err := os.Create(filepath.Join(dir, "sentinel.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sentinel: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	sc := redis.NewSentinelClient(&redis.Options{Addr: addr, Password: password, TLSConfig: tlsCfg})
	defer sc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got, err := sc.GetMasterAddrByName(context.Background(), masterName).Result(); err == nil && len(got) == 2 {
			return addr
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("sentinel on %s did not come up: %s", addr, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
