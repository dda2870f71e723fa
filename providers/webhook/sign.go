package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers every delivery carries. http.Header
// canonicalizes them (Webhook-Id, …); receivers match them without regard
// to case.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every secret NewSecret makes.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far a timestamp may be from now when Verify is
// given no tolerance: the spec's recommended five minutes.
const DefaultTolerance = 5 * time.Minute

const (
	minSecretBytes = 24
	maxSecretBytes = 64
)

var (
	// ErrInvalidSecret is returned for a secret that is not base64 of 24
	// to 64 bytes, with or without SecretPrefix.
	ErrInvalidSecret = errors.New("invalid webhook secret")
	// ErrInvalidSignature is returned by Verify when a header is missing
	// or malformed, or no v1 signature matches.
	ErrInvalidSignature = errors.New("invalid webhook signature")
	// ErrTimestampOutOfRange is returned by Verify when webhook-timestamp
	// is further than the tolerance from now, in either direction: an old
	// message being replayed, or a clock far off.
	ErrTimestampOutOfRange = errors.New("webhook timestamp out of range")
)

// NewSecret returns a new signing secret: SecretPrefix followed by the
// standard base64 of 32 random bytes.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// Sign returns the webhook-signature header value for a message:
// "v1," followed by the base64 HMAC-SHA256, keyed with the secret's bytes,
// of id + "." + unix seconds of ts + "." + body. The secret may omit
// SecretPrefix. An empty id is an error.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", errors.New("webhook: empty message id")
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, strconv.FormatInt(ts.Unix(), 10), body)), nil
}

// Verify checks a received message the way a receiver should: the three
// headers are present, webhook-timestamp is within tolerance of now
// (DefaultTolerance when tolerance is zero or negative), and one of the
// space-separated signatures in webhook-signature is a v1 signature of
// the exact body bytes. Signatures of other versions are skipped, so
// secrets can be rotated by sending several.
func Verify(secret string, headers http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := decodeSecret(secret)
	if err != nil {
		return err
	}
	id, ts, sigs := headers.Get(HeaderID), headers.Get(HeaderTimestamp), headers.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("%w: missing %s, %s or %s header", ErrInvalidSignature, HeaderID, HeaderTimestamp, HeaderSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: malformed %s %q", ErrInvalidSignature, HeaderTimestamp, ts)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if skew := now.Sub(time.Unix(sec, 0)); skew > tolerance || skew < -tolerance {
		return fmt.Errorf("%w: %s is %s from now", ErrTimestampOutOfRange, HeaderTimestamp, skew.Round(time.Second))
	}
	want := mac(key, id, ts, body)
	for _, s := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: no matching v1 signature", ErrInvalidSignature)
}

func mac(key []byte, id, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// decodeSecret returns a secret's key bytes. Its errors never repeat the
// secret.
func decodeSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return nil, fmt.Errorf("%w: not base64", ErrInvalidSecret)
	}
	if len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, fmt.Errorf("%w: %d bytes, want %d to %d", ErrInvalidSecret, len(key), minSecretBytes, maxSecretBytes)
	}
	return key, nil
}
