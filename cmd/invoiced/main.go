// Command invoiced delivers invoices: one binary with the roles api,
// worker and scheduler for production, and admin commands. Built with
// -tags dev (as `make run` does), it also has dev: all of the roles in
// one process on an embedded Redis, which the production binary leaves
// out. The load test is its own command, cmd/invoiced-loadtest.
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
                                the outbox folder; only in a binary built with
                                -tags dev (make run)
  invoiced api                  the HTTP enqueue API
  invoiced worker               a delivery worker (run as many as you like)
  invoiced scheduler            periodic jobs (the finalize and event sweeps)
  invoiced tenant create --name NAME [--company-id UUID] [--ses-identities LIST]
                                create a tenant and print its API token once;
                                X-Company may send the company UUID; LIST
                                (billing@acme.com,acme.com) is what it may send
                                as with INVOICED_SES_SHARED_CREDENTIALS
  invoiced tenant update --id ID --ses-identities LIST
                                replace what a tenant may send as with
                                INVOICED_SES_SHARED_CREDENTIALS ("" for nothing)
  invoiced healthcheck URL      exit 0 if URL (e.g. http://127.0.0.1:8080/readyz)
                                answers 2xx: a health check for images without curl

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
	if wantsHelp(args[1:]) {
		return printCommandUsage(stdout, args[0])
	}
	switch args[0] {
	case "dev", "api", "worker", "scheduler":
		if len(args) > 1 {
			return fmt.Errorf("%s takes no arguments (configuration is read from INVOICED_* variables), got %q", args[0], args[1])
		}
		if args[0] == "dev" {
			return runDev(ctx, stdout)
		}
		return runRole(ctx, args[0])
	case "tenant":
		return runTenant(ctx, args[1:], stdout)
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], stdout)
	case "loadtest":
		return errors.New("the load test is its own command: go run ./cmd/invoiced-loadtest -h")
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stdout, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// wantsHelp reports whether a command's arguments ask for its help.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help", "help":
			return true
		}
	}
	return false
}

// printCommandUsage prints the lines of usage that describe command, or
// all of it for a command it does not know (which is then an error).
func printCommandUsage(w io.Writer, command string) error {
	var lines []string
	in := false
	for line := range strings.Lines(usage) {
		switch {
		case strings.HasPrefix(line, "  invoiced "+command+" ") || strings.HasPrefix(line, "  invoiced "+command+"\n"):
			in = true
		case !strings.HasPrefix(line, "    "):
			in = false
		}
		if in {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		fmt.Fprint(w, usage)
		return fmt.Errorf("unknown command %q", command)
	}
	fmt.Fprint(w, "Usage:\n"+strings.Join(lines, "")+"\nConfiguration is read from INVOICED_* environment variables; see the README.\n")
	return nil
}

const tenantUsage = "usage: invoiced tenant create --name NAME [--company-id UUID] [--ses-identities LIST]\n" +
	"       invoiced tenant update --id ID --ses-identities LIST"

func runTenant(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(tenantUsage)
	}
	switch args[0] {
	case "create":
		return runTenantCreate(ctx, args[1:], stdout)
	case "update":
		return runTenantUpdate(ctx, args[1:], stdout)
	}
	return errors.New(tenantUsage)
}

// sesIdentities reads a comma-separated --ses-identities list; "" is none.
func sesIdentities(list string) ([]string, error) {
	var ids []string
	if list != "" {
		ids = strings.Split(list, ",")
	}
	if _, err := store.NormalizeSESIdentities(ids); err != nil {
		return nil, fmt.Errorf("--ses-identities: %w", err)
	}
	return ids, nil
}

// tenantJSON is a tenant as the tenant commands print it; the token only
// when it was just made.
type tenantJSON struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	CompanyID     string   `json:"companyId"`
	SESIdentities []string `json:"sesIdentities"`
	Token         string   `json:"token,omitempty"`
}

func printTenant(stdout io.Writer, t store.Tenant, token string) error {
	return json.NewEncoder(stdout).Encode(tenantJSON{t.ID, t.Name, t.CompanyID, nonNil(t.SESIdentities), token})
}

func runTenantCreate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tenant create", flag.ContinueOnError)
	name := fs.String("name", "", "the tenant's name")
	companyID := fs.String("company-id", "", "the tenant's company UUID, which X-Company may send")
	sesList := fs.String("ses-identities", "", "comma-separated email addresses and domains the tenant may send as through SES with the deployment's AWS credentials")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("--name is required")
	}
	if _, err := store.NormalizeCompanyID(*companyID); err != nil {
		return fmt.Errorf("--company-id %s", err)
	}
	ids, err := sesIdentities(*sesList)
	if err != nil {
		return err
	}
	_, d, err := connectProduction("tenant")
	if err != nil {
		return err
	}
	defer d.Close()
	t, token, err := d.Store.CreateTenant(ctx, *name, store.WithCompanyID(*companyID), store.WithSESIdentities(ids))
	if err != nil {
		return err
	}
	return printTenant(stdout, t, token)
}

// runTenantUpdate changes an existing tenant; --ses-identities must be
// given, "" taking every identity back.
func runTenantUpdate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tenant update", flag.ContinueOnError)
	id := fs.String("id", "", "the tenant's id (ten_…)")
	sesList := fs.String("ses-identities", "", "comma-separated email addresses and domains the tenant may send as through SES with the deployment's AWS credentials; empty for none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "ses-identities" })
	if *id == "" || !given {
		return errors.New(tenantUsage)
	}
	ids, err := sesIdentities(*sesList)
	if err != nil {
		return err
	}
	_, d, err := connectProduction("tenant")
	if err != nil {
		return err
	}
	defer d.Close()
	t, err := d.Store.SetSESIdentities(ctx, *id, ids)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no tenant %s", *id)
	}
	if err != nil {
		return err
	}
	return printTenant(stdout, t, "")
}

// nonNil prints a missing list as [].
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
