package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/store"
)

func TestTenantCreate(t *testing.T) {
	redis := redistest.Start(t)
	key := bytes.Repeat([]byte{5}, 32)
	t.Setenv("INVOICED_REDIS_URL", redis.URL())
	t.Setenv("INVOICED_SECRET_KEY", hex.EncodeToString(key))
	t.Setenv("INVOICED_LOG_LEVEL", "error")

	var out bytes.Buffer
	if err := run(context.Background(), []string{"tenant", "create", "--name", "ACME SRL"}, &out); err != nil {
		t.Fatal(err)
	}
	var got struct{ ID, Name, Token string }
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	st, err := store.New(redis.Client(t), store.Config{SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	ten, err := st.TenantByToken(context.Background(), got.Token)
	if err != nil || ten.ID != got.ID || ten.Name != "ACME SRL" {
		t.Fatalf("the printed token resolves to %+v, %v; want %s", ten, err, got.ID)
	}

	for _, args := range [][]string{{"tenant", "create"}, {"tenant"}, {"bogus"}, {}} {
		if err := run(context.Background(), args, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%v) succeeded", args)
		}
	}
	t.Setenv("INVOICED_REDIS_URL", "")
	if err := run(context.Background(), []string{"worker"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "INVOICED_REDIS_URL") {
		t.Errorf("worker without redis: %v", err)
	}
}
