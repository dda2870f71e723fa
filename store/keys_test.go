package store

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strconv"
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

// TestDeliveryID holds a send's delivery ids, which tasks and records
// name, to the ones the store has always derived: "dlv_" and the
// lower-cased base32 of the first 10 bytes of SHA-256 of the tenant, the
// send, the index and the channel joined by NULs; each is built in one
// allocation (it took six), for a send names its deliveries twice.
func TestDeliveryID(t *testing.T) {
	for _, tc := range []struct {
		tenant, send string
		i            int
		ch           Channel
	}{
		{"ten_a", "snd_1", 0, ChannelEmail},
		{"ten_c2x4hq3kzbv7ymtd", "snd_aglvlbwyffw7wtg6", 1, ChannelSMS},
		{"", "", 12, ""},
		{strings.Repeat("t", 200), "snd_x", 3, ChannelEmail},
	} {
		sum := sha256.Sum256([]byte(tc.tenant + "\x00" + tc.send + "\x00" + strconv.Itoa(tc.i) + "\x00" + string(tc.ch)))
		want := "dlv_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:10]))
		if got := deliveryID(tc.tenant, tc.send, tc.i, tc.ch); got != want {
			t.Errorf("deliveryID(%q, %q, %d, %q) = %q, want %q", tc.tenant, tc.send, tc.i, tc.ch, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = deliveryID("ten_c2x4hq3kzbv7ymtd", "snd_aglvlbwyffw7wtg6", 0, ChannelEmail) }); n > 1 {
		t.Errorf("%.0f allocations per id, want 1", n)
	}
}

// TestCustomerRefs: a customer's email address (any case) or external id
// is named in an index key by the first 16 bytes of its SHA-256 in hex,
// the string the one allocation.
func TestCustomerRefs(t *testing.T) {
	digest := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:16])
	}
	long := strings.Repeat("x", 80) + "@Example.COM"
	for _, tc := range []struct {
		got, want string
	}{
		{customerEmailRef("Ana.Pop@Example.com"), "email:" + digest("ana.pop@example.com")},
		{customerEmailRef(long), "email:" + digest(strings.ToLower(long))},
		{customerEmailRef("ÄNA.Pop@Example.com"), "email:" + digest("äna.pop@example.com")},
		{customerEmailRef(strings.Repeat("Y", 300)), "email:" + digest(strings.Repeat("y", 300))},
		{customerEmailRef(""), ""},
		{customerIDRef("cus_42"), "id:" + digest("cus_42")},
		{customerIDRef(long), "id:" + digest(long)},
		{customerIDRef(""), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("ref %q, want %q", tc.got, tc.want)
		}
	}
	for _, ref := range []func() string{
		func() string { return customerEmailRef("ana.pop@example.com") },
		func() string { return customerEmailRef(long) },
		func() string { return customerIDRef(long) },
	} {
		if n := testing.AllocsPerRun(100, func() { _ = ref() }); n != 1 {
			t.Errorf("%q: %v allocations, want 1", ref(), n)
		}
	}
}

func BenchmarkCustomerEmailRef(b *testing.B) {
	for b.Loop() {
		_ = customerEmailRef("Ana.Pop@Example.com")
	}
}
