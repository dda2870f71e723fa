// Package twiliotest runs an in-process stand-in for Twilio's Messages API
// for tests: POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP
// basic auth and a form-encoded body, answered with Twilio's message JSON
// (201) or its error JSON, and failures on demand.
//
// It checks what Twilio checks first: the credentials (401, code 20003),
// that the URL's account is the one authenticated (404, 20404), and that
// To (21604, or 21211 when not an E.164 number), Body (21602) and From or
// MessagingServiceSid (21603) are present. It keeps every message it
// accepts.
package twiliotest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers"
)

// Credentials of the account every Server knows from the start.
const (
	AccountSID = "AC0123456789abcdef0123456789abcdef"
	AuthToken  = "twiliotestAuthToken0123456789abc"
)

// Message is one message the server accepted.
type Message struct {
	// SID is the "SM…" id the server answered with.
	SID        string
	AccountSID string
	To         string
	// From is empty when the message named only a messaging service.
	From                string
	MessagingServiceSID string
	Body                string
	StatusCallback      string
	// NumSegments is what the server reported, from providers.SMSSegments.
	NumSegments int
	// Form is the whole decoded request body.
	Form url.Values
	// UserAgent is the request's User-Agent header.
	UserAgent string
}

// Server is a running fake Twilio API. It stops when the test ends.
type Server struct {
	srv     *httptest.Server
	nowFunc func() time.Time

	mu         sync.Mutex
	accounts   map[string]string // SID → auth token
	messages   []Message
	requests   int
	failLeft   int
	failStatus int
	failCode   int
	failMsg    string
	retryAfter string
}

// Start runs a server on 127.0.0.1 that knows the account AccountSID with
// AuthToken, and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		nowFunc:  time.Now,
		accounts: map[string]string{AccountSID: AuthToken},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{account}/Messages.json", s.createMessage)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 20404,
			fmt.Sprintf("The requested resource %s was not found", r.URL.Path))
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// URL returns the server's base URL, "http://127.0.0.1:port", to use in
// place of https://api.twilio.com.
func (s *Server) URL() string { return s.srv.URL }

// AddAccount makes the server accept sid with token as well, for tests
// with one Twilio account per tenant.
func (s *Server) AddAccount(sid, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[sid] = token
}

// Messages returns the messages accepted so far, oldest first. Requests
// answered with an error are not messages.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Requests returns how many create-message requests arrived, whatever the
// answer.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// FailNext answers the next n authenticated create-message requests with
// status and Twilio's error JSON for code and message, e.g. 400, 21211,
// "The 'To' number +15005550001 is not a valid phone number.". A later
// call replaces an earlier one. Bad credentials are answered 401 first and
// do not use up a failure.
func (s *Server) FailNext(n int, status int, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failLeft, s.failStatus, s.failCode, s.failMsg = n, status, code, message
}

// SetRetryAfter sends value as the Retry-After header with every 429
// answer from now on; empty, the default, sends none.
func (s *Server) SetRetryAfter(value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryAfter = value
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

func (s *Server) createMessage(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	sid, token, ok := r.BasicAuth()
	formErr := r.ParseForm()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if want, known := s.accounts[sid]; !ok || !known || token != want {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if account != sid {
		writeError(w, http.StatusNotFound, 20404,
			fmt.Sprintf("The requested resource %s was not found", r.URL.Path))
		return
	}
	if s.failLeft > 0 {
		s.failLeft--
		if s.failStatus == http.StatusTooManyRequests && s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		writeError(w, s.failStatus, s.failCode, s.failMsg)
		return
	}
	if formErr != nil {
		writeError(w, http.StatusBadRequest, 20001, "Invalid request body: "+formErr.Error())
		return
	}
	form := r.PostForm
	m := Message{
		AccountSID:          account,
		To:                  form.Get("To"),
		From:                form.Get("From"),
		MessagingServiceSID: form.Get("MessagingServiceSid"),
		Body:                form.Get("Body"),
		StatusCallback:      form.Get("StatusCallback"),
		Form:                form,
		UserAgent:           r.UserAgent(),
	}
	switch {
	case m.To == "":
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case !e164.MatchString(m.To):
		writeError(w, http.StatusBadRequest, 21211,
			fmt.Sprintf("The 'To' number %s is not a valid phone number.", m.To))
		return
	case m.From == "" && m.MessagingServiceSID == "":
		writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case m.Body == "":
		writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	}

	m.SID = fmt.Sprintf("SM%032x", len(s.messages)+1)
	m.NumSegments, _ = providers.SMSSegments(m.Body)
	s.messages = append(s.messages, m)
	writeJSON(w, http.StatusCreated, s.messageJSON(m))
}

// messageJSON is Twilio's message resource as the create call returns it.
// A message sent through a messaging service alone is "accepted" with a
// null from until Twilio picks a sender; otherwise it is "queued".
func (s *Server) messageJSON(m Message) map[string]any {
	now := s.nowFunc().UTC().Format(time.RFC1123Z)
	uri := fmt.Sprintf("/2010-04-01/Accounts/%s/Messages/%s", m.AccountSID, m.SID)
	status := "queued"
	var from, service any
	if m.From != "" {
		from = m.From
	} else {
		status = "accepted"
	}
	if m.MessagingServiceSID != "" {
		service = m.MessagingServiceSID
	}
	return map[string]any{
		"account_sid":           m.AccountSID,
		"api_version":           "2010-04-01",
		"body":                  m.Body,
		"date_created":          now,
		"date_sent":             nil,
		"date_updated":          now,
		"direction":             "outbound-api",
		"error_code":            nil,
		"error_message":         nil,
		"from":                  from,
		"messaging_service_sid": service,
		"num_media":             "0",
		"num_segments":          strconv.Itoa(m.NumSegments),
		"price":                 nil,
		"price_unit":            "USD",
		"sid":                   m.SID,
		"status":                status,
		"subresource_uris":      map[string]string{"media": uri + "/Media.json"},
		"to":                    m.To,
		"uri":                   uri + ".json",
	}
}

// writeError answers with Twilio's error JSON.
func writeError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{
		"code":      code,
		"message":   message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
