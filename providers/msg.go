package providers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	netmail "net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/wneessen/go-mail"
)

// Msg builds the RFC 5322 message for e: From with its display name, To,
// Cc, Reply-To, Subject, a Message-ID of exactly "<" + e.MessageID + ">",
// the current Date, the extra Headers, a text body (multipart/alternative
// with HTML when HTML is set; HTML alone when Text is empty) and the
// attachments.
//
// Bcc recipients are envelope recipients only: go-mail never writes a Bcc
// header, so the message written by WriteTo does not name them.
//
// Every error is permanent, because no retry can fix the email: an address
// that does not parse is "invalid_address" and names the address; a CR or
// LF in the subject, display name or a header, a malformed Message-ID, or a
// header in Headers that Msg sets itself is "invalid_header"; an attachment
// without a filename or with a bad content type is "invalid_attachment"; an
// email with no recipient at all is "no_recipients".
func (e *Email) Msg() (*mail.Msg, error) {
	return e.msgAt(time.Now())
}

func (e *Email) msgAt(now time.Time) (*mail.Msg, error) {
	if err := e.checkHeaders(); err != nil {
		return nil, Permanent("invalid_header", err)
	}
	from, err := parseAddress("From", e.FromEmail)
	if err != nil {
		return nil, err
	}
	// The display name comes from FromName alone; net/mail quotes or
	// encodes it when the message is written.
	from.Name = e.FromName
	to, err := parseAddresses("To", e.To)
	if err != nil {
		return nil, err
	}
	cc, err := parseAddresses("Cc", e.Cc)
	if err != nil {
		return nil, err
	}
	bcc, err := parseAddresses("Bcc", e.Bcc)
	if err != nil {
		return nil, err
	}
	if len(to)+len(cc)+len(bcc) == 0 {
		return nil, Permanent("no_recipients", errors.New("providers: email has no recipients"))
	}

	// go-mail's default User-Agent and X-Mailer name the library and its
	// version; receivers have no use for either.
	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	m.FromMailAddress(from)
	// go-mail writes an empty header for an address list set to nothing, so
	// only lists with addresses are set.
	if len(to) > 0 {
		m.ToMailAddress(to...)
	}
	if len(cc) > 0 {
		m.CcMailAddress(cc...)
	}
	if len(bcc) > 0 {
		m.BccMailAddress(bcc...)
	}
	if e.ReplyTo != "" {
		replyTo, err := parseAddress("Reply-To", e.ReplyTo)
		if err != nil {
			return nil, err
		}
		m.ReplyToMailAddress(replyTo)
	}
	m.Subject(e.Subject)
	m.SetMessageIDWithValue(e.MessageID)
	m.SetDateWithValue(now)
	for _, name := range slices.Sorted(maps.Keys(e.Headers)) {
		m.SetGenHeader(mail.Header(name), e.Headers[name])
	}

	switch {
	case e.HTML == "":
		m.SetBodyWriter(mail.TypeTextPlain, writeString(e.Text))
	case e.Text == "":
		m.SetBodyWriter(mail.TypeTextHTML, writeString(e.HTML))
	default:
		m.SetBodyWriter(mail.TypeTextPlain, writeString(e.Text))
		m.AddAlternativeWriter(mail.TypeTextHTML, writeString(e.HTML))
	}

	for i, a := range e.Attachments {
		if err := a.check(); err != nil {
			return nil, Permanent("invalid_attachment", fmt.Errorf("providers: attachment %d: %w", i, err))
		}
		var opts []mail.FileOption
		if a.ContentType != "" {
			opts = append(opts, mail.WithFileContentType(mail.ContentType(a.ContentType)))
		}
		m.AttachReadSeeker(a.Filename, bytes.NewReader(a.Data), opts...)
	}
	return m, nil
}

// Size is about the size in bytes of the message Msg writes for e, a
// little more rather than less, for a buffer grown to it at once instead
// of doubling while go-mail writes: each attachment's data base64-encoded
// (4 bytes for 3, in lines of 76 and CRLF) with its part's headers, each
// body quoted-printable (a fifth more than mostly ASCII text), and the
// headers and the MIME structure with each value counted twice for its
// encoding. Bodies mostly beyond ASCII, which quoted-printable triples,
// make it short.
func (e *Email) Size() int {
	const structure = 1024 // fixed headers, boundaries, the parts' headers
	n := structure + 2*(len(e.FromEmail)+len(e.FromName)+len(e.ReplyTo)+len(e.Subject)+len(e.MessageID))
	for _, addrs := range [][]string{e.To, e.Cc} {
		for _, a := range addrs {
			n += 2 * (len(a) + 2)
		}
	}
	for k, v := range e.Headers {
		n += 2 * (len(k) + len(v) + 4)
	}
	n += len(e.Text) + len(e.Text)/5 + len(e.HTML) + len(e.HTML)/5
	for _, a := range e.Attachments {
		b64 := (len(a.Data) + 2) / 3 * 4
		n += 256 + 2*len(a.Filename) + len(a.ContentType) + b64 + b64/76*2 + 2
	}
	return n
}

