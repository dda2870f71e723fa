// Package smtp delivers email through an SMTP server with go-mail.
//
// A Sender keeps the connections it opened for the messages that follow:
// after a message the connection (greeted, encrypted and logged in) waits
// idle for the next one, up to Config.MaxIdle of them, each for at most
// Config.IdleTimeout and Config.MaxMessagesPerConn messages. An idle
// connection carries the next message unchecked, and when the server has
// dropped it meanwhile, which shows at the first reply before the server
// took any of the message, the message goes on another; a connection that
// failed in any way, or whose send was canceled, is never used again.
//
// go-mail builds the message and opens the session (EHLO, STARTTLS,
// AUTH); the transaction itself is this package's (see conn.transact): the
// message is written in one piece, with BDAT where the server offers
// CHUNKING and DATA otherwise, and MAIL FROM, RCPT TO and DATA in one
// write where the server offers PIPELINING; with both, a message to one
// recipient goes in one round trip.
//
// Errors are classified here and nowhere else (see classify). A
// configuration that cannot work is permanent and says which setting to
// fix: a certificate that is not trusted, STARTTLS the server does not
// offer, TLS on a port that does not speak it, a login the server refuses
// (535) or does not offer, a password that would go unencrypted, an
// address the DialFunc refuses. Any other 5xx reply is permanent too. A
// 4xx reply is transient and keeps its code; a network error or a timeout
// is transient.
package smtp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	mailsmtp "github.com/wneessen/go-mail/smtp"

	"github.com/invoiced/invoiced/internal/netguard"
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
	// DialFunc opens the TCP connection to the server. Defaults to a
	// net.Dialer; a tenant's server is dialled through a
	// netguard.Dialer, so its host cannot lead to an internal address.
	DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSConfig is optional, e.g. for tests that trust a self-signed
	// certificate. It is copied; ServerName defaults to Host and MinVersion
	// to TLS 1.2.
	TLSConfig *tls.Config
	// HELO is the name sent in EHLO. Defaults to the local host name.
	HELO string
	// MaxIdle is how many connections wait between messages for the next
	// one. Defaults to 4; negative keeps none (a connection per message).
	MaxIdle int
	// IdleTimeout closes a connection that waited longer than this.
	// Defaults to 30s, below the idle limits of common servers.
	IdleTimeout time.Duration
	// MaxMessagesPerConn closes a connection after this many messages.
	// Defaults to 100.
	MaxMessagesPerConn int
}

// Sender sends email through one SMTP server. It is safe for concurrent
// use.
type Sender struct {
	cfg     Config
	addr    string
	tls     *tls.Config
	nowFunc func() time.Time

	mu   sync.Mutex
	idle []*conn // most recently used last
}

// conn is one connection to the server, ready for a message.
type conn struct {
	mc        *mail.Client
	sc        *mailsmtp.Client
	raw       *ctxConn
	sent      int
	idleSince time.Time

	// pipelining and chunking are set when the server offers PIPELINING
	// and CHUNKING, and mailParams holds the MAIL FROM parameters go-mail
	// would send it.
	pipelining bool
	chunking   bool
	mailParams string
	// broken is set when the session cannot go on, not even to QUIT: the
	// server waits for a message that will not be sent.
	broken bool
	// stale is set when the last transaction failed before the server's
	// first reply, with a network error or 421: the server had closed
	// the connection, and took nothing (a BDAT's chunk may have gone with
	// MAIL FROM, but a server that answers MAIL FROM with 421, or not at
	// all, has not read it).
	stale bool
}

