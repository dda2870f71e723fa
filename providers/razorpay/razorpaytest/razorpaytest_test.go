package razorpaytest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// do sends a request to s with the given credentials and returns the
// status and decoded JSON answer.
func do(t *testing.T, s *Server, method, path, id, secret, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s answered %d %q, not JSON", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func errorOf(t *testing.T, answer map[string]any) map[string]any {
	t.Helper()
	e, ok := answer["error"].(map[string]any)
	if !ok {
		t.Fatalf("answer %v has no error object", answer)
	}
	return e
}

func TestCreateAndFetch(t *testing.T) {
	t.Parallel()
	s := Start(t)
	expire := time.Now().Add(time.Hour).Unix()
	body := `{"amount":113050,"currency":"EUR","accept_partial":false,"description":"Invoice INV-1",
		"customer":{"name":"Ana","email":"ana@example.com"},"notify":{"sms":false,"email":false},
		"reminder_enable":false,"reference_id":"inv_1-abc","expire_by":` + strconv.FormatInt(expire, 10) + `,
		"callback_url":"https://acme.test/back","callback_method":"get","notes":{"tenant_id":"ten_1"}}`
	status, created := do(t, s, http.MethodPost, "/v1/payment_links", KeyID, KeySecret, body)
	if status != http.StatusOK || created["status"] != "created" || created["reference_id"] != "inv_1-abc" ||
		!strings.HasPrefix(created["id"].(string), "plink_") || !strings.HasPrefix(created["short_url"].(string), "https://rzp.io/i/") ||
		created["expire_by"] != float64(expire) || created["amount"] != float64(113050) {
		t.Fatalf("create = %d %v", status, created)
	}

	status, list := do(t, s, http.MethodGet, "/v1/payment_links?reference_id=inv_1-abc", KeyID, KeySecret, "")
	links, _ := list["payment_links"].([]any)
	if status != http.StatusOK || len(links) != 1 || links[0].(map[string]any)["id"] != created["id"] {
		t.Errorf("list by reference = %d %v", status, list)
	}
	_, list = do(t, s, http.MethodGet, "/v1/payment_links?reference_id=other", KeyID, KeySecret, "")
	if links, _ := list["payment_links"].([]any); len(links) != 0 {
		t.Errorf("list by another reference = %v, want none", list)
	}

	status, fetched := do(t, s, http.MethodGet, "/v1/payment_links/"+created["id"].(string), KeyID, KeySecret, "")
	if status != http.StatusOK || fetched["id"] != created["id"] {
		t.Errorf("fetch = %d %v", status, fetched)
	}

	s.SetStatus(created["id"].(string), "expired")
	if got := s.Links(); len(got) != 1 || got[0].Status != "expired" || got[0].Notes["tenant_id"] != "ten_1" ||
		got[0].CustomerEmail != "ana@example.com" || got[0].CallbackMethod != "get" {
		t.Errorf("Links = %+v", got)
	}
}

func TestCreateRefuses(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	tests := []struct {
		name      string
		id        string
		body      string
		status    int
		wantField string
		wantDesc  string
	}{
		{"no credentials", "", `{"amount":100}`, 401, "", "api key provided is invalid"},
		{"wrong key id", "rzp_test_other", `{"amount":100}`, 401, "", "api key provided is invalid"},
		{"no amount", KeyID, `{"currency":"INR"}`, 400, "amount", "amount"},
		{"zero amount", KeyID, `{"amount":0}`, 400, "amount", "at least 1"},
		{"bad currency", KeyID, `{"amount":100,"currency":"eur"}`, 400, "currency", "not supported"},
		{"long reference", KeyID, `{"amount":100,"reference_id":"` + strings.Repeat("r", 41) + `"}`, 400, "reference_id", "40 characters"},
		{"expiry too soon", KeyID, `{"amount":100,"expire_by":` + at(14*time.Minute) + `}`, 400, "expire_by", "15 minutes"},
		{"expiry too late", KeyID, `{"amount":100,"expire_by":` + at(200*24*time.Hour) + `}`, 400, "expire_by", "6 months"},
		{"callback without get", KeyID, `{"amount":100,"callback_url":"https://a.test"}`, 400, "callback_method", "get"},
		{"unknown field", KeyID, `{"amount":100,"partial":true}`, 400, "", "partial is/are not required"},
		{"not JSON", KeyID, `amount=100`, 400, "", "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Start(t)
			s.SetNow(func() time.Time { return now })
			status, answer := do(t, s, http.MethodPost, "/v1/payment_links", tt.id, KeySecret, tt.body)
			e := errorOf(t, answer)
			if status != tt.status || e["code"] != "BAD_REQUEST_ERROR" {
				t.Errorf("answer %d %v, want %d BAD_REQUEST_ERROR", status, e, tt.status)
			}
			if desc, _ := e["description"].(string); !strings.Contains(desc, tt.wantDesc) {
				t.Errorf("description %q, want it to mention %q", desc, tt.wantDesc)
			}
			if field, _ := e["field"].(string); field != tt.wantField {
				t.Errorf("field %q, want %q", field, tt.wantField)
			}
			if len(s.Links()) != 0 {
				t.Error("the server created a link")
			}
		})
	}
}

func TestDuplicateReference(t *testing.T) {
	t.Parallel()
	s := Start(t)
	body := `{"amount":100,"currency":"INR","reference_id":"ref-1"}`
	if status, _ := do(t, s, http.MethodPost, "/v1/payment_links", KeyID, KeySecret, body); status != http.StatusOK {
		t.Fatalf("first create = %d", status)
	}
	status, answer := do(t, s, http.MethodPost, "/v1/payment_links", KeyID, KeySecret, body)
	e := errorOf(t, answer)
	desc, _ := e["description"].(string)
	if status != http.StatusBadRequest || e["field"] != "reference_id" || !strings.Contains(desc, "already exists") {
		t.Errorf("second create = %d %v", status, e)
	}
	if len(s.Links()) != 1 {
		t.Errorf("%d links, want 1", len(s.Links()))
	}
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	s := Start(t)
	s.FailNext(1, http.StatusInternalServerError, "SERVER_ERROR", "We are facing some trouble")
	body := `{"amount":100}`
	// Bad credentials do not use up the failure.
	if status, _ := do(t, s, http.MethodPost, "/v1/payment_links", KeyID, "wrong", body); status != http.StatusUnauthorized {
		t.Errorf("wrong secret = %d, want 401", status)
	}
	status, answer := do(t, s, http.MethodPost, "/v1/payment_links", KeyID, KeySecret, body)
	if e := errorOf(t, answer); status != 500 || e["code"] != "SERVER_ERROR" {
		t.Errorf("failed create = %d %v", status, e)
	}
	if status, _ := do(t, s, http.MethodPost, "/v1/payment_links", KeyID, KeySecret, body); status != http.StatusOK {
		t.Errorf("next create = %d, want 200", status)
	}
	if s.Requests() != 3 || len(s.Links()) != 1 {
		t.Errorf("Requests %d, links %d; want 3, 1", s.Requests(), len(s.Links()))
	}
}
