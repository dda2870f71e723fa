package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/redistest"
)

// devOnly are the packages only `invoiced dev` and the load test use: the
// embedded Redis (and its Lua interpreter), the load generator, and the
// SMTP server the load test delivers to.
var devOnly = []string{
	"github.com/alicebob/miniredis/v2",
	"github.com/yuin/gopher-lua",
	"github.com/invoiced/invoiced/internal/loadtest",
	"github.com/emersion/go-smtp",
}

// deps lists the packages a build of this command with flags links.
func deps(t *testing.T, flags ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append(append([]string{"list", "-deps"}, flags...), ".")...).Output()
	if err != nil {
		t.Fatalf("go list -deps %v: %v", flags, err)
	}
	return strings.Fields(string(out))
}

// TestProductionBinaryLeavesOutDevParts holds the production binary (`make
// build`, no build tags) free of the dev-only packages, and checks that
// the dev binary (-tags dev, `make run`) is where the embedded Redis went,
// so the list above cannot go stale unnoticed.
func TestProductionBinaryLeavesOutDevParts(t *testing.T) {
	t.Parallel()
	prod := deps(t)
	for _, p := range devOnly {
		if slices.Contains(prod, p) {
			t.Errorf("the production binary links %s", p)
		}
	}
	if !slices.Contains(prod, "github.com/invoiced/invoiced/internal/wiring") {
		t.Fatalf("go list -deps . does not list internal/wiring; the listing is wrong:\n%s", strings.Join(prod, "\n"))
	}
	if dev := deps(t, "-tags", "dev"); !slices.Contains(dev, "github.com/alicebob/miniredis/v2") {
		t.Errorf("the dev binary does not link miniredis: has the embedded Redis moved?")
	}
}

// TestProductionBinarySaysHowToGetDev asks the production binary for
// `invoiced dev` and `invoiced loadtest`: each fails at once, binds
// nothing, and says how to get what was asked for.
func TestProductionBinarySaysHowToGetDev(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildBinary(t)
	addr := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	for _, c := range []struct {
		command string
		want    []string
	}{
		{"dev", []string{"make run", "-tags dev"}},
		{"loadtest", []string{"cmd/invoiced-loadtest"}},
	} {
		t.Run(c.command, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, c.command)
			cmd.Dir = t.TempDir()
			cmd.Env = append(os.Environ(), "INVOICED_ADDR="+addr, "INVOICED_REDIS_URL=")
			out, err := cmd.CombinedOutput()
			if err == nil || ctx.Err() != nil {
				t.Fatalf("invoiced %s: %v (timed out: %v)\n%s", c.command, err, ctx.Err() != nil, out)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("invoiced %s says %q; want it to mention %q", c.command, out, w)
				}
			}
			if _, err := os.Stat(filepath.Join(cmd.Dir, "var")); err == nil {
				t.Errorf("invoiced %s wrote var/", c.command)
			}
		})
	}
}
