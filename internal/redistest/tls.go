package redistest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TLSCA is a certificate authority for tests.
type TLSCA struct {
	// File is its certificate, PEM; Pool trusts it.
	File string
	Pool *x509.CertPool
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
}

// NewTLSCA makes a fresh certificate authority in a temporary folder.
func NewTLSCA(t testing.TB) *TLSCA {
	t.Helper()
	ca := &TLSCA{dir: t.TempDir(), Pool: x509.NewCertPool()}
	var err error
	if ca.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "redistest CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ca.key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	if ca.cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	ca.Pool.AddCert(ca.cert)
	ca.File = filepath.Join(ca.dir, "ca.pem")
	writePEM(t, ca.File, "CERTIFICATE", der)
	return ca
}

var serial atomic.Int64

// TLSFiles are a server certificate, its key and the CA that signed it,
// as PEM files.
type TLSFiles struct {
	CA, Cert, Key string
}

// Issue signs a server certificate for hosts (IP addresses or DNS names).
func (ca *TLSCA) Issue(t testing.TB, hosts ...string) TLSFiles {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n := serial.Add(1) + 1
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	f := TLSFiles{CA: ca.File, Cert: filepath.Join(ca.dir, fmt.Sprintf("cert-%d.pem", n)), Key: filepath.Join(ca.dir, fmt.Sprintf("key-%d.pem", n))}
	writePEM(t, f.Cert, "CERTIFICATE", der)
	writePEM(t, f.Key, "EC PRIVATE KEY", keyDER)
	return f
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// args are the redis-server arguments that serve TLS only, on port.
func (f TLSFiles) args(port int) []string {
	return []string{"--port", "0", "--tls-port", strconv.Itoa(port), "--tls-cert-file", f.Cert, "--tls-key-file", f.Key,
		"--tls-ca-cert-file", f.CA, "--tls-auth-clients", "no"}
}

// StartTLS runs a redis-server that speaks only TLS, with the certificate
// of files signed by ca (which must name 127.0.0.1, as Client checks), and
// stops it when the test ends. extra are more arguments.
func StartTLS(t testing.TB, ca *TLSCA, files TLSFiles, extra ...string) *Server {
	t.Helper()
	bin := RequireTool(t, "redis-server")
	port := FreePort(t)
	dir := t.TempDir()
	args := append([]string{"--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", "--protected-mode", "no"},
		files.args(port)...)
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir, bin: bin,
		args: append(args, extra...), tls: &tls.Config{RootCAs: ca.Pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}}
	s.start(t, bin)
	t.Cleanup(s.Stop)
	return s
}

// StartTLSSentinel runs a Redis Sentinel that speaks only TLS, with the
// certificate of files signed by ca, to its clients and to master, which
// it monitors under masterName, and returns its address (127.0.0.1:port).
func StartTLSSentinel(t testing.TB, ca *TLSCA, files TLSFiles, master *Server, masterName string) string {
	t.Helper()
	return runSentinel(t, master, masterName, "", ca, &files)
}

// pingTLS pings a server, over TLS when cfg is set.
func pingTLS(ctx context.Context, addr, password string, cfg *tls.Config) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr, Password: password, TLSConfig: cfg})
	defer rdb.Close()
	return rdb.Ping(ctx).Err()
}
