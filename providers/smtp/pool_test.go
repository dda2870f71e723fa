package smtp

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/providers/smtp/smtptest"
)

// numbered returns the test email with a Message-ID of its own.
func numbered(i int) *providers.Email {
	e := newEmail()
	e.MessageID = fmt.Sprintf("delivery-%d@invoiced.test", i)
	return e
}

// messageID reads the Message-ID header of a message as sent.
func messageID(data []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return ""
	}
	return m.Header.Get("Message-Id")
}

// TestSendEmailReusesConnections sends messages one after another in each
// TLS mode: they share one connection, each still encrypted and logged in.
func TestSendEmailReusesConnections(t *testing.T) {
	t.Parallel()
	for _, mode := range []TLSMode{TLSStartTLS, TLSImplicit, TLSNone} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			opts := smtptest.Options{Username: "u", Password: "p"}
			if mode == TLSNone {
				opts = smtptest.Options{NoSTARTTLS: true}
			}
			srv := smtptest.Start(t, opts)
			cfg := config(srv, mode)
			if mode == TLSImplicit {
				cfg.Port = srv.TLSPort()
			}
			if mode != TLSNone {
				cfg.Username, cfg.Password = "u", "p"
			}
			s := newSender(t, cfg)
			for i := range 5 {
				if _, err := s.SendEmail(context.Background(), numbered(i)); err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
			}
			msgs := srv.Messages()
			if len(msgs) != 5 || srv.Connections() != 1 {
				t.Fatalf("%d messages over %d connections, want 5 over 1", len(msgs), srv.Connections())
			}
			for _, m := range msgs {
				if m.TLS != (mode != TLSNone) || m.Username != cfg.Username {
					t.Errorf("message over TLS %t as %q", m.TLS, m.Username)
				}
			}
		})
	}
}

func newSender(t *testing.T, cfg Config) *Sender {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestSendEmailConnectionLimits checks when a connection is not reused:
// after its share of messages, after waiting too long, with no idle
// connections allowed, after the server dropped it, and after a failure.
func TestSendEmailConnectionLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       func(*Config)
		between   func(srv *smtptest.Server, s *Sender, i int)
		wantConns int
		// wantFailed is how many sends fail: only the one the server
		// refuses; a dropped connection is replaced before the message.
		wantFailed int
	}{
		{name: "messages per connection", cfg: func(c *Config) { c.MaxMessagesPerConn = 2 }, wantConns: 3},
		{name: "no idle connections", cfg: func(c *Config) { c.MaxIdle = -1 }, wantConns: 5},
		{name: "idle too long", between: func(_ *smtptest.Server, s *Sender, i int) {
			if i == 2 {
				later := time.Now().Add(31 * time.Second)
				s.nowFunc = func() time.Time { return later }
			}
		}, wantConns: 2},
		{name: "dropped by the server", between: func(srv *smtptest.Server, _ *Sender, i int) {
			if i == 1 || i == 3 {
				srv.DropConnections()
				time.Sleep(50 * time.Millisecond)
			}
		}, wantConns: 3},
		{name: "a failed send's connection", between: func(srv *smtptest.Server, _ *Sender, i int) {
			if i == 2 {
				srv.FailNext(1, 451, "try again later")
			}
		}, wantConns: 2, wantFailed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, smtptest.Options{})
			cfg := config(srv, TLSStartTLS)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			s := newSender(t, cfg)
			failed := 0
			for i := range 5 {
				if tt.between != nil {
					tt.between(srv, s, i)
				}
				if _, err := s.SendEmail(context.Background(), numbered(i)); err != nil {
					failed++
				}
			}
			if len(srv.Messages()) != 5-tt.wantFailed || failed != tt.wantFailed {
				t.Fatalf("%d messages and %d failures, want %d and %d", len(srv.Messages()), failed, 5-tt.wantFailed, tt.wantFailed)
			}
			if srv.Connections() != tt.wantConns {
				t.Fatalf("%d connections, want %d", srv.Connections(), tt.wantConns)
			}
		})
	}
}

// TestSendEmailConcurrentReuse sends from many goroutines at once through
// one Sender: every message arrives exactly once, over far fewer
// connections than messages.
func TestSendEmailConcurrentReuse(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{Username: "u", Password: "p"})
	cfg := config(srv, TLSStartTLS)
	cfg.Username, cfg.Password = "u", "p"
	s := newSender(t, cfg)
	const workers, each = 12, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.SendEmail(context.Background(), numbered(w*each+i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for _, m := range srv.Messages() {
		seen[messageID(m.Data)]++
	}
	if len(seen) != workers*each {
		t.Fatalf("%d distinct messages arrived, want %d", len(seen), workers*each)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s arrived %d times", id, n)
		}
	}
	if c := srv.Connections(); c > workers*each/2 {
		t.Errorf("%d connections for %d messages: hardly any reuse", c, workers*each)
	}
	t.Logf("%d messages over %d connections", workers*each, srv.Connections())
}

// TestCloseIdle lets go of connections that waited too long, and only
// those, without anything being sent.
func TestCloseIdle(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	s := newSender(t, config(srv, TLSStartTLS))
	if _, err := s.SendEmail(context.Background(), numbered(1)); err != nil {
		t.Fatal(err)
	}
	s.CloseIdle()
	if n := len(s.idle); n != 1 {
		t.Fatalf("%d idle connections after CloseIdle of a fresh one, want 1", n)
	}
	later := time.Now().Add(31 * time.Second)
	s.nowFunc = func() time.Time { return later }
	s.CloseIdle()
	if n := len(s.idle); n != 0 {
		t.Fatalf("%d idle connections after CloseIdle of a stale one, want 0", n)
	}
	if _, err := s.SendEmail(context.Background(), numbered(2)); err != nil {
		t.Fatal(err)
	}
	if srv.Connections() != 2 || len(srv.Messages()) != 2 {
		t.Fatalf("%d connections, %d messages; want 2 and 2", srv.Connections(), len(srv.Messages()))
	}
}
