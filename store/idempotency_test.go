package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

// TestIdempotencyReplay: a finished request's status and body come back
// byte for byte, whatever the hash looks like, and a record written as
// JSON (as records were before they were kept compact) still replays and
// still tells another request apart.
func TestIdempotencyReplay(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	sum := sha256.Sum256([]byte("POST /api/v1/invoices\n{}"))
	sha := hex.EncodeToString(sum[:])
	big := `{"success":true,"data":{"id":"inv_1","lines":[` + strings.Repeat(`{"description":"Consulting","quantity":"10"},`, 40) + `{}]}}`
	tests := []struct {
		name, hash string
		status     int
		body       string
	}{
		{"sha256", sha, 201, big},
		{"short hash", "h1", 202, `{"ok":1}`},
		{"upper-case hex", strings.ToUpper(sha), 200, big},
		{"empty body", sha, 204, ""},
		{"409", sha, 409, `{"success":false,"error":{"code":"conflict","message":"é ✓"}}`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "k" + string(rune('a'+i))
			if prev, err := s.BeginIdempotent(ctx, "ten_a", key, tt.hash); err != nil || prev != nil {
				t.Fatalf("Begin = %v, %v", prev, err)
			}
			if err := s.FinishIdempotent(ctx, "ten_a", key, tt.hash, tt.status, []byte(tt.body)); err != nil {
				t.Fatal(err)
			}
			prev, err := s.BeginIdempotent(ctx, "ten_a", key, tt.hash)
			if err != nil || prev == nil || !prev.Done || prev.StatusCode != tt.status || string(prev.Body) != tt.body || prev.RequestHash != tt.hash {
				t.Fatalf("replay = %+v, %v; want %d %q", prev, err, tt.status, tt.body)
			}
			if _, err := s.BeginIdempotent(ctx, "ten_a", key, tt.hash+"0"); err != ErrIdempotencyMismatch {
				t.Fatalf("another request: %v, want ErrIdempotencyMismatch", err)
			}
		})
	}
	old, _ := json.Marshal(IdempotentResponse{RequestHash: sha, Done: true, StatusCode: 201, Body: []byte(big)})
	if err := s.rdb.Set(ctx, idempotencyKey("ten_a", "legacy"), old, IdempotencyTTL).Err(); err != nil {
		t.Fatal(err)
	}
	prev, err := s.BeginIdempotent(ctx, "ten_a", "legacy", sha)
	if err != nil || prev == nil || prev.StatusCode != 201 || string(prev.Body) != big {
		t.Fatalf("a JSON record's replay = %+v, %v", prev, err)
	}
	if _, err := s.BeginIdempotent(ctx, "ten_a", "legacy", "h2"); err != ErrIdempotencyMismatch {
		t.Fatalf("another request on a JSON record: %v, want ErrIdempotencyMismatch", err)
	}
}
