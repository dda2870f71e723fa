// Package snstest produces SNS messages that sns.Verifier accepts the way
// it accepts Amazon's, for tests of code that receives them.
//
// A Server generates a test CA and an RSA signing certificate for
// sns.amazonaws.com issued by it, signs messages with it (SignatureVersion
// "1" and "2", over the same canonical string SNS signs), and serves the
// certificate and SNS's ConfirmSubscription action over TLS.
//
// The messages name https://sns.us-east-1.amazonaws.com/… URLs, exactly
// as SNS's do, so the Verifier's checks run unchanged; the local server is
// reached through the client Server.Client returns, whose Transport dials
// sns.us-east-1.amazonaws.com:443 to the TLS server (with a certificate
// for that name from the test CA, which the client trusts) and
// crt.snstest.amazontrust.com:80 to a plain server publishing issuing
// certificates. It refuses to dial anything else and records the attempt
// (Server.Refused), so a test can show that nothing else was fetched.
// Wire it up as
//
//	v, err := sns.NewVerifier(sns.Config{HTTPClient: srv.Client(), Roots: srv.Roots()})
package snstest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers/ses/sns"
)

const (
	// Region is the AWS region of every URL the Server hands out.
	Region = "us-east-1"
	// Host is the SNS host those URLs name; Server.Client routes it to
	// the TLS server.
	Host = "sns." + Region + ".amazonaws.com"
	// IssuerHost publishes the issuing certificates of signers made with
	// CertOptions.Intermediate, over http as Amazon's CAs do.
	IssuerHost = "crt.snstest.amazontrust.com"
	// CommonName is the name SNS's signing certificates carry in most
	// regions, and the default signer's.
	CommonName = "sns.amazonaws.com"

	// TimestampFormat is how SNS writes Message.Timestamp.
	TimestampFormat = "2006-01-02T15:04:05.000Z"
)

// Server signs SNS messages and serves what verifying them fetches. It is
// safe for concurrent use.
type Server struct {
	tb      testing.TB
	ca      *x509.Certificate
	caKey   crypto.Signer
	roots   *x509.CertPool
	tls     *httptest.Server
	issuers *httptest.Server
	signer  *Signer

	mu            sync.Mutex
	otherCA       *x509.Certificate
	otherCAKey    crypto.Signer
	files         map[string][]byte // signing certificates by path, on Host
	issuerFiles   map[string][]byte // DER issuers by path, on IssuerHost
	certFetches   map[string]int
	issuerFetches int
	confirmations []url.Values
	refused       []string
	seq           int
}

// NewServer starts a Server, with its default signer, and stops it when
// tb's test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		tb:          tb,
		files:       map[string][]byte{},
		issuerFiles: map[string][]byte{},
		certFetches: map[string]int{},
	}
	s.ca, s.caKey = newCA(tb, "snstest root CA", nil, nil)
	s.roots = x509.NewCertPool()
	s.roots.AddCert(s.ca)

	s.tls = httptest.NewUnstartedServer(http.HandlerFunc(s.serveSNS))
	s.tls.TLS = &tls.Config{Certificates: []tls.Certificate{s.serverCert(Host)}}
	s.tls.StartTLS()
	tb.Cleanup(s.tls.Close)
	s.issuers = httptest.NewServer(http.HandlerFunc(s.serveIssuer))
	tb.Cleanup(s.issuers.Close)

	s.signer = s.NewSigner(CertOptions{})
	return s
}

// Roots returns a pool holding the test CA: the Verifier's Config.Roots.
func (s *Server) Roots() *x509.CertPool { return s.roots.Clone() }

// CA returns the test CA's certificate.
func (s *Server) CA() *x509.Certificate { return s.ca }

// Client returns an HTTP client for the Verifier's Config.HTTPClient. Its
// Transport sends connections for Host:443 to the TLS server and
// IssuerHost:80 to the issuer server, trusts the test CA (which issued
// the TLS server's certificate for Host), uses no proxy, and refuses to
// dial any other address, recording it for Refused.
func (s *Server) Client() *http.Client {
	routes := map[string]string{
		net.JoinHostPort(Host, "443"):      s.tls.Listener.Addr().String(),
		net.JoinHostPort(IssuerHost, "80"): s.issuers.Listener.Addr().String(),
	}
	var d net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			to, ok := routes[strings.ToLower(addr)]
			if !ok {
				s.mu.Lock()
				s.refused = append(s.refused, addr)
				s.mu.Unlock()
				return nil, fmt.Errorf("snstest: refusing to dial %s: only %s:443 and %s:80 lead to the test servers", addr, Host, IssuerHost)
			}
			return d.DialContext(ctx, network, to)
		},
		TLSClientConfig: &tls.Config{RootCAs: s.roots},
	}
	s.tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// Signer returns the default signer: a certificate for CommonName issued
// by the test CA.
func (s *Server) Signer() *Signer { return s.signer }

// CertURL is the default signer's SigningCertURL.
func (s *Server) CertURL() string { return s.signer.CertURL }

