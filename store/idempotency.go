package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// IdempotencyTTL is how long an Idempotency-Key is remembered.
const IdempotencyTTL = 24 * time.Hour

// idempotencyClaimTTL bounds how long a claim without a response blocks
// the key, so a request whose process died mid-way can be retried.
const idempotencyClaimTTL = time.Minute

// Idempotency errors.
var (
	// ErrIdempotencyMismatch: the key was used before with another request.
	ErrIdempotencyMismatch = errors.New("idempotency key was used with a different request")
	// ErrIdempotencyInProgress: the first request with the key is still running.
	ErrIdempotencyInProgress = errors.New("a request with this idempotency key is in progress")
)

// IdempotentResponse is the stored first response to a request.
type IdempotentResponse struct {
	// RequestHash identifies the request: method, path and body.
	RequestHash string `json:"requestHash"`
	Done        bool   `json:"done"`
	StatusCode  int    `json:"statusCode,omitempty"`
	Body        []byte `json:"body,omitempty"`
}

func idempotencyKey(tenantID, key string) string { return tenantKey(tenantID, "idem", key) }

// BeginIdempotent claims key for the request identified by hash. It returns
// nil, nil when the caller is first and should handle the request, then call
// FinishIdempotent or AbandonIdempotent. It returns the stored response when
// the same request was answered before, ErrIdempotencyInProgress while the
// first one runs, and ErrIdempotencyMismatch for another request.
func (s *Store) BeginIdempotent(ctx context.Context, tenantID, key, hash string) (*IdempotentResponse, error) {
	k := idempotencyKey(tenantID, key)
	pending, _ := json.Marshal(IdempotentResponse{RequestHash: hash})
	ok, err := s.rdb.SetNX(ctx, k, pending, idempotencyClaimTTL).Result()
	if err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	if ok {
		return nil, nil
	}
	raw, err := s.rdb.Get(ctx, k).Bytes()
	if errors.Is(err, redis.Nil) { // expired or abandoned in between
		return s.BeginIdempotent(ctx, tenantID, key, hash)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", k, err)
	}
	prev, err := decodeIdempotent(raw)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", k, err)
	}
	switch {
	case prev.RequestHash != hash:
		return nil, ErrIdempotencyMismatch
	case !prev.Done:
		return nil, ErrIdempotencyInProgress
	}
	return prev, nil
}

// FinishIdempotent stores the response to the request that claimed key,
// for IdempotencyTTL, compactly (see encodeIdempotent).
func (s *Store) FinishIdempotent(ctx context.Context, tenantID, key, hash string, status int, body []byte) error {
	return s.rdb.Set(ctx, idempotencyKey(tenantID, key), encodeIdempotent(hash, status, body), IdempotencyTTL).Err()
}

// A finished idempotency record is kept compact, since every POST with a
// key leaves one for a day: a version byte, the status (2 bytes), the
// request hash (32 raw bytes for a hex SHA-256, else a length byte and
// the string) and the response body deflated as a record is. Claims, and records written
// before, are JSON, which starts with "{".
const (
	idemCompact    = 1 // hash as a length byte and the string
	idemCompactSum = 2 // hash as 32 raw bytes
)

func encodeIdempotent(hash string, status int, body []byte) []byte {
	var b bytes.Buffer
	if sum, err := hex.DecodeString(hash); err == nil && len(sum) == 32 && hex.EncodeToString(sum) == hash {
		b.WriteByte(idemCompactSum)
		b.Write(binary.BigEndian.AppendUint16(nil, uint16(status)))
		b.Write(sum)
	} else {
		b.WriteByte(idemCompact)
		b.Write(binary.BigEndian.AppendUint16(nil, uint16(status)))
		b.WriteByte(byte(min(len(hash), 255)))
		b.WriteString(hash[:min(len(hash), 255)])
	}
	b.Write(compressRecord(body))
	return b.Bytes()
}

func decodeIdempotent(raw []byte) (*IdempotentResponse, error) {
	if len(raw) > 0 && raw[0] == '{' {
		var r IdempotentResponse
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		return &r, nil
	}
	if len(raw) < 4 {
		return nil, errors.New("short idempotency record")
	}
	r := &IdempotentResponse{Done: true, StatusCode: int(binary.BigEndian.Uint16(raw[1:3]))}
	rest := raw[3:]
	switch raw[0] {
	case idemCompactSum:
		if len(rest) < 32 {
			return nil, errors.New("short idempotency record")
		}
		r.RequestHash, rest = hex.EncodeToString(rest[:32]), rest[32:]
	case idemCompact:
		n := int(rest[0])
		if len(rest) < 1+n {
			return nil, errors.New("short idempotency record")
		}
		r.RequestHash, rest = string(rest[1:1+n]), rest[1+n:]
	default:
		return nil, fmt.Errorf("idempotency record version %d", raw[0])
	}
	body, err := expandRecord(rest)
	if err != nil {
		return nil, err
	}
	r.Body = body
	return r, nil
}

// AbandonIdempotent forgets key, so a request that failed on our side can be
// retried with it.
func (s *Store) AbandonIdempotent(ctx context.Context, tenantID, key string) error {
	return s.rdb.Del(ctx, idempotencyKey(tenantID, key)).Err()
}
