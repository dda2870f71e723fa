package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/store"
)

// TestFleetWideRate runs three worker processes against one Redis with a
// tenant limited to maxPerSecond emails per second: however the workers
// share the deliveries, no one-second window holds more sends than that.
func TestFleetWideRate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	const limit, n = 5, 40
	redis := redistest.Start(t)
	f := newFleet(t, redis)
	f.start("api", "api")
	for i := range 3 {
		f.start("worker", fmt.Sprintf("worker-%d", i+1))
	}
	f.waitReady()
	status, body := f.post("/admin/v1/tenants", "fleet-admin", map[string]any{"name": "Rate SRL"})
	if status != http.StatusCreated {
		t.Fatalf("create tenant: %d %v", status, body)
	}
	token := body["data"].(map[string]any)["token"].(string)
	f.put("/api/v1/settings", token, map[string]any{"email": map[string]any{"provider": "outbox", "maxPerSecond": limit}})

	for i := range n {
		id := fmt.Sprintf("inv_%02d", i)
		inv := map[string]any{"id": id, "number": id, "currency": "EUR", "autoAdvance": false,
			"customer": map[string]any{"name": "C", "email": "c@example.com"},
			"lines":    []any{map[string]any{"description": "x", "quantity": "1", "unitPrice": "1", "taxRate": "0"}}}
		if s, b := f.post("/api/v1/invoices", token, inv); s != http.StatusCreated {
			t.Fatalf("create: %d %v", s, b)
		}
		if s, b := f.post("/api/v1/invoices/"+id+"/send", token, nil); s != http.StatusAccepted {
			t.Fatalf("send: %d %v", s, b)
		}
	}

	st, err := store.New(redis.Client(t), store.Config{SecretKey: bytes.Repeat([]byte{3}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ten, err := st.TenantByToken(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	var sent []time.Time
	deadline := time.Now().Add(2 * time.Minute)
	for len(sent) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d sent", len(sent), n)
		}
		time.Sleep(500 * time.Millisecond)
		sent = sent[:0]
		for i := range n {
			ds, err := st.InvoiceDeliveries(ctx, ten.ID, fmt.Sprintf("inv_%02d", i))
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) == 1 && ds[0].Status == store.DeliverySent {
				// The successful attempt is stamped right after the
				// provider call.
				sent = append(sent, ds[0].Attempts[len(ds[0].Attempts)-1].At)
			}
		}
	}
	slices.SortFunc(sent, func(a, b time.Time) int { return a.Compare(b) })
	peak := 0
	for i := range sent {
		j := i
		for j < len(sent) && sent[j].Sub(sent[i]) < time.Second {
			j++
		}
		peak = max(peak, j-i)
	}
	span := sent[len(sent)-1].Sub(sent[0])
	rate := float64(n-1) / span.Seconds()
	t.Logf("%d sends through 3 workers at a limit of %d/s: peak %d in any 1 s window, %.2f/s overall", n, limit, peak, rate)
	if peak > limit {
		t.Fatalf("peak of %d sends in one second, over the limit of %d", peak, limit)
	}
	if rate < limit*0.6 {
		t.Errorf("overall rate %.2f/s: the limit is held far below %d/s", rate, limit)
	}
}
