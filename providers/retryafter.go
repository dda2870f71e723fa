package providers

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter reads an HTTP Retry-After header, in seconds or as an
// HTTP date relative to now, capped at limit. A missing, malformed, zero or
// past value gives def.
func ParseRetryAfter(header string, now time.Time, def, limit time.Duration) time.Duration {
	header = strings.TrimSpace(header)
	var d time.Duration
	if secs, err := strconv.ParseInt(header, 10, 64); err == nil {
		d = time.Duration(min(secs, int64(limit/time.Second))) * time.Second
	} else if at, err := http.ParseTime(header); err == nil {
		d = at.Sub(now)
	}
	if d <= 0 {
		return def
	}
	return min(d, limit)
}
