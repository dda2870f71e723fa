package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"slices"
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

	// --company-id stores the company UUID X-Company may send, in its
	// canonical lower-case form; anything but a UUID is refused.
	out.Reset()
	if err := run(context.Background(), []string{"tenant", "create", "--name", "Storno SRL", "--company-id", "550E8400-E29B-41D4-A716-446655440000"}, &out); err != nil {
		t.Fatal(err)
	}
	var withCompany struct{ ID, CompanyID, Token string }
	if err := json.Unmarshal(out.Bytes(), &withCompany); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	ten, err = st.TenantByToken(context.Background(), withCompany.Token)
	if err != nil || ten.CompanyID != "550e8400-e29b-41d4-a716-446655440000" || withCompany.CompanyID != ten.CompanyID {
		t.Fatalf("the tenant created with --company-id is %+v, %v (printed %q)", ten, err, withCompany.CompanyID)
	}
	if err := run(context.Background(), []string{"tenant", "create", "--name", "X", "--company-id", "ACME"}, &bytes.Buffer{}); err == nil {
		t.Error("--company-id ACME was accepted")
	}

	// --ses-identities grants the identities the tenant may send as with
	// the deployment's AWS credentials; anything but addresses and
	// domains is refused.
	out.Reset()
	if err := run(context.Background(), []string{"tenant", "create", "--name", "Acme SES", "--ses-identities", "Billing@acme.example, acme.example"}, &out); err != nil {
		t.Fatal(err)
	}
	var withSES struct {
		ID, Token     string
		SESIdentities []string
	}
	if err := json.Unmarshal(out.Bytes(), &withSES); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	ten, err = st.TenantByToken(context.Background(), withSES.Token)
	if want := []string{"billing@acme.example", "acme.example"}; err != nil || !slices.Equal(ten.SESIdentities, want) || !slices.Equal(withSES.SESIdentities, want) {
		t.Fatalf("the tenant created with --ses-identities is %+v, %v (printed %q), want %q", ten, err, withSES.SESIdentities, want)
	}
	if err := run(context.Background(), []string{"tenant", "create", "--name", "X", "--ses-identities", "acme"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "--ses-identities") {
		t.Errorf("--ses-identities acme: err = %v", err)
	}

	// tenant update --ses-identities replaces an existing tenant's grant;
	// an empty list takes it back.
	out.Reset()
	if err := run(context.Background(), []string{"tenant", "update", "--id", withSES.ID, "--ses-identities", "b.example"}, &out); err != nil {
		t.Fatal(err)
	}
	if ten, err = st.TenantByToken(context.Background(), withSES.Token); err != nil || !slices.Equal(ten.SESIdentities, []string{"b.example"}) ||
		!strings.Contains(out.String(), `"sesIdentities":["b.example"]`) || strings.Contains(out.String(), withSES.Token) {
		t.Fatalf("after tenant update the tenant is %+v, %v; printed %q", ten, err, out.String())
	}
	if err := run(context.Background(), []string{"tenant", "update", "--id", withSES.ID, "--ses-identities", ""}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if ten, _ = st.TenantByToken(context.Background(), withSES.Token); len(ten.SESIdentities) != 0 {
		t.Fatalf("--ses-identities \"\" left %q", ten.SESIdentities)
	}
	for _, args := range [][]string{
		{"tenant", "update", "--id", withSES.ID},
		{"tenant", "update", "--ses-identities", "b.example"},
		{"tenant", "update", "--id", "ten_missing", "--ses-identities", "b.example"},
		{"tenant", "update", "--id", withSES.ID, "--ses-identities", "*.b.example"},
	} {
		if err := run(context.Background(), args, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
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
