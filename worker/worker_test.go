package worker

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/invoiced/invoiced/providers"
)

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	task := asynq.NewTask("x", nil)
	transient := errors.New("connection reset")
	throttled := fmt.Errorf("send: %w", providers.RetryAfter(42*time.Second, errors.New("slow down")))
	tests := []struct {
		name      string
		err       error
		isFailure bool
		delay     time.Duration // 0: asynq's exponential backoff
	}{
		{"transient", transient, true, 0},
		{"permanent", providers.Permanent("smtp_550", transient), true, 0},
		{"throttled", throttled, false, 42 * time.Second},
		{"recovered from a dead worker", asynq.ErrLeaseExpired, true, leaseRecoveryDelay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsFailure(tt.err); got != tt.isFailure {
				t.Errorf("IsFailure = %v, want %v", got, tt.isFailure)
			}
			got := RetryDelay(3, tt.err, task)
			if tt.delay != 0 && got != tt.delay {
				t.Errorf("RetryDelay = %s, want %s", got, tt.delay)
			}
			if tt.delay == 0 && got < 15*time.Second {
				t.Errorf("RetryDelay = %s, want asynq's backoff (≥ 15s at the 3rd retry)", got)
			}
		})
	}
}

func TestNewRejectsMissingDependencies(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{}); err == nil {
		t.Fatal("New(Config{}) succeeded")
	}
}
