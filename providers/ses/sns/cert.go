package sns

import (
	"container/list"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// signingCert is a verified signing certificate: its key, and the window
// in which every certificate of its chain is valid.
type signingCert struct {
	key                 *rsa.PublicKey
	notBefore, notAfter time.Time
}

// signingKey returns the key of the verified certificate at certURL, from
// the cache while the certificate's chain is still valid, else fetched and
// verified. Concurrent calls for one URL share one fetch, which is bounded
// by DefaultTimeout rather than by the first caller's ctx, so one caller
// giving up does not fail the others; each caller still returns when its
// own ctx is done. A failure is not cached: the next message tries again.
func (v *Verifier) signingKey(ctx context.Context, certURL string) (*rsa.PublicKey, error) {
	now := v.nowFunc()
	if c, ok := v.certs.get(certURL); ok {
		if !now.Before(c.notBefore) && !now.After(c.notAfter) {
			return c.key, nil
		}
		v.certs.remove(certURL)
	}
	ch := v.fetches.DoChan(certURL, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultTimeout)
		defer cancel()
		c, err := v.loadCert(fctx, certURL)
		if err != nil {
			return nil, err
		}
		v.certs.add(certURL, c)
		return c, nil
	})
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %s: %w", ErrCertFetch, certURL, ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*signingCert).key, nil
	}
}

// loadCert fetches the certificate file at certURL and checks its first
// certificate: RSA, named for SNS, chaining to the roots (through the
// file's further certificates, Config.Intermediates, or an issuer fetched
// from its Authority Information Access) and valid now.
func (v *Verifier) loadCert(ctx context.Context, certURL string) (*signingCert, error) {
	body, err := v.get(ctx, certURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCertFetch, certURL, err)
	}
	certs, err := parsePEM(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCertificate, certURL, err)
	}
	leaf := certs[0]
	key, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s: public key is %T, not RSA", ErrCertificate, certURL, leaf.PublicKey)
	}
	// The name first: a certificate that is not SNS's is refused before
	// anything more is fetched for it.
	names := leaf.DNSNames
	if len(names) == 0 {
		names = []string{leaf.Subject.CommonName}
	}
	named := false
	for _, n := range names {
		if v.certNamePattern.MatchString(n) {
			named = true
			break
		}
	}
	if !named {
		return nil, fmt.Errorf("%w: %s names %q, none matching %s", ErrCertName, certURL, names, v.certNamePattern)
	}

	pool := x509.NewCertPool()
	if v.intermediates != nil {
		pool = v.intermediates.Clone()
	}
	for _, c := range certs[1:] {
		pool.AddCert(c)
	}
	opts := x509.VerifyOptions{
		Roots:         v.roots,
		Intermediates: pool,
		CurrentTime:   v.nowFunc(),
		// SNS signs with a TLS server certificate; what it is for does not
		// matter here, only who vouches for the name.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	chains, err := leaf.Verify(opts)
	if _, unknown := errors.AsType[x509.UnknownAuthorityError](err); unknown {
		issuer, ierr := v.fetchIssuer(ctx, leaf)
		if ierr != nil {
			return nil, fmt.Errorf("%s: %w", certURL, ierr)
		}
		if issuer != nil {
			pool.AddCert(issuer)
			chains, err = leaf.Verify(opts)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCertificate, certURL, err)
	}
	c := &signingCert{key: key, notBefore: leaf.NotBefore, notAfter: leaf.NotAfter}
	for _, cert := range chains[0][1:] {
		if cert.NotBefore.After(c.notBefore) {
			c.notBefore = cert.NotBefore
		}
		if cert.NotAfter.Before(c.notAfter) {
			c.notAfter = cert.NotAfter
		}
	}
	return c, nil
}

// fetchIssuer fetches the first issuing certificate leaf's Authority
// Information Access names on a host matching IssuerHostPattern, over
// http or https on the scheme's port (issuers are conventionally served
// over http: they are signed, so the transport need not be trusted). It
// returns nil, nil when no URL qualifies.
func (v *Verifier) fetchIssuer(ctx context.Context, leaf *x509.Certificate) (*x509.Certificate, error) {
	for _, raw := range leaf.IssuingCertificateURL {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil ||
			(u.Port() != "" && u.Port() != map[string]string{"http": "80", "https": "443"}[u.Scheme]) ||
			!v.issuerPattern.MatchString(u.Hostname()) {
			continue
		}
		body, err := v.get(ctx, u.String())
		if err != nil {
			return nil, fmt.Errorf("%w: issuer %s: %v", ErrCertFetch, u, err)
		}
		var issuer *x509.Certificate
		if strings.HasPrefix(strings.TrimSpace(string(body)), "-----BEGIN") {
			var certs []*x509.Certificate
			certs, err = parsePEM(body)
			if err == nil {
				issuer = certs[0]
			}
		} else {
			issuer, err = x509.ParseCertificate(body)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: issuer %s: %v", ErrCertificate, u, err)
		}
		return issuer, nil
	}
	return nil, nil
}

// get fetches rawURL, which the caller has checked, and returns a 200
// answer's body of at most maxCertBytes.
func (v *Verifier) get(ctx context.Context, rawURL string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		// The caller names the URL; url.Error would repeat it.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			return nil, ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCertBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxCertBytes {
		return nil, fmt.Errorf("more than %d bytes", maxCertBytes)
	}
	return body, nil
}

// parsePEM returns the CERTIFICATE blocks of b in order, refusing a file
// with none or with one that does not parse. Other blocks are ignored.
func parsePEM(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return certs, nil
}

// certCache keeps verified signing certificates by URL, dropping the least
// recently used beyond its size.
type certCache struct {
	mu    sync.Mutex
	size  int
	order *list.List // of *cacheEntry, most recently used first
	byURL map[string]*list.Element
}

type cacheEntry struct {
	url  string
	cert *signingCert
}

func newCertCache(size int) *certCache {
	return &certCache{size: size, order: list.New(), byURL: make(map[string]*list.Element)}
}

func (c *certCache) get(url string) (*signingCert, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byURL[url]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).cert, true
}

func (c *certCache) add(url string, cert *signingCert) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byURL[url]; ok {
		e.Value.(*cacheEntry).cert = cert
		c.order.MoveToFront(e)
		return
	}
	c.byURL[url] = c.order.PushFront(&cacheEntry{url: url, cert: cert})
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byURL, last.Value.(*cacheEntry).url)
	}
}

func (c *certCache) remove(url string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byURL[url]; ok {
		c.order.Remove(e)
		delete(c.byURL, url)
	}
}
