package sns

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"
)

const (
	// DefaultTimeout bounds each certificate fetch and, with the default
	// HTTPClient, each Confirm request.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxAge is how old a message's Timestamp may be when
	// Config.MaxAge is zero.
	DefaultMaxAge = time.Hour
	// DefaultCertCacheSize is how many signing certificates are kept when
	// Config.CertCacheSize is zero. SNS signs with one certificate per
	// region at a time, so this covers every region plus a rotation.
	DefaultCertCacheSize = 64

	// MaxClockSkew is how far in the future a Timestamp may be: SNS's
	// clock and ours disagree a little, never by minutes.
	MaxClockSkew = 5 * time.Minute

	// maxCertBytes bounds a fetched certificate file; real ones are about
	// 2 KiB.
	maxCertBytes = 64 << 10
	// maxConfirmBytes bounds how much of SNS's answer to
	// ConfirmSubscription is read.
	maxConfirmBytes = 64 << 10
)

// The default patterns; see Config.
var (
	defaultHostPattern       = regexp.MustCompile(`^sns\.[a-z]{2,4}(-[a-z]+)+-[0-9]+\.amazonaws\.com(\.cn)?$`)
	defaultCertNamePattern   = regexp.MustCompile(`^(sns\.amazonaws\.com|sns-signing\.[a-z]{2,4}(-[a-z]+)+-[0-9]+\.amazonaws\.com|sns-[a-z]{2,4}(-[a-z]+)+-[0-9]+\.amazonaws\.com(\.cn)?)$`)
	defaultIssuerHostPattern = regexp.MustCompile(`^([a-z0-9-]+\.)+amazontrust\.com$`)
)

// Config configures a Verifier. Every field is optional.
type Config struct {
	// HTTPClient fetches signing certificates and their issuers, and
	// makes Confirm's request. Defaults to a client with a 10s timeout.
	// The Verifier uses a copy that never follows redirects, so nothing
	// but the checked URL is ever fetched. Tests inject a client whose
	// Transport dials the SNS host to a local server (see
	// snstest.Server.Client).
	HTTPClient *http.Client
	// Roots are the trust anchors the signing certificate must chain to.
	// Nil uses the system's roots, which hold Amazon's.
	Roots *x509.CertPool
	// Intermediates are extra issuing certificates offered when building
	// the chain, besides any the certificate file carries. SNS serves the
	// signing certificate alone, so when the chain cannot be built the
	// Verifier fetches the issuer named in the certificate's Authority
	// Information Access, from a host matching IssuerHostPattern.
	Intermediates *x509.CertPool
	// HostPattern is what the host of SigningCertURL and SubscribeURL
	// must match, whole. Defaults to SNS's regional endpoints,
	// sns.<region>.amazonaws.com and China's sns.<region>.amazonaws.com.cn,
	// with <region> shaped like a region name (us-east-1, us-gov-west-1,
	// ap-southeast-7). A looser sns\.[a-z0-9-]+ would admit
	// sns.s3.amazonaws.com, the S3 bucket named "sns".
	HostPattern *regexp.Regexp
	// CertNamePattern is what a name in the signing certificate must
	// match, whole: one of its DNS subject alternative names or, when it
	// has none, its subject common name. Defaults to the names AWS signs
	// with: sns.amazonaws.com in most regions, sns-signing.<region>.amazonaws.com
	// in opt-in regions, sns-<region>.amazonaws.com(.cn) in GovCloud and
	// China.
	CertNamePattern *regexp.Regexp
	// IssuerHostPattern is what the host of an issuing certificate's URL
	// (from the signing certificate's Authority Information Access) must
	// match before it is fetched. Defaults to hosts under amazontrust.com,
	// where Amazon's CAs publish theirs. The issuer is trusted only if it
	// chains to Roots, so this only limits where requests go.
	IssuerHostPattern *regexp.Regexp
	// MaxAge refuses a message whose Timestamp is older. SNS keeps a
	// message's Timestamp across its delivery retries, so raise it if the
	// subscription's delivery policy retries for longer. Defaults to 1h.
	MaxAge time.Duration
	// NowFunc is the clock, for Timestamps and certificate validity.
	// Defaults to time.Now.
	NowFunc func() time.Time
	// CertCacheSize is how many verified signing certificates are kept,
	// by URL, least recently used first out. Defaults to 64.
	CertCacheSize int
}

