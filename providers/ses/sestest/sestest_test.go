package sestest

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/providers/ses"
)

func TestStart(t *testing.T) {
	t.Parallel()
	endpoint := Start(t)

	if got := Emails(t, endpoint); len(got) != 0 {
		t.Fatalf("a new emulator stores %d messages, want none", len(got))
	}
	// The emulator answers an unsigned SES call with 403, as SES does; a
	// signed one is what the ses package's tests send.
	resp, err := http.Post(endpoint+"/v2/email/outbound-emails", "application/json", nil)
	if err != nil {
		t.Fatalf("POST outbound-emails: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned SendEmail: status %d, want 403", resp.StatusCode)
	}
	Clear(t, endpoint)
}

func TestStartTwice(t *testing.T) {
	t.Parallel()
	a, b := Start(t), Start(t)
	if a == b {
		t.Fatalf("two emulators share %s", a)
	}
}

// TestRequests records every SES call with the access key that signed it,
// the calls Start answers itself and those it passes to the emulator.
func TestRequests(t *testing.T) {
	t.Parallel()
	endpoint := Start(t, "unknown@acme.test")
	sender, err := ses.New(context.Background(), ses.Config{
		Region: "eu-west-1", AccessKeyID: "AKIASESTEST", SecretAccessKey: "secret", Endpoint: endpoint, Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := Requests(t, endpoint); len(got) != 0 {
		t.Fatalf("a new emulator has seen %v", got)
	}
	if ok, err := sender.IdentityVerified(context.Background(), "billing@acme.test"); err != nil || !ok {
		t.Fatalf("IdentityVerified = %v, %v", ok, err)
	}
	if _, err := sender.SendEmail(context.Background(), &providers.Email{
		MessageID: "m1@invoiced", FromEmail: "billing@acme.test", To: []string{"ana@example.com"}, Subject: "Hello", Text: "Hi",
	}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(endpoint+"/v2/email/outbound-emails", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	Emails(t, endpoint) // the emulator's own store is no SES call

	want := []Request{
		{Method: "GET", Path: "/v2/email/identities/billing@acme.test", AccessKeyID: "AKIASESTEST"},
		{Method: "POST", Path: "/v2/email/outbound-emails", AccessKeyID: "AKIASESTEST"},
		{Method: "POST", Path: "/v2/email/outbound-emails"},
	}
	if got := Requests(t, endpoint); !slices.Equal(got, want) {
		t.Fatalf("Requests = %+v, want %+v", got, want)
	}
}
