package webhook

import "time"

// Schedule is the delay before each attempt to deliver an event, counted
// from the previous attempt (the first from when the event was created):
// at once, then 5s, 5m, 30m, 2h, 5h, 10h and 10h later, eight attempts
// over about 27.5 hours. Endpoints that are down for a deploy or an
// afternoon get their events; one that is down for more than a day does
// not.
var Schedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// NextAttempt returns when the next attempt is due after attempt attempts
// have been made, the last of them at last (for attempt 0, last is when
// the event was created). The delay is the larger of Schedule's and
// retryAfter, the wait the endpoint asked for, capped at MaxRetryAfter.
// It reports false when Schedule is exhausted, whatever retryAfter says.
// A negative attempt counts as 0.
func NextAttempt(attempt int, last time.Time, retryAfter time.Duration) (time.Time, bool) {
	attempt = max(attempt, 0)
	if attempt >= len(Schedule) {
		return time.Time{}, false
	}
	return last.Add(max(Schedule[attempt], min(retryAfter, MaxRetryAfter))), true
}
