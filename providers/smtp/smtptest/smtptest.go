// Package smtptest runs an in-process SMTP server for tests: it records
// what it receives, speaks STARTTLS and implicit TLS with a certificate made
// at start, can require AUTH PLAIN, and rejects transactions on demand.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configures a Server. The zero value is an open server offering
// STARTTLS and no AUTH.
type Options struct {
	// Username and Password, when Username is set, make the server offer
	// AUTH PLAIN and refuse MAIL FROM until a client logs in with them.
	// A wrong password gets 535 5.7.8.
	Username string
	Password string
	// NoSTARTTLS stops the plain listener offering STARTTLS. The implicit
	// TLS listener still works.
	NoSTARTTLS bool
	// AllowInsecureAuth offers AUTH on the plain listener before STARTTLS.
	AllowInsecureAuth bool
	// ReplyDelay holds the answer to each message's data this long after
	// the message is accepted (and counted), as a slow server does: a
	// client that goes away meanwhile never learns it was accepted.
	ReplyDelay time.Duration
	// Domain is the name the server greets clients with and gives in
	// its EHLO answer. Defaults to localhost.
	Domain string
}

// Message is one message the server accepted.
type Message struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To lists the envelope recipients (RCPT TO), Bcc included.
	To []string
	// Data is the message as the client sent it, headers and body.
	Data []byte
	// TLS reports whether the message came over an encrypted connection,
	// by STARTTLS or implicit TLS.
	TLS bool
	// Username is the user the client logged in as, or empty.
	Username string
}

// Server is a running test SMTP server. It stops when the test ends.
type Server struct {
	opts      Options
	addr      *net.TCPAddr
	tlsAddr   *net.TCPAddr
	clientTLS *tls.Config
	certPEM   []byte

	mu       sync.Mutex
	conns    []*smtp.Conn // every connection a client opened
	messages []Message
	added    chan struct{} // closed and replaced when a message is added
	// fail is FailNext's.
	fail failures
	// dataFail is FailNextData's.
	dataFail failures
	refused  map[string]*smtp.SMTPError // by recipient
}

// Start runs a server on 127.0.0.1 with a plain listener (Addr, Port) and an
// implicit TLS listener (TLSAddr, TLSPort), and stops it when t ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	cert, pool, err := selfSigned()
	if err != nil {
		t.Fatalf("smtptest: certificate: %v", err)
	}
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}

	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	implicit, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		plain.Close()
		t.Fatalf("smtptest: listen: %v", err)
	}

	s := &Server{
		opts:      opts,
		addr:      plain.Addr().(*net.TCPAddr),
		tlsAddr:   implicit.Addr().(*net.TCPAddr),
		clientTLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		certPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}),
		added:     make(chan struct{}),
	}

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	if opts.Domain != "" {
		srv.Domain = opts.Domain
	}
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.AllowInsecureAuth = opts.AllowInsecureAuth
	// Failed handshakes and dropped connections are what some tests are
	// about; they are not worth printing.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if !opts.NoSTARTTLS {
		srv.TLSConfig = serverTLS
	}

	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(plain) })
	wg.Go(func() { _ = srv.Serve(tls.NewListener(implicit, serverTLS)) })
	t.Cleanup(func() {
		_ = srv.Close()
		// Close the listeners too, in case Close ran before Serve saw them.
		_ = plain.Close()
		_ = implicit.Close()
		wg.Wait()
	})
	return s
}

// Addr returns the plain listener's address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr.String() }

// Host returns the host both listeners are on, "127.0.0.1".
func (s *Server) Host() string { return s.addr.IP.String() }

// Port returns the plain listener's port, which offers STARTTLS unless
// Options.NoSTARTTLS is set.
func (s *Server) Port() int { return s.addr.Port }

// TLSAddr returns the implicit TLS listener's address.
func (s *Server) TLSAddr() string { return s.tlsAddr.String() }

// TLSPort returns the implicit TLS listener's port.
func (s *Server) TLSPort() int { return s.tlsAddr.Port }

// ClientTLSConfig returns a new TLS config that trusts the server's
// certificate, which is valid for 127.0.0.1 and localhost. ServerName is
// left empty for the client to fill in.
func (s *Server) ClientTLSConfig() *tls.Config { return s.clientTLS.Clone() }

// CertPEM returns the server's self-signed certificate in PEM, for a
// client that reads its trusted authorities from a file
// (INVOICED_SMTP_CA_FILE).
func (s *Server) CertPEM() []byte { return s.certPEM }

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// WaitForMessages waits until the server has accepted at least n messages
// and returns them all. It fails t if that takes longer than timeout.
func (s *Server) WaitForMessages(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, added := len(s.messages), s.added
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-added:
		case <-deadline.C:
			t.Fatalf("smtptest: got %d messages after %s, want %d", got, timeout, n)
			return nil
		}
	}
}

// FailNext makes the next n transactions fail: every RCPT TO in them is
// answered with code and msg, e.g. 451 for greylisting or 550 for an
// unknown mailbox. The enhanced status code is the class of code with
// ".0.0". A later call replaces an earlier one.
func (s *Server) FailNext(n int, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = newFailures(n, code, msg)
}

// FailNextData makes the next n messages fail at the end of their data:
// the server reads the whole message, then answers with code and msg and
// keeps nothing, as a server whose content filter rejects the message
// does.
func (s *Server) FailNextData(n int, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dataFail = newFailures(n, code, msg)
}

// RefuseRecipient makes the server answer every RCPT TO for addr with code
// and msg, while other recipients of the same message are accepted.
func (s *Server) RefuseRecipient(addr string, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused == nil {
		s.refused = make(map[string]*smtp.SMTPError)
	}
	s.refused[addr] = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: msg}
}

func (s *Server) add(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.added)
	s.added = make(chan struct{})
}

// failures is how many more times the server answers with err.
type failures struct {
	left int
	err  *smtp.SMTPError
}

func newFailures(n, code int, msg string) failures {
	return failures{left: n, err: &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: msg}}
}

// take uses up one of f, under the server's lock: the error to answer
// with, or nil when none is left.
func (s *Server) take(f *failures) *smtp.SMTPError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.left <= 0 {
		return nil
	}
	f.left--
	return f.err
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	// STARTTLS starts a new session on the same connection.
	if !slices.Contains(s.conns, c) {
		s.conns = append(s.conns, c)
	}
	s.mu.Unlock()
	return &session{server: s, conn: c}, nil
}

// Connections returns how many connections clients have opened so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// DropConnections closes every connection clients have open, as a server
// that times idle clients out does.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := s.conns
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// session is one client connection. One connection may carry several
// transactions; Reset ends each.
type session struct {
	server   *Server
	conn     *smtp.Conn
	username string

	from string
	to   []string
	fail *smtp.SMTPError
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.server.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.server.opts.Username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != ss.server.opts.Username || password != ss.server.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.username = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.server.opts.Username != "" && ss.username == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	ss.fail = ss.server.take(&ss.server.fail)
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.fail != nil {
		return ss.fail
	}
	ss.server.mu.Lock()
	refused := ss.server.refused[to]
	ss.server.mu.Unlock()
	if refused != nil {
		return refused
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := ss.server.take(&ss.server.dataFail); err != nil {
		return err
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.server.add(Message{
		From:     ss.from,
		To:       append([]string(nil), ss.to...),
		Data:     data,
		TLS:      isTLS,
		Username: ss.username,
	})
	time.Sleep(ss.server.opts.ReplyDelay)
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.to, ss.fail = "", nil, nil
}

func (ss *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost and a pool
// that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
