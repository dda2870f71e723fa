// Command invoiced delivers invoices: one binary with the roles api,
// worker and scheduler for production, dev for all of them in one process
// on an embedded Redis, and admin commands.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	// Reminder time zones work in images without a zoneinfo database
	// (distroless has none).
	_ "time/tzdata"

	"github.com/invoiced/invoiced/store"
)

const usage = `invoiced delivers invoices for billing systems.

Usage:
  invoiced dev                  API + worker + scheduler in one process; embedded
                                Redis unless INVOICED_REDIS_URL is set; email to
                                the outbox folder
  invoiced api                  the HTTP enqueue API
  invoiced worker               a delivery worker (run as many as you like)
  invoiced scheduler            periodic jobs (the finalize and event sweeps)
  invoiced tenant create --name NAME [--company-id UUID] [--ses-identities LIST]
                                create a tenant and print its API token once;
                                X-Company may send the company UUID; LIST
                                (billing@acme.com,acme.com) is what it may send
                                as with INVOICED_SES_SHARED_CREDENTIALS
  invoiced healthcheck URL      exit 0 if URL (e.g. http://127.0.0.1:8080/readyz)
                                answers 2xx: a health check for images without curl
  invoiced loadtest [flags]     run api, workers, Redis and an SMTP sink on this
                                machine, push invoices through them, and report
                                latency, throughput and memory (-h for more)

Configuration is read from INVOICED_* environment variables; see the README.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "invoiced:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "dev":
		return runDev(ctx, stdout)
	case "api", "worker", "scheduler":
		return runRole(ctx, args[0])
	case "tenant":
		return runTenant(ctx, args[1:], stdout)
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], stdout)
	case "loadtest":
		return runLoadtest(ctx, args[1:], stdout, os.Stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stdout, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func runTenant(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: invoiced tenant create --name NAME [--company-id UUID] [--ses-identities LIST]")
	}
	fs := flag.NewFlagSet("tenant create", flag.ContinueOnError)
	name := fs.String("name", "", "the tenant's name")
	companyID := fs.String("company-id", "", "the tenant's company UUID, which X-Company may send")
	sesList := fs.String("ses-identities", "", "comma-separated email addresses and domains the tenant may send as through SES with the deployment's AWS credentials")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("--name is required")
	}
	if _, err := store.NormalizeCompanyID(*companyID); err != nil {
		return fmt.Errorf("--company-id %s", err)
	}
	var sesIdentities []string
	if *sesList != "" {
		sesIdentities = strings.Split(*sesList, ",")
	}
	if _, err := store.NormalizeSESIdentities(sesIdentities); err != nil {
		return fmt.Errorf("--ses-identities: %w", err)
	}
	_, d, err := connectProduction("tenant")
	if err != nil {
		return err
	}
	defer d.Close()
	t, token, err := d.Store.CreateTenant(ctx, *name, store.WithCompanyID(*companyID), store.WithSESIdentities(sesIdentities))
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(struct {
		ID            string   `json:"id"`
		Name          string   `json:"name"`
		CompanyID     string   `json:"companyId"`
		SESIdentities []string `json:"sesIdentities"`
		Token         string   `json:"token"`
	}{t.ID, t.Name, t.CompanyID, nonNil(t.SESIdentities), token})
}

// nonNil prints a missing list as [].
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
