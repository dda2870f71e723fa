package smtp

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/providers/smtp/smtptest"
)

// dotWriter returns msg as net/textproto's DotWriter writes it, the
// reference for appendDotStuffed. Writing to a bytes.Buffer cannot fail.
func dotWriter(msg []byte) []byte {
	var b bytes.Buffer
	dw := textproto.NewWriter(bufio.NewWriter(&b)).DotWriter()
	_, _ = dw.Write(msg)
	_ = dw.Close()
	return b.Bytes()
}

// edgeCase is a message whose dot-stuffing or line ends need care. A clean
// one has CRLF line ends throughout and ends with one.
type edgeCase struct {
	name  string
	msg   string
	clean bool
}

var edgeCases = []edgeCase{
	{name: "plain", msg: "Subject: hi\r\n\r\nbody\r\n", clean: true},
	{name: "line starting with a dot", msg: "Subject: hi\r\n\r\n.hidden\r\nnext\r\n", clean: true},
	{name: "dot alone on a line", msg: "Subject: hi\r\n\r\n.\r\nafter the dot\r\n", clean: true},
	{name: "dots alone on lines", msg: "Subject: hi\r\n\r\n.\r\n..\r\n.\r\n", clean: true},
	{name: "message starting with a dot", msg: ".Subject: hi\r\n\r\nbody\r\n", clean: true},
	{name: "dot alone on the last line", msg: "Subject: hi\r\n\r\nbody\r\n.\r\n", clean: true},
	{name: "empty lines", msg: "Subject: hi\r\n\r\n\r\n\r\n", clean: true},
	{name: "no line end at the end", msg: "Subject: hi\r\n\r\nbody"},
	{name: "dot at the end without a line end", msg: "Subject: hi\r\n\r\nbody\r\n."},
	{name: "CR at the end", msg: "Subject: hi\r\n\r\nbody\r"},
	{name: "two CRs at the end", msg: "Subject: hi\r\n\r\nbody\r\r"},
	{name: "bare LF", msg: "Subject: hi\n\nbody\n.dot\nend\n"},
	{name: "bare LF then a dot alone", msg: "Subject: hi\r\n\r\nbody\n.\nend\r\n"},
	{name: "bare CR", msg: "Subject: hi\r\n\r\nbo\rdy\r\n"},
	{name: "CR CR LF", msg: "Subject: hi\r\n\r\nbody\r\r\n.x\r\r\r\n"},
	{name: "empty", msg: ""},
	{name: "one dot", msg: "."},
	{name: "one LF", msg: "\n"},
}

// TestAppendDotStuffed checks that the data of a message goes on the wire
// byte for byte as net/textproto's DotWriter (which go-mail used) wrote
// it, for the edge cases and for random messages made of the bytes that
// matter, and that needsDotStuffing tells which messages it changes.
func TestAppendDotStuffed(t *testing.T) {
	t.Parallel()
	for _, tt := range edgeCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := dotWriter([]byte(tt.msg))
			prefix := []byte("kept")
			got := appendDotStuffed(prefix, []byte(tt.msg))
			if !bytes.Equal(got[:len(prefix)], prefix) || !bytes.Equal(got[len(prefix):], want) {
				t.Errorf("appendDotStuffed(%q)\n got %q\nwant kept%q", tt.msg, got, want)
			}
			changed := !bytes.Equal(want, []byte(tt.msg+".\r\n"))
			if needs := needsDotStuffing([]byte(tt.msg)); needs != changed {
				t.Errorf("needsDotStuffing(%q) = %t, want %t", tt.msg, needs, changed)
			}
		})
	}
	t.Run("random", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(1, 2))
		alphabet := []byte(".\r\nab")
		for range 20000 {
			msg := make([]byte, r.IntN(24))
			for i := range msg {
				msg[i] = alphabet[r.IntN(len(alphabet))]
			}
			got, want := appendDotStuffed(nil, msg), dotWriter(msg)
			if !bytes.Equal(got, want) {
				t.Fatalf("appendDotStuffed(%q)\n got %q\nwant %q", msg, got, want)
			}
			if needs, changed := needsDotStuffing(msg), !bytes.Equal(want, append(msg, ".\r\n"...)); needs != changed {
				t.Fatalf("needsDotStuffing(%q) = %t, want %t", msg, needs, changed)
			}
		}
	})
}

