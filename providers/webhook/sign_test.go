package webhook

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test vector published with the Standard Webhooks specification.
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTS     = 1614265330
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignSpecVector(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret string
	}{
		{name: "with prefix", secret: vectorSecret},
		{name: "without prefix", secret: strings.TrimPrefix(vectorSecret, SecretPrefix)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Sign(tt.secret, vectorID, time.Unix(vectorTS, 0), []byte(vectorBody))
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if got != vectorSig {
				t.Errorf("Sign = %q, want %q", got, vectorSig)
			}
		})
	}
}

func signedHeaders(t *testing.T, secret, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	sig, err := Sign(secret, id, ts, body)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	secret := NewSecret()
	other := NewSecret()
	ts := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"invoice.sent","data":{"id":"inv_1001"}}`)

	tests := []struct {
		name      string
		secret    string
		edit      func(h http.Header, body []byte) []byte
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{name: "round trip", secret: secret, now: ts},
		{name: "within default tolerance", secret: secret, now: ts.Add(4 * time.Minute)},
		{name: "clock behind within tolerance", secret: secret, now: ts.Add(-4 * time.Minute)},
		{name: "too old", secret: secret, now: ts.Add(6 * time.Minute), want: ErrTimestampOutOfRange},
		{name: "from the future", secret: secret, now: ts.Add(-6 * time.Minute), want: ErrTimestampOutOfRange},
		{name: "custom tolerance", secret: secret, now: ts.Add(time.Hour), tolerance: 2 * time.Hour},
		{
			name: "tampered body", secret: secret, now: ts, want: ErrInvalidSignature,
			edit: func(_ http.Header, b []byte) []byte { return []byte(strings.Replace(string(b), "1001", "1002", 1)) },
		},
		{
			name: "tampered timestamp", secret: secret, now: ts, want: ErrInvalidSignature,
			edit: func(h http.Header, b []byte) []byte {
				h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix()+1, 10))
				return b
			},
		},
		{
			name: "tampered id", secret: secret, now: ts, want: ErrInvalidSignature,
			edit: func(h http.Header, b []byte) []byte { h.Set(HeaderID, "evt_other"); return b },
		},
		{name: "other secret", secret: other, now: ts, want: ErrInvalidSignature},
		{
			name: "several signatures, one matches", secret: secret, now: ts,
			edit: func(h http.Header, b []byte) []byte {
				h.Set(HeaderSignature, "v1a,abc v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32))+" "+h.Get(HeaderSignature))
				return b
			},
		},
		{
			name: "signature of another version", secret: secret, now: ts, want: ErrInvalidSignature,
			edit: func(h http.Header, b []byte) []byte {
				h.Set(HeaderSignature, strings.Replace(h.Get(HeaderSignature), "v1,", "v2,", 1))
				return b
			},
		},
		{
			name: "missing signature", secret: secret, now: ts, want: ErrInvalidSignature,
			edit: func(h http.Header, b []byte) []byte { h.Del(HeaderSignature); return b },
		},
		{
			name: "missing id", secret: secret, now: ts, want: ErrInvalidSignature,
			edit: func(h http.Header, b []byte) []byte { h.Del(HeaderID); return b },
		},
		{
			name: "malformed timestamp", secret: secret, now: ts, want: ErrInvalidSignature,
			edit: func(h http.Header, b []byte) []byte { h.Set(HeaderTimestamp, "2026-11-21"); return b },
		},
		{name: "invalid secret", secret: "whsec_short", now: ts, want: ErrInvalidSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := signedHeaders(t, secret, "evt_1", ts, body)
			b := append([]byte(nil), body...)
			if tt.edit != nil {
				b = tt.edit(h, b)
			}
			err := Verify(tt.secret, h, b, tt.now, tt.tolerance)
			if tt.want == nil && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignRejects(t *testing.T) {
	t.Parallel()
	b64 := func(n int) string { return SecretPrefix + base64.StdEncoding.EncodeToString(make([]byte, n)) }
	tests := []struct {
		name   string
		secret string
		id     string
		fail   bool
		is     error
	}{
		{name: "23-byte secret", secret: b64(23), id: "evt_1", fail: true, is: ErrInvalidSecret},
		{name: "24-byte secret", secret: b64(24), id: "evt_1"},
		{name: "64-byte secret", secret: b64(64), id: "evt_1"},
		{name: "65-byte secret", secret: b64(65), id: "evt_1", fail: true, is: ErrInvalidSecret},
		{name: "not base64", secret: "whsec_not base64!", id: "evt_1", fail: true, is: ErrInvalidSecret},
		{name: "empty secret", secret: "", id: "evt_1", fail: true, is: ErrInvalidSecret},
		{name: "empty id", secret: b64(32), id: "", fail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Sign(tt.secret, tt.id, time.Unix(vectorTS, 0), []byte("{}"))
			if (err != nil) != tt.fail {
				t.Fatalf("Sign error = %v, want failure %t", err, tt.fail)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("Sign = %v, want %v", err, tt.is)
			}
			if err != nil && tt.secret != "" && strings.Contains(err.Error(), strings.TrimPrefix(tt.secret, SecretPrefix)) {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, b := NewSecret(), NewSecret()
	if a == b {
		t.Fatal("two secrets are equal")
	}
	rest, ok := strings.CutPrefix(a, SecretPrefix)
	if !ok {
		t.Fatalf("secret %q lacks %q", a, SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) != 32 {
		t.Fatalf("secret decodes to %d bytes, %v; want 32", len(key), err)
	}
}
