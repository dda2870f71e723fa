package store

import (
	"strings"
	"testing"
)

// TestTenantKey checks that a key names its tenant's hash slot and its
// parts joined by colons, and is built in one allocation at most,
// whatever its parts: a send names a dozen keys.
func TestTenantKey(t *testing.T) {
	for _, tc := range []struct {
		parts []string
		want  string
	}{
		{nil, "ivd:{ten_1}:"},
		{[]string{"settings"}, "ivd:{ten_1}:settings"},
		{[]string{"send", "snd_1"}, "ivd:{ten_1}:send:snd_1"},
		{[]string{"invoice", "inv_1", "deliveries"}, "ivd:{ten_1}:invoice:inv_1:deliveries"},
		{[]string{"", "x", ""}, "ivd:{ten_1}::x:"},
	} {
		if got := tenantKey("ten_1", tc.parts...); got != tc.want {
			t.Errorf("tenantKey(ten_1, %q) = %q, want %q", tc.parts, got, tc.want)
		}
		id := strings.Clone("ten_1")
		if n := testing.AllocsPerRun(10, func() { _ = tenantKey(id, tc.parts...) }); n > 1 {
			t.Errorf("tenantKey(ten_1, %q) allocates %v times, want once at most", tc.parts, n)
		}
	}
}

// TestNewID checks that an id is its prefix, an underscore and 16
// characters of lower-case base32 (80 random bits), new each time, and is
// made in one allocation: a send makes one, a request as often.
func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID("snd")
		rest, ok := strings.CutPrefix(id, "snd_")
		if !ok || len(rest) != 16 || strings.Trim(rest, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Fatalf("NewID(snd) = %q, want snd_ and 16 of a–z, 2–7", id)
		}
		if seen[id] {
			t.Fatalf("NewID(snd) gave %q twice", id)
		}
		seen[id] = true
	}
	if n := testing.AllocsPerRun(100, func() { _ = NewID("snd") }); n > 1 {
		t.Errorf("NewID allocates %v times, want once at most", n)
	}
}