// TestSendData sends each edge case through the in-process server and
// checks what it received: a clean message exactly as it is, any other as
// its lines with CRLF ends, the last one included. go-smtp offers
// CHUNKING, and the messages whose lines all end with CRLF go with BDAT,
// over plain text so that the test sees them go.
func TestSendData(t *testing.T) {
	t.Parallel()
	srv, s, sent := recordedSender(t)
	long := strings.Repeat("."+strings.Repeat("x", 75)+"\r\n", 20000) // 1.5 MB, every line stuffed
	cases := append(slices.Clip(edgeCases), edgeCase{name: "very long", msg: "Subject: long\r\n\r\n" + long, clean: true})
	for i, tt := range cases {
		if err := s.send(context.Background(), "<billing@acme.test>", []string{"<ann@customer.test>"}, []byte(tt.msg)); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := srv.WaitForMessages(t, i+1, 5*time.Second)[i].Data
		want := tt.msg
		if !tt.clean {
			want = crlf(tt.msg)
		}
		if string(got) != want {
			t.Errorf("%s: server got %q, want %q", tt.name, truncate(got), truncate([]byte(want)))
		}
	}
	if n := srv.Connections(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
	if got, want := sent.count("\r\nBDAT "), crlfCases()+1; got != want {
		t.Errorf("%d messages sent with BDAT, want %d", got, want)
	}
}

// TestSendOneWrite checks that a BDAT's chunk goes in the same write as
// the command lines before it: MAIL FROM, RCPT TO and BDAT for a message
// to one recipient, BDAT alone after the replies to several; and that
// lines too long for the room kept before the message go all the same,
// in more writes.
func TestSendOneWrite(t *testing.T) {
	t.Parallel()
	long := "<" + strings.Repeat("a", 600) + "@customer.test>"
	tests := []struct {
		name      string
		rcpts     []string
		wantLines string // the lines in the chunk's write, or "" for none
	}{
		{"one recipient", []string{"<ann@customer.test>"}, "MAIL FROM:<billing@acme.test> BODY=8BITMIME\r\nRCPT TO:<ann@customer.test>\r\nBDAT %d LAST\r\n"},
		{"three recipients", []string{"<ann@customer.test>", "<ap@customer.test>", "<archive@acme.test>"}, "BDAT %d LAST\r\n"},
		{"a recipient too long for the room", []string{long}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, s, sent := recordedSender(t)
			msg := []byte("Subject: hi\r\n\r\n" + strings.Repeat(strings.Repeat("x", 76)+"\r\n", 600))
			if err := s.send(context.Background(), "<billing@acme.test>", tt.rcpts, msg); err != nil {
				t.Fatal(err)
			}
			if got := srv.WaitForMessages(t, 1, 5*time.Second)[0].Data; !bytes.Equal(got, msg) {
				t.Fatalf("server got %d bytes, want the %d sent", len(got), len(msg))
			}
			chunkWrite := -1
			for i, w := range sent.writes() {
				if bytes.HasSuffix(w, msg) {
					chunkWrite = i
					if want := fmt.Sprintf(tt.wantLines, len(msg)); string(w[:len(w)-len(msg)]) != want {
						t.Errorf("the chunk's write starts %q, want %q", w[:len(w)-len(msg)], want)
					}
				}
			}
			if chunkWrite < 0 && tt.wantLines != "" {
				t.Errorf("the chunk went in pieces: writes of %v bytes", sent.sizes())
			}
		})
	}
}

// recordedSender returns a go-smtp server, a Sender to it over plain
// text, and what the Sender writes.
func recordedSender(t *testing.T) (*smtptest.Server, *Sender, *recorder) {
	t.Helper()
	srv := smtptest.Start(t, smtptest.Options{})
	cfg := config(srv, TLSNone)
	sent := new(recorder)
	cfg.DialFunc = sent.dial
	return srv, newSender(t, cfg), sent
}

// recorder keeps what a client writes on the connections it dials, and
// each write.
type recorder struct {
	mu      sync.Mutex
	written bytes.Buffer
	each    [][]byte
}

func (r *recorder) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return recordedConn{Conn: c, r: r}, nil
}

// count counts s in what was written.
func (r *recorder) count(s string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Count(r.written.Bytes(), []byte(s))
}

type recordedConn struct {
	net.Conn
	r *recorder
}

