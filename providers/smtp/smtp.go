// Package smtp delivers email through an SMTP server with go-mail.
//
// Each SendEmail opens one connection, sends one message and closes it.
// Errors are classified here and nowhere else: a 5xx reply (including a
// failed login, 535) is permanent; a 4xx reply, a network error, a timeout
// or a TLS problem is transient.
package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/invoiced/invoiced/providers"
)

// TLSMode says how a Sender encrypts its connection.
type TLSMode string

const (
	// TLSStartTLS requires STARTTLS; a server that does not offer it gets
	// no message.
	TLSStartTLS TLSMode = "starttls"
	// TLSOpportunistic uses STARTTLS when the server offers it and sends in
	// plain text otherwise.
	TLSOpportunistic TLSMode = "opportunistic"
	// TLSImplicit speaks TLS from the first byte, usually on port 465.
	TLSImplicit TLSMode = "tls"
	// TLSNone never encrypts. go-mail still refuses to send a password in
	// plain text to any host but localhost.
	TLSNone TLSMode = "none"
)

// Valid reports whether m is one of the TLS modes.
func (m TLSMode) Valid() bool {
	switch m {
	case TLSStartTLS, TLSOpportunistic, TLSImplicit, TLSNone:
		return true
	}
	return false
}

// Config configures a Sender.
type Config struct {
	// Host is the SMTP server's host name or IP address, without a port.
	// Required.
	Host string
	// Port defaults by TLS mode: 587 for starttls and opportunistic, 465
	// for tls, 25 for none.
	Port int
	// Username turns on authentication (PLAIN, or LOGIN for servers that
	// offer only that). Without it the Sender does not authenticate.
	Username string
	Password string
	// TLS defaults to TLSStartTLS.
	TLS TLSMode
	// Timeout bounds connecting and greeting, and then the sending of the
	// message. Defaults to 30s.
	Timeout time.Duration
	// TLSConfig is optional, e.g. for tests that trust a self-signed
	// certificate. It is copied; ServerName defaults to Host and MinVersion
	// to TLS 1.2.
	TLSConfig *tls.Config
	// HELO is the name sent in EHLO. Defaults to the local host name.
	HELO string
}

// Sender sends email through one SMTP server. It is safe for concurrent
// use.
type Sender struct {
	cfg  Config
	addr string
	tls  *tls.Config
}