// Sign signs m with the default signer; see Signer.Sign.
func (s *Server) Sign(m *sns.Message, version string) *sns.Message {
	return s.signer.Sign(m, version)
}

// CertFetches returns how many times signing certificates were fetched,
// all of them together.
func (s *Server) CertFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.certFetches {
		n += c
	}
	return n
}

// IssuerFetches returns how many times issuing certificates were fetched
// from IssuerHost.
func (s *Server) IssuerFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issuerFetches
}

// Confirmations returns the query of every ConfirmSubscription request
// the server answered, in order.
func (s *Server) Confirmations() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.confirmations...)
}

// Refused returns every address a client from Client tried to dial and
// was refused, host:port, in order.
func (s *Server) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refused...)
}

// Notification returns an unsigned Notification published now to
// topicARN, with an UnsubscribeURL on Host. subject may be empty.
func (s *Server) Notification(topicARN, subject, message string) *sns.Message {
	return &sns.Message{
		Type:           sns.TypeNotification,
		MessageId:      newID(),
		TopicArn:       topicARN,
		Subject:        subject,
		Message:        message,
		Timestamp:      Timestamp(time.Now()),
		UnsubscribeURL: "https://" + Host + "/?Action=Unsubscribe&SubscriptionArn=" + topicARN + ":" + newID(),
	}
}

// SubscriptionConfirmation returns an unsigned SubscriptionConfirmation
// sent now for topicARN, with a fresh Token and a SubscribeURL calling
// ConfirmSubscription on Host.
func (s *Server) SubscriptionConfirmation(topicARN string) *sns.Message {
	return s.confirmation(sns.TypeSubscriptionConfirmation, topicARN)
}

// UnsubscribeConfirmation is SubscriptionConfirmation's counterpart, sent
// after a subscription was deleted.
func (s *Server) UnsubscribeConfirmation(topicARN string) *sns.Message {
	return s.confirmation(sns.TypeUnsubscribeConfirmation, topicARN)
}

func (s *Server) confirmation(typ, topicARN string) *sns.Message {
	token := newID() + newID()
	verb := "subscribe to"
	if typ == sns.TypeUnsubscribeConfirmation {
		verb = "been unsubscribed from"
	}
	return &sns.Message{
		Type:      typ,
		MessageId: newID(),
		Token:     token,
		TopicArn:  topicARN,
		Message: "You have chosen to " + verb + " the topic " + topicARN +
			".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
		SubscribeURL: "https://" + Host + "/?Action=ConfirmSubscription&TopicArn=" + topicARN + "&Token=" + token,
		Timestamp:    Timestamp(time.Now()),
	}
}

// Body returns m as SNS would post it.
func Body(m *sns.Message) []byte {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(err) // a struct of strings always marshals
	}
	return b
}

// Timestamp formats t as SNS writes Message.Timestamp.
func Timestamp(t time.Time) string { return t.UTC().Format(TimestampFormat) }

// CertOptions shapes a signing certificate made by NewSigner. The zero
// value is a genuine-looking one: CommonName, issued by the test CA,
// valid from an hour ago for a day.
type CertOptions struct {
	// CommonName is the subject's common name. Defaults to CommonName.
	CommonName string
	// DNSNames are the subject alternative names. Nil means
	// {CommonName}, like SNS's certificates.
	DNSNames []string
	// NoDNSNames leaves the certificate without subject alternative
	// names, so only CommonName names it.
	NoDNSNames bool
	// Untrusted issues the certificate from another CA, with the same
	// name as the test CA but its own key, which Roots does not hold.
	Untrusted bool
	// Intermediate issues the certificate from an intermediate CA under
	// the test CA, published at IssuerHost and named in the
	// certificate's Authority Information Access but left out of the
	// certificate file, as SNS serves its own.
	Intermediate bool
	// NotBefore and NotAfter bound its validity. Zero means an hour ago
	// and a day from now.
	NotBefore, NotAfter time.Time
}

// Signer holds a signing certificate, served at CertURL, and its key.
type Signer struct {
	// CertURL is https://Host/SimpleNotificationService-<hex>.pem.
	CertURL string
	// Cert is the signing certificate.
	Cert *x509.Certificate
	key  *rsa.PrivateKey
}

