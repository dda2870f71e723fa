package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/internal/redistest"
)

// TestPersistence reads a real redis-server's persistence settings: only
// an append-only file fsynced before every answer (appendfsync always)
// keeps an acknowledged write through a machine crash.
func TestPersistence(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		args    []string
		durable bool
		reason  string // in CheckDurable's error
	}{
		{"always", []string{"--appendonly", "yes", "--appendfsync", "always"}, true, ""},
		{"everysec", []string{"--appendonly", "yes", "--appendfsync", "everysec"}, false, "appendfsync is everysec"},
		{"no fsync", []string{"--appendonly", "yes", "--appendfsync", "no"}, false, "appendfsync is no"},
		{"no AOF", []string{"--appendonly", "no", "--appendfsync", "always"}, false, "appendonly is no"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t, tt.args...)
			s, err := New(srv.Client(t), Config{SecretKey: make([]byte, 32)})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			p, err := s.Persistence(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if p.Durable() != tt.durable {
				t.Errorf("Persistence = %+v, Durable %v; want %v", p, p.Durable(), tt.durable)
			}
			err = s.CheckDurable(ctx)
			if tt.durable {
				if err != nil {
					t.Errorf("CheckDurable = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrNotDurable) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("CheckDurable = %v, want ErrNotDurable saying %q", err, tt.reason)
			}
		})
	}
}

// TestReadyRequiresDurable: with Config.RequireDurable, Ready refuses a
// Redis that does not fsync every write, and passes once it does.
func TestReadyRequiresDurable(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "everysec")
	rdb := srv.Client(t)
	ctx := context.Background()
	lax, err := New(rdb, Config{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	strict, err := New(rdb, Config{SecretKey: make([]byte, 32), RequireDurable: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := lax.Ready(ctx); err != nil {
		t.Errorf("Ready without RequireDurable under everysec = %v, want nil", err)
	}
	if err := strict.Ready(ctx); !errors.Is(err, ErrNotDurable) {
		t.Errorf("Ready with RequireDurable under everysec = %v, want ErrNotDurable", err)
	}
	if err := rdb.ConfigSet(ctx, "appendfsync", "always").Err(); err != nil {
		t.Fatal(err)
	}
	if err := strict.Ready(ctx); err != nil {
		t.Errorf("Ready with RequireDurable under always = %v, want nil", err)
	}
}
