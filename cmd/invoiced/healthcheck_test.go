package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/redistest"
)

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if code == http.StatusFound {
				http.Redirect(w, r, "/healthz", code)
				return
			}
			w.WriteHeader(code)
		}
	}
	// A port nothing listens on: handed out once, below the ephemeral
	// range, so no other test's server can have taken it meanwhile.
	closed := "http://127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))

	tests := []struct {
		name    string
		handler http.HandlerFunc // nil: the URL is args[0] as given
		args    []string
		wantErr string // empty: success
	}{
		{name: "ok", handler: status(http.StatusOK)},
		{name: "no content is ok", handler: status(http.StatusNoContent)},
		{name: "not ready", handler: status(http.StatusServiceUnavailable), wantErr: "503 Service Unavailable"},
		{name: "redirect not followed", handler: status(http.StatusFound), wantErr: "302 Found"},
		{name: "nothing listening", args: []string{closed + "/readyz"}, wantErr: "connection refused"},
		{name: "no URL", args: []string{}, wantErr: "usage"},
		{name: "two URLs", args: []string{"http://a/", "http://b/"}, wantErr: "usage"},
		{name: "not http", args: []string{"ftp://127.0.0.1/readyz"}, wantErr: "not an http"},
		{name: "no host", args: []string{"/readyz"}, wantErr: "not an http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if tt.handler != nil {
				srv := httptest.NewServer(tt.handler)
				t.Cleanup(srv.Close)
				args = []string{srv.URL + "/readyz"}
			}
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"healthcheck"}, args...), &out)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("healthcheck: %v", err)
				}
				if !strings.Contains(out.String(), "answered 2") {
					t.Errorf("output %q does not report the answer", out.String())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("healthcheck %v: error %v, want one containing %q", args, err, tt.wantErr)
			}
		})
	}
}

// TestHealthcheckGivesUp checks that a server that never answers fails the
// check when its time is up instead of holding it.
func TestHealthcheckGivesUp(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := run(ctx, []string{"healthcheck", srv.URL + "/healthz"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("healthcheck of a silent server: %v, want a deadline error", err)
	}
	if took := time.Since(start); took > healthcheckTimeout {
		t.Errorf("healthcheck took %s", took)
	}
}
