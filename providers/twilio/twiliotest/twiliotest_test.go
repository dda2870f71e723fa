package twiliotest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

// post sends form to the server's Messages endpoint for account, as a
// client of Twilio's API would.
func post(t *testing.T, s *Server, account, user, pass string, form url.Values) answer {
	t.Helper()
	u := s.URL() + "/2010-04-01/Accounts/" + account + "/Messages.json"
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode answer: %v", err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}
}

func validForm() url.Values {
	return url.Values{
		"To":             {"+40712345678"},
		"From":           {"+15005550006"},
		"Body":           {"Invoice INV-1 is due. Plată"},
		"StatusCallback": {"https://invoiced.example/callbacks/twilio"},
	}
}

func TestCreateMessage(t *testing.T) {
	t.Parallel()
	s := Start(t)
	a := post(t, s, AccountSID, AccountSID, AuthToken, validForm())
	if a.status != http.StatusCreated {
		t.Fatalf("status = %d (%v), want 201", a.status, a.body)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("Messages() has %d, want 1", len(msgs))
	}
	m := msgs[0]
	want := map[string]any{
		"sid": m.SID, "account_sid": AccountSID, "status": "queued", "to": "+40712345678",
		"from": "+15005550006", "body": "Invoice INV-1 is due. Plată", "num_segments": "1",
		"direction": "outbound-api", "api_version": "2010-04-01",
		"uri": "/2010-04-01/Accounts/" + AccountSID + "/Messages/" + m.SID + ".json",
	}
	for k, v := range want {
		if a.body[k] != v {
			t.Errorf("answer %s = %v, want %v", k, a.body[k], v)
		}
	}
	if !strings.HasPrefix(m.SID, "SM") || len(m.SID) != 34 {
		t.Errorf("SID = %q, want SM and 32 hex digits", m.SID)
	}
	if m.StatusCallback != "https://invoiced.example/callbacks/twilio" || m.Body != "Invoice INV-1 is due. Plată" {
		t.Errorf("recorded %+v", m)
	}
}

func TestCreateMessageWithService(t *testing.T) {
	t.Parallel()
	s := Start(t)
	form := validForm()
	form.Del("From")
	form.Set("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef")
	a := post(t, s, AccountSID, AccountSID, AuthToken, form)
	if a.status != http.StatusCreated || a.body["status"] != "accepted" || a.body["from"] != nil ||
		a.body["messaging_service_sid"] != "MG0123456789abcdef0123456789abcdef" {
		t.Errorf("answer %d %v, want 201 accepted from the service with a null from", a.status, a.body)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		account    string
		user, pass string
		edit       func(url.Values)
		wantStatus int
		wantCode   float64
	}{
		{"wrong token", AccountSID, AccountSID, "nope", nil, 401, 20003},
		{"unknown account", "AC" + strings.Repeat("0", 32), "AC" + strings.Repeat("0", 32), AuthToken, nil, 401, 20003},
		{"other account in URL", "AC" + strings.Repeat("f", 32), AccountSID, AuthToken, nil, 404, 20404},
		{"no To", AccountSID, AccountSID, AuthToken, func(f url.Values) { f.Del("To") }, 400, 21604},
		{"bad To", AccountSID, AccountSID, AuthToken, func(f url.Values) { f.Set("To", "0712345678") }, 400, 21211},
		{"no sender", AccountSID, AccountSID, AuthToken, func(f url.Values) { f.Del("From") }, 400, 21603},
		{"no body", AccountSID, AccountSID, AuthToken, func(f url.Values) { f.Del("Body") }, 400, 21602},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Start(t)
			form := validForm()
			if tt.edit != nil {
				tt.edit(form)
			}
			a := post(t, s, tt.account, tt.user, tt.pass, form)
			if a.status != tt.wantStatus || a.body["code"] != tt.wantCode || a.body["status"] != float64(tt.wantStatus) {
				t.Errorf("answer %d %v, want %d with code %v", a.status, a.body, tt.wantStatus, tt.wantCode)
			}
			if a.body["more_info"] == "" || a.body["message"] == "" {
				t.Errorf("answer %v lacks message or more_info", a.body)
			}
			if len(s.Messages()) != 0 {
				t.Errorf("a refused request was recorded as a message")
			}
		})
	}
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	s := Start(t)
	s.FailNext(2, http.StatusTooManyRequests, 20429, "Too Many Requests")
	s.SetRetryAfter("7")

	// Bad credentials do not use up a failure.
	if a := post(t, s, AccountSID, AccountSID, "wrong", validForm()); a.status != http.StatusUnauthorized {
		t.Fatalf("bad credentials: status %d, want 401", a.status)
	}
	for i := range 2 {
		a := post(t, s, AccountSID, AccountSID, AuthToken, validForm())
		if a.status != http.StatusTooManyRequests || a.body["code"] != float64(20429) || a.header.Get("Retry-After") != "7" {
			t.Fatalf("request %d: %d %v Retry-After %q, want 429/20429 with Retry-After 7",
				i, a.status, a.body, a.header.Get("Retry-After"))
		}
	}
	if a := post(t, s, AccountSID, AccountSID, AuthToken, validForm()); a.status != http.StatusCreated {
		t.Fatalf("after the failures: status %d, want 201", a.status)
	}
	if got := s.Requests(); got != 4 {
		t.Errorf("Requests() = %d, want 4", got)
	}
	if got := len(s.Messages()); got != 1 {
		t.Errorf("len(Messages()) = %d, want 1", got)
	}
}

func TestAddAccount(t *testing.T) {
	t.Parallel()
	s := Start(t)
	other := "AC" + strings.Repeat("b", 32)
	s.AddAccount(other, "otherToken")
	if a := post(t, s, other, other, "otherToken", validForm()); a.status != http.StatusCreated {
		t.Fatalf("status %d (%v), want 201", a.status, a.body)
	}
	if m := s.Messages(); len(m) != 1 || m[0].AccountSID != other {
		t.Errorf("Messages() = %+v, want one for %s", m, other)
	}
}
