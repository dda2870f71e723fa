package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/redistest"
)

// TestReadyUnderMemoryPressure runs a real redis-server with a small
// maxmemory: full under noeviction, writes are refused, Ready says so and
// the refusal is Unavailable (a 503 for the API); freed, Ready is nil
// again; under an evicting policy Ready refuses, since keys would vanish.
func TestReadyUnderMemoryPressure(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "--maxmemory", "64mb", "--maxmemory-policy", "noeviction")
	rdb := srv.Client(t)
	s, err := New(rdb, Config{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready on an empty Redis: %v", err)
	}

	// Fill it past the limit: Redis takes a write while below it, and
	// lowering the limit under what is held puts it past at once.
	if err := rdb.Set(ctx, "filler", strings.Repeat("x", 3<<20), 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "2mb").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "small", "x", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "OOM ") {
		t.Fatalf("a write to a full Redis: %v, want an OOM refusal", err)
	}
	err = s.Ready(ctx)
	if !errors.Is(err, ErrWritesRefused) {
		t.Fatalf("Ready when full = %v, want ErrWritesRefused", err)
	}
	inv := draft("inv_full")
	_, err = s.SaveDraft(ctx, inv, time.Hour)
	if err == nil || !Unavailable(err) {
		t.Fatalf("SaveDraft when full = %v, want an Unavailable refusal", err)
	}

	if err := rdb.Del(ctx, "filler").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "16mb").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready once memory is freed: %v", err)
	}
	if _, err := s.SaveDraft(ctx, inv, time.Hour); err != nil {
		t.Fatalf("SaveDraft once memory is freed: %v", err)
	}

	if err := rdb.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(ctx); !errors.Is(err, ErrEvicting) || !strings.Contains(err.Error(), "allkeys-lru") {
		t.Fatalf("Ready under allkeys-lru = %v, want ErrEvicting naming the policy", err)
	}
	m, err := s.Memory(ctx)
	if err != nil || !m.Evicting() || m.Max != 16<<20 {
		t.Fatalf("Memory = %+v, %v", m, err)
	}
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	if err := rdb.Do(ctx, "NOSUCHCOMMAND").Err(); err == nil || Unavailable(err) {
		t.Errorf("an unknown command (%v) is a mistake, not unavailability", err)
	}
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.LPush(ctx, "k", "v").Err(); err == nil || Unavailable(err) {
		t.Errorf("WRONGTYPE (%v) is a mistake, not unavailability", err)
	}
	srv.Stop()
	if err := rdb.Ping(ctx).Err(); !Unavailable(err) {
		t.Errorf("a stopped Redis: %v, want Unavailable", err)
	}
}
