package smtp

import (
	"bytes"
	"context"
	"errors"
	"net"
	netmail "net/mail"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/netguard"
	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/providers/smtp/smtptest"
)

func newEmail() *providers.Email {
	return &providers.Email{
		MessageID: "delivery-42@invoiced.test",
		FromEmail: "billing@acme.test",
		FromName:  "Acme Billing",
		To:        []string{"ann@customer.test"},
		Cc:        []string{"ap@customer.test"},
		Bcc:       []string{"archive@acme.test"},
		Subject:   "Invoice INV-0042",
		Text:      "Your invoice is attached.",
		HTML:      "<p>Your invoice is attached.</p>",
		Attachments: []providers.Attachment{{
			Filename: "INV-0042.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.7"),
		}},
	}
}

// config points a Config at srv's plain listener and trusts its
// certificate.
func config(srv *smtptest.Server, mode TLSMode) Config {
	return Config{
		Host:      srv.Host(),
		Port:      srv.Port(),
		TLS:       mode,
		Timeout:   5 * time.Second,
		TLSConfig: srv.ClientTLSConfig(),
		HELO:      "worker.invoiced.test",
	}
}

func send(t *testing.T, cfg Config, e *providers.Email) (string, error) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s.SendEmail(context.Background(), e)
}

func TestSendEmailDelivers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     smtptest.Options
		edit     func(*Config, *smtptest.Server)
		wantTLS  bool
		wantUser string
	}{
		{
			name: "plain",
			edit: func(c *Config, _ *smtptest.Server) { c.TLS = TLSNone },
		},
		{
			name:     "mandatory STARTTLS with auth",
			opts:     smtptest.Options{Username: "mailer", Password: "s3cret"},
			edit:     func(c *Config, _ *smtptest.Server) { c.Username, c.Password = "mailer", "s3cret" },
			wantTLS:  true,
			wantUser: "mailer",
		},
		{
			name: "implicit TLS with auth",
			opts: smtptest.Options{Username: "mailer", Password: "s3cret"},
			edit: func(c *Config, srv *smtptest.Server) {
				c.TLS, c.Port = TLSImplicit, srv.TLSPort()
				c.Username, c.Password = "mailer", "s3cret"
			},
			wantTLS:  true,
			wantUser: "mailer",
		},
		{
			name:    "opportunistic with STARTTLS offered",
			edit:    func(c *Config, _ *smtptest.Server) { c.TLS = TLSOpportunistic },
			wantTLS: true,
		},
		{
			name: "opportunistic without STARTTLS",
			opts: smtptest.Options{NoSTARTTLS: true},
			edit: func(c *Config, _ *smtptest.Server) { c.TLS = TLSOpportunistic },
		},
		{
			name: "auth without TLS on localhost",
			opts: smtptest.Options{Username: "mailer", Password: "s3cret", NoSTARTTLS: true, AllowInsecureAuth: true},
			edit: func(c *Config, _ *smtptest.Server) {
				c.TLS, c.Username, c.Password = TLSNone, "mailer", "s3cret"
			},
			wantUser: "mailer",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, tt.opts)
			cfg := config(srv, TLSStartTLS)
			tt.edit(&cfg, srv)
			e := newEmail()

			id, err := send(t, cfg, e)
			if err != nil {
				t.Fatalf("SendEmail: %v", err)
			}
			if id != e.MessageID {
				t.Errorf("provider ID = %q, want %q", id, e.MessageID)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("server got %d messages, want 1", len(msgs))
			}
			got := msgs[0]
			if got.TLS != tt.wantTLS || got.Username != tt.wantUser {
				t.Errorf("received with TLS=%v user=%q, want TLS=%v user=%q", got.TLS, got.Username, tt.wantTLS, tt.wantUser)
			}
			if got.From != e.FromEmail {
				t.Errorf("MAIL FROM = %q, want %q", got.From, e.FromEmail)
			}
		})
	}
}

