package providers

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

func newEmail() *Email {
	return &Email{
		MessageID: "delivery-42@invoiced.test",
		FromEmail: "billing@acme.test",
		FromName:  `Acme "Billing" Größe`,
		ReplyTo:   "accounts@acme.test",
		To:        []string{"Ann Buyer <ann@customer.test>"},
		Cc:        []string{"ap@customer.test"},
		Bcc:       []string{"archive@acme.test"},
		Subject:   "Invoice INV-0042 — €120.00 due",
		Text:      "Your invoice INV-0042 is attached.\nThank you!",
		HTML:      "<p>Your invoice <b>INV-0042</b> is attached.</p>",
		Attachments: []Attachment{{
			Filename:    "INV-0042.pdf",
			ContentType: "application/pdf",
			Data:        []byte("%PDF-1.7\n\x00\x01\x02binary\xff"),
		}},
		Headers: map[string]string{"X-Invoiced-Delivery": "dlv_42"},
	}
}

// writeMsg builds e's message as of now and reads it back with net/mail.
func writeMsg(t *testing.T, e *Email, now time.Time) (*netmail.Message, []byte) {
	t.Helper()
	m, err := e.msgAt(now)
	if err != nil {
		t.Fatalf("msgAt: %v", err)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	raw := buf.Bytes()
	parsed, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, raw)
	}
	return parsed, raw
}

func TestEmailMsg(t *testing.T) {
	t.Parallel()
	e := newEmail()
	now := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	parsed, raw := writeMsg(t, e, now)
	h := parsed.Header

	from, err := netmail.ParseAddress(h.Get("From"))
	if err != nil {
		t.Fatalf("From %q: %v", h.Get("From"), err)
	}
	if from.Name != e.FromName || from.Address != e.FromEmail {
		t.Errorf("From = %q <%s>, want %q <%s>", from.Name, from.Address, e.FromName, e.FromEmail)
	}
	assertAddrs(t, h, "To", "ann@customer.test")
	assertAddrs(t, h, "Cc", "ap@customer.test")
	assertAddrs(t, h, "Reply-To", "accounts@acme.test")

	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != e.Subject {
		t.Errorf("Subject = %q (%v), want %q", subject, err, e.Subject)
	}
	if got, want := h.Get("Message-Id"), "<delivery-42@invoiced.test>"; got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
	if date, err := h.Date(); err != nil || !date.Equal(now) {
		t.Errorf("Date = %v (%v), want %v", date, err, now)
	}
	if got := h.Get("X-Invoiced-Delivery"); got != "dlv_42" {
		t.Errorf("X-Invoiced-Delivery = %q, want dlv_42", got)
	}
	for _, name := range []string{"Bcc", "User-Agent", "X-Mailer"} {
		if _, ok := h[name]; ok {
			t.Errorf("header %s is present, want none", name)
		}
	}
	if bytes.Contains(raw, []byte("archive@acme.test")) {
		t.Errorf("the Bcc address appears in the written message:\n%s", raw)
	}

	parts := readParts(t, h.Get("Content-Type"), parsed.Body)
	if len(parts) != 2 {
		t.Fatalf("multipart/mixed has %d parts, want 2", len(parts))
	}
	alt := readParts(t, parts[0].header.Get("Content-Type"), bytes.NewReader(parts[0].body))
	if len(alt) != 2 {
		t.Fatalf("multipart/alternative has %d parts, want 2", len(alt))
	}
	assertPart(t, alt[0], "text/plain", e.Text)
	assertPart(t, alt[1], "text/html", e.HTML)

	att := parts[1]
	mediaType, _, _ := mime.ParseMediaType(att.header.Get("Content-Type"))
	if mediaType != "application/pdf" {
		t.Errorf("attachment Content-Type = %q, want application/pdf", mediaType)
	}
	if att.filename != "INV-0042.pdf" {
		t.Errorf("attachment filename = %q, want INV-0042.pdf", att.filename)
	}
	data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(att.body)), ""))
	if err != nil {
		t.Fatalf("decode attachment: %v", err)
	}
	if !bytes.Equal(data, e.Attachments[0].Data) {
		t.Errorf("attachment bytes = %q, want %q", data, e.Attachments[0].Data)
	}
}

func TestEmailMsgBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, html string
		wantType         string
		wantBody         string
	}{
		{name: "text only", text: "plain words", wantType: "text/plain", wantBody: "plain words"},
		{name: "html only", html: "<p>markup</p>", wantType: "text/html", wantBody: "<p>markup</p>"},
		{name: "empty", wantType: "text/plain", wantBody: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEmail()
			e.Text, e.HTML, e.Attachments = tt.text, tt.html, nil
			parsed, _ := writeMsg(t, e, time.Now())
			mediaType, _, _ := mime.ParseMediaType(parsed.Header.Get("Content-Type"))
			if mediaType != tt.wantType {
				t.Fatalf("Content-Type = %q, want %s", parsed.Header.Get("Content-Type"), tt.wantType)
			}
			body, err := io.ReadAll(parsed.Body)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimRight(string(body), "\r\n"); got != tt.wantBody {
				t.Errorf("body = %q, want %q", got, tt.wantBody)
			}
		})
	}
}

func TestEmailMsgErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		edit     func(*Email)
		wantCode string
		wantText string
	}{
		{"bad to", func(e *Email) { e.To = []string{"not an address"} }, "invalid_address", `"not an address"`},
		{"bad cc", func(e *Email) { e.Cc = []string{"cc@"} }, "invalid_address", `"cc@"`},
		{"bad bcc", func(e *Email) { e.Bcc = []string{"@bcc"} }, "invalid_address", `"@bcc"`},
		{"bad from", func(e *Email) { e.FromEmail = "" }, "invalid_address", "From"},
		{"bad reply-to", func(e *Email) { e.ReplyTo = "a@b@c" }, "invalid_address", `"a@b@c"`},
		{"injected to", func(e *Email) { e.To = []string{"ann@customer.test\r\nBcc: x@evil.test"} }, "invalid_address", "To"},
		{"no recipients", func(e *Email) { e.To, e.Cc, e.Bcc = nil, nil, nil }, "no_recipients", "no recipients"},
		{"subject CRLF", func(e *Email) { e.Subject = "Hi\r\nBcc: x@evil.test" }, "invalid_header", "Subject"},
		{"subject LF", func(e *Email) { e.Subject = "Hi\nthere" }, "invalid_header", "Subject"},
		{"from name CR", func(e *Email) { e.FromName = "Acme\r" }, "invalid_header", "display name"},
		{"header value LF", func(e *Email) { e.Headers["X-Tag"] = "a\nBcc: x@evil.test" }, "invalid_header", "X-Tag"},
		{"header name", func(e *Email) { e.Headers["X Tag"] = "a" }, "invalid_header", `"X Tag"`},
		{"owned header", func(e *Email) { e.Headers["bcc"] = "x@evil.test" }, "invalid_header", `"bcc"`},
		{"owned message-id", func(e *Email) { e.Headers["MESSAGE-ID"] = "<x@y>" }, "invalid_header", "MESSAGE-ID"},
		{"no message id", func(e *Email) { e.MessageID = "" }, "invalid_header", "Message-ID"},
		{"bracketed message id", func(e *Email) { e.MessageID = "<a@b>" }, "invalid_header", "Message-ID"},
		{"attachment name", func(e *Email) { e.Attachments[0].Filename = "" }, "invalid_attachment", "filename"},
		{"attachment type", func(e *Email) { e.Attachments[0].ContentType = "application/pdf\r\nX-Evil: 1" }, "invalid_attachment", "content type"},
		{"attachment media type", func(e *Email) { e.Attachments[0].ContentType = "pdf" }, "invalid_attachment", "content type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEmail()
			tt.edit(e)
			m, err := e.Msg()
			if err == nil {
				t.Fatalf("Msg() = %v, want an error", m)
			}
			var perm *PermanentError
			if !errors.As(err, &perm) || perm.Code != tt.wantCode {
				t.Fatalf("Msg() error = %v, want permanent %q", err, tt.wantCode)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Msg() error = %q, want it to mention %s", err, tt.wantText)
			}
		})
	}
}