func (c recordedConn) Write(p []byte) (int, error) {
	c.r.mu.Lock()
	c.r.written.Write(p)
	c.r.each = append(c.r.each, bytes.Clone(p))
	c.r.mu.Unlock()
	return c.Conn.Write(p)
}

func (r *recorder) writes() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.each)
}

func (r *recorder) sizes() []int {
	var n []int
	for _, w := range r.writes() {
		n = append(n, len(w))
	}
	return n
}

// TestSendEmailLeadingDots sends an email whose text has lines that start
// with a dot, and a dot alone, which quoted-printable leaves as they are:
// the server receives them as written, neither doubled nor taken for the
// end of the data.
func TestSendEmailLeadingDots(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	e := newEmail()
	e.Text = "Amount due:\n.50 EUR\n.\nafter the dot\n"
	if _, err := send(t, config(srv, TLSStartTLS), e); err != nil {
		t.Fatal(err)
	}
	data := srv.WaitForMessages(t, 1, 5*time.Second)[0].Data
	for _, want := range []string{"\r\n.50 EUR\r\n.\r\nafter the dot\r\n", "INV-0042.pdf"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("message lacks %q:\n%s", want, data)
		}
	}
	if bytes.Contains(data, []byte("\n..")) {
		t.Errorf("message has a doubled dot:\n%s", data)
	}
}

// crlf is msg as a server reads it after DotWriter: every line ends with
// CRLF, the last one included.
func crlf(msg string) string {
	wire := string(dotWriter([]byte(msg)))
	wire = strings.TrimSuffix(wire, ".\r\n")
	wire = strings.ReplaceAll(wire, "\r\n..", "\r\n.")
	if strings.HasPrefix(wire, "..") {
		wire = wire[1:]
	}
	return wire
}

func truncate(b []byte) []byte {
	if len(b) > 200 {
		return append(b[:200:200], "…"...)
	}
	return b
}