func TestSendEmailBcc(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	e := newEmail()
	if _, err := send(t, config(srv, TLSStartTLS), e); err != nil {
		t.Fatalf("SendEmail: %v", err)
	}

	got := srv.WaitForMessages(t, 1, 5*time.Second)[0]
	if want := "ann@customer.test,ap@customer.test,archive@acme.test"; strings.Join(got.To, ",") != want {
		t.Errorf("RCPT TO = %v, want %s", got.To, want)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	if _, ok := msg.Header["Bcc"]; ok {
		t.Error("the message has a Bcc header")
	}
	if bytes.Contains(got.Data, []byte("archive@acme.test")) {
		t.Errorf("the Bcc address appears in the message data:\n%s", got.Data)
	}
	if got := msg.Header.Get("Message-Id"); got != "<delivery-42@invoiced.test>" {
		t.Errorf("Message-ID = %q", got)
	}
}

// TestSendEmailFailures checks how each failure is classified: the
// configuration errors (an untrusted certificate, STARTTLS or TLS that the
// server does not speak, a refused login) are permanent and name their
// cause, so the delivery fails at once instead of being retried for days;
// replies and network errors that may pass are transient, and keep the
// server's reply code.
func TestSendEmailFailures(t *testing.T) {
	t.Parallel()
	unreachable := closedPort(t)
	tests := []struct {
		name      string
		opts      smtptest.Options
		setup     func(*Config, *smtptest.Server)
		permanent bool
		wantCode  string   // providers.Code of the error
		wantText  []string // what the error says
	}{
		{
			name:      "mandatory STARTTLS not offered",
			opts:      smtptest.Options{NoSTARTTLS: true},
			permanent: true,
			wantCode:  "smtp_no_starttls",
			wantText:  []string{"does not offer STARTTLS", "email.smtp.tls"},
		},
		{
			name:      "wrong password",
			opts:      smtptest.Options{Username: "mailer", Password: "s3cret"},
			setup:     func(c *Config, _ *smtptest.Server) { c.Username, c.Password = "mailer", "wrong" },
			permanent: true,
			wantCode:  "smtp_535",
			wantText:  []string{"535 5.7.8", "authentication failed", "email.smtp.username", "email.smtp.password"},
		},
		{
			name:      "mailbox unknown",
			setup:     func(_ *Config, srv *smtptest.Server) { srv.FailNext(1, 550, "No such user") },
			permanent: true,
			wantCode:  "smtp_550",
			wantText:  []string{"No such user"},
		},
		{
			name:     "greylisted",
			setup:    func(_ *Config, srv *smtptest.Server) { srv.FailNext(1, 451, "Try again later") },
			wantCode: "smtp_451",
			wantText: []string{"451", "Try again later"},
		},
		{
			name:     "service not available",
			setup:    func(_ *Config, srv *smtptest.Server) { srv.FailNext(1, 421, "Too busy") },
			wantCode: "smtp_421",
			wantText: []string{"421", "Too busy"},
		},
		{
			name:      "untrusted certificate",
			setup:     func(c *Config, _ *smtptest.Server) { c.TLSConfig = nil },
			permanent: true,
			wantCode:  "smtp_certificate",
			wantText:  []string{"certificate is not trusted", "x509:", "email.smtp.caCert"},
		},
		{
			name: "untrusted certificate with implicit TLS",
			setup: func(c *Config, srv *smtptest.Server) {
				c.TLS, c.Port, c.TLSConfig = TLSImplicit, srv.TLSPort(), nil
			},
			permanent: true,
			wantCode:  "smtp_certificate",
			wantText:  []string{"certificate is not trusted", "x509:", "email.smtp.caCert"},
		},
		{
			name: "implicit TLS against a plain port",
			setup: func(c *Config, _ *smtptest.Server) {
				c.TLS = TLSImplicit
				c.Timeout = time.Second
			},
			permanent: true,
			wantCode:  "smtp_not_tls",
			wantText:  []string{"does not speak TLS", "email.smtp.tls"},
		},
		{
			name:      "login without AUTH offered",
			setup:     func(c *Config, _ *smtptest.Server) { c.Username, c.Password = "mailer", "s3cret" },
			permanent: true,
			wantCode:  "smtp_no_auth",
			wantText:  []string{"offers no login", "email.smtp.username"},
		},
		{
			name: "certificate for another name",
			setup: func(c *Config, srv *smtptest.Server) {
				c.Host, c.DialFunc = "smtp.acme.test", dialTo(srv.Addr())
			},
			permanent: true,
			wantCode:  "smtp_certificate",
			wantText:  []string{"not valid for this host", "smtp.acme.test", "email.smtp.host"},
		},
		{
			name: "login without encryption",
			opts: smtptest.Options{Username: "mailer", Password: "s3cret", AllowInsecureAuth: true},
			setup: func(c *Config, srv *smtptest.Server) {
				// A name other than localhost, to which go-mail sends no
				// password in plain text.
				c.Host, c.TLS, c.Username, c.Password = "smtp.acme.test", TLSNone, "mailer", "s3cret"
				c.DialFunc = dialTo(srv.Addr())
			},
			permanent: true,
			wantCode:  "smtp_unencrypted",
			wantText:  []string{"unencrypted", "email.smtp.tls"},
		},
		{
			name:     "unreachable port",
			setup:    func(c *Config, _ *smtptest.Server) { c.Port = unreachable },
			wantText: []string{"refused"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, tt.opts)
			cfg := config(srv, TLSStartTLS)
			if tt.setup != nil {
				tt.setup(&cfg, srv)
			}

			id, err := send(t, cfg, newEmail())
			if err == nil {
				t.Fatalf("SendEmail = %q, want an error", id)
			}
			t.Log(err)
			if got := providers.IsPermanent(err); got != tt.permanent {
				t.Errorf("error %q: permanent %t, want %t", err, got, tt.permanent)
			}
			if got := providers.Code(err); got != tt.wantCode {
				t.Errorf("error %q: code %q, want %q", err, got, tt.wantCode)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q, want it to mention %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("error %q contains the password", err)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server got %d messages, want none", n)
			}
		})
	}
}