// Verifier checks SNS messages. It is safe for concurrent use; build it
// once and keep it, since it caches signing certificates.
type Verifier struct {
	client          *http.Client
	roots           *x509.CertPool
	intermediates   *x509.CertPool
	hostPattern     *regexp.Regexp
	certNamePattern *regexp.Regexp
	issuerPattern   *regexp.Regexp
	maxAge          time.Duration
	nowFunc         func() time.Time

	certs   *certCache
	fetches singleflight.Group
}

// NewVerifier returns a Verifier for cfg with the documented defaults
// filled in. It rejects a negative MaxAge or CertCacheSize.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.MaxAge < 0 {
		return nil, fmt.Errorf("sns: MaxAge %s is negative", cfg.MaxAge)
	}
	if cfg.CertCacheSize < 0 {
		return nil, fmt.Errorf("sns: CertCacheSize %d is negative", cfg.CertCacheSize)
	}
	v := &Verifier{
		roots:           cfg.Roots,
		intermediates:   cfg.Intermediates,
		hostPattern:     orDefault(cfg.HostPattern, defaultHostPattern),
		certNamePattern: orDefault(cfg.CertNamePattern, defaultCertNamePattern),
		issuerPattern:   orDefault(cfg.IssuerHostPattern, defaultIssuerHostPattern),
		maxAge:          cfg.MaxAge,
		nowFunc:         cfg.NowFunc,
	}
	if v.maxAge == 0 {
		v.maxAge = DefaultMaxAge
	}
	if v.nowFunc == nil {
		v.nowFunc = time.Now
	}
	size := cfg.CertCacheSize
	if size == 0 {
		size = DefaultCertCacheSize
	}
	v.certs = newCertCache(size)

	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	c := *client
	// A redirect would take the request to a URL nobody checked.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	v.client = &c
	return v, nil
}

func orDefault(re, def *regexp.Regexp) *regexp.Regexp {
	if re != nil {
		return re
	}
	return def
}

// Verify reports whether m is a genuine SNS message, nil meaning it is.
// The checks run cheapest first, so a forged message is refused before
// anything is fetched whenever it can be:
//
//  1. m carries every field its Type signs (ErrMalformed), and
//     SignatureVersion is "1" (SHA1withRSA) or "2" (SHA256withRSA)
//     (ErrSignatureVersion).
//  2. Timestamp parses as RFC 3339 (ErrMalformed) and is no older than
//     MaxAge and no more than MaxClockSkew ahead (ErrExpired).
//  3. SigningCertURL is an absolute https URL with no user info, a host
//     matching HostPattern, no port but 443, a clean path ending in .pem,
//     and no query or fragment (ErrCertURL). SNS's certificate URLs never
//     carry a query; refusing one keeps a signed-looking URL from
//     selecting something else on the host.
//  4. The certificate there, fetched once and cached (ErrCertFetch),
//     parses as an RSA certificate, chains to Roots and, like every
//     certificate in the chain, is valid now (ErrCertificate), and names
//     an SNS signing identity matching CertNamePattern (ErrCertName).
//  5. The signature is valid for the canonical string of m's signed
//     fields (ErrSignature).
//
// Verify does not check TopicArn: a caller that expects certain topics
// compares it after Verify accepts m.
func (v *Verifier) Verify(ctx context.Context, m *Message) error {
	if m == nil {
		return fmt.Errorf("%w: no message", ErrMalformed)
	}
	signed, err := stringToSign(m)
	if err != nil {
		return err
	}
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return fmt.Errorf("%w: SignatureVersion %q (want 1 or 2)", ErrSignatureVersion, m.SignatureVersion)
	}
	if err := v.checkTimestamp(m.Timestamp); err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: Signature is not base64", ErrSignature)
	}
	certURL, err := v.checkCertURL(m.SigningCertURL)
	if err != nil {
		return err
	}
	key, err := v.signingKey(ctx, certURL)
	if err != nil {
		return err
	}
	h := hash.New()
	h.Write(signed)
	if err := rsa.VerifyPKCS1v15(key, hash, h.Sum(nil), sig); err != nil {
		return fmt.Errorf("%w: %s %s does not match the certificate at %s", ErrSignature, m.Type, m.MessageId, certURL)
	}
	return nil
}

