package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	return &prev, nil
}

// FinishIdempotent stores the response to the request that claimed key,
// for IdempotencyTTL.
func (s *Store) FinishIdempotent(ctx context.Context, tenantID, key, hash string, status int, body []byte) error {
	b, _ := json.Marshal(IdempotentResponse{RequestHash: hash, Done: true, StatusCode: status, Body: body})
	return s.rdb.Set(ctx, idempotencyKey(tenantID, key), b, IdempotencyTTL).Err()
}

// AbandonIdempotent forgets key, so a request that failed on our side can be
// retried with it.
func (s *Store) AbandonIdempotent(ctx context.Context, tenantID, key string) error {
	return s.rdb.Del(ctx, idempotencyKey(tenantID, key)).Err()
}