// TestSendEmailAtData checks the failures of a transaction: MAIL FROM
// refused, DATA or BDAT refused, a recipient refused while the others are
// accepted, the only recipient refused, and the message refused at the end
// of its data. Each is classified by its reply, 4xx transient and 5xx
// permanent with the reply's text and the step it answered, and none
// delivers anything, with PIPELINING and without, CHUNKING and without.
// A refused recipient among others stops the message for all: DATA's data
// is cut off, a BDAT is not sent.
func TestSendEmailAtData(t *testing.T) {
	t.Parallel()
	// The email goes to three recipients, or, with oneRcpt, to
	// <ap@customer.test> alone.
	tests := []struct {
		name      string
		script    script // for the scripted server
		setup     func(*smtptest.Server)
		oneRcpt   bool
		permanent bool
		wantCode  string
		// wantStep is the step the error names, with DATA; with BDAT,
		// DATA and the end of the data are "sending SMTP BDAT command".
		wantStep string
		wantText []string
	}{
		{
			name:      "MAIL FROM refused",
			script:    script{mailReply: "550 5.7.1 Sender not allowed"},
			permanent: true,
			wantCode:  "smtp_550",
			wantStep:  "sending SMTP MAIL FROM command",
			wantText:  []string{"550", "Sender not allowed"},
		},
		{
			name:     "MAIL FROM refused for one recipient",
			script:   script{mailReply: "451 4.3.0 Try again later"},
			oneRcpt:  true,
			wantCode: "smtp_451",
			wantStep: "sending SMTP MAIL FROM command",
			wantText: []string{"451", "Try again later"},
		},
		{
			name:      "DATA refused",
			script:    script{dataReply: "554 5.3.4 Message too big for system"},
			permanent: true,
			wantCode:  "smtp_554",
			wantStep:  "sending SMTP DATA command",
			wantText:  []string{"554", "Message too big"},
		},
		{
			name:     "DATA refused for now",
			script:   script{dataReply: "452 4.3.1 Insufficient system storage"},
			wantCode: "smtp_452",
			wantStep: "sending SMTP DATA command",
			wantText: []string{"452", "Insufficient system storage"},
		},
		{
			name:      "one recipient refused",
			script:    script{refuse: "<ap@customer.test>"},
			setup:     func(srv *smtptest.Server) { srv.RefuseRecipient("ap@customer.test", 550, "No such user") },
			permanent: true,
			wantCode:  "smtp_550",
			wantStep:  "sending SMTP RCPT TO command",
			wantText:  []string{"550", "No such user", "affected recipient(s): <ap@customer.test>"},
		},
		{
			name:      "the only recipient refused",
			script:    script{refuse: "<ap@customer.test>"},
			setup:     func(srv *smtptest.Server) { srv.RefuseRecipient("ap@customer.test", 550, "No such user") },
			oneRcpt:   true,
			permanent: true,
			wantCode:  "smtp_550",
			wantStep:  "sending SMTP RCPT TO command",
			wantText:  []string{"550", "No such user", "affected recipient(s): <ap@customer.test>"},
		},
		{
			name:     "the only recipient refused for now",
			script:   script{refuse: "<ap@customer.test>", refuseReply: "450 4.2.1 Mailbox busy"},
			setup:    func(srv *smtptest.Server) { srv.RefuseRecipient("ap@customer.test", 450, "Mailbox busy") },
			oneRcpt:  true,
			wantCode: "smtp_450",
			wantStep: "sending SMTP RCPT TO command",
			wantText: []string{"450", "Mailbox busy", "affected recipient(s): <ap@customer.test>"},
		},
		{
			name:      "refused at the end of the data",
			script:    script{endReply: "550 5.7.1 Message rejected as spam"},
			setup:     func(srv *smtptest.Server) { srv.FailNextData(1, 550, "Message rejected as spam") },
			permanent: true,
			wantCode:  "smtp_550",
			wantStep:  "closing SMTP DATA writer",
			wantText:  []string{"550", "Message rejected as spam"},
		},
		{
			name:     "refused for now at the end of the data",
			script:   script{endReply: "451 4.7.1 Try again later"},
			setup:    func(srv *smtptest.Server) { srv.FailNextData(1, 451, "Try again later") },
			wantCode: "smtp_451",
			wantStep: "closing SMTP DATA writer",
			wantText: []string{"451", "Try again later"},
		},
		{
			name:      "refused at the end of the data of one recipient",
			script:    script{endReply: "550 5.7.1 Message rejected as spam"},
			setup:     func(srv *smtptest.Server) { srv.FailNextData(1, 550, "Message rejected as spam") },
			oneRcpt:   true,
			permanent: true,
			wantCode:  "smtp_550",
			wantStep:  "closing SMTP DATA writer",
			wantText:  []string{"550", "Message rejected as spam"},
		},
	}
	check := func(t *testing.T, err error, permanent bool, wantCode string, wantText []string) {
		t.Helper()
		if err == nil {
			t.Fatal("SendEmail succeeded, want an error")
		}
		if got := providers.IsPermanent(err); got != permanent {
			t.Errorf("error %q: permanent %t, want %t", err, got, permanent)
		}
		if got := providers.Code(err); got != wantCode {
			t.Errorf("error %q: code %q, want %q", err, got, wantCode)
		}
		for _, want := range wantText {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q, want it to mention %q", err, want)
			}
		}
	}
	email := func(oneRcpt bool) *providers.Email {
		e := newEmail()
		if oneRcpt {
			e.To, e.Cc, e.Bcc = []string{"ap@customer.test"}, nil, nil
		}
		return e
	}
	stepWith := func(step string, chunking bool) string {
		if chunking && (step == "sending SMTP DATA command" || step == "closing SMTP DATA writer") {
			return "sending SMTP BDAT command"
		}
		return step
	}
	for _, tt := range tests {
		for _, chunking := range []bool{false, true} {
			for _, pipelining := range []bool{true, false} {
				name := fmt.Sprintf("%s, PIPELINING %t, CHUNKING %t", tt.name, pipelining, chunking)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					sc := tt.script
					sc.pipelining, sc.chunking = pipelining, chunking
					srv := startScripted(t, sc)
					s := newSender(t, Config{Host: "127.0.0.1", Port: srv.port(), TLS: TLSNone, Timeout: 5 * time.Second})
					_, err := s.SendEmail(context.Background(), email(tt.oneRcpt))
					check(t, err, tt.permanent, tt.wantCode, append(tt.wantText, stepWith(tt.wantStep, chunking)))
					if n := srv.delivered(); n != 0 {
						t.Errorf("server delivered %d messages, want none", n)
					}
					if tt.script.refuse == "" || tt.oneRcpt {
						return
					}
					if chunking && strings.Contains(srv.commands(), "BDAT") {
						t.Errorf("a refused message's BDAT was sent: %q", srv.commands())
					}
					if !chunking && pipelining && !srv.aborted() {
						t.Error("the connection was not closed in the data of a refused message")
					}
				})
			}
		}
		if tt.setup == nil {
			continue
		}
		// go-smtp offers CHUNKING.
		t.Run(tt.name+" by go-smtp", func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, smtptest.Options{})
			tt.setup(srv)
			s := newSender(t, config(srv, TLSStartTLS))
			_, err := s.SendEmail(context.Background(), email(tt.oneRcpt))
			check(t, err, tt.permanent, tt.wantCode, append(tt.wantText, stepWith(tt.wantStep, true)))
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server got %d messages, want none", n)
			}
			// The next message, to a recipient the server takes, goes.
			e := newEmail()
			e.Cc, e.Bcc = nil, nil
			if _, err := s.SendEmail(context.Background(), e); err != nil {
				t.Errorf("the next message: %v", err)
			}
		})
	}
}

