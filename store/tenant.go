package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Tenant is one customer of invoiced: a billing system with its own token,
// settings and invoices.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

// tenantsKey is the set of all tenant ids; the sweeps walk it.
const tenantsKey = keyPrefix + "tenants"

func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return keyPrefix + "token:" + hex.EncodeToString(sum[:])
}

// CreateTenant creates a tenant and its API token. The token is returned
// once and only its SHA-256 is stored: tokens are 256 random bits, so a fast
// hash is enough to make a leaked database useless for authentication.
func (s *Store) CreateTenant(ctx context.Context, name string) (Tenant, string, error) {
	t := Tenant{ID: NewID("ten"), Name: name, CreatedAt: s.Now()}
	token, err := newToken()
	if err != nil {
		return Tenant{}, "", err
	}
	b, _ := json.Marshal(t)
	// The tenant set is a global key, in another hash slot than the
	// tenant's own keys, so on a Redis Cluster the two writes cannot share
	// a transaction. The set comes first: an id left there by a failure
	// has no drafts, which the sweep passes over, while a tenant missing
	// from it would never be swept.
	if err := s.rdb.SAdd(ctx, tenantsKey, t.ID).Err(); err != nil {
		return Tenant{}, "", fmt.Errorf("create tenant: %w", err)
	}
	if err := s.rdb.MSet(ctx, tenantKey(t.ID, "tenant"), b, invoicesIndexedKey(t.ID), "1", sendsIndexedKey(t.ID), "1").Err(); err != nil {
		return Tenant{}, "", fmt.Errorf("create tenant: %w", err)
	}
	if err := s.rdb.Set(ctx, tokenKey(token), t.ID, 0).Err(); err != nil {
		return Tenant{}, "", fmt.Errorf("store token: %w", err)
	}
	return t, token, nil
}

func newToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "ivd_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// TenantByToken returns the tenant an API token belongs to, or ErrNotFound.
func (s *Store) TenantByToken(ctx context.Context, token string) (Tenant, error) {
	if token == "" {
		return Tenant{}, ErrNotFound
	}
	id, err := s.rdb.Get(ctx, tokenKey(token)).Result()
	if errors.Is(err, redis.Nil) {
		return Tenant{}, ErrNotFound
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("look up token: %w", err)
	}
	return s.Tenant(ctx, id)
}

// Tenant returns a tenant by id.
func (s *Store) Tenant(ctx context.Context, id string) (Tenant, error) {
	var t Tenant
	err := getJSON(ctx, s.rdb, tenantKey(id, "tenant"), &t)
	return t, err
}

// TenantIDs returns every tenant's id.
func (s *Store) TenantIDs(ctx context.Context) ([]string, error) {
	return s.rdb.SMembers(ctx, tenantsKey).Result()
}