func assertAddrs(t *testing.T, h netmail.Header, name string, want ...string) {
	t.Helper()
	list, err := h.AddressList(name)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	var got []string
	for _, a := range list {
		got = append(got, a.Address)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

type part struct {
	header   textproto.MIMEHeader
	filename string
	body     []byte
}

// readParts reads a multipart body. multipart.Reader decodes
// quoted-printable parts itself; base64 parts come back as written.
func readParts(t *testing.T, contentType string, body io.Reader) []part {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mediaType, "multipart/") {
		t.Fatalf("Content-Type = %q (%v), want multipart", contentType, err)
	}
	r := multipart.NewReader(body, params["boundary"])
	var parts []part
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatalf("NextPart: %v", err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		parts = append(parts, part{header: p.Header, filename: p.FileName(), body: data})
	}
}

func assertPart(t *testing.T, p part, wantType, wantBody string) {
	t.Helper()
	mediaType, params, _ := mime.ParseMediaType(p.header.Get("Content-Type"))
	if mediaType != wantType || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("part Content-Type = %q, want %s; charset=UTF-8", p.header.Get("Content-Type"), wantType)
	}
	got := strings.ReplaceAll(strings.TrimRight(string(p.body), "\r\n"), "\r\n", "\n")
	if got != wantBody {
		t.Errorf("%s part = %q, want %q", wantType, got, wantBody)
	}
}

// TestEmailSize checks that Size is at least the size of the message
// written, and not much more, for the messages of the golden files and
// an invoice email.
func TestEmailSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Email)
	}{
		{"invoice", func(*Email) {}},
		{"invoice, 4 KB PDF", func(e *Email) { e.Attachments[0].Data = e.Attachments[0].Data[:4<<10] }},
		{"two attachments", func(e *Email) {
			e.Attachments = append(e.Attachments, Attachment{Filename: "INV-0042.xml", ContentType: "application/xml",
				Data: []byte("<?xml version=\"1.0\"?>\n<Invoice>INV-0042</Invoice>\n")})
		}},
		{"text", func(e *Email) { e.HTML, e.Attachments = "", nil }},
		{"html", func(e *Email) { e.Text, e.Attachments = "", nil }},
		{"small", func(e *Email) { *e = *newEmail() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := invoiceEmail()
			tt.edit(e)
			_, raw := writeMsg(t, e, time.Date(2026, 11, 21, 9, 26, 53, 0, time.UTC))
			if got, written := e.Size(), len(raw); got < written || got > written+written/4+2048 {
				t.Errorf("Size() = %d for a message of %d bytes", got, written)
			}
		})
	}
}

// TestEmailMsgAllocs bounds the allocations of building and writing an
// invoice email's message, which a worker does for each email it sends:
// go-mail forms each header and each part's header in buffers the message
// keeps, where it made strings of them, and makes its multiparts' boundaries
// without mime/multipart's Writer; a plain address is taken without
// net/mail's parser (244 allocations in all).
func TestEmailMsgAllocs(t *testing.T) {
	e := invoiceEmail()
	var buf bytes.Buffer
	buf.Grow(e.Size())
	n := testing.AllocsPerRun(20, func() {
		m, err := e.Msg()
		if err != nil {
			t.Fatal(err)
		}
		buf.Reset()
		if _, err := m.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
	})
	if n > 105 {
		t.Errorf("%.0f allocations per message, want at most 105", n)
	}
}

// TestPlainAddress holds the addresses Msg takes without net/mail's parser
// to what net/mail makes of them: for random strings of atext, dots, "@",
// specials, spaces and bytes beyond ASCII, each one isPlainAddress takes
// net/mail returns as it is, with no name; and the common ones are taken.
func TestPlainAddress(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"ana@example.com", "a.b+tag@mail.example.co.uk", "x!#$%&'*+-/=?^_`{|}~@d", "billing@acme"} {
		if !isPlainAddress(addr) {
			t.Errorf("%q is not taken as plain", addr)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	// Half the strings are drawn from atext, dots and "@" alone, which makes
	// plain addresses and ones net/mail refuses for their dots or "@"s.
	plain := []string{"a", "b", "z", "0", ".", "@", "-", "+", "_", "~", "'"}
	alphabet := append([]string{" ", "\t", "(", ")", "<", ">", "\"", "\\", ",", ";", ":", "[", "]", "é", "\xff", "\r\n"}, plain...)
	taken := 0
	for i := range 200000 {
		from := alphabet
		if i%2 == 0 {
			from = plain
		}
		var b strings.Builder
		for range 1 + r.IntN(12) {
			b.WriteString(from[r.IntN(len(from))])
		}
		addr := b.String()
		if !isPlainAddress(addr) {
			continue
		}
		taken++
		a, err := netmail.ParseAddress(addr)
		if err != nil || a.Name != "" || a.Address != addr {
			t.Fatalf("%q is taken as plain, but net/mail reads it as %+v, %v", addr, a, err)
		}
	}
	if taken < 1000 {
		t.Fatalf("only %d random addresses were plain", taken)
	}
}
