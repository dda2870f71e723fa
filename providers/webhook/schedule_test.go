package webhook

import (
	"testing"
	"time"
)

func TestNextAttempt(t *testing.T) {
	t.Parallel()
	last := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		attempt    int
		retryAfter time.Duration
		want       time.Time
		wantOK     bool
	}{
		{name: "first attempt is immediate", attempt: 0, want: last, wantOK: true},
		{name: "negative counts as none", attempt: -3, want: last, wantOK: true},
		{name: "after one", attempt: 1, want: last.Add(5 * time.Second), wantOK: true},
		{name: "after two", attempt: 2, want: last.Add(5 * time.Minute), wantOK: true},
		{name: "after three", attempt: 3, want: last.Add(30 * time.Minute), wantOK: true},
		{name: "after four", attempt: 4, want: last.Add(2 * time.Hour), wantOK: true},
		{name: "after five", attempt: 5, want: last.Add(5 * time.Hour), wantOK: true},
		{name: "after six", attempt: 6, want: last.Add(10 * time.Hour), wantOK: true},
		{name: "after seven, the last", attempt: 7, want: last.Add(10 * time.Hour), wantOK: true},
		{name: "exhausted", attempt: 8, wantOK: false},
		{name: "well past", attempt: 100, wantOK: false},
		{name: "exhausted despite Retry-After", attempt: 8, retryAfter: time.Minute, wantOK: false},
		{name: "Retry-After longer than the schedule", attempt: 1, retryAfter: 2 * time.Minute, want: last.Add(2 * time.Minute), wantOK: true},
		{name: "Retry-After shorter than the schedule", attempt: 4, retryAfter: 2 * time.Minute, want: last.Add(2 * time.Hour), wantOK: true},
		{name: "Retry-After on the first", attempt: 0, retryAfter: 10 * time.Second, want: last.Add(10 * time.Second), wantOK: true},
		{name: "Retry-After capped", attempt: 2, retryAfter: 48 * time.Hour, want: last.Add(MaxRetryAfter), wantOK: true},
		{name: "negative Retry-After ignored", attempt: 2, retryAfter: -time.Hour, want: last.Add(5 * time.Minute), wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := NextAttempt(tt.attempt, last, tt.retryAfter)
			if ok != tt.wantOK || !got.Equal(tt.want) {
				t.Errorf("NextAttempt(%d, last, %s) = %s, %t; want %s, %t", tt.attempt, tt.retryAfter, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestScheduleSpan(t *testing.T) {
	t.Parallel()
	var total time.Duration
	for _, d := range Schedule {
		total += d
	}
	if want := 27*time.Hour + 35*time.Minute + 5*time.Second; len(Schedule) != 8 || total != want {
		t.Errorf("Schedule has %d attempts over %s, want 8 over %s", len(Schedule), total, want)
	}
}