// TestSendWire checks, with a scripted server that shows the data as it
// came over the wire, that a message goes out exactly as DotWriter wrote
// it, terminator included, with PIPELINING and without; and, to a server
// that offers CHUNKING, as it is in one BDAT LAST chunk when its lines all
// end with CRLF, in the same write as MAIL FROM and RCPT TO with
// PIPELINING. A message with other line ends goes with DATA all the same,
// whose DotWriter rules end its lines with CRLF as before.
func TestSendWire(t *testing.T) {
	t.Parallel()
	for _, chunking := range []bool{false, true} {
		for _, pipelining := range []bool{true, false} {
			srv := startScripted(t, script{pipelining: pipelining, chunking: chunking})
			s := newSender(t, Config{Host: "127.0.0.1", Port: srv.port(), TLS: TLSNone, Timeout: 5 * time.Second})
			for _, tt := range edgeCases {
				if err := s.send(context.Background(), "<a@acme.test>", []string{"<b@customer.test>"}, []byte(tt.msg)); err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				wire := srv.lastWire()
				want := dotWriter([]byte(tt.msg))
				if chunking && crlf(tt.msg) == tt.msg {
					want = []byte(tt.msg)
				}
				if !bytes.Equal(wire, want) {
					t.Errorf("%s, pipelining %t, chunking %t: wire %q, want %q", tt.name, pipelining, chunking, wire, want)
				}
			}
			if got, want := srv.commands(), pipeliningCommands(pipelining, chunking); !strings.HasPrefix(got, want) {
				t.Errorf("pipelining %t, chunking %t: commands %q, want them to start %q", pipelining, chunking, got, want)
			}
			if got := strings.Count(srv.commands(), "BDAT"); chunking && got != crlfCases() || !chunking && got != 0 {
				t.Errorf("pipelining %t, chunking %t: %d BDAT commands for %d messages with CRLF line ends", pipelining, chunking, got, crlfCases())
			}
		}
	}
}

// crlfCases counts the edge cases with CRLF line ends throughout, which
// DATA leaves as they are.
func crlfCases() int {
	n := 0
	for _, tt := range edgeCases {
		if crlf(tt.msg) == tt.msg {
			n++
		}
	}
	return n
}

// TestSendEmailStaleConnection sends over kept connections that the server
// closes before the next message, silently or with 421 as servers that
// time idle clients out do: each message goes on a new connection, none
// fails and none arrives twice. A new connection's 421 is the error.
func TestSendEmailStaleConnection(t *testing.T) {
	t.Parallel()
	for _, hangUp := range []string{"close", "421 4.4.2 Idle timeout, closing connection"} {
		for _, sc := range []script{{pipelining: true}, {}, {pipelining: true, chunking: true}, {chunking: true}} {
			// With one recipient, a BDAT goes with MAIL FROM and RCPT TO.
			for _, oneRcpt := range []bool{false, true} {
				sc.hangUp = hangUp
				srv := startScripted(t, sc)
				s := newSender(t, Config{Host: "127.0.0.1", Port: srv.port(), TLS: TLSNone, Timeout: 5 * time.Second})
				for i := range 3 {
					e := numbered(i)
					if oneRcpt {
						e.Cc, e.Bcc = nil, nil
					}
					if _, err := s.SendEmail(context.Background(), e); err != nil {
						t.Fatalf("%q, %+v, one recipient %t, message %d: %v", hangUp, sc, oneRcpt, i, err)
					}
				}
				if n, c := srv.delivered(), srv.connections(); n != 3 || c != 3 {
					t.Errorf("%q, %+v, one recipient %t: %d messages over %d connections, want 3 over 3", hangUp, sc, oneRcpt, n, c)
				}
			}
		}
	}

	for _, sc := range []script{{pipelining: true}, {pipelining: true, chunking: true}} {
		sc.dataReply = "421 4.3.2 System shutting down"
		srv := startScripted(t, sc)
		s := newSender(t, Config{Host: "127.0.0.1", Port: srv.port(), TLS: TLSNone, Timeout: 5 * time.Second})
		_, err := s.SendEmail(context.Background(), newEmail())
		if providers.Code(err) != "smtp_421" || srv.connections() != 1 {
			t.Errorf("%+v: error %v over %d connections, want smtp_421 over 1", sc, err, srv.connections())
		}
	}
}

