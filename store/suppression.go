package store

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Suppression is an address that bounced hard or complained: sends to it
// fail fast instead of hurting the tenant's sender reputation.
type Suppression struct {
	Address   string    `json:"address"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"createdAt"`
}

func suppressionKey(tenantID string) string { return tenantKey(tenantID, "suppressed") }

// normalizeAddress makes suppression lookups case-insensitive.
func normalizeAddress(a string) string { return strings.ToLower(strings.TrimSpace(a)) }

// Suppress puts address on tenant's suppression list with a reason.
func (s *Store) Suppress(ctx context.Context, tenantID, address, reason string) error {
	return s.rdb.HSet(ctx, suppressionKey(tenantID), normalizeAddress(address), reason+"|"+s.Now().Format(time.RFC3339)).Err()
}

// Unsuppress removes address from tenant's suppression list.
func (s *Store) Unsuppress(ctx context.Context, tenantID, address string) error {
	return s.rdb.HDel(ctx, suppressionKey(tenantID), normalizeAddress(address)).Err()
}

// Suppressed returns the first of addresses on tenant's suppression list
// with the reason it is there, or "" if none is.
func (s *Store) Suppressed(ctx context.Context, tenantID string, addresses ...string) (address, reason string, err error) {
	if len(addresses) == 0 {
		return "", "", nil
	}
	l := suppressedIn(addresses, s.rdb.HMGet(ctx, suppressionKey(tenantID), suppressionFields(addresses)...))
	return l.Address, l.Reason, l.Err
}

// SuppressionLookup is the suppression list's answer for some addresses,
// as Suppressed gives it: the first of them on the list with the reason,
// none, or the error of the look-up.
type SuppressionLookup struct {
	Address, Reason string
	Err             error
}

// suppressionFields are the hash fields of addresses.
func suppressionFields(addresses []string) []string {
	fields := make([]string, len(addresses))
	for i, a := range addresses {
		fields[i] = normalizeAddress(a)
	}
	return fields
}

// suppressedIn reads the answer of an HMGET of addresses' fields.
func suppressedIn(addresses []string, cmd *redis.SliceCmd) SuppressionLookup {
	vals, err := cmd.Result()
	if err != nil {
		return SuppressionLookup{Err: err}
	}
	for i, v := range vals {
		if str, ok := v.(string); ok {
			r, _, _ := strings.Cut(str, "|")
			return SuppressionLookup{Address: addresses[i], Reason: r}
		}
	}
	return SuppressionLookup{}
}

// Suppressions lists tenant's suppressed addresses, sorted.
func (s *Store) Suppressions(ctx context.Context, tenantID string) ([]Suppression, error) {
	all, err := s.rdb.HGetAll(ctx, suppressionKey(tenantID)).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Suppression, 0, len(all))
	for addr, v := range all {
		reason, at, _ := strings.Cut(v, "|")
		t, _ := time.Parse(time.RFC3339, at)
		out = append(out, Suppression{Address: addr, Reason: reason, CreatedAt: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, nil
}