func (v *Verifier) checkTimestamp(ts string) error {
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return fmt.Errorf("%w: Timestamp %q is not RFC 3339", ErrMalformed, ts)
	}
	now := v.nowFunc()
	switch age := now.Sub(at); {
	case age > v.maxAge:
		return fmt.Errorf("%w: Timestamp %s is %s old, more than %s", ErrExpired, ts, age.Round(time.Second), v.maxAge)
	case -age > MaxClockSkew:
		return fmt.Errorf("%w: Timestamp %s is %s in the future", ErrExpired, ts, (-age).Round(time.Second))
	}
	return nil
}

// checkCertURL returns SigningCertURL in its normalized form, the cache
// key, if it may be fetched.
func (v *Verifier) checkCertURL(raw string) (string, error) {
	u, err := v.checkSNSURL(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrCertURL, err)
	}
	switch {
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("%w: %q has a query", ErrCertURL, raw)
	case u.RawPath != "" || path.Clean(u.Path) != u.Path || !strings.HasSuffix(u.Path, ".pem") || len(u.Path) <= len("/.pem"):
		return "", fmt.Errorf("%w: path of %q is not a plain .pem file", ErrCertURL, raw)
	}
	return u.String(), nil
}

// checkSNSURL parses raw and checks what SigningCertURL and SubscribeURL
// share: https, no user info, a host matching HostPattern, port 443 if
// any, no fragment.
func (v *Verifier) checkSNSURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("does not parse")
	}
	switch {
	case u.Scheme != "https":
		return nil, fmt.Errorf("scheme %q is not https", u.Scheme)
	case u.Opaque != "":
		return nil, errors.New("not a hierarchical URL")
	case u.User != nil:
		return nil, errors.New("has user info")
	case u.Port() != "" && u.Port() != "443":
		return nil, fmt.Errorf("port %s is not 443", u.Port())
	case strings.HasSuffix(u.Host, ":"):
		return nil, errors.New("empty port")
	case !v.hostPattern.MatchString(u.Hostname()):
		return nil, fmt.Errorf("host %q is not an SNS host", u.Hostname())
	case u.Fragment != "" || u.RawFragment != "":
		return nil, errors.New("has a fragment")
	}
	return u, nil
}

// Confirm confirms the subscription a SubscriptionConfirmation asks for,
// by a GET of its SubscribeURL, as the SNS documentation prescribes. It
// verifies m first (so a caller need not; when it has, the certificate is
// cached and the repeat is cheap), and then fetches SubscribeURL only if
// it is an https URL on a host matching HostPattern (no user info, no
// port but 443) whose query asks for Action=ConfirmSubscription of m's
// TopicArn with a Token: anything else is ErrSubscribeURL and nothing is
// fetched. A failed request or an answer other than 2xx is ErrConfirm.
// Errors never include SubscribeURL, whose Token is a secret.
func (v *Verifier) Confirm(ctx context.Context, m *Message) error {
	if m == nil || m.Type != TypeSubscriptionConfirmation {
		got := "nothing"
		if m != nil {
			got = fmt.Sprintf("a %q", m.Type)
		}
		return fmt.Errorf("%w: Confirm needs a %s, got %s", ErrMalformed, TypeSubscriptionConfirmation, got)
	}
	if err := v.Verify(ctx, m); err != nil {
		return err
	}
	u, err := v.checkSNSURL(m.SubscribeURL)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSubscribeURL, err)
	}
	q := u.Query()
	switch {
	case q.Get("Action") != "ConfirmSubscription":
		return fmt.Errorf("%w: Action is %q, not ConfirmSubscription", ErrSubscribeURL, q.Get("Action"))
	case q.Get("TopicArn") != m.TopicArn:
		return fmt.Errorf("%w: TopicArn %q is not the message's %q", ErrSubscribeURL, q.Get("TopicArn"), m.TopicArn)
	case q.Get("Token") == "":
		return fmt.Errorf("%w: no Token", ErrSubscribeURL)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSubscribeURL, err)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		// url.Error would print the URL, Token and all.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return fmt.Errorf("%w: %s on %s: %v", ErrConfirm, m.TopicArn, u.Host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxConfirmBytes))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%w: %s on %s: HTTP %d: %s", ErrConfirm, m.TopicArn, u.Host, resp.StatusCode, snippet(body))
	}
	return nil
}

// snippet shortens an error answer for an error message.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
