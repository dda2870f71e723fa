package stripetest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartAnswersStripeRequests(t *testing.T) {
	t.Parallel()
	// Two at once: each must get its own ports.
	for _, name := range []string{"first", "second"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			base := Start(t)
			u, err := url.Parse(base)
			if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" {
				t.Fatalf("Start = %q, want http://127.0.0.1:<port>", base)
			}

			form := url.Values{"currency": {"eur"}, "unit_amount": {"113050"}, "product_data[name]": {"Invoice INV-1"}}
			req, _ := http.NewRequest(http.MethodPost, base+"/v1/prices", strings.NewReader(form.Encode()))
			req.Header.Set("Authorization", "Bearer "+TestKey)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Idempotency-Key", "key-1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var price struct {
				Object     string `json:"object"`
				UnitAmount int64  `json:"unit_amount"`
			}
			if err := json.Unmarshal(body, &price); err != nil || resp.StatusCode != http.StatusOK ||
				price.Object != "price" || price.UnitAmount != 113050 {
				t.Errorf("POST /v1/prices = %d %s, want a price of 113050", resp.StatusCode, body)
			}
			if got := resp.Header.Get("Idempotency-Key"); got != "key-1" {
				t.Errorf("Idempotency-Key reflected as %q, want key-1", got)
			}

			req, _ = http.NewRequest(http.MethodGet, base+"/v1/prices", nil)
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET without a key = %d, want 401", resp.StatusCode)
			}
		})
	}
}

func TestFindLooksInGOBIN(t *testing.T) {
	if path, err := exec.LookPath(binary); err == nil {
		t.Skipf("stripe-mock is on PATH (%s), which Find prefers", path)
	}
	dir := t.TempDir()
	t.Setenv("GOBIN", dir)
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Find with an empty GOBIN: error %v, want one naming %s", err, dir)
	}
	want := filepath.Join(dir, binary)
	if err := os.WriteFile(want, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := Find(); err != nil || got != want {
		t.Errorf("Find = %q, %v; want %q", got, err, want)
	}
}
