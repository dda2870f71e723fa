package sns_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers/ses/sns"
	"github.com/invoiced/invoiced/providers/ses/sns/snstest"
)

const topic = "arn:aws:sns:us-east-1:123456789012:invoiced-ses-events"

// setup starts a snstest server and returns it with a Verifier wired to
// it: its client routes the SNS host to the server, its roots are the
// test CA. opts adjust the Config first.
func setup(t *testing.T, opts ...func(*sns.Config)) (*snstest.Server, *sns.Verifier) {
	t.Helper()
	srv := snstest.NewServer(t)
	return srv, newVerifier(t, srv, opts...)
}

func newVerifier(t *testing.T, srv *snstest.Server, opts ...func(*sns.Config)) *sns.Verifier {
	t.Helper()
	cfg := sns.Config{HTTPClient: srv.Client(), Roots: srv.Roots()}
	for _, o := range opts {
		o(&cfg)
	}
	v, err := sns.NewVerifier(cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func TestParse(t *testing.T) {
	t.Parallel()
	srv := snstest.NewServer(t)
	want := srv.Sign(srv.Notification(topic, "Amazon SES Email Event Notification", "{\"eventType\":\"Delivery\"}\n"), "2")
	got, err := sns.Parse(snstest.Body(want))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if *got != *want {
		t.Errorf("Parse = %+v, want %+v", got, want)
	}

	for _, body := range []string{``, `[]`, `{"Type":1}`, `{}`, `{"Type":"Notice"}`, `{"Type":"notification"}`} {
		if _, err := sns.Parse([]byte(body)); !errors.Is(err, sns.ErrMalformed) {
			t.Errorf("Parse(%s) = %v, want ErrMalformed", body, err)
		}
	}
}

func TestVerifyAccepts(t *testing.T) {
	t.Parallel()
	srv, v := setup(t)
	viaIntermediate := srv.NewSigner(snstest.CertOptions{Intermediate: true})
	commonNameOnly := srv.NewSigner(snstest.CertOptions{NoDNSNames: true})
	optInRegion := srv.NewSigner(snstest.CertOptions{CommonName: "sns-signing.af-south-1.amazonaws.com"})
	china := srv.NewSigner(snstest.CertOptions{CommonName: "sns-cn-north-1.amazonaws.com.cn"})

	event := `{"eventType":"Delivery","mail":{"messageId":"0100018c-example"}}`
	tests := []struct {
		name string
		msg  *sns.Message
	}{
		{"notification v1", srv.Sign(srv.Notification(topic, "", event), "1")},
		{"notification v2", srv.Sign(srv.Notification(topic, "", event), "2")},
		{"notification with subject v1", srv.Sign(srv.Notification(topic, "Amazon SES Email Event Notification", event), "1")},
		{"notification with subject v2", srv.Sign(srv.Notification(topic, "Amazon SES Email Event Notification", event), "2")},
		{"notification with unicode and newlines", srv.Sign(srv.Notification(topic, "Factură €", "line 1\nline \"2\"\t\u00e9\u2028"), "2")},
		{"subscription confirmation v1", srv.Sign(srv.SubscriptionConfirmation(topic), "1")},
		{"subscription confirmation v2", srv.Sign(srv.SubscriptionConfirmation(topic), "2")},
		{"unsubscribe confirmation v1", srv.Sign(srv.UnsubscribeConfirmation(topic), "1")},
		{"unsubscribe confirmation v2", srv.Sign(srv.UnsubscribeConfirmation(topic), "2")},
		{"issuer fetched from its AIA URL", viaIntermediate.Sign(srv.Notification(topic, "", event), "2")},
		{"certificate named by its common name alone", commonNameOnly.Sign(srv.Notification(topic, "", event), "2")},
		{"opt-in region signing name", optInRegion.Sign(srv.Notification(topic, "", event), "2")},
		{"China signing name", china.Sign(srv.Notification(topic, "", event), "1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Through the wire form, as a handler receives it.
			m, err := sns.Parse(snstest.Body(tt.msg))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := v.Verify(context.Background(), m); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
	if got := srv.IssuerFetches(); got != 1 {
		t.Errorf("issuer fetched %d times, want 1", got)
	}
	if got := srv.Refused(); len(got) != 0 {
		t.Errorf("dialed outside the test servers: %v", got)
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	srv := snstest.NewServer(t)
	otherCA := srv.NewSigner(snstest.CertOptions{Untrusted: true})
	otherCN := srv.NewSigner(snstest.CertOptions{CommonName: "invoices.example.com"})
	otherSAN := srv.NewSigner(snstest.CertOptions{DNSNames: []string{"sns.amazonaws.com.example.com"}})
	wildcard := srv.NewSigner(snstest.CertOptions{CommonName: "*.amazonaws.com"})
	lookalikeCN := srv.NewSigner(snstest.CertOptions{CommonName: "sns.amazonaws.com.evil.com"})
	expired := srv.NewSigner(snstest.CertOptions{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	notYet := srv.NewSigner(snstest.CertOptions{NotBefore: time.Now().Add(time.Hour)})
	otherKey := srv.NewSigner(snstest.CertOptions{})

	note := func() *sns.Message { return srv.Notification(topic, "Subject", `{"eventType":"Bounce"}`) }
	signed := func(version string) *sns.Message { return srv.Sign(note(), version) }
	withCertURL := func(u string) func() *sns.Message {
		return func() *sns.Message {
			m := signed("2")
			m.SigningCertURL = u // not signed: only the URL checks stop it
			return m
		}
	}
	const pem = "/SimpleNotificationService-0123456789abcdef.pem"

	tests := []struct {
		name string
		msg  func() *sns.Message
		cfg  func(*sns.Config)
		want error
	}{
		// Where the certificate comes from. None of these is fetched.
		{name: "cert on s3.amazonaws.com", msg: withCertURL("https://s3.amazonaws.com/sns-certs" + pem), want: sns.ErrCertURL},
		{name: "cert on a bucket under s3", msg: withCertURL("https://sns.s3.amazonaws.com" + pem), want: sns.ErrCertURL},
		{name: "look-alike host", msg: withCertURL("https://sns.us-east-1.amazonaws.com.evil.com" + pem), want: sns.ErrCertURL},
		{name: "dash instead of dot", msg: withCertURL("https://sns-us-east-1.amazonaws.com" + pem), want: sns.ErrCertURL},
		{name: "global sns host", msg: withCertURL("https://sns.amazonaws.com" + pem), want: sns.ErrCertURL},
		{name: "trailing dot", msg: withCertURL("https://sns.us-east-1.amazonaws.com." + pem), want: sns.ErrCertURL},
		{name: "another domain", msg: withCertURL("https://sns.us-east-1.amazonaws.co" + pem), want: sns.ErrCertURL},
		{name: "http", msg: withCertURL("http://sns.us-east-1.amazonaws.com" + pem), want: sns.ErrCertURL},
		{name: "userinfo trick", msg: withCertURL("https://sns.us-east-1.amazonaws.com@evil.com" + pem), want: sns.ErrCertURL},
		{name: "userinfo on the real host", msg: withCertURL("https://user:pass@sns.us-east-1.amazonaws.com" + pem), want: sns.ErrCertURL},
		{name: "backslash trick", msg: withCertURL(`https://sns.us-east-1.amazonaws.com\@evil.com` + pem), want: sns.ErrCertURL},
		{name: "encoded host", msg: withCertURL("https://sns.us-east-1.amazonaws.com%2eevil.com" + pem), want: sns.ErrCertURL},
		{name: "port 8443", msg: withCertURL("https://sns.us-east-1.amazonaws.com:8443" + pem), want: sns.ErrCertURL},
		{name: "empty port", msg: withCertURL("https://sns.us-east-1.amazonaws.com:" + pem), want: sns.ErrCertURL},
		{name: "query", msg: withCertURL("https://sns.us-east-1.amazonaws.com" + pem + "?redirect=https://evil.com"), want: sns.ErrCertURL},
		{name: "empty query", msg: withCertURL("https://sns.us-east-1.amazonaws.com" + pem + "?"), want: sns.ErrCertURL},
		{name: "fragment", msg: withCertURL("https://sns.us-east-1.amazonaws.com" + pem + "#x"), want: sns.ErrCertURL},
		{name: "not a .pem", msg: withCertURL("https://sns.us-east-1.amazonaws.com/SimpleNotificationService.crt"), want: sns.ErrCertURL},
		{name: "dot-dot path", msg: withCertURL("https://sns.us-east-1.amazonaws.com/a/.." + pem), want: sns.ErrCertURL},
		{name: "encoded path", msg: withCertURL("https://sns.us-east-1.amazonaws.com/SimpleNotificationService%2Dx.pem"), want: sns.ErrCertURL},
		{name: "relative", msg: withCertURL(pem), want: sns.ErrCertURL},
		{name: "empty", msg: withCertURL(""), want: sns.ErrCertURL},

		// The certificate itself.
		{name: "certificate from another CA", msg: func() *sns.Message { return otherCA.Sign(note(), "2") }, want: sns.ErrCertificate},
		{name: "certificate for another name", msg: func() *sns.Message { return otherCN.Sign(note(), "2") }, want: sns.ErrCertName},
		{name: "subject alt name wins over the common name", msg: func() *sns.Message { return otherSAN.Sign(note(), "2") }, want: sns.ErrCertName},
		{name: "wildcard certificate", msg: func() *sns.Message { return wildcard.Sign(note(), "2") }, want: sns.ErrCertName},
		{name: "look-alike certificate name", msg: func() *sns.Message { return lookalikeCN.Sign(note(), "1") }, want: sns.ErrCertName},
		{name: "expired certificate", msg: func() *sns.Message { return expired.Sign(note(), "2") }, want: sns.ErrCertificate},
		{name: "certificate not yet valid", msg: func() *sns.Message { return notYet.Sign(note(), "2") }, want: sns.ErrCertificate},
		{name: "system roots do not hold the test CA", msg: func() *sns.Message { return signed("2") },
			cfg: func(c *sns.Config) { c.Roots = nil }, want: sns.ErrCertificate},
		{name: "certificate not found", msg: withCertURL("https://" + snstest.Host + pem), want: sns.ErrCertFetch},

		// The signature.
		{name: "altered Message", msg: func() *sns.Message { m := signed("2"); m.Message += " "; return m }, want: sns.ErrSignature},
		{name: "altered Message v1", msg: func() *sns.Message { m := signed("1"); m.Message = `{"eventType":"Delivery"}`; return m }, want: sns.ErrSignature},
		{name: "altered TopicArn", msg: func() *sns.Message { m := signed("2"); m.TopicArn += "-other"; return m }, want: sns.ErrSignature},
		{name: "altered Subject", msg: func() *sns.Message { m := signed("2"); m.Subject = "Other"; return m }, want: sns.ErrSignature},
		{name: "removed Subject", msg: func() *sns.Message { m := signed("1"); m.Subject = ""; return m }, want: sns.ErrSignature},
		{name: "altered MessageId", msg: func() *sns.Message { m := signed("2"); m.MessageId = "x" + m.MessageId; return m }, want: sns.ErrSignature},
		{name: "altered SubscribeURL", msg: func() *sns.Message {
			m := srv.Sign(srv.SubscriptionConfirmation(topic), "2")
			m.SubscribeURL += "&Extra=1"
			return m
		}, want: sns.ErrSignature},
		{name: "Notification passed off as a confirmation", msg: func() *sns.Message {
			m := srv.Sign(srv.SubscriptionConfirmation(topic), "2")
			m.Type = sns.TypeUnsubscribeConfirmation
			return m
		}, want: sns.ErrSignature},
		{name: "signed with another key", msg: func() *sns.Message {
			m := otherKey.Sign(note(), "2")
			m.SigningCertURL = srv.CertURL()
			return m
		}, want: sns.ErrSignature},
		{name: "v1 signature labelled v2", msg: func() *sns.Message { m := signed("1"); m.SignatureVersion = "2"; return m }, want: sns.ErrSignature},
		{name: "signature not base64", msg: func() *sns.Message { m := signed("2"); m.Signature = "not base64!"; return m }, want: sns.ErrSignature},
		{name: "no signature", msg: func() *sns.Message { m := signed("2"); m.Signature = ""; return m }, want: sns.ErrSignature},
		{name: "SignatureVersion 3", msg: func() *sns.Message { return signed("3") }, want: sns.ErrSignatureVersion},
		{name: "no SignatureVersion", msg: func() *sns.Message { return signed("") }, want: sns.ErrSignatureVersion},

		// Time and shape.
		{name: "old timestamp", msg: func() *sns.Message {
			m := note()
			m.Timestamp = snstest.Timestamp(time.Now().Add(-2 * time.Hour))
			return srv.Sign(m, "2")
		}, want: sns.ErrExpired},
		{name: "timestamp past a shorter MaxAge", msg: func() *sns.Message {
			m := note()
			m.Timestamp = snstest.Timestamp(time.Now().Add(-10 * time.Minute))
			return srv.Sign(m, "2")
		}, cfg: func(c *sns.Config) { c.MaxAge = 5 * time.Minute }, want: sns.ErrExpired},
		{name: "timestamp in the future", msg: func() *sns.Message {
			m := note()
			m.Timestamp = snstest.Timestamp(time.Now().Add(10 * time.Minute))
			return srv.Sign(m, "2")
		}, want: sns.ErrExpired},
		{name: "timestamp not RFC 3339", msg: func() *sns.Message {
			m := note()
			m.Timestamp = time.Now().UTC().Format(time.RFC1123)
			return srv.Sign(m, "2")
		}, want: sns.ErrMalformed},
		{name: "no MessageId", msg: func() *sns.Message { m := note(); m.MessageId = ""; return srv.Sign(m, "2") }, want: sns.ErrMalformed},
		{name: "no TopicArn", msg: func() *sns.Message { m := note(); m.TopicArn = ""; return srv.Sign(m, "2") }, want: sns.ErrMalformed},
		{name: "confirmation without Token", msg: func() *sns.Message {
			m := srv.SubscriptionConfirmation(topic)
			m.Token = ""
			return srv.Sign(m, "2")
		}, want: sns.ErrMalformed},
		{name: "unknown Type", msg: func() *sns.Message { m := note(); m.Type = "Notice"; return srv.Sign(m, "2") }, want: sns.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []func(*sns.Config)
			if tt.cfg != nil {
				opts = append(opts, tt.cfg)
			}
			v := newVerifier(t, srv, opts...)
			err := v.Verify(context.Background(), tt.msg())
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	if got := srv.Refused(); len(got) != 0 {
		t.Errorf("dialed outside the test servers: %v", got)
	}
}

// TestVerifyFetchesNothingForBadURLs shows the URL checks run before any
// request: the server sees no fetch and nothing else is dialed.
func TestVerifyFetchesNothingForBadURLs(t *testing.T) {
	t.Parallel()
	srv, v := setup(t)
	for _, u := range []string{
		"https://s3.amazonaws.com/x.pem",
		"https://sns.us-east-1.amazonaws.com.evil.com/x.pem",
		"https://sns.us-east-1.amazonaws.com@evil.com/x.pem",
		"http://sns.us-east-1.amazonaws.com/x.pem",
		"https://sns.us-east-1.amazonaws.com:444/x.pem",
	} {
		m := srv.Sign(srv.Notification(topic, "", "{}"), "2")
		m.SigningCertURL = u
		if err := v.Verify(context.Background(), m); !errors.Is(err, sns.ErrCertURL) {
			t.Errorf("%s: Verify = %v, want ErrCertURL", u, err)
		}
	}
	// Old and unsigned messages are refused before their URL is used.
	old := srv.Notification(topic, "", "{}")
	old.Timestamp = snstest.Timestamp(time.Now().Add(-3 * time.Hour))
	srv.Sign(old, "2")
	if err := v.Verify(context.Background(), old); !errors.Is(err, sns.ErrExpired) {
		t.Errorf("old message: Verify = %v, want ErrExpired", err)
	}
	if n := srv.CertFetches(); n != 0 {
		t.Errorf("%d certificate fetches, want 0", n)
	}
	if got := srv.Refused(); len(got) != 0 {
		t.Errorf("dialed %v, want nothing", got)
	}
}

// TestCertURLHosts: the hosts SNS signs from pass the URL check, seen as
// the fetch the test transport refuses; their look-alikes do not.
func TestCertURLHosts(t *testing.T) {
	t.Parallel()
	srv, v := setup(t)
	for _, tt := range []struct {
		host string
		want error
	}{
		{"sns.eu-west-1.amazonaws.com", sns.ErrCertFetch},
		{"sns.us-gov-west-1.amazonaws.com", sns.ErrCertFetch},
		{"sns.ap-southeast-7.amazonaws.com", sns.ErrCertFetch},
		{"sns.cn-north-1.amazonaws.com.cn", sns.ErrCertFetch},
		{"sns.eu-west-1.amazonaws.com:443", sns.ErrCertFetch},
		{"sns.s3.amazonaws.com", sns.ErrCertURL},
		{"sns.s3-external-1.amazonaws.com", sns.ErrCertURL},
		{"sns.eu-west-1.amazonaws.com.cn.evil.com", sns.ErrCertURL},
		{"sns.eu-west-1.amazonaws.comm", sns.ErrCertURL},
		{"xsns.eu-west-1.amazonaws.com", sns.ErrCertURL},
		{"SNS.EU-WEST-1.AMAZONAWS.COM", sns.ErrCertURL},
		{"sns.eu-west-1.s3.amazonaws.com", sns.ErrCertURL},
		{"[::1]", sns.ErrCertURL},
		{"127.0.0.1", sns.ErrCertURL},
	} {
		m := srv.Sign(srv.Notification(topic, "", "{}"), "2")
		m.SigningCertURL = "https://" + tt.host + "/SimpleNotificationService-1.pem"
		if err := v.Verify(context.Background(), m); !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify = %v, want %v", tt.host, err, tt.want)
		}
	}
	want := []string{
		"sns.eu-west-1.amazonaws.com:443", "sns.us-gov-west-1.amazonaws.com:443", "sns.ap-southeast-7.amazonaws.com:443",
		"sns.cn-north-1.amazonaws.com.cn:443", "sns.eu-west-1.amazonaws.com:443",
	}
	if got := srv.Refused(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("dialed %v, want %v", got, want)
	}
}

func TestVerifyCachesCertificate(t *testing.T) {
	t.Parallel()
	srv, v := setup(t)

	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			m := srv.Sign(srv.Notification(topic, "", fmt.Sprintf(`{"n":%d}`, i)), []string{"1", "2"}[i%2])
			errs <- v.Verify(context.Background(), m)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Verify: %v", err)
		}
	}
	for range 10 {
		if err := v.Verify(context.Background(), srv.Sign(srv.SubscriptionConfirmation(topic), "2")); err != nil {
			t.Errorf("Verify: %v", err)
		}
	}
	if got := srv.CertFetches(); got != 1 {
		t.Errorf("certificate fetched %d times for %d messages, want 1", got, n+10)
	}
}

func TestVerifyCacheIsBounded(t *testing.T) {
	t.Parallel()
	srv := snstest.NewServer(t)
	a, b := srv.Signer(), srv.NewSigner(snstest.CertOptions{})
	for _, tt := range []struct {
		size, want int
	}{{size: 1, want: 3}, {size: 2, want: 2}} {
		before := srv.CertFetches()
		v := newVerifier(t, srv, func(c *sns.Config) { c.CertCacheSize = tt.size })
		for _, sg := range []*snstest.Signer{a, b, a} {
			if err := v.Verify(context.Background(), sg.Sign(srv.Notification(topic, "", "{}"), "2")); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		}
		if got := srv.CertFetches() - before; got != tt.want {
			t.Errorf("cache of %d: %d fetches for certificates a, b, a; want %d", tt.size, got, tt.want)
		}
	}
}

// TestVerifyRechecksCachedCertificate: a cached certificate is used only
// while it is valid; past its NotAfter it is fetched again and refused.
func TestVerifyRechecksCachedCertificate(t *testing.T) {
	t.Parallel()
	now := time.Now()
	var mu sync.Mutex
	clock := now
	srv, v := setup(t, func(c *sns.Config) {
		c.NowFunc = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	})
	if err := v.Verify(context.Background(), srv.Sign(srv.Notification(topic, "", "{}"), "2")); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	mu.Lock()
	clock = srv.Signer().Cert.NotAfter.Add(time.Minute)
	mu.Unlock()
	m := srv.Notification(topic, "", "{}")
	m.Timestamp = snstest.Timestamp(clock)
	if err := v.Verify(context.Background(), srv.Sign(m, "2")); !errors.Is(err, sns.ErrCertificate) {
		t.Errorf("Verify after the certificate expired = %v, want ErrCertificate", err)
	}
	if got := srv.CertFetches(); got != 2 {
		t.Errorf("certificate fetched %d times, want 2 (again once the cached one expired)", got)
	}
}

func TestConfirm(t *testing.T) {
	t.Parallel()
	srv, v := setup(t)
	m := srv.Sign(srv.SubscriptionConfirmation(topic), "2")
	if err := v.Confirm(context.Background(), m); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	got := srv.Confirmations()
	if len(got) != 1 || got[0].Get("Token") != m.Token || got[0].Get("TopicArn") != topic {
		t.Errorf("confirmations = %v, want one with the message's Token and TopicArn", got)
	}
}

func TestConfirmFetchesOnlySNS(t *testing.T) {
	t.Parallel()
	srv := snstest.NewServer(t)
	// Each SubscribeURL is signed, as a compromised or confused signer
	// would: Confirm must refuse it by its shape alone.
	withSubscribeURL := func(u string) func() *sns.Message {
		return func() *sns.Message {
			m := srv.SubscriptionConfirmation(topic)
			m.SubscribeURL = strings.ReplaceAll(u, "TOKEN", m.Token)
			return srv.Sign(m, "2")
		}
	}
	const q = "/?Action=ConfirmSubscription&TopicArn=" + topic + "&Token=TOKEN"
	tests := []struct {
		name string
		msg  func() *sns.Message
		want error
	}{
		{"another host", withSubscribeURL("https://evil.example.com" + q), sns.ErrSubscribeURL},
		{"s3", withSubscribeURL("https://s3.amazonaws.com" + q), sns.ErrSubscribeURL},
		{"look-alike host", withSubscribeURL("https://sns.us-east-1.amazonaws.com.evil.com" + q), sns.ErrSubscribeURL},
		{"userinfo trick", withSubscribeURL("https://sns.us-east-1.amazonaws.com@evil.com" + q), sns.ErrSubscribeURL},
		{"http", withSubscribeURL("http://sns.us-east-1.amazonaws.com" + q), sns.ErrSubscribeURL},
		{"port", withSubscribeURL("https://sns.us-east-1.amazonaws.com:8443" + q), sns.ErrSubscribeURL},
		{"another action", withSubscribeURL("https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&TopicArn=" + topic + "&Token=TOKEN"), sns.ErrSubscribeURL},
		{"another topic", withSubscribeURL("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topic + "-2&Token=TOKEN"), sns.ErrSubscribeURL},
		{"no token", withSubscribeURL("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topic), sns.ErrSubscribeURL},
		{"forged after signing", func() *sns.Message {
			m := srv.Sign(srv.SubscriptionConfirmation(topic), "2")
			m.SubscribeURL = "https://evil.example.com" + strings.ReplaceAll(q, "TOKEN", m.Token)
			return m
		}, sns.ErrSignature},
		{"a Notification", func() *sns.Message { return srv.Sign(srv.Notification(topic, "", "{}"), "2") }, sns.ErrMalformed},
		{"an UnsubscribeConfirmation", func() *sns.Message { return srv.Sign(srv.UnsubscribeConfirmation(topic), "2") }, sns.ErrMalformed},
		{"nothing", func() *sns.Message { return nil }, sns.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, srv)
			if err := v.Confirm(context.Background(), tt.msg()); !errors.Is(err, tt.want) {
				t.Fatalf("Confirm = %v, want %v", err, tt.want)
			}
		})
	}
	if got := srv.Confirmations(); len(got) != 0 {
		t.Errorf("confirmations = %v, want none", got)
	}
	if got := srv.Refused(); len(got) != 0 {
		t.Errorf("dialed %v, want nothing but the SNS host", got)
	}
}

func TestConfirmErrorHidesToken(t *testing.T) {
	t.Parallel()
	srv, v := setup(t)
	m := srv.SubscriptionConfirmation(topic)
	// The test server answers 404 off its root path, as SNS would.
	m.SubscribeURL = strings.Replace(m.SubscribeURL, "/?", "/missing?", 1)
	srv.Sign(m, "2")
	err := v.Confirm(context.Background(), m)
	if !errors.Is(err, sns.ErrConfirm) {
		t.Fatalf("Confirm = %v, want ErrConfirm", err)
	}
	if strings.Contains(err.Error(), m.Token) {
		t.Errorf("error %q shows the Token", err)
	}
	if !strings.Contains(err.Error(), "404") {
		t.Errorf("error %q does not give the status", err)
	}
}

func TestNewVerifierRejects(t *testing.T) {
	t.Parallel()
	for _, cfg := range []sns.Config{{MaxAge: -time.Second}, {CertCacheSize: -1}} {
		if _, err := sns.NewVerifier(cfg); err == nil {
			t.Errorf("NewVerifier(%+v) = nil error", cfg)
		}
	}
}
