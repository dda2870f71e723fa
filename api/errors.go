package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
)

// Error codes in the "code" field of an error response.
const (
	CodeValidation          = "validation_error"
	CodeInvalidJSON         = "invalid_json"
	CodeUnauthorized        = "unauthorized"
	CodeForbidden           = "forbidden"
	CodeNotFound            = "not_found"
	CodeConflict            = "conflict"
	CodeIdempotencyMismatch = "idempotency_key_reused"
	CodeIdempotencyBusy     = "idempotency_key_in_use"
	CodeTooLarge            = "request_too_large"
	CodeNotSendable         = "invoice_not_sendable"
	CodeNotIssued           = "invoice_not_issued"
	CodeEmailNotConfigured  = "email_not_configured"
	CodeNotRenderable       = "invoice_not_renderable"
	CodeSMSNotConfigured    = "sms_not_configured"
	CodeSenderNotVerified   = "sender_not_verified"
	CodeSenderNotAllowed    = "sender_not_allowed"
	CodeRateLimited         = "rate_limited"
	CodeInternal            = "internal_error"
	CodeUnavailable         = "unavailable"
)

// Error is an API error: the HTTP status and the body's error object.
type Error struct {
	Status  int               `json:"-"`
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter time.Duration `json:"-"`
	// cause is logged for 5xx errors and never shown to the client.
	cause error
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errValidation(msg string, fields map[string]string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeValidation, Message: msg, Fields: fields}
}

func errField(field, problem string) *Error {
	return errValidation(field+" "+problem, map[string]string{field: problem})
}

func errNotFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: what + " not found"}
}

func errInternal(cause error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error; the request can be retried", cause: cause}
}

// asError maps store and validation errors to API errors; anything unknown
// is a 500 whose cause is logged, not shown.
func asError(err error, what string) *Error {
	var apiErr *Error
	var fe invoice.FieldErrors
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &fe):
		return errValidation("the request has invalid fields", fe)
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(what)
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: err.Error()}
	}
	return errInternal(err)
}

type errorBody struct {
	Success bool   `json:"success"`
	Error   *Error `json:"error"`
}

type dataBody struct {
	Success bool `json:"success"`
	Data    any  `json:"data"`
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"success":false,"error":{"code":"internal_error","message":"response encoding failed"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeData writes the canonical success envelope.
func writeData(w http.ResponseWriter, status int, data any) {
	writeJSON(w, status, dataBody{Success: true, Data: data})
}

// errStorageUnavailable answers a request whose Redis write or read was
// refused for a passing reason (store.Unavailable): nothing was lost, the
// client retries after a moment.
func errStorageUnavailable(cause error) *Error {
	msg := "storage is unavailable; retry shortly"
	if errors.Is(cause, store.ErrWritesRefused) || strings.Contains(cause.Error(), "OOM ") {
		msg = "storage is refusing writes (out of memory); retry shortly"
	}
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: msg, RetryAfter: 5 * time.Second, cause: cause}
}

// answered is err as the client is answered: a 500 caused by Redis being
// unavailable or refusing writes is a 503, whichever handler met it, and
// every 503 says when to retry.
func answered(err *Error) *Error {
	if err.Status == http.StatusInternalServerError && store.Unavailable(err.cause) {
		return errStorageUnavailable(err.cause)
	}
	if err.Status == http.StatusServiceUnavailable && err.RetryAfter == 0 {
		c := *err
		c.RetryAfter = 5 * time.Second
		return &c
	}
	return err
}

// writeError writes err in the canonical error envelope, logging 5xx
// causes.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err *Error) {
	err = answered(err)
	switch {
	case err.Status == http.StatusServiceUnavailable:
		// A passing condition, answered with Retry-After: not a fault.
		a.log.Warn("request refused for now", zap.String("method", r.Method), zap.String("path", logPath(r)), zap.Error(err.cause))
	case err.Status >= 500:
		a.log.Error("request failed", zap.String("method", r.Method), zap.String("path", logPath(r)), zap.Error(err.cause))
	}
	setRetryAfter(w, err)
	writeJSON(w, err.Status, errorBody{Error: err})
}

// setRetryAfter sends err.RetryAfter, when set, as the Retry-After header.
func setRetryAfter(w http.ResponseWriter, err *Error) {
	if err.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(err.RetryAfter.Seconds()+0.5)))
	}
}
