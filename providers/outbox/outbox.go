// Package outbox is the development and test provider: instead of
// delivering, it writes each message to a folder.
//
// The folder holds email/<name>.eml, a complete RFC 5322 message that any
// mail client opens, and sms/<name>.json. Names come from the message's
// MessageID or ID, so a retried delivery overwrites its own file rather
// than adding a second message. Files are written to a temporary file and
// renamed into place, so several worker processes can share one outbox and
// a reader never sees half a message.
package outbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/invoiced/invoiced/providers"
)

// HeaderEnvelopeTo is added to every .eml the outbox writes. It lists all
// envelope recipients (To, Cc and Bcc), comma-separated, because Bcc
// recipients appear in no other header. It exists only in the outbox copy,
// which nobody receives.
const HeaderEnvelopeTo = "X-Invoiced-Envelope-To"

// maxNameLen keeps file names well under the usual 255-byte limit.
const maxNameLen = 200

// Outbox writes messages to a folder instead of delivering them.
type Outbox struct {
	dir     string
	nowFunc func() time.Time
}

// New returns an Outbox writing to dir, creating dir/email and dir/sms if
// they do not exist.
func New(dir string) (*Outbox, error) {
	if dir == "" {
		return nil, errors.New("outbox: dir is required")
	}
	for _, sub := range []string{"email", "sms"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
	}
	return &Outbox{dir: dir, nowFunc: time.Now}, nil
}

// SendEmail writes e to dir/email/<name>.eml and returns the file name as
// the provider ID. The name is e.MessageID with every byte outside
// [A-Za-z0-9._-] replaced by "_", so sending the same MessageID again
// replaces the file. Errors from building the message are returned as they
// are (they are already permanent); a canceled ctx writes nothing.
func (o *Outbox) SendEmail(ctx context.Context, e *providers.Email) (string, error) {
	m, err := e.Msg()
	if err != nil {
		return "", err
	}
	rcpts, err := m.GetRecipients()
	if err != nil {
		return "", fmt.Errorf("outbox: %w", err)
	}
	m.SetGenHeader(mail.Header(HeaderEnvelopeTo), strings.Join(rcpts, ", "))

	var buf bytes.Buffer
	buf.Grow(e.Size())
	if _, err := m.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("outbox: write message %s: %w", e.MessageID, err)
	}
	name := fileName(e.MessageID, ".eml")
	if err := o.write(ctx, "email", name, buf.Bytes()); err != nil {
		return "", err
	}
	return name, nil
}

// smsFile is the JSON written for one SMS.
type smsFile struct {
	ID        string    `json:"id"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"createdAt"`
}

// SendSMS writes s to dir/sms/<name>.json and returns the file name as the
// provider ID. The name is s.ID sanitized like an email's MessageID; an
// empty ID is a permanent error. A canceled ctx writes nothing.
func (o *Outbox) SendSMS(ctx context.Context, s *providers.SMS) (string, error) {
	if s.ID == "" {
		return "", providers.Permanent("invalid_sms", errors.New("outbox: SMS has no ID"))
	}
	data, err := json.MarshalIndent(smsFile{
		ID:        s.ID,
		From:      s.From,
		To:        s.To,
		Body:      s.Body,
		CreatedAt: o.nowFunc().UTC(),
	}, "", "  ")
	if err != nil {
		return "", fmt.Errorf("outbox: encode SMS %s: %w", s.ID, err)
	}
	name := fileName(s.ID, ".json")
	if err := o.write(ctx, "sms", name, append(data, '\n')); err != nil {
		return "", err
	}
	return name, nil
}

// write puts data in dir/sub/name through a temporary file in the same
// folder: the rename is atomic, so concurrent writers of one name leave
// exactly one complete file.
func (o *Outbox) write(ctx context.Context, sub, name string, data []byte) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	dir := filepath.Join(o.dir, sub)
	// The leading dot and the suffix keep temporary files out of globs
	// like *.eml.
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("outbox: %w", err)
	}
	// CreateTemp makes files only the owner can read; the outbox is read by
	// mail viewers and tests that may run as another user.
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("outbox: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// fileName turns id into a file name of [A-Za-z0-9._-] bytes ending in ext.
// A leading dot becomes "_" so the file is not hidden. An id too long for a
// file name is cut and given a hash of the whole id, keeping names unique.
func fileName(id, ext string) string {
	b := []byte(id)
	for i, c := range b {
		if !safe(c) || (i == 0 && c == '.') {
			b[i] = '_'
		}
	}
	name := string(b)
	if len(name) > maxNameLen {
		sum := sha256.Sum256([]byte(id))
		name = name[:maxNameLen-17] + "-" + hex.EncodeToString(sum[:8])
	}
	return name + ext
}

func safe(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}
