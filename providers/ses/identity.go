package ses

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// pruneAbove is the number of cached identities past which expired ones
// are dropped when another is added.
const pruneAbove = 1000

// identity is one cached GetEmailIdentity answer.
type identity struct {
	found    bool // false: SES answered NotFoundException
	verified bool // VerifiedForSendingStatus
	expires  time.Time
}

// IdentityVerified reports whether SES lets this account send from
// identity, an email address ("billing@acme.test") or a domain
// ("acme.test").
//
// An address is verified when SES has it as an identity verified for
// sending, or has its domain or a parent domain so (for
// billing@mail.acme.test: the address, then mail.acme.test, then
// acme.test), because a verified domain covers every address and
// subdomain under it. The address is looked up first; the domains only
// when the address is missing (NotFoundException) or not verified.
//
// Every answer, for the address and for each domain, is cached for
// IdentityCacheTTL, a missing or unverified identity as well as a verified
// one, so addresses on one domain share its lookup. Errors are not cached
// and are classified like SendEmail's (a throttled lookup carries
// providers.RetryAfter). Concurrent calls for the same identity share one
// SES call, made with the ctx of the call that started it.
func (s *Sender) IdentityVerified(ctx context.Context, ident string) (bool, error) {
	names, err := identityNames(ident)
	if err != nil {
		return false, err
	}
	for _, name := range names {
		id, err := s.lookupIdentity(ctx, name)
		if err != nil {
			return false, err
		}
		if id.verified {
			return true, nil
		}
	}
	return false, nil
}

// identityNames lists the identities that can make ident verified, most
// specific first: the address (if ident is one), its domain, then each
// parent domain down to two labels. Domains are lower-cased; the local
// part of an address is kept as it is.
func identityNames(ident string) ([]string, error) {
	ident = strings.TrimSpace(ident)
	var names []string
	domain := ident
	if at := strings.LastIndexByte(ident, '@'); at >= 0 {
		local := ident[:at]
		domain = ident[at+1:]
		if local == "" || domain == "" {
			return nil, fmt.Errorf("ses: identity %q is not an email address or a domain", ident)
		}
		domain = strings.ToLower(strings.TrimSuffix(domain, "."))
		names = append(names, local+"@"+domain)
	}
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	labels := strings.Split(domain, ".")
	if strings.ContainsAny(domain, " \t<>@,;") || slices.Contains(labels, "") {
		return nil, fmt.Errorf("ses: identity %q is not an email address or a domain", ident)
	}
	for i := 0; i == 0 || i+2 <= len(labels); i++ {
		names = append(names, strings.Join(labels[i:], "."))
	}
	return names, nil
}

// lookupIdentity returns SES's answer for one identity name, from the
// cache while it is fresh.
func (s *Sender) lookupIdentity(ctx context.Context, name string) (identity, error) {
	if id, ok := s.cachedIdentity(name); ok {
		return id, nil
	}
	v, err, _ := s.lookups.Do(name, func() (any, error) {
		// A lookup that finished between the check above and this one
		// has already stored the answer.
		if id, ok := s.cachedIdentity(name); ok {
			return id, nil
		}
		out, err := s.api.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(name)})
		var id identity
		var notFound *types.NotFoundException
		switch {
		case err == nil:
			id = identity{found: true, verified: out.VerifiedForSendingStatus}
		case errors.As(err, &notFound):
			id = identity{}
		default:
			return identity{}, classify("get identity "+name, err)
		}
		id.expires = s.nowFunc().Add(s.cfg.IdentityCacheTTL)
		s.storeIdentity(name, id)
		return id, nil
	})
	if err != nil {
		return identity{}, err
	}
	return v.(identity), nil
}

func (s *Sender) cachedIdentity(name string) (identity, bool) {
	now := s.nowFunc()
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.idents[name]
	if !ok || !now.Before(id.expires) {
		return identity{}, false
	}
	return id, true
}

func (s *Sender) storeIdentity(name string, id identity) {
	now := s.nowFunc()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.idents) >= pruneAbove {
		for n, old := range s.idents {
			if !now.Before(old.expires) {
				delete(s.idents, n)
			}
		}
	}
	s.idents[name] = id
}
