package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/invoiced/invoiced/store"
)

const maxIdempotencyKeyLen = 255

// recorder captures a response so it can be stored for replays.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

// idempotent reads the body (within the size limit) and, for a POST with an
// Idempotency-Key, answers a repeat of the same request with the first
// response and a different request with the same key with 409. Responses
// of 5xx are not kept, so the client can retry with the same key.
func (a *API) idempotent(next handlerFunc) handlerFunc {
	return a.idempotentWithin(a.cfg.MaxBodyBytes, next)
}

// idempotentWithin is idempotent with a body limit of its own.
func (a *API) idempotentWithin(limit int64, next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) *Error {
		body, apiErr := readBody(w, r, limit)
		if apiErr != nil {
			return apiErr
		}
		r.Body = &boundedBody{Reader: bytes.NewReader(body), body: body}
		key := r.Header.Get("Idempotency-Key")
		if key == "" || r.Method != http.MethodPost {
			return next(w, r)
		}
		if len(key) > maxIdempotencyKeyLen {
			return errField("Idempotency-Key", "must be at most 255 characters")
		}
		tenant := tenantFrom(r.Context())
		sum := sha256.New()
		sum.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
		sum.Write(body)
		hash := hex.EncodeToString(sum.Sum(nil))

		prev, err := a.st.BeginIdempotent(r.Context(), tenant.ID, key, hash)
		switch {
		case errors.Is(err, store.ErrIdempotencyMismatch):
			return &Error{Status: http.StatusConflict, Code: CodeIdempotencyMismatch,
				Message: "this Idempotency-Key was already used with a different request"}
		case errors.Is(err, store.ErrIdempotencyInProgress):
			return &Error{Status: http.StatusConflict, Code: CodeIdempotencyBusy,
				Message: "a request with this Idempotency-Key is still being processed", RetryAfter: 1e9}
		case err != nil:
			return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "idempotency store unavailable; retry shortly", cause: err}
		case prev != nil:
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prev.StatusCode)
			_, _ = w.Write(prev.Body)
			return nil
		}

		rec := &recorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				_ = a.st.AbandonIdempotent(context.WithoutCancel(r.Context()), tenant.ID, key)
				panic(v)
			}
		}()
		if apiErr := next(rec, r); apiErr != nil {
			a.writeError(rec, r, apiErr)
		}
		// Record the outcome even if the client hung up meanwhile.
		ctx := context.WithoutCancel(r.Context())
		if rec.status >= 500 || rec.status == 0 {
			err = a.st.AbandonIdempotent(ctx, tenant.ID, key)
		} else {
			err = a.st.FinishIdempotent(ctx, tenant.ID, key, hash, rec.status, rec.buf.Bytes())
		}
		if err != nil {
			a.log.Error("idempotency record not saved", zap.String("tenant_id", tenant.ID), zap.Error(err))
		}
		return nil
	}
}