// New returns a Sender for cfg after filling in the documented defaults.
// It rejects a missing host, a host with a port, a port outside 1-65535,
// an unknown TLS mode and a negative timeout or pool limit.
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
	if cfg.IdleTimeout < 0 || cfg.MaxMessagesPerConn < 0 {
		return nil, errors.New("smtp: IdleTimeout and MaxMessagesPerConn must not be negative")
	}
	if cfg.MaxIdle == 0 {
		cfg.MaxIdle = 4
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	if cfg.MaxMessagesPerConn == 0 {
		cfg.MaxMessagesPerConn = 100
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
		cfg:     cfg,
		addr:    net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		tls:     tlsConfig,
		nowFunc: time.Now,
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
// go-mail builds the message; the transaction is conn.transact's, which
// sends no data when the server refuses any RCPT TO, so one refused
// recipient, Bcc included, fails the whole message, and the error lists
// every refused address.
//
// Once the server has accepted the message, a failure to end the session
// (QUIT, a canceled ctx) is ignored: the message is delivered and a retry
// would send it twice.
func (s *Sender) SendEmail(ctx context.Context, e *providers.Email) (string, error) {
	m, err := e.Msg()
	if err != nil {
		return "", err
	}
	from, err := m.GetSender(false)
	if err != nil {
		return "", providers.Permanent("invalid_address", fmt.Errorf("smtp: %w", err))
	}
	rcpts, err := m.GetRecipients()
	if err != nil {
		return "", providers.Permanent("no_recipients", fmt.Errorf("smtp: %w", err))
	}
	// The message is built before a connection is taken, and then written
	// in one piece, after room for the command lines that go in the same
	// write. The buffer is grown to the message at once, with room for the
	// terminator DATA appends: with many sends under way, a pooled buffer
	// is often a new one.
	buf := getBuffers()
	defer putBuffers(buf)
	buf.msg.Grow(commandRoom + e.Size() + len(".\r\n"))
	buf.msg.Write(make([]byte, commandRoom))
	if _, err := m.WriteTo(&buf.msg); err != nil {
		return "", fmt.Errorf("smtp: writing message %s: %w", e.MessageID, err)
	}
	if err := s.sendMessage(ctx, from, rcpts, newMessage(buf)); err != nil {
		return "", err
	}
	return e.MessageID, nil
}

// send delivers data, a message as go-mail writes it, from from to rcpts;
// see sendMessage.
func (s *Sender) send(ctx context.Context, from string, rcpts []string, data []byte) error {
	buf := getBuffers()
	defer putBuffers(buf)
	buf.msg.Write(make([]byte, commandRoom))
	buf.msg.Write(data)
	return s.sendMessage(ctx, from, rcpts, newMessage(buf))
}

// sendMessage delivers msg from from to rcpts on a kept or new
// connection, and classifies the error.
//
// A kept connection is not checked before it carries the message: when
// the server has closed it meanwhile, the transaction fails at its first
// reply (conn.stale), before the server took any of the message, and the
// message goes on the next kept connection or a new one. This saves the NOOP
// round trip per message that the check would cost.
func (s *Sender) sendMessage(ctx context.Context, from string, rcpts []string, msg *message) error {
	for {
		c, err := s.take(ctx)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return fmt.Errorf("smtp: %s: %w (%v)", s.addr, ctxErr, err)
			}
			return classify(s.addr, err)
		}
		kept := c.sent > 0
		stop := c.raw.watch(ctx)
		err = c.sc.UpdateDeadline(s.cfg.Timeout)
		if err == nil {
			err = c.transact(from, rcpts, msg)
		}
		open := stop()
		if open && err == nil {
			s.put(c)
			return nil
		}
		s.discard(c)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("smtp: %s: %w (%v)", s.addr, ctxErr, err)
		}
		if kept && open && c.stale {
			continue
		}
		return classify(s.addr, err)
	}
}

// take returns an idle connection, or a new one. Connections idle too
// long are closed on the way.
func (s *Sender) take(ctx context.Context) (*conn, error) {
	for {
		s.mu.Lock()
		n := len(s.idle)
		if n == 0 {
			s.mu.Unlock()
			return s.dial(ctx)
		}
		c := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		if s.nowFunc().Sub(c.idleSince) > s.cfg.IdleTimeout {
			s.discard(c)
			continue
		}
		return c, nil
	}
}

// dial opens, greets, encrypts and logs in a new connection.
func (s *Sender) dial(ctx context.Context) (*conn, error) {
	raw := &ctxConn{ctx: ctx, tls: s.tlsForDial(), addr: s.addr, dialFunc: s.cfg.DialFunc}
	mc, err := mail.NewClient(s.cfg.Host, s.options(raw.dial)...)
	if err != nil {
		return nil, err
	}
	sc, err := mc.DialToSMTPClientWithContext(ctx)
	if err == nil && raw.stopFunc != nil && !raw.stopFunc() {
		err = ctx.Err() // canceled while greeting or logging in
	}
	if err != nil {
		raw.close()
		return nil, err
	}
	c := &conn{mc: mc, sc: sc, raw: raw}
	c.pipelining, _ = sc.Extension("PIPELINING")
	c.chunking, _ = sc.Extension("CHUNKING")
	if ok, _ := sc.Extension("8BITMIME"); ok {
		c.mailParams += " BODY=8BITMIME"
	}
	if ok, _ := sc.Extension("SMTPUTF8"); ok {
		c.mailParams += " SMTPUTF8"
	}
	return c, nil
}