// pipeliningCommands is how the scripted server sees the first
// transaction, edgeCases[0], arrive: one read with every command (and a
// BDAT's chunk), or one read each.
func pipeliningCommands(pipelining, chunking bool) string {
	last := "DATA"
	if chunking {
		last = "BDAT " + strconv.Itoa(len(edgeCases[0].msg)) + " LAST"
	}
	if pipelining {
		return "EHLO|MAIL FROM:<a@acme.test> BODY=8BITMIME RCPT TO:<b@customer.test> " + last + "|"
	}
	return "EHLO|MAIL FROM:<a@acme.test> BODY=8BITMIME|RCPT TO:<b@customer.test>|" + last + "|"
}

// script says how a scripted server answers. The zero value accepts
// everything and offers no PIPELINING.
type script struct {
	pipelining bool
	chunking   bool   // offer CHUNKING (RFC 3030) and take BDAT
	mailReply  string // instead of 250 to MAIL FROM
	refuse     string // the RCPT TO argument refused
	// refuseReply answers refuse's RCPT TO. Defaults to 550.
	refuseReply string
	dataReply   string // instead of 354
	endReply    string // instead of 250 at the end of the data or to BDAT LAST
	// hangUp, when set, ends each connection after a message: the
	// connection is closed, and with a reply of hangUp first unless it is
	// "close".
	hangUp string
}

// scripted is an SMTP server of a few lines, for what go-smtp's server
// does not do: refuse DATA, leave PIPELINING and CHUNKING out of its EHLO
// answer, and show the data as it came over the wire, dot-stuffing and
// terminator included, or a BDAT chunk as it came. It logs the commands,
// with "|" where it waited for the client, which shows what came in one
// write; a BDAT is logged with its arguments, and the mark after it
// tells what followed its chunk.
type scripted struct {
	script
	ln net.Listener

	mu      sync.Mutex
	conns   int
	wires   [][]byte
	log     strings.Builder
	accepts int
	aborts  int
}

func startScripted(t *testing.T, sc script) *scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &scripted{script: sc, ln: ln}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { srv.serve(c) })
		}
	})
	return srv
}

func (srv *scripted) port() int { return srv.ln.Addr().(*net.TCPAddr).Port }

