package smtp

import (
	"bytes"
	"errors"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The words go-mail used for each step of the transaction, kept so that
// errors read as they always have, and BDAT's in the same words.
const (
	stepMail = "sending SMTP MAIL FROM command"
	stepRcpt = "sending SMTP RCPT TO command"
	stepData = "sending SMTP DATA command"
	stepBdat = "sending SMTP BDAT command"
	stepBody = "sending message content"
	stepEnd  = "closing SMTP DATA writer"
)

// maxPooledBuffer is the largest buffer kept for the next message; a rare
// large message does not pin its memory for good.
const maxPooledBuffer = 1 << 20

// buffers holds the message as go-mail writes it and, when it needs
// dot-stuffing, as it goes on the wire.
type buffers struct {
	msg  bytes.Buffer
	wire []byte
}

var bufferPool = sync.Pool{New: func() any { return new(buffers) }}

func getBuffers() *buffers {
	b := bufferPool.Get().(*buffers)
	b.msg.Reset()
	b.wire = b.wire[:0]
	return b
}

func putBuffers(b *buffers) {
	if b.msg.Cap() > maxPooledBuffer || cap(b.wire) > maxPooledBuffer {
		return
	}
	bufferPool.Put(b)
}

// appendDotStuffed appends msg to dst as it goes between DATA and the end
// of the data, terminator included, byte for byte as net/textproto's
// DotWriter writes it: a "." that begins a line is doubled, a bare LF
// becomes CRLF, and the terminator ".\r\n" follows a line break that
// ends msg, or one added ("\n" after a CR, "\r\n" otherwise).
//
// DotWriter's rule for CR is kept exactly: a CR makes the LF after it part
// of a CRLF only when the CR is not itself the second of a CRLF pair, so a
// LF after an even run of CRs ("\r\r\n") gets a CR of its own
// ("\r\r\r\n"). A lone CR not followed by LF is left as it is.
//
// Messages from go-mail have CRLF line ends and dots only inside lines:
// needsDotStuffing tells them, and they need only the terminator.
func appendDotStuffed(dst, msg []byte) []byte {
	if len(msg) == 0 {
		return append(dst, "\r\n.\r\n"...)
	}
	if msg[0] == '.' {
		dst = append(dst, '.')
	}
	done := 0 // msg[:done] is in dst
	line := 0 // the current line starts at msg[line]
	for {
		i := bytes.IndexByte(msg[line:], '\n')
		if i < 0 {
			break
		}
		i += line
		if crRun(msg[line:i])%2 == 0 {
			dst = append(dst, msg[done:i]...)
			dst = append(dst, '\r')
			done = i
		}
		line = i + 1
		if line < len(msg) && msg[line] == '.' {
			dst = append(dst, msg[done:line]...)
			dst = append(dst, '.')
			done = line
		}
	}
	dst = append(dst, msg[done:]...)
	switch {
	case line == len(msg):
		return append(dst, ".\r\n"...)
	case crRun(msg[line:])%2 == 1:
		return append(dst, "\n.\r\n"...)
	default:
		return append(dst, "\r\n.\r\n"...)
	}
}

// needsDotStuffing reports whether appendDotStuffed would change msg
// other than by appending ".\r\n": whether msg needs its line ends fixed
// (see needsLineEnds) or has a line that starts with ".".
func needsDotStuffing(msg []byte) bool {
	badEnds, dotLine := scanLines(msg)
	return badEnds || dotLine
}

// needsLineEnds reports whether appendDotStuffed would change the line
// ends of msg: whether msg is empty, does not end with a line break, or
// has a LF that DotWriter would give a CR of its own. A message without
// needs no more than a BDAT's chunk to go as it is.
func needsLineEnds(msg []byte) bool {
	badEnds, _ := scanLines(msg)
	return badEnds
}

// scanLines is needsLineEnds and whether a line of msg starts with ".",
// in one pass; the second is not looked for once the first is found.
func scanLines(msg []byte) (badEnds, dotLine bool) {
	if len(msg) == 0 || msg[len(msg)-1] != '\n' {
		return true, false
	}
	dotLine = msg[0] == '.'
	line := 0
	for line < len(msg) {
		i := line + bytes.IndexByte(msg[line:], '\n') // found: msg ends with LF
		if crRun(msg[line:i])%2 == 0 {
			return true, dotLine
		}
		line = i + 1
		if line < len(msg) && msg[line] == '.' {
			dotLine = true
		}
	}
	return false, dotLine
}

// commandRoom is the room kept before a message in its buffer for the
// command lines that go in the same write as a BDAT's chunk.
const commandRoom = 512

// message is one message as go-mail wrote it, and as it goes after DATA.
type message struct {
	data []byte
	all  []byte // commandRoom bytes of room for command lines, then data
	buf  *buffers
	wire []byte // set by dotStuffed
}

// newMessage returns the message in buf.msg after commandRoom bytes; buf
// holds its dot-stuffed copy when it needs one.
func newMessage(buf *buffers) *message {
	all := buf.msg.Bytes()
	return &message{data: all[commandRoom:], all: all, buf: buf}
}

// withCommands returns the command lines of cmds (without the chunk the
// last may carry) followed by data, copied into the room before it, or
// false when they do not fit.
func (m *message) withCommands(cmds []command) ([]byte, bool) {
	var lines [commandRoom]byte
	b := lines[:0]
	for _, cmd := range cmds {
		b = cmd.appendLine(b)
	}
	if len(b) > commandRoom {
		return nil, false
	}
	start := commandRoom - len(b)
	copy(m.all[start:], b)
	return m.all[start:], true
}

// dotStuffed returns the message dot-stuffed and terminated, as
// appendDotStuffed makes it. go-mail's messages need no stuffing but the
// terminator, in all but rare cases, so they are not copied: the
// terminator goes in the room left after data, when there is some.
func (m *message) dotStuffed() []byte {
	if m.wire != nil {
		return m.wire
	}
	if needsDotStuffing(m.data) {
		m.buf.wire = slices.Grow(m.buf.wire[:0], len(m.data)+len(m.data)/64+len("\r\n.\r\n"))
		m.buf.wire = appendDotStuffed(m.buf.wire, m.data)
		m.wire = m.buf.wire
	} else {
		m.wire = append(m.data, ".\r\n"...)
	}
	return m.wire
}

// crRun counts the CRs that end b.
func crRun(b []byte) int {
	n := 0
	for i := len(b) - 1; i >= 0 && b[i] == '\r'; i-- {
		n++
	}
	return n
}

// transact sends one message on c: MAIL FROM, a RCPT TO for each
// recipient, and the message, with BDAT when the server offers CHUNKING
// (RFC 3030) and DATA otherwise. It returns nil only once the server has
// accepted the message.
//
// The commands are those go-mail sends (MAIL FROM with BODY=8BITMIME and
// SMTPUTF8 when the server offers them), but a server that offers
// PIPELINING (RFC 2920) gets MAIL FROM, the RCPT TOs and DATA in one
// write, and the message with its terminator in another: a message costs
// two round trips. With CHUNKING the message goes as it is, in one
// "BDAT <size> LAST" chunk, neither dot-stuffed nor terminated, straight
// after the command; a message to one recipient goes in the same write as
// MAIL FROM and RCPT TO, in one round trip. A message whose lines do not
// all end with CRLF, which go-mail does not write, goes with DATA, whose
// dot-stuffing ends them with CRLF.
//
// The semantics are go-mail's. A refused MAIL FROM is the error. A
// refused recipient fails the whole message, and the error lists every
// refused one: without pipelining neither DATA nor BDAT is sent; with
// it, a server that answers DATA with 354 all the same gets neither data
// nor terminator, and c.broken has the connection closed under it, which
// aborts the transaction. A BDAT, which cannot be taken back, waits for
// the replies to the RCPT TOs when there are several; with one, the
// server that refused it has no recipient and must refuse the BDAT and
// drop its chunk (RFC 3030, 2: a failed BDAT's data is read and
// discarded). A reply to DATA other than 354, or to BDAT other than 250,
// fails the message. No RSET follows a delivered message: the end of the
// data, or the last chunk, ends the transaction (RFC 5321, 4.1.1.4).
func (c *conn) transact(from string, rcpts []string, msg *message) error {
	if err := validateLine(from); err != nil {
		return err
	}
	cmds := make([]command, 0, len(rcpts)+2)
	cmds = append(cmds, command{step: stepMail, expect: 250, verb: "MAIL FROM:", arg: from, params: c.mailParams})
	for _, rcpt := range rcpts {
		if err := validateLine(rcpt); err != nil {
			return err
		}
		cmds = append(cmds, command{step: stepRcpt, expect: 25, verb: "RCPT TO:", arg: rcpt})
	}
	last := command{step: stepData, expect: 354, verb: "DATA"}
	if c.chunking && !needsLineEnds(msg.data) {
		last = command{step: stepBdat, expect: 250, verb: "BDAT ", arg: strconv.Itoa(len(msg.data)), params: " LAST", chunk: msg.data}
	}
	// Whether the message goes once the RCPT TOs are answered.
	held := c.pipelining && last.chunk != nil && len(rcpts) > 1
	if !held {
		cmds = append(cmds, last)
	}

	text := c.sc.Text
	var mailErr, dataErr error
	refused := &stepError{step: stepRcpt}
	failure := func() error {
		switch {
		case mailErr != nil:
			return mailErr
		case len(refused.errs) > 0:
			return refused
		}
		return dataErr
	}
	if c.pipelining {
		if err := c.writeCommands(cmds, msg); err != nil {
			c.stale = true
			return &stepError{step: stepMail, errs: []error{err}}
		}
	}
	for i, cmd := range cmds {
		if !c.pipelining {
			if cmd.step == last.step && len(refused.errs) > 0 {
				return refused
			}
			if err := c.writeCommands(cmds[i:i+1], msg); err != nil {
				c.stale = i == 0
				return &stepError{step: cmd.step, errs: []error{err}}
			}
		}
		code, _, err := text.ReadResponse(cmd.expect)
		if err == nil {
			continue
		}
		// A server that closed the connection while it waited shows it
		// here, at the first reply: by closing, or by 421.
		if i == 0 {
			c.stale = !isReply(err) || code == 421
		}
		if !isReply(err) {
			if f := failure(); f != nil {
				return f
			}
			return &stepError{step: cmd.step, errs: []error{err}}
		}
		switch cmd.step {
		case stepMail:
			mailErr = &stepError{step: stepMail, errs: []error{err}}
			if !c.pipelining {
				return mailErr
			}
		case stepRcpt:
			refused.errs = append(refused.errs, err)
			refused.rcpts = append(refused.rcpts, cmd.arg)
		case stepData, stepBdat:
			dataErr = &stepError{step: cmd.step, errs: []error{err}}
		}
	}
	if err := failure(); err != nil {
		// A DATA answered with 354 leaves the server reading the message;
		// a BDAT's chunk went with it.
		c.broken = last.step == stepData && dataErr == nil
		return err
	}

	switch {
	case held:
		if err := c.writeCommands([]command{last}, msg); err != nil {
			return &stepError{step: stepBdat, errs: []error{err}}
		}
		if _, _, err := text.ReadResponse(last.expect); err != nil {
			return &stepError{step: stepBdat, errs: []error{err}}
		}
		return nil
	case last.chunk != nil:
		return nil // the chunk went, and its 250 was read, with the commands
	}
	if _, err := text.W.Write(msg.dotStuffed()); err != nil {
		return &stepError{step: stepBody, errs: []error{err}}
	}
	if err := text.W.Flush(); err != nil {
		return &stepError{step: stepBody, errs: []error{err}}
	}
	if _, _, err := text.ReadResponse(250); err != nil {
		return &stepError{step: stepEnd, errs: []error{err}}
	}
	return nil
}

// command is one SMTP command of a transaction, "verb arg params".
type command struct {
	step   string // for errors
	expect int    // the reply code, or its first digits, that means success
	verb   string
	arg    string
	params string
	chunk  []byte // BDAT's data, which follows the command line
}

// appendLine appends the command line, without the chunk.
func (cmd command) appendLine(b []byte) []byte {
	b = append(b, cmd.verb...)
	b = append(b, cmd.arg...)
	b = append(b, cmd.params...)
	return append(b, "\r\n"...)
}

// writeCommands writes cmds, with the chunk the last may carry, and
// flushes them. A chunk goes with the command lines in one write, from
// the room before it, where the lines fit: the buffered writer would
// write its buffer, lines and the chunk's start, and then the rest.
func (c *conn) writeCommands(cmds []command, msg *message) error {
	w := c.sc.Text.W
	if cmds[len(cmds)-1].chunk != nil && w.Buffered() == 0 {
		if wire, ok := msg.withCommands(cmds); ok {
			// With nothing buffered, a long write goes straight through.
			_, _ = w.Write(wire)
			return w.Flush()
		}
	}
	for _, cmd := range cmds {
		// A bufio.Writer keeps its first error and returns it from Flush.
		_, _ = w.Write(cmd.appendLine(w.AvailableBuffer()))
		_, _ = w.Write(cmd.chunk)
	}
	return w.Flush()
}

// validateLine refuses an address that would break the command line it
// goes in, as go-mail does.
func validateLine(s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return errors.New("smtp: A line must not contain CR or LF")
	}
	return nil
}

// stepError is a step of the transaction that failed: the server's
// replies (*textproto.Error) or the network error, and for RCPT TO the
// refused addresses. It unwraps to the last error, whose reply code
// classify reads, as go-mail's SendError gave the last refused
// recipient's.
type stepError struct {
	step  string
	errs  []error
	rcpts []string
}

// Error reads like go-mail's SendError: "sending SMTP RCPT TO command:
// 550 No such user, affected recipient(s): <ann@customer.test>".
func (e *stepError) Error() string {
	var b strings.Builder
	b.WriteString(e.step)
	for i, err := range e.errs {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(err.Error())
	}
	if len(e.rcpts) > 0 {
		b.WriteString(", affected recipient(s): ")
		b.WriteString(strings.Join(e.rcpts, ", "))
	}
	return b.String()
}

func (e *stepError) Unwrap() error {
	if len(e.errs) == 0 {
		return nil
	}
	return e.errs[len(e.errs)-1]
}

// isReply reports whether err is a reply of the server's, after which the
// connection is still in step, rather than a network error.
func isReply(err error) bool {
	var protoErr *textproto.Error
	return errors.As(err, &protoErr)
}