// put keeps c for the next message, unless it has carried its share or
// enough connections wait already.
func (s *Sender) put(c *conn) {
	c.sent++
	if c.sent < s.cfg.MaxMessagesPerConn {
		c.idleSince = s.nowFunc()
		s.mu.Lock()
		if len(s.idle) < s.cfg.MaxIdle {
			s.idle = append(s.idle, c)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
	s.discard(c)
}

// discard ends c's session with QUIT, in the background so no send waits
// for it, and closes the connection. A broken session is closed without
// QUIT.
func (s *Sender) discard(c *conn) {
	if c.broken {
		c.raw.close()
		return
	}
	go func() {
		_ = c.sc.UpdateDeadline(5 * time.Second)
		_ = c.mc.CloseWithSMTPClient(c.sc)
		c.raw.close()
	}()
}

// Close closes the idle connections. The Sender stays usable.
func (s *Sender) Close() {
	s.mu.Lock()
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	for _, c := range idle {
		s.discard(c)
	}
}

// CloseIdle closes the connections that have waited longer than
// Config.IdleTimeout, which take would not reuse: a Sender nobody sends
// through any more lets go of its connections this way.
func (s *Sender) CloseIdle() {
	now := s.nowFunc()
	s.mu.Lock()
	var stale []*conn
	kept := s.idle[:0]
	for _, c := range s.idle {
		if now.Sub(c.idleSince) > s.cfg.IdleTimeout {
			stale = append(stale, c)
		} else {
			kept = append(kept, c)
		}
	}
	s.idle = kept
	s.mu.Unlock()
	for _, c := range stale {
		s.discard(c)
	}
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

// ctxConn dials a connection and closes it when the ctx of whoever is
// using it is done: go-mail honors ctx only while dialing and would leave
// the connection open (or blocked) through the greeting, STARTTLS, AUTH
// and the message. The dialing send's ctx is watched until dial returns;
// each later use watches its own with watch.
type ctxConn struct {
	ctx      context.Context
	tls      *tls.Config // set for implicit TLS
	addr     string
	dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)
	conn     net.Conn
	stopFunc func() bool
}

// dial connects to the server. The address go-mail asks for is ignored
// for c.addr: go-mail writes host:port without the brackets an IPv6
// address needs.
func (c *ctxConn) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	dial := c.dialFunc
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	conn, err := dial(ctx, network, c.addr)
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

// watch closes the connection if ctx is done before the returned stop is
// called; stop reports whether the connection is still open.
func (c *ctxConn) watch(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() { _ = c.conn.Close() })
}

func (c *ctxConn) close() {
	if c.conn == nil {
		return
	}
	if c.stopFunc != nil {
		c.stopFunc()
	}
	_ = c.conn.Close()
}

// classify turns a go-mail error into a providers error. A forbidden
// address, a server whose TLS or login does not match the settings, and a
// 5xx reply are permanent, each code naming the cause; a 4xx reply is
// transient and keeps its code ("smtp_<reply>"); everything else,
// including network errors and replies go-mail could not read a code
// from, is transient.
//
// The errors of a misconfiguration say which setting to look at, in the
// words of the tenant settings (email.smtp.…), since those are the
// servers an operator cannot fix.
func classify(addr string, err error) error {
	permanent := func(code, format string, args ...any) error {
		return providers.Permanent(code, fmt.Errorf("smtp: %s: "+format, append([]any{addr}, args...)...))
	}
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.Is(err, netguard.ErrForbiddenAddress):
		return permanent("forbidden_address", "%w", err)
	case errors.As(err, &hostErr):
		return permanent("smtp_certificate", "the SMTP server's certificate is not valid for this host: %w; set email.smtp.host to a name the certificate is for", hostErr)
	case errors.As(err, &certErr):
		return permanent("smtp_certificate", "the SMTP server's certificate is not trusted: %w; set email.smtp.caCert to trust your own CA", certErr.Err)
	case errors.As(err, &recordErr):
		return permanent("smtp_not_tls", "the SMTP server does not speak TLS on this port (%w); set email.smtp.tls to starttls for a port that starts unencrypted, such as 587", err)
	case strings.Contains(err.Error(), "does not support STARTTLS"):
		return permanent("smtp_no_starttls", "the SMTP server does not offer STARTTLS; set email.smtp.tls to tls for a port that speaks TLS from the start, such as 465")
	case errors.Is(err, mailsmtp.ErrUnencrypted):
		return permanent("smtp_unencrypted", "the password would cross an unencrypted connection, which is refused; set email.smtp.tls to starttls or tls")
	case strings.Contains(err.Error(), "does not support SMTP AUTH"):
		return permanent("smtp_no_auth", "the SMTP server offers no login (AUTH) on this connection; leave email.smtp.username empty, or check email.smtp.tls and port")
	}
	code := replyCode(err)
	switch {
	case code >= 500 && code < 600 && strings.Contains(err.Error(), "SMTP AUTH failed"):
		return permanent("smtp_"+strconv.Itoa(code), "authentication failed: %s; check email.smtp.username and email.smtp.password", replyText(err))
	case code >= 500 && code < 600:
		return permanent("smtp_"+strconv.Itoa(code), "%w", err)
	case code >= 400 && code < 500:
		return providers.Transient("smtp_"+strconv.Itoa(code), fmt.Errorf("smtp: %s: transient reply %d: %w", addr, code, err))
	default:
		return fmt.Errorf("smtp: %s: %w", addr, err)
	}
}

// replyText is the server's reply in err as the server sent it,
// "535 5.7.8 Authentication failed".
func replyText(err error) string {
	var protoErr *textproto.Error
	if errors.As(err, &protoErr) {
		return fmt.Sprintf("%03d %s", protoErr.Code, strings.Trim(protoErr.Msg, `"`))
	}
	return err.Error()
}

// replyCode finds the server's reply code in err, or 0. Replies come as a
// wrapped *textproto.Error, while connecting (greeting, STARTTLS, AUTH)
// and in the transaction (a stepError) alike.
func replyCode(err error) int {
	var protoErr *textproto.Error
	if errors.As(err, &protoErr) {
		return protoErr.Code
	}
	return 0
}