// TestSendEmailForbiddenAddress sends through the address policy for
// tenants' servers to a server on loopback, spelled in several ways: each
// is refused before connecting, permanently, and nothing the server would
// have said (its greeting) reaches the error.
func TestSendEmailForbiddenAddress(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{Domain: "banner-canary.smtptest"})
	guard := netguard.NewDialer(net.Dialer{}, nil, nil)
	for _, host := range []string{"127.0.0.1", "::ffff:127.0.0.1", "localhost", "0x7f000001", "2130706433", "127.1"} {
		t.Run(host, func(t *testing.T) {
			cfg := config(srv, TLSStartTLS)
			cfg.Host, cfg.DialFunc = host, guard.DialContext
			_, err := send(t, cfg, newEmail())
			if !errors.Is(err, netguard.ErrForbiddenAddress) {
				t.Fatalf("SendEmail via %s = %v, want %v", host, err, netguard.ErrForbiddenAddress)
			}
			if !providers.IsPermanent(err) || providers.Code(err) != "forbidden_address" {
				t.Errorf("error %q: want permanent forbidden_address", err)
			}
			if strings.Contains(err.Error(), "banner-canary") || strings.Contains(err.Error(), "ESMTP") {
				t.Errorf("error %q carries the server's greeting", err)
			}
		})
	}
	if n := srv.Connections(); n != 0 {
		t.Fatalf("the server saw %d connections, want none", n)
	}

	// The same dialer lets an allowed network through.
	allowed := netguard.NewDialer(net.Dialer{}, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, nil)
	cfg := config(srv, TLSStartTLS)
	cfg.DialFunc = allowed.DialContext
	if _, err := send(t, cfg, newEmail()); err != nil {
		t.Fatalf("SendEmail to an allowed network: %v", err)
	}
}

func TestSendEmailRetryAfterTransientFailure(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	srv.FailNext(1, 451, "Greylisted")
	s, err := New(config(srv, TLSStartTLS))
	if err != nil {
		t.Fatal(err)
	}

	if _, err := s.SendEmail(context.Background(), newEmail()); err == nil || providers.IsPermanent(err) {
		t.Fatalf("first SendEmail error = %v, want transient", err)
	}
	if _, err := s.SendEmail(context.Background(), newEmail()); err != nil {
		t.Fatalf("second SendEmail: %v", err)
	}
	srv.WaitForMessages(t, 1, 5*time.Second)
}

