// Package netguardtest holds what the tests of the address policy share: a
// listener that tells whether a refused dial reached it anyway.
package netguardtest

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// Canary is a TCP listener that counts every connection it accepts. A
// forbidden dial must never reach it.
type Canary struct {
	// Port is the port it listens on.
	Port string
	hits atomic.Int32
}

// Start listens on host (an IP literal) until t ends, or returns nil when
// the machine has no such address, as happens with ::1 on IPv4-only
// hosts.
func Start(t testing.TB, host string) *Canary {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		if host == "::1" {
			return nil
		}
		t.Fatalf("canary: %v", err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	c := &Canary{Port: port}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.hits.Add(1)
			_ = conn.Close()
		}
	}()
	return c
}

// AssertUntouched fails t if c accepted a connection. It waits a moment
// first, since the accept loop counts asynchronously. A nil c passes.
func (c *Canary) AssertUntouched(t testing.TB) {
	t.Helper()
	if c == nil {
		return
	}
	time.Sleep(50 * time.Millisecond)
	if n := c.hits.Load(); n != 0 {
		t.Errorf("canary on port %s accepted %d connection(s)", c.Port, n)
	}
}