// New returns a Sender for cfg after filling in the documented defaults.
// It rejects a missing host, a host with a port, a port outside 1-65535,
// an unknown TLS mode and a negative timeout.
func New(cfg Config) (*Sender, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp: Host is required")
	}
	if _, _, err := net.SplitHostPort(cfg.Host); err == nil {
		return nil, fmt.Errorf("smtp: Host %q includes a port; set Port instead", cfg.Host)
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if !cfg.TLS.Valid() {
		return nil, fmt.Errorf("smtp: unknown TLS mode %q (want starttls, opportunistic, tls or none)", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = defaultPort(cfg.TLS)
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtp: Port %d is out of range 1-65535", cfg.Port)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("smtp: Timeout %s is negative", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}

	tlsConfig := &tls.Config{}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = cfg.Host
	}
	if tlsConfig.MinVersion == 0 {
		tlsConfig.MinVersion = tls.VersionTLS12
	}
	return &Sender{
		cfg:  cfg,
		addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		tls:  tlsConfig,
	}, nil
}

func defaultPort(m TLSMode) int {
	switch m {
	case TLSImplicit:
		return 465
	case TLSNone:
		return 25
	default:
		return 587
	}
}

// SendEmail delivers e and returns e.MessageID as the provider ID. Errors
// from building the message are returned as they are (they are already
// permanent). Canceling ctx aborts the conversation at once, not only the
// dial; the error then wraps ctx.Err() and is transient.
//
// go-mail sends no data when the server refuses any RCPT TO, so one refused
// recipient, Bcc included, fails the whole message, and the error lists
// every refused address.
//
// Once the server has accepted the message, a failure to end the session
// (RSET, QUIT, a canceled ctx) is ignored: the message is delivered and a
// retry would send it twice.
func (s *Sender) SendEmail(ctx context.Context, e *providers.Email) (string, error) {
	m, err := e.Msg()
	if err != nil {
		return "", err
	}

	conn := &ctxConn{ctx: ctx, tls: s.tlsForDial()}
	defer conn.close()
	client, err := mail.NewClient(s.cfg.Host, s.options(conn.dial)...)
	if err != nil {
		return "", fmt.Errorf("smtp: %w", err)
	}
	err = client.DialAndSendWithContext(ctx, m)
	if m.IsDelivered() {
		return e.MessageID, nil
	}
	if err == nil {
		// go-mail reports no error only after delivering; this guards
		// against a message silently skipped.
		return "", fmt.Errorf("smtp: %s: message %s was not delivered", s.addr, e.MessageID)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return "", fmt.Errorf("smtp: %s: %w (%v)", s.addr, ctxErr, err)
	}
	return "", classify(s.addr, err)
}

func (s *Sender) options(dial mail.DialContextFunc) []mail.Option {
	opts := []mail.Option{
		mail.WithPort(s.cfg.Port),
		mail.WithTimeout(s.cfg.Timeout),
		mail.WithTLSConfig(s.tls),
		mail.WithDialContextFunc(dial),
	}
	switch s.cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSOpportunistic:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case TLSImplicit:
		// The handshake happens in dial; WithSSL only stops go-mail from
		// also trying STARTTLS.
		opts = append(opts, mail.WithSSL())
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if s.cfg.HELO != "" {
		opts = append(opts, mail.WithHELO(s.cfg.HELO))
	}
	if s.cfg.Username != "" {
		opts = append(opts,
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthPlain, mail.SMTPAuthLogin),
			mail.WithUsername(s.cfg.Username),
			mail.WithPassword(s.cfg.Password),
		)
	}
	return opts
}

func (s *Sender) tlsForDial() *tls.Config {
	if s.cfg.TLS == TLSImplicit {
		return s.tls
	}
	return nil
}

// ctxConn dials the one connection a send uses and closes it when the
// send's ctx is done. go-mail honors ctx only while dialing and leaves the
// connection open when the greeting, STARTTLS or AUTH fails; close covers
// both.
type ctxConn struct {
	ctx      context.Context
	tls      *tls.Config // set for implicit TLS
	conn     net.Conn
	stopFunc func() bool
}

func (c *ctxConn) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c.conn = conn
	c.stopFunc = context.AfterFunc(c.ctx, func() { _ = conn.Close() })
	if c.tls == nil {
		return conn, nil
	}
	// go-mail skips its own TLS dialer when given a dial function, so the
	// handshake is done here. It must return a *tls.Conn: that is how
	// go-mail's SMTP client knows the connection is encrypted.
	tc := tls.Client(conn, c.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

func (c *ctxConn) close() {
	if c.conn == nil {
		return
	}
	c.stopFunc()
	_ = c.conn.Close()
}

// classify turns a go-mail error into a providers error. A 5xx reply is
// permanent with the code "smtp_<reply>"; everything else, including
// replies go-mail could not read a code from, is transient.
func classify(addr string, err error) error {
	code := replyCode(err)
	switch {
	case code >= 500 && code < 600:
		return providers.Permanent("smtp_"+strconv.Itoa(code), fmt.Errorf("smtp: %s: %w", addr, err))
	case code >= 400 && code < 500:
		return fmt.Errorf("smtp: %s: transient reply %d: %w", addr, code, err)
	default:
		return fmt.Errorf("smtp: %s: %w", addr, err)
	}
}

// replyCode finds the server's reply code in err, or 0. Replies during the
// transaction come as a *mail.SendError, which does not unwrap to the
// reply; replies while connecting (greeting, STARTTLS, AUTH) come as a
// wrapped *textproto.Error.
func replyCode(err error) int {
	var sendErr *mail.SendError
	if errors.As(err, &sendErr) {
		return sendErr.ErrorCode()
	}
	var protoErr *textproto.Error
	if errors.As(err, &protoErr) {
		return protoErr.Code
	}
	return 0
}
