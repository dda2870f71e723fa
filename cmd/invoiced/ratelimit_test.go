package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	// The stamps are taken after the provider call, so they carry its
	// jitter, which a loaded machine stretches to tens of milliseconds:
	// the window is a second less that much.
	const jitter = 100 * time.Millisecond
	peak := 0
	for i := range sent {
		j := i
		for j < len(sent) && sent[j].Sub(sent[i]) < time.Second-jitter {
			j++
		}
		peak = max(peak, j-i)
	}
	span := sent[len(sent)-1].Sub(sent[0])
	rate := float64(n-1) / span.Seconds()
	t.Logf("%d sends through 3 workers at a limit of %d/s: peak %d in any %v window, %.2f/s overall", n, limit, peak, time.Second-jitter, rate)
	if peak > limit {
		t.Fatalf("peak of %d sends in %v, over the limit of %d a second", peak, time.Second-jitter, limit)
	}
	if rate < limit*0.6 {
		t.Errorf("overall rate %.2f/s: the limit is held far below %d/s", rate, limit)
	}
}

// TestHourlyEmailLimitAcrossReplicas runs two API processes under an
// operator ceiling of 12 emails an hour and sends to one tenant through
// both at once: together they accept exactly what the ceiling allows,
// counting every recipient, and a tenant may not set more.
func TestHourlyEmailLimitAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	const ceiling = 12
	redis := redistest.Start(t)
	f := newFleet(t, redis)
	f.env = append(f.env, fmt.Sprintf("INVOICED_MAX_EMAILS_PER_HOUR=%d", ceiling))
	f.start("api", "api")
	second := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	f.start("api", "api-2", "INVOICED_ADDR="+second)
	f.waitReady("http://" + second)
	status, body := f.post("/admin/v1/tenants", "fleet-admin", map[string]any{"name": "Limit SRL"})
	if status != http.StatusCreated {
		t.Fatalf("create tenant: %d %v", status, body)
	}
	token := body["data"].(map[string]any)["token"].(string)

	settings := func(perHour int) (int, map[string]any) {
		b, _ := json.Marshal(map[string]any{"email": map[string]any{"provider": "outbox"},
			"defaults": map[string]any{"emailsPerHour": perHour}})
		req, _ := http.NewRequest("PUT", f.url+"/api/v1/settings", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if status, body := settings(ceiling + 1); status != http.StatusBadRequest ||
		!strings.Contains(fmt.Sprint(body["error"].(map[string]any)["fields"]), "defaults.emailsPerHour") {
		t.Fatalf("emailsPerHour over the ceiling: %d %v", status, body)
	}
	// The built-in 100 an hour is held to the ceiling too.
	if status, body := settings(0); status != http.StatusOK {
		t.Fatalf("settings: %d %v", status, body)
	}
	inv := map[string]any{"id": "inv_1", "number": "N-1", "currency": "EUR", "autoAdvance": false,
		"customer": map[string]any{"name": "C", "email": "c@example.com"},
		"lines":    []any{map[string]any{"description": "x", "quantity": "1", "unitPrice": "1", "taxRate": "0"}}}
	if s, b := f.post("/api/v1/invoices", token, inv); s != http.StatusCreated {
		t.Fatalf("create: %d %v", s, b)
	}

	// 20 sends of 2 recipients each, half through each replica.
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := f.url
			if i%2 == 1 {
				base = "http://" + second
			}
			b, _ := json.Marshal(map[string]any{"cc": []string{"copy@example.com"}})
			req, _ := http.NewRequest("POST", base+"/api/v1/invoices/inv_1/send", bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[http.StatusAccepted] != ceiling/2 || statuses[http.StatusTooManyRequests] != 20-ceiling/2 {
		t.Fatalf("answers by status = %v; want %d accepted (2 recipients each of %d an hour), the rest 429", statuses, ceiling/2, ceiling)
	}
}
