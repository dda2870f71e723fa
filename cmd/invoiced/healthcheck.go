package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// healthcheckTimeout bounds one `invoiced healthcheck`, whatever the
// container runtime allows the check.
const healthcheckTimeout = 3 * time.Second

// runHealthcheck asks rawURL, an invoiced /healthz or /readyz, and fails
// unless it answers 2xx within healthcheckTimeout. It is the health check of
// container images that carry no shell and no curl. Redirects are not
// followed and proxy settings are ignored: a health endpoint answers itself.
func runHealthcheck(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: invoiced healthcheck URL, e.g. http://127.0.0.1:8080/readyz")
	}
	u, err := url.Parse(args[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("healthcheck: %q is not an http:// or https:// URL", args[0])
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	client := &http.Client{
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("healthcheck: %s answered %s", u.Redacted(), resp.Status)
	}
	fmt.Fprintf(stdout, "%s answered %s\n", u.Redacted(), resp.Status)
	return nil
}