func (srv *scripted) serve(c net.Conn) {
	defer c.Close()
	srv.mu.Lock()
	srv.conns++
	srv.mu.Unlock()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	reply := func(s string) { _, _ = c.Write([]byte(s + "\r\n")) }
	reply("220 scripted ESMTP")
	var rcpts int
	var mail bool // a MAIL FROM was accepted
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		var chunk []byte
		if strings.HasPrefix(cmd, "BDAT ") {
			// The chunk follows the command at once.
			size, _ := strconv.Atoi(strings.Fields(cmd)[1])
			chunk = make([]byte, size)
			if _, err := io.ReadFull(r, chunk); err != nil {
				srv.mu.Lock()
				srv.aborts++
				srv.mu.Unlock()
				return
			}
		}
		srv.mu.Lock()
		srv.log.WriteString(strings.SplitN(cmd, " ", 2)[0])
		if strings.HasPrefix(cmd, "MAIL") || strings.HasPrefix(cmd, "RCPT") || strings.HasPrefix(cmd, "BDAT") {
			srv.log.WriteString(cmd[4:])
		}
		if r.Buffered() == 0 {
			srv.log.WriteString("|")
		} else {
			srv.log.WriteString(" ")
		}
		srv.mu.Unlock()
		switch verb := strings.ToUpper(strings.SplitN(cmd, " ", 2)[0]); verb {
		case "EHLO":
			reply("250-scripted")
			if srv.pipelining {
				reply("250-PIPELINING")
			}
			if srv.chunking {
				reply("250-CHUNKING")
			}
			reply("250 8BITMIME")
		case "MAIL":
			rcpts, mail = 0, srv.mailReply == ""
			if !mail {
				reply(srv.mailReply)
				continue
			}
			reply("250 2.1.0 OK")
		case "RCPT":
			if !mail {
				reply("503 5.5.1 Error: need MAIL command")
				continue
			}
			if srv.refuse != "" && strings.HasSuffix(cmd, ":"+srv.refuse) {
				reply(cmp.Or(srv.refuseReply, "550 5.1.1 No such user"))
				continue
			}
			rcpts++
			reply("250 2.1.5 OK")
		case "DATA":
			switch {
			case srv.dataReply != "":
				reply(srv.dataReply)
				continue
			case rcpts == 0:
				reply("554 5.5.1 No valid recipients")
				continue
			}
			reply("354 Go ahead")
			var wire []byte
			for {
				line, err := r.ReadString('\n')
				wire = append(wire, line...)
				if err != nil {
					srv.mu.Lock()
					srv.aborts++
					srv.mu.Unlock()
					return
				}
				if line == ".\r\n" {
					break
				}
			}
			if srv.take(wire, r, reply) {
				return
			}
		case "BDAT":
			switch {
			case !srv.chunking:
				reply("502 5.5.1 Unknown command")
				continue
			case !strings.HasSuffix(cmd, " LAST"):
				reply("504 5.5.4 Only one chunk, please")
				continue
			case srv.dataReply != "":
				reply(srv.dataReply)
				continue
			case rcpts == 0:
				reply("554 5.5.1 No valid recipients")
				continue
			}
			if srv.take(chunk, r, reply) {
				return
			}
		case "QUIT":
			reply("221 2.0.0 Bye")
			return
		default:
			reply("250 OK")
		}
	}
}

// take answers the end of a message's data, wire as it came, as the
// script says, and reports whether the connection ends after it
// (script.hangUp).
func (srv *scripted) take(wire []byte, r *bufio.Reader, reply func(string)) (end bool) {
	srv.mu.Lock()
	srv.wires = append(srv.wires, wire)
	if srv.endReply == "" {
		srv.accepts++
	}
	srv.mu.Unlock()
	if srv.endReply != "" {
		reply(srv.endReply)
		return false
	}
	reply("250 2.0.0 Queued")
	if srv.hangUp == "" {
		return false
	}
	// The client waits before its next message.
	_, _ = r.ReadString('\n')
	if srv.hangUp != "close" {
		reply(srv.hangUp)
	}
	return true
}

func (srv *scripted) connections() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.conns
}

func (srv *scripted) lastWire() []byte {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.wires) == 0 {
		return nil
	}
	return srv.wires[len(srv.wires)-1]
}

func (srv *scripted) delivered() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.accepts
}

// aborted reports whether a client closed the connection in the middle of
// a message's data.
func (srv *scripted) aborted() bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		srv.mu.Lock()
		n := srv.aborts
		srv.mu.Unlock()
		if n > 0 {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func (srv *scripted) commands() string {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.log.String()
}

// BenchmarkDotStuffing dot-stuffs a 48 KB message of 76-character
// base64 lines, as go-mail's net/textproto DotWriter did (into a
// discarding 4 KB bufio.Writer, as on the connection) and as
// appendDotStuffed does.
func BenchmarkDotStuffing(b *testing.B) {
	line := strings.Repeat("JVBERi0xLjcK", 7)[:76] + "\r\n"
	msg := []byte(strings.Repeat(line, 48<<10/len(line)))
	b.Run("DotWriter", func(b *testing.B) {
		bw := bufio.NewWriter(io.Discard)
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			dw := textproto.NewWriter(bw).DotWriter()
			_, _ = dw.Write(msg)
			_ = dw.Close()
		}
	})
	b.Run("appendDotStuffed", func(b *testing.B) {
		var wire []byte
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			wire = appendDotStuffed(wire[:0], msg)
		}
	})
}