func TestSendEmailContext(t *testing.T) {
	t.Parallel()
	t.Run("canceled", func(t *testing.T) {
		t.Parallel()
		srv := smtptest.Start(t, smtptest.Options{})
		s, err := New(config(srv, TLSStartTLS))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()

		_, err = s.SendEmail(ctx, newEmail())
		if !errors.Is(err, context.Canceled) || providers.IsPermanent(err) {
			t.Errorf("error = %v, want transient context.Canceled", err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("server got %d messages, want none", n)
		}
	})

	t.Run("silent server", func(t *testing.T) {
		t.Parallel()
		// The server accepts the connection but never greets; only ctx
		// can end the wait before Timeout.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		go func() {
			var conns []net.Conn
			for {
				conn, err := l.Accept()
				if err != nil {
					for _, c := range conns {
						_ = c.Close()
					}
					return
				}
				conns = append(conns, conn)
			}
		}()
		s, err := New(Config{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, TLS: TLSNone, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()

		start := time.Now()
		_, err = s.SendEmail(ctx, newEmail())
		if !errors.Is(err, context.DeadlineExceeded) || providers.IsPermanent(err) {
			t.Errorf("error = %v, want transient context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("SendEmail took %s after ctx expired", d)
		}
	})
}

func TestSendEmailInvalidMessage(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	e := newEmail()
	e.To = []string{"not an address"}

	_, err := send(t, config(srv, TLSStartTLS), e)
	var perm *providers.PermanentError
	if !errors.As(err, &perm) || perm.Code != "invalid_address" {
		t.Errorf("error = %v, want permanent invalid_address", err)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cfg      Config
		wantErr  string
		wantPort int
	}{
		{name: "defaults", cfg: Config{Host: "mail.example.com"}, wantPort: 587},
		{name: "opportunistic", cfg: Config{Host: "mail.example.com", TLS: TLSOpportunistic}, wantPort: 587},
		{name: "implicit", cfg: Config{Host: "mail.example.com", TLS: TLSImplicit}, wantPort: 465},
		{name: "none", cfg: Config{Host: "mail.example.com", TLS: TLSNone}, wantPort: 25},
		{name: "explicit port", cfg: Config{Host: "::1", Port: 2525}, wantPort: 2525},
		{name: "no host", cfg: Config{}, wantErr: "Host is required"},
		{name: "host with port", cfg: Config{Host: "mail.example.com:587"}, wantErr: "includes a port"},
		{name: "port too high", cfg: Config{Host: "mail.example.com", Port: 70000}, wantErr: "out of range"},
		{name: "negative port", cfg: Config{Host: "mail.example.com", Port: -1}, wantErr: "out of range"},
		{name: "bad mode", cfg: Config{Host: "mail.example.com", TLS: "ssl"}, wantErr: `unknown TLS mode "ssl"`},
		{name: "negative timeout", cfg: Config{Host: "mail.example.com", Timeout: -time.Second}, wantErr: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if s.cfg.Port != tt.wantPort {
				t.Errorf("Port = %d, want %d", s.cfg.Port, tt.wantPort)
			}
			if s.cfg.Timeout != 30*time.Second {
				t.Errorf("Timeout = %s, want 30s", s.cfg.Timeout)
			}
			if tt.cfg.TLS == "" && s.cfg.TLS != TLSStartTLS {
				t.Errorf("TLS = %q, want starttls", s.cfg.TLS)
			}
			if s.tls.ServerName != tt.cfg.Host || s.tls.MinVersion == 0 {
				t.Errorf("TLS config ServerName = %q MinVersion = %x, want %q and a minimum", s.tls.ServerName, s.tls.MinVersion, tt.cfg.Host)
			}
		})
	}
}

func TestNewCopiesTLSConfig(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	cfg := config(srv, TLSStartTLS)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLSConfig.ServerName != "" {
		t.Errorf("New changed the caller's TLS config: ServerName = %q", cfg.TLSConfig.ServerName)
	}
	if s.tls.ServerName != srv.Host() {
		t.Errorf("ServerName = %q, want %q", s.tls.ServerName, srv.Host())
	}
}

func TestTLSModeValid(t *testing.T) {
	t.Parallel()
	for _, m := range []TLSMode{TLSStartTLS, TLSOpportunistic, TLSImplicit, TLSNone} {
		if !m.Valid() {
			t.Errorf("%q.Valid() = false", m)
		}
	}
	for _, m := range []TLSMode{"", "ssl", "STARTTLS"} {
		if m.Valid() {
			t.Errorf("%q.Valid() = true", m)
		}
	}
}

// dialTo returns a DialFunc that connects to addr whatever the host, so a
// test can give the server a name other than its address.
func dialTo(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

// closedPort returns a port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}
