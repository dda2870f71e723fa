package deploy

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// runtimeVars are variables for the Go runtime rather than for invoiced.
var runtimeVars = map[string]bool{"GOMEMLIMIT": true}

// configVars returns the INVOICED_ variables the binary reads, each of which
// must also be in the README's configuration table.
func configVars(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../cmd/invoiced/*.go")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	re := regexp.MustCompile(`"(INVOICED_[A-Z0-9_]+)"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			vars[m[1]] = true
		}
	}
	if len(vars) < 10 {
		t.Fatalf("found only %d variables in cmd/invoiced; the pattern is stale", len(vars))
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for v := range vars {
		if !bytes.Contains(readme, []byte("| `"+v+"` |")) {
			t.Errorf("%s is read by cmd/invoiced but is not a row of the README's configuration table", v)
		}
	}
	return vars
}

// checkVar fails t unless name is a variable invoiced reads, or a Go
// runtime variable where runtimeOK.
func checkVar(t *testing.T, known map[string]bool, where, name string, runtimeOK bool) {
	t.Helper()
	switch {
	case known[name]:
	case runtimeOK && runtimeVars[name]:
	case strings.HasPrefix(name, "INVOICED_"):
		t.Errorf("%s sets %s, which invoiced does not read (a typo, or a variable missing from config.go and the README)", where, name)
	default:
		t.Errorf("%s sets %s, which is neither an invoiced variable nor one of %v", where, name, keys(runtimeVars))
	}
}

// defaultShutdownTimeout is INVOICED_SHUTDOWN_TIMEOUT's default, read from
// the README's table.
func defaultShutdownTimeout(t *testing.T) time.Duration {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("\\| `INVOICED_SHUTDOWN_TIMEOUT` \\| `([^`]+)` \\|").FindSubmatch(readme)
	if m == nil {
		t.Fatal("the README's table has no default for INVOICED_SHUTDOWN_TIMEOUT")
	}
	d, err := time.ParseDuration(string(m[1]))
	if err != nil {
		t.Fatalf("README's INVOICED_SHUTDOWN_TIMEOUT default: %v", err)
	}
	return d
}

// decodeYAML reads every document of a YAML file into nodes.
func decodeYAML(t *testing.T, path string) []*yaml.Node {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []*yaml.Node
	dec := yaml.NewDecoder(f)
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(n.Content) > 0 && n.Content[0].Kind != 0 {
			docs = append(docs, &n)
		}
	}
}

// parseKeyLike reports whether s would be accepted as INVOICED_SECRET_KEY:
// 32 bytes as hex or base64.
func parseKeyLike(s string) bool {
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return true
		}
	}
	return false
}

// isPlaceholder reports whether a secret's example value is visibly not a
// real one.
func isPlaceholder(v string) bool {
	return v == "" || strings.Contains(v, "REPLACE_ME")
}

// quantity reads a Kubernetes resource quantity ("250m", "1", "512Mi") in
// base units: cores or bytes.
func quantity(t *testing.T, s string) float64 {
	t.Helper()
	suffixes := []struct {
		s string
		m float64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"m", 1e-3}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}}
	mult := 1.0
	for _, sf := range suffixes {
		if strings.HasSuffix(s, sf.s) {
			s, mult = strings.TrimSuffix(s, sf.s), sf.m
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		t.Errorf("resource quantity %q is not a positive quantity", s)
		return 0
	}
	return f * mult
}

// goMemLimit reads GOMEMLIMIT ("450MiB") in bytes.
func goMemLimit(t *testing.T, s string) float64 {
	t.Helper()
	for _, sf := range []struct {
		s string
		m float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if n, ok := strings.CutSuffix(s, sf.s); ok {
			f, err := strconv.ParseFloat(n, 64)
			if err == nil && f > 0 {
				return f * sf.m
			}
		}
	}
	t.Errorf("GOMEMLIMIT=%q: want a size like 450MiB", s)
	return 0
}

// listenPort is the port of a listen address such as ":9090" or
// "0.0.0.0:8080".
func listenPort(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Errorf("listen address %q: %v", addr, err)
		return 0
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Errorf("listen address %q: port %q", addr, p)
	}
	return n
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestNoSecretsCommitted looks through every file here for something that
// would work as a key or credential.
func TestNoSecretsCommitted(t *testing.T) {
	t.Parallel()
	// Image digests (sha256:…) are long hex too, and welcome.
	hexKey := regexp.MustCompile(`(sha256:)?\b[0-9a-fA-F]{48,}\b`)
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		// .env is the operator's filled-in copy of .env.example, ignored by git.
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".go") || path == ".env" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range hexKey.FindAll(b, -1) {
			if !bytes.HasPrefix(m, []byte("sha256:")) {
				t.Errorf("%s holds %.8s…, which looks like a real key", path, m)
			}
		}
		if bytes.Contains(b, []byte("PRIVATE KEY-----")) {
			t.Errorf("%s holds a private key", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
