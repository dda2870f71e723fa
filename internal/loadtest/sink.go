package loadtest

import (
	"bytes"
	"io"
	"log"
	"net"
	"net/mail"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// deliveryHeader names the delivery a worker's email belongs to.
const deliveryHeader = "X-Invoiced-Delivery"

// sink is an SMTP server that accepts every message and counts them by
// the delivery they carry, so that a run can tell a lost email from one
// sent twice. It offers no TLS and no AUTH: the workers reach it with
// tls=none, which keeps handshakes out of the figures.
type sink struct {
	srv *smtp.Server
	ln  net.Listener

	mu       sync.Mutex
	received map[string]int // delivery id → messages
	total    int
	unknown  int // messages without a delivery header
	bytes    int64
}

// startSink listens on a free loopback port.
func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{ln: ln, received: map[string]int{}}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &sinkSession{sink: s}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.MaxMessageBytes = 64 << 20
	s.srv.MaxRecipients = 100
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// port is the port the sink listens on, on 127.0.0.1.
func (s *sink) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *sink) close() { _ = s.srv.Close() }

func (s *sink) add(data []byte) {
	id := ""
	if m, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
		id = m.Header.Get(deliveryHeader)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total++
	s.bytes += int64(len(data))
	if id == "" {
		s.unknown++
		return
	}
	s.received[id]++
}

// count returns how many messages the sink has accepted in all.
func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// tally counts ids by the messages received for each: none (missing),
// one, or more (duplicates).
func (s *sink) tally(ids []string) (delivered, missing, duplicates int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		switch n := s.received[id]; {
		case n == 0:
			missing++
		case n == 1:
			delivered++
		default:
			delivered++
			duplicates++
		}
	}
	return delivered, missing, duplicates
}

// meanSize is the mean size of the messages accepted so far, in bytes.
func (s *sink) meanSize() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total == 0 {
		return 0
	}
	return int(s.bytes / int64(s.total))
}

// sinkSession is one SMTP connection; Reset ends each transaction.
type sinkSession struct{ sink *sink }

func (ss *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (ss *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (ss *sinkSession) Reset()                               {}
func (ss *sinkSession) Logout() error                        { return nil }

func (ss *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.sink.add(data)
	return nil
}