// NewSigner makes a signing certificate with its own RSA key as o says,
// serves it at a new CertURL on Host, and returns its Signer.
func (s *Server) NewSigner(o CertOptions) *Signer {
	s.tb.Helper()
	if o.CommonName == "" {
		o.CommonName = CommonName
	}
	if o.DNSNames == nil && !o.NoDNSNames {
		o.DNSNames = []string{o.CommonName}
	}
	if o.NoDNSNames {
		o.DNSNames = nil
	}
	now := time.Now()
	if o.NotBefore.IsZero() {
		o.NotBefore = now.Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = now.Add(24 * time.Hour)
	}

	s.mu.Lock()
	s.seq++
	seq := s.seq
	if o.Untrusted && s.otherCA == nil {
		s.otherCA, s.otherCAKey = newCA(s.tb, s.ca.Subject.CommonName, nil, nil)
	}
	issuer, issuerKey := s.ca, s.caKey
	if o.Untrusted {
		issuer, issuerKey = s.otherCA, s.otherCAKey
	}
	s.mu.Unlock()

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		s.tb.Fatalf("snstest: generate key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(s.tb),
		Subject:      pkix.Name{CommonName: o.CommonName},
		DNSNames:     o.DNSNames,
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if o.Intermediate {
		inter, interKey := newCA(s.tb, fmt.Sprintf("snstest intermediate %d", seq), issuer, issuerKey)
		issuer, issuerKey = inter, interKey
		p := fmt.Sprintf("/snstest-%d.cer", seq)
		s.mu.Lock()
		s.issuerFiles[p] = inter.Raw
		s.mu.Unlock()
		tmpl.IssuingCertificateURL = []string{"http://" + IssuerHost + p}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, issuerKey)
	if err != nil {
		s.tb.Fatalf("snstest: create signing certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		s.tb.Fatalf("snstest: parse signing certificate: %v", err)
	}
	sum := sha256.Sum256(der)
	p := "/SimpleNotificationService-" + hex.EncodeToString(sum[:16]) + ".pem"
	s.mu.Lock()
	s.files[p] = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	s.mu.Unlock()
	return &Signer{CertURL: "https://" + Host + p, Cert: cert, key: key}
}

// Sign sets m's SignatureVersion to version and SigningCertURL to the
// signer's, then signs m as SNS does: SHA1withRSA for "1", SHA256withRSA
// for "2", over the canonical string of m's Type. Any other version is
// signed with SHA-256, so a test can show the Verifier refuses it. Change
// a signed field afterwards to forge a message. It returns m.
func (sg *Signer) Sign(m *sns.Message, version string) *sns.Message {
	m.SignatureVersion = version
	m.SigningCertURL = sg.CertURL
	var digest []byte
	hash := crypto.SHA256
	if version == "1" {
		hash = crypto.SHA1
		d := sha1.Sum(canonical(m))
		digest = d[:]
	} else {
		d := sha256.Sum256(canonical(m))
		digest = d[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, sg.key, hash, digest)
	if err != nil {
		panic(fmt.Sprintf("snstest: sign: %v", err)) // a 2048-bit key signs any digest
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
	return m
}

// canonical is SNS's string to sign, written here independently of the
// sns package so a mistake there does not hide behind the same mistake.
func canonical(m *sns.Message) []byte {
	var keys []string
	if m.Type == sns.TypeNotification {
		keys = []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	} else {
		keys = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	values := map[string]string{
		"Message": m.Message, "MessageId": m.MessageId, "Subject": m.Subject, "SubscribeURL": m.SubscribeURL,
		"Timestamp": m.Timestamp, "Token": m.Token, "TopicArn": m.TopicArn, "Type": m.Type,
	}
	var b strings.Builder
	for _, k := range keys {
		if k == "Subject" && m.Subject == "" {
			continue
		}
		b.WriteString(k + "\n" + values[k] + "\n")
	}
	return []byte(b.String())
}

// serveSNS answers GETs of signing certificates and of ConfirmSubscription.
func (s *Server) serveSNS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if body, ok := s.files[r.URL.Path]; ok && r.URL.RawQuery == "" {
		s.certFetches[r.URL.Path]++
		w.Header().Set("Content-Type", "application/x-x509-ca-cert")
		w.Write(body)
		return
	}
	q := r.URL.Query()
	if r.URL.Path == "/" && q.Get("Action") == "ConfirmSubscription" && q.Get("Token") != "" {
		s.confirmations = append(s.confirmations, q)
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <ConfirmSubscriptionResult><SubscriptionArn>%s:%s</SubscriptionArn></ConfirmSubscriptionResult>
  <ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>
</ConfirmSubscriptionResponse>`, q.Get("TopicArn"), newID(), newID())
		return
	}
	http.NotFound(w, r)
}

// serveIssuer answers GETs of issuing certificates, DER-encoded.
func (s *Server) serveIssuer(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, ok := s.issuerFiles[r.URL.Path]
	if !ok || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	s.issuerFetches++
	w.Header().Set("Content-Type", "application/pkix-cert")
	w.Write(body)
}

// serverCert returns a TLS certificate for host issued by the test CA.
func (s *Server) serverCert(host string) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		s.tb.Fatalf("snstest: generate key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(s.tb),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca, &key.PublicKey, s.caKey)
	if err != nil {
		s.tb.Fatalf("snstest: create TLS certificate: %v", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// newCA makes a CA certificate named name, self-signed when parent is nil.
func newCA(tb testing.TB, name string, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, crypto.Signer) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("snstest: generate CA key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(tb),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"invoiced tests"}},
		NotBefore:             time.Now().Add(-24 * time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		tb.Fatalf("snstest: create CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("snstest: parse CA certificate: %v", err)
	}
	return cert, key
}

func serial(tb testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		tb.Fatalf("snstest: serial number: %v", err)
	}
	return n
}

// newID returns a random identifier shaped like SNS's UUIDs.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
