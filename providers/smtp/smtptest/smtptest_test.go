package smtptest

import (
	"crypto/tls"
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// transaction sends one message over c and returns the reply code of the
// first refused command, or 0.
func transaction(t *testing.T, c *smtp.Client, body string) int {
	t.Helper()
	steps := []func() error{
		func() error { return c.Mail("billing@acme.test") },
		func() error { return c.Rcpt("ann@customer.test") },
		func() error { return c.Rcpt("archive@acme.test") },
		func() error {
			w, err := c.Data()
			if err != nil {
				return err
			}
			if _, err := w.Write([]byte(body)); err != nil {
				return err
			}
			return w.Close()
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			var protoErr *textproto.Error
			if !errors.As(err, &protoErr) {
				t.Fatalf("transaction: %v", err)
			}
			if err := c.Reset(); err != nil {
				t.Fatalf("RSET: %v", err)
			}
			return protoErr.Code
		}
	}
	return 0
}

func TestServer(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{Username: "mailer", Password: "s3cret"})
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("test.invoiced.test"); err != nil {
		t.Fatal(err)
	}
	cfg := srv.ClientTLSConfig()
	cfg.ServerName = srv.Host()
	if err := c.StartTLS(cfg); err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	if code := transaction(t, c, "Subject: before login\r\n\r\nhi\r\n"); code != 502 {
		t.Errorf("MAIL before AUTH got %d, want 502", code)
	}
	if err := c.Auth(smtp.PlainAuth("", "mailer", "s3cret", srv.Host())); err != nil {
		t.Fatalf("AUTH: %v", err)
	}

	srv.FailNext(2, 451, "Greylisted")
	for i := range 2 {
		if code := transaction(t, c, "Subject: refused\r\n\r\nhi\r\n"); code != 451 {
			t.Errorf("transaction %d got %d, want 451", i, code)
		}
	}
	if code := transaction(t, c, "Subject: accepted\r\n\r\nhi\r\n"); code != 0 {
		t.Fatalf("third transaction got %d, want it accepted", code)
	}

	msgs := srv.WaitForMessages(t, 1, 5*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != "billing@acme.test" || strings.Join(m.To, ",") != "ann@customer.test,archive@acme.test" {
		t.Errorf("envelope = %s -> %v", m.From, m.To)
	}
	if !m.TLS || m.Username != "mailer" {
		t.Errorf("TLS = %v, Username = %q; want true, mailer", m.TLS, m.Username)
	}
	if !strings.Contains(string(m.Data), "Subject: accepted") {
		t.Errorf("Data = %q", m.Data)
	}
}

func TestServerWrongPassword(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{Username: "mailer", Password: "s3cret", AllowInsecureAuth: true, NoSTARTTLS: true})
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered with NoSTARTTLS set")
	}
	err = c.Auth(smtp.PlainAuth("", "mailer", "wrong", srv.Host()))
	var protoErr *textproto.Error
	if !errors.As(err, &protoErr) || protoErr.Code != 535 {
		t.Errorf("AUTH error = %v, want 535", err)
	}
}

func TestServerImplicitTLS(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{})
	cfg := srv.ClientTLSConfig()
	cfg.ServerName = "localhost"
	conn, err := tls.Dial("tcp", srv.TLSAddr(), cfg)
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	c, err := smtp.NewClient(conn, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if code := transaction(t, c, "Subject: over TLS\r\n\r\nhi\r\n"); code != 0 {
		t.Fatalf("transaction got %d", code)
	}
	if m := srv.WaitForMessages(t, 1, 5*time.Second)[0]; !m.TLS {
		t.Error("message over implicit TLS recorded TLS = false")
	}
}
