package providers

import (
	"errors"
	"fmt"
	"testing"
)

func TestCode(t *testing.T) {
	t.Parallel()
	base := errors.New("reply")
	tests := []struct {
		name      string
		err       error
		want      string
		permanent bool
	}{
		{name: "nil", err: nil},
		{name: "plain", err: base},
		{name: "permanent", err: Permanent("smtp_550", base), want: "smtp_550", permanent: true},
		{name: "transient", err: Transient("smtp_451", base), want: "smtp_451"},
		{name: "wrapped transient", err: fmt.Errorf("deliver: %w", Transient("smtp_421", base)), want: "smtp_421"},
		{name: "permanent around transient", err: Permanent("smtp_certificate", Transient("smtp_451", base)), want: "smtp_certificate", permanent: true},
		{name: "throttled transient", err: RetryAfter(0, Transient("smtp_421", base)), want: "smtp_421"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Code(tt.err); got != tt.want {
				t.Errorf("Code(%v) = %q, want %q", tt.err, got, tt.want)
			}
			if got := IsPermanent(tt.err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %t, want %t", tt.err, got, tt.permanent)
			}
		})
	}
	if Transient("x", nil) != nil {
		t.Error("Transient(code, nil) is not nil")
	}
	if err := Transient("smtp_451", base); err.Error() != "reply" || !errors.Is(err, base) {
		t.Errorf("Transient = %q, want the wrapped error's text, unwrapping to it", err)
	}
}
