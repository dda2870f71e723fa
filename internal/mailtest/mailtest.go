// Package mailtest reads back the emails invoiced wrote, from the outbox
// folder or an SMTP server, for tests.
package mailtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Email is one parsed message.
type Email struct {
	Header mail.Header
	// Text and HTML are the bodies of the text/plain and text/html parts.
	Text, HTML string
	// Attachments holds the PDF and XML parts by file name.
	Attachments map[string][]byte
}

// Parse reads an RFC 5322 message and its MIME parts.
func Parse(raw []byte) (Email, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Email{}, err
	}
	e := Email{Header: m.Header, Attachments: map[string][]byte{}}
	err = walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body, &e)
	return e, err
}

// Subject is the decoded Subject header.
func (e Email) Subject() string {
	s, err := new(mime.WordDecoder).DecodeHeader(e.Header.Get("Subject"))
	if err != nil {
		return e.Header.Get("Subject")
	}
	return s
}

func walk(contentType, encoding string, body io.Reader, e *Email) error {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walk(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part, e); err != nil {
				return err
			}
		}
	}
	// multipart.Part undoes quoted-printable itself; base64 is ours to undo.
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if strings.EqualFold(encoding, "base64") {
		if b, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(b))); err != nil {
			return err
		}
	}
	switch {
	case mediaType == "text/plain":
		e.Text = string(b)
	case mediaType == "text/html":
		e.HTML = string(b)
	case mediaType == "application/pdf", mediaType == "application/xml", mediaType == "text/xml":
		e.Attachments[params["name"]] = b
	}
	return nil
}

// Outbox returns the emails in an outbox folder's email/ directory,
// oldest file name first.
func Outbox(dir string) ([]Email, error) {
	files, err := filepath.Glob(filepath.Join(dir, "email", "*.eml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := make([]Email, 0, len(files))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		e, err := Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, e)
	}
	return out, nil
}
