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
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/invoice"
)

// Tenant is one customer of invoiced: a billing system with its own token,
// settings and invoices.
type Tenant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// CompanyID is the tenant's company UUID in its own billing system,
	// which clients send as X-Company; empty when it has none. It is
	// never used to find a tenant, only checked against the token's, so
	// it need not be unique: two tenants may carry the same one.
	CompanyID string `json:"companyId,omitempty"`
	// SESIdentities are the email addresses and domains this tenant may
	// send as through Amazon SES with the deployment's AWS credentials,
	// when the deployment lends them (INVOICED_SES_SHARED_CREDENTIALS);
	// see MaySendAsSES. Only the operator sets them, through the admin
	// API or `invoiced tenant create`: the deployment's SES account
	// verifies identities for every tenant, so its own verification says
	// nothing about which tenant an identity belongs to. Stored trimmed
	// and in lower case.
	SESIdentities []string  `json:"sesIdentities,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
}

// MaySendAsSES reports whether the operator let t send from the address
// from with the deployment's AWS credentials: from is one of
// SESIdentities, or its domain is. A granted domain covers the addresses
// at it, not those at its subdomains; a granted address covers only
// itself. Letter case does not matter. A tenant with no identities may
// send as none.
func (t Tenant) MaySendAsSES(from string) bool {
	from = strings.ToLower(strings.TrimSpace(from))
	at := strings.LastIndexByte(from, '@')
	if at <= 0 {
		return false
	}
	domain := from[at+1:]
	for _, id := range t.SESIdentities {
		if id == from || id == domain {
			return true
		}
	}
	return false
}

// ErrInvalidSESIdentity is returned for an SES identity that is neither an
// email address nor a domain name.
var ErrInvalidSESIdentity = errors.New("must be an email address like billing@acme.com or a domain like acme.com")

// NormalizeSESIdentities returns ids trimmed, in lower case and without
// repeats, in their order; nil for none. Each must be an email address or
// a domain name of two labels or more (letters, digits, hyphens), else the
// error wraps ErrInvalidSESIdentity and names the identity.
func NormalizeSESIdentities(ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		id = strings.ToLower(strings.TrimSpace(id))
		domain := id
		if local, d, ok := strings.Cut(id, "@"); ok {
			if invoice.CheckEmail(id) != nil || local == "" {
				return nil, fmt.Errorf("%q: %w", id, ErrInvalidSESIdentity)
			}
			domain = d
		}
		if !domainName(domain) {
			return nil, fmt.Errorf("%q: %w", id, ErrInvalidSESIdentity)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// domainName reports whether s, in lower case, is a domain name of two
// labels or more.
func domainName(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 || len(s) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return false
			}
		}
	}
	return true
}

// NamedBy reports whether ref, the value of an X-Tenant-ID or X-Company
// header, names t: its id, or its company UUID in any letter case.
func (t Tenant) NamedBy(ref string) bool {
	return ref == t.ID || (t.CompanyID != "" && strings.EqualFold(ref, t.CompanyID))
}

// ErrInvalidCompanyID is returned for a company id that is not a UUID.
var ErrInvalidCompanyID = errors.New("must be a UUID like 550e8400-e29b-41d4-a716-446655440000")

// NormalizeCompanyID returns id, a UUID in its 36-character hyphenated
// form, in lower case; "" stays "". Anything else is ErrInvalidCompanyID.
func NormalizeCompanyID(id string) (string, error) {
	if id == "" {
		return "", nil
	}
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return "", ErrInvalidCompanyID
	}
	return u.String(), nil
}

// TenantOption sets up a tenant CreateTenant is creating.
type TenantOption func(*Tenant)

// WithCompanyID gives the new tenant its company UUID (see
// Tenant.CompanyID); CreateTenant refuses one that is not a UUID.
func WithCompanyID(id string) TenantOption {
	return func(t *Tenant) { t.CompanyID = id }
}

// WithSESIdentities gives the new tenant the identities it may send as
// with the deployment's AWS credentials (see Tenant.SESIdentities);
// CreateTenant refuses one that is not an email address or a domain.
func WithSESIdentities(ids []string) TenantOption {
	return func(t *Tenant) { t.SESIdentities = ids }
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
func (s *Store) CreateTenant(ctx context.Context, name string, opts ...TenantOption) (Tenant, string, error) {
	t := Tenant{ID: NewID("ten"), Name: name, CreatedAt: s.Now()}
	for _, o := range opts {
		o(&t)
	}
	companyID, err := NormalizeCompanyID(t.CompanyID)
	if err != nil {
		return Tenant{}, "", fmt.Errorf("company id %q: %w", t.CompanyID, err)
	}
	t.CompanyID = companyID
	if t.SESIdentities, err = NormalizeSESIdentities(t.SESIdentities); err != nil {
		return Tenant{}, "", fmt.Errorf("ses identities: %w", err)
	}
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
	if err := s.rdb.MSet(ctx, tenantKey(t.ID, "tenant"), b, invoicesIndexedKey(t.ID), "1", invoiceFiltersIndexedKey(t.ID), "1", sendsIndexedKey(t.ID), "1", deliveryLogIndexedKey(t.ID), "1", finalIndexedKey(t.ID), "1").Err(); err != nil {
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
//
// A token never moves to another tenant, so once this store has looked a
// token up it reads the token and its tenant in one round trip (a
// pipeline: on a Redis Cluster the token is in another slot than the
// tenant), instead of the token and then its tenant. The token is read
// every time all the same: a token deleted from Redis stops working at
// once.
func (s *Store) TenantByToken(ctx context.Context, token string) (Tenant, error) {
	return s.tenantByToken(ctx, token, nil)
}

// tenantByToken is TenantByToken that has with queue, in the pipeline
// that reads the tenant, more reads of the tenant whose id it is given.
// Their replies hold for the tenant returned, and only when the error is
// nil: with may be called once for a tenant the token no longer names,
// whose replies are then dropped, and again for the one it names.
func (s *Store) tenantByToken(ctx context.Context, token string, with func(p redis.Pipeliner, tenantID string)) (Tenant, error) {
	if token == "" {
		return Tenant{}, ErrNotFound
	}
	key := tokenKey(token)
	if id, ok := s.tokens.get(key); ok {
		p := s.rdb.Pipeline()
		tok := p.Get(ctx, key)
		ten := p.Get(ctx, tenantKey(id, "tenant"))
		if with != nil {
			with(p, id)
		}
		_, _ = p.Exec(ctx)
		got, err := tok.Result()
		switch {
		case errors.Is(err, redis.Nil):
			s.tokens.drop(key)
			return Tenant{}, ErrNotFound
		case err != nil:
			return Tenant{}, fmt.Errorf("look up token: %w", err)
		case got == id:
			return decodeTenant(ten)
		}
		s.tokens.drop(key)
	}
	id, err := s.rdb.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return Tenant{}, ErrNotFound
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("look up token: %w", err)
	}
	var ten *redis.StringCmd
	if with == nil {
		ten = s.rdb.Get(ctx, tenantKey(id, "tenant"))
	} else {
		p := s.rdb.Pipeline()
		ten = p.Get(ctx, tenantKey(id, "tenant"))
		with(p, id)
		_, _ = p.Exec(ctx)
	}
	t, err := decodeTenant(ten)
	if err == nil {
		s.tokens.put(key, id)
	}
	return t, err
}

// decodeTenant decodes the reply of a GET of a tenant; a missing tenant
// is ErrNotFound.
func decodeTenant(cmd *redis.StringCmd) (Tenant, error) {
	b, err := cmd.Bytes()
	if errors.Is(err, redis.Nil) {
		return Tenant{}, ErrNotFound
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("get tenant: %w", err)
	}
	var t Tenant
	if err := decodeRecord(b, &t); err != nil {
		return Tenant{}, fmt.Errorf("decode tenant: %w", err)
	}
	return t, nil
}

// Tenant returns a tenant by id.
func (s *Store) Tenant(ctx context.Context, id string) (Tenant, error) {
	return decodeTenant(s.rdb.Get(ctx, tenantKey(id, "tenant")))
}

// SetCompanyID changes a tenant's company UUID (see Tenant.CompanyID); ""
// removes it. It returns the tenant as stored.
func (s *Store) SetCompanyID(ctx context.Context, tenantID, companyID string) (Tenant, error) {
	companyID, err := NormalizeCompanyID(companyID)
	if err != nil {
		return Tenant{}, err
	}
	t, err := update(ctx, s, tenantKey(tenantID, "tenant"), func(t *Tenant) error {
		if t.CompanyID == companyID {
			return errUnchanged
		}
		t.CompanyID = companyID
		return nil
	}, nil)
	if errors.Is(err, errUnchanged) {
		return s.Tenant(ctx, tenantID)
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("set company id: %w", err)
	}
	return *t, nil
}

// SetSESIdentities replaces the identities a tenant may send as with the
// deployment's AWS credentials (see Tenant.SESIdentities); none removes
// them all. It returns the tenant as stored.
func (s *Store) SetSESIdentities(ctx context.Context, tenantID string, ids []string) (Tenant, error) {
	ids, err := NormalizeSESIdentities(ids)
	if err != nil {
		return Tenant{}, err
	}
	t, err := update(ctx, s, tenantKey(tenantID, "tenant"), func(t *Tenant) error {
		if slices.Equal(t.SESIdentities, ids) {
			return errUnchanged
		}
		t.SESIdentities = ids
		return nil
	}, nil)
	if errors.Is(err, errUnchanged) {
		return s.Tenant(ctx, tenantID)
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("set ses identities: %w", err)
	}
	return *t, nil
}

// TenantIDs returns every tenant's id.
func (s *Store) TenantIDs(ctx context.Context) ([]string, error) {
	return s.rdb.SMembers(ctx, tenantsKey).Result()
}
