// Package providers holds what every delivery provider shares: the message
// shapes the worker hands them and the error classes that decide whether a
// failed delivery is retried.
package providers

import (
	"errors"
	"fmt"
	"time"
)

// ErrPermanent is matched by errors.Is for every error wrapped by Permanent.
var ErrPermanent = errors.New("permanent delivery failure")

// PermanentError is a failure that no retry can fix: a rejected address, a
// 5xx SMTP reply, a message that is too large. The delivery fails at once.
type PermanentError struct {
	// Code is the provider's own code for the failure (an SMTP reply code,
	// an SES error name), or empty.
	Code string
	Err  error
}

func (e *PermanentError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("permanent (%s): %v", e.Code, e.Err)
	}
	return "permanent: " + e.Err.Error()
}

func (e *PermanentError) Unwrap() error { return e.Err }

// Is reports target == ErrPermanent so callers can use errors.Is.
func (e *PermanentError) Is(target error) bool { return target == ErrPermanent }

// Permanent marks err as permanent with the provider's code. A nil err
// stays nil.
func Permanent(code string, err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Code: code, Err: err}
}

// IsPermanent reports whether err, or an error it wraps, is permanent.
// Unknown errors are transient.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }

// TransientError is a failure a retry may fix that carries the provider's
// code for it, such as an SMTP 451 reply, so each attempt keeps it.
type TransientError struct {
	// Code is the provider's own code, as in PermanentError.
	Code string
	Err  error
}

func (e *TransientError) Error() string { return e.Err.Error() }

func (e *TransientError) Unwrap() error { return e.Err }

// Transient marks err as transient with the provider's code. A nil err
// stays nil.
func Transient(code string, err error) error {
	if err == nil {
		return nil
	}
	return &TransientError{Code: code, Err: err}
}

// Code returns the provider's code of err: that of the PermanentError in
// its chain, else of the TransientError, else "".
func Code(err error) string {
	var pe *PermanentError
	if errors.As(err, &pe) {
		return pe.Code
	}
	var te *TransientError
	if errors.As(err, &te) {
		return te.Code
	}
	return ""
}

// RetryAfterError is a throttling answer: the provider asked us to wait.
// Waiting for it does not use up a retry.
type RetryAfterError struct {
	Delay time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("throttled, retry after %s: %v", e.Delay, e.Err)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter marks err as throttling that should be retried after d. A nil
// err stays nil.
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return &RetryAfterError{Delay: d, Err: err}
}

// RetryDelay returns the delay asked for by a RetryAfterError in err's chain.
func RetryDelay(err error) (time.Duration, bool) {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return ra.Delay, true
	}
	return 0, false
}
