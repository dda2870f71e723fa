package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
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
	// Gzip marks a Body stored gzip-compressed (see FinishIdempotent).
	Gzip bool `json:"gzip,omitempty"`
}

// idempotencyGzipOver is the size above which a stored response is
// compressed: a batch's answer runs to megabytes of repetitive JSON, kept
// for a day.
const idempotencyGzipOver = 16 << 10

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
	var prev IdempotentResponse
	if err := getJSON(ctx, s.rdb, k, &prev); err != nil {
		if errors.Is(err, ErrNotFound) { // expired or abandoned in between
			return s.BeginIdempotent(ctx, tenantID, key, hash)
		}
		return nil, err
	}
	switch {
	case prev.RequestHash != hash:
		return nil, ErrIdempotencyMismatch
	case !prev.Done:
		return nil, ErrIdempotencyInProgress
	}
	if prev.Gzip {
		zr, err := gzip.NewReader(bytes.NewReader(prev.Body))
		if err != nil {
			return nil, fmt.Errorf("stored response of idempotency key: %w", err)
		}
		if prev.Body, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("stored response of idempotency key: %w", err)
		}
		prev.Gzip = false
	}
	return &prev, nil
}

// FinishIdempotent stores the response to the request that claimed key,
// for IdempotencyTTL; a body larger than 16 KiB is stored compressed.
func (s *Store) FinishIdempotent(ctx context.Context, tenantID, key, hash string, status int, body []byte) error {
	rec := IdempotentResponse{RequestHash: hash, Done: true, StatusCode: status, Body: body}
	if len(body) > idempotencyGzipOver {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		_, _ = zw.Write(body)
		if err := zw.Close(); err != nil {
			return err
		}
		rec.Body, rec.Gzip = buf.Bytes(), true
	}
	b, _ := json.Marshal(rec)
	return s.rdb.Set(ctx, idempotencyKey(tenantID, key), b, IdempotencyTTL).Err()
}

// AbandonIdempotent forgets key, so a request that failed on our side can be
// retried with it.
func (s *Store) AbandonIdempotent(ctx context.Context, tenantID, key string) error {
	return s.rdb.Del(ctx, idempotencyKey(tenantID, key)).Err()
}