// writeString is a go-mail body writer of s. go-mail's SetBodyString
// copies s into a buffer of its own first; s is written as it is instead,
// which an io.Writer, never modifying what it is given, allows.
func writeString(s string) func(io.Writer) (int64, error) {
	return func(w io.Writer) (int64, error) {
		n, err := w.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
		return int64(n), err
	}
}

// checkHeaders rejects what would let a value start a header of its own, and
// extra headers that would duplicate (or, for Bcc, reveal) one Msg writes.
func (e *Email) checkHeaders() error {
	if err := checkMessageID(e.MessageID); err != nil {
		return err
	}
	if err := checkHeaderValue("Subject", e.Subject); err != nil {
		return err
	}
	if err := checkHeaderValue("From display name", e.FromName); err != nil {
		return err
	}
	for name, value := range e.Headers {
		if err := checkHeaderName(name); err != nil {
			return err
		}
		if err := checkHeaderValue(name, value); err != nil {
			return err
		}
	}
	return nil
}

func checkMessageID(id string) error {
	if id == "" {
		return errors.New("providers: email has no Message-ID")
	}
	if strings.ContainsFunc(id, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || r == '<' || r == '>'
	}) {
		return fmt.Errorf("providers: Message-ID %q must be printable ASCII without spaces or angle brackets", id)
	}
	return nil
}

func checkHeaderValue(name, value string) error {
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("providers: %s contains a line break (CR or LF)", name)
	}
	return nil
}

func checkHeaderName(name string) error {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || r == ':'
	}) {
		return fmt.Errorf("providers: invalid header name %q", name)
	}
	switch textproto.CanonicalMIMEHeaderKey(name) {
	case "From", "Sender", "To", "Cc", "Bcc", "Reply-To", "Subject", "Message-Id", "Date",
		"Mime-Version", "Content-Type", "Content-Transfer-Encoding":
		return fmt.Errorf("providers: header %q is set from the email's fields and cannot be overridden", name)
	}
	return nil
}

func (a Attachment) check() error {
	if a.Filename == "" {
		return errors.New("no filename")
	}
	if a.ContentType == "" {
		return nil
	}
	// go-mail copies the content type into the part header as it is.
	if err := checkHeaderValue("content type", a.ContentType); err != nil {
		return err
	}
	mediaType, _, err := mime.ParseMediaType(a.ContentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", a.ContentType, err)
	}
	if !strings.Contains(mediaType, "/") {
		return fmt.Errorf("content type %q is not type/subtype", a.ContentType)
	}
	return nil
}

// parseAddress parses one address, bare ("ann@example.com") or with a name
// ("Ann <ann@example.com>").
func parseAddress(field, addr string) (*netmail.Address, error) {
	if isPlainAddress(addr) {
		// What net/mail would return, without its parser's allocations.
		return &netmail.Address{Address: addr}, nil
	}
	a, err := netmail.ParseAddress(addr)
	if err != nil {
		return nil, Permanent("invalid_address", fmt.Errorf("providers: invalid %s address %q: %w", field, addr, err))
	}
	return a, nil
}

// isPlainAddress reports whether addr is a bare addr-spec of two ASCII
// dot-atoms, "local@domain", as nearly every address is: one
// net/mail.ParseAddress returns as it is, with no name. Anything else
// (a name, spaces, a comment, quotes, a domain literal, bytes beyond
// ASCII) is left to net/mail.
func isPlainAddress(addr string) bool {
	at := strings.IndexByte(addr, '@')
	return at >= 0 && isDotAtom(addr[:at]) && isDotAtom(addr[at+1:])
}

// isDotAtom reports whether s is an RFC 5322 dot-atom of ASCII: atext
// (the printable characters but the specials) in runs joined by single
// dots, as net/mail reads one.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < '!' || c > '~' || strings.IndexByte(`()<>[]:;@\,"`, c) >= 0 {
			return false
		}
	}
	return true
}

func parseAddresses(field string, addrs []string) ([]*netmail.Address, error) {
	parsed := make([]*netmail.Address, 0, len(addrs))
	for _, addr := range addrs {
		a, err := parseAddress(field, addr)
		if err != nil {
			return nil, err
		}
		parsed = append(parsed, a)
	}
	return parsed, nil
}
