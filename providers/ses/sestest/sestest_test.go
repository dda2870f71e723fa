package sestest

import (
	"net/http"
	"testing"
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
