// Package razorpaytest runs an in-process stand-in for Razorpay's Payment
// Links API for tests, answering in the shapes Razorpay documents:
//
//	POST /v1/payment_links              create; 200 and the Payment Link entity
//	GET  /v1/payment_links?reference_id= {"payment_links":[…]}
//	GET  /v1/payment_links/{id}          the entity
//	POST /v1/payment_links/{id}/cancel   the entity, now "cancelled"; a 400 for a link that is paid, cancelled or expired
//
// Every request needs HTTP basic auth with a known key id and secret, or
// is answered 401. Errors are Razorpay's error JSON,
// {"error":{"code":"BAD_REQUEST_ERROR","description":…,"field":…,"source":…,"step":…,"reason":…,"metadata":{}}},
// with descriptions close to Razorpay's but not copied from it.
//
// A create is checked as Razorpay checks it: a positive integer amount, a
// three-letter currency, a reference_id of at most 40 characters that no
// other link in the account holds (a duplicate is a 400 whose description
// says the reference id already exists), expire_by, when set, at least 15
// minutes ahead and at most six months ahead, callback_method "get" with a
// callback_url, and at most 15 notes of at most 256 characters. The
// server keeps every link it creates.
package razorpaytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials of the account every Server knows from the start.
const (
	KeyID     = "rzp_test_1DP5mmOlF5G5ag"
	KeySecret = "razorpaytestKeySecret0123"
)

// Link is a Payment Link the server created.
type Link struct {
	ID             string
	ShortURL       string
	Status         string
	ReferenceID    string
	Amount         int64
	Currency       string
	AcceptPartial  bool
	Description    string
	CustomerName   string
	CustomerEmail  string
	NotifySMS      bool
	NotifyEmail    bool
	ReminderEnable bool
	ExpireBy       int64
	CallbackURL    string
	CallbackMethod string
	Notes          map[string]string
	CreatedAt      int64
	// Body is the create request's JSON body as sent.
	Body json.RawMessage
}

// Server is a running fake Razorpay API. It stops when the test ends.
type Server struct {
	srv *httptest.Server

	mu         sync.Mutex
	nowFunc    func() time.Time
	keys       map[string]string // key id → secret
	links      []*Link
	byRef      map[string]*Link
	requests   int
	failLeft   int
	failStatus int
	failCode   string
	failDesc   string
}

// Start runs a server on 127.0.0.1 that knows the key KeyID with
// KeySecret, and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{nowFunc: time.Now, keys: map[string]string{KeyID: KeySecret}, byRef: map[string]*Link{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/payment_links", s.authed(s.create))
	mux.HandleFunc("GET /v1/payment_links", s.authed(s.list))
	mux.HandleFunc("GET /v1/payment_links/{id}", s.authed(s.fetch))
	mux.HandleFunc("POST /v1/payment_links/{id}/cancel", s.authed(s.cancel))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST_ERROR", "The requested URL was not found on the server.", "")
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// URL returns the server's base URL, "http://127.0.0.1:port", to use in
// place of https://api.razorpay.com.
func (s *Server) URL() string { return s.srv.URL }

// AddKey makes the server accept id with secret as well.
func (s *Server) AddKey(id, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[id] = secret
}

// SetNow replaces the clock that expire_by is checked against and
// created_at is stamped with.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nowFunc = now
}

// Links returns copies of the links created so far, oldest first.
func (s *Server) Links() []Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Link, len(s.links))
	for i, l := range s.links {
		out[i] = *l
	}
	return out
}

// Requests returns how many requests arrived, whatever the answer.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// SetStatus sets the status of the link with id, e.g. to "expired",
// "cancelled" or "paid". It reports whether the link exists.
func (s *Server) SetStatus(id, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.links {
		if l.ID == id {
			l.Status = status
			return true
		}
	}
	return false
}

// FailNext answers the next n authenticated requests with status and
// Razorpay's error JSON for code and description, e.g. 500,
// "SERVER_ERROR", "We are facing some trouble completing your request at
// the moment. Please try again shortly.". A later call replaces an
// earlier one. Bad credentials are answered 401 first and do not use up a
// failure.
func (s *Server) FailNext(n, status int, code, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failLeft, s.failStatus, s.failCode, s.failDesc = n, status, code, description
}

// authed counts the request, checks basic auth and applies FailNext
// before h runs, with s.mu held.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests++
		if want, known := s.keys[id]; !ok || !known || secret != want {
			writeError(w, http.StatusUnauthorized, "BAD_REQUEST_ERROR", "The api key provided is invalid", "")
			return
		}
		if s.failLeft > 0 {
			s.failLeft--
			writeError(w, s.failStatus, s.failCode, s.failDesc, "")
			return
		}
		h(w, r)
	}
}

// createBody is what a create may carry; unknown fields are refused, as
// Razorpay refuses extra fields.
type createBody struct {
	Amount        *int64 `json:"amount"`
	Currency      string `json:"currency"`
	AcceptPartial bool   `json:"accept_partial"`
	Description   string `json:"description"`
	Customer      *struct {
		Name    string `json:"name"`
		Email   string `json:"email"`
		Contact string `json:"contact"`
	} `json:"customer"`
	Notify *struct {
		SMS   bool `json:"sms"`
		Email bool `json:"email"`
	} `json:"notify"`
	ReminderEnable bool              `json:"reminder_enable"`
	ReferenceID    string            `json:"reference_id"`
	ExpireBy       int64             `json:"expire_by"`
	CallbackURL    string            `json:"callback_url"`
	CallbackMethod string            `json:"callback_method"`
	Notes          map[string]string `json:"notes"`
}

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var raw json.RawMessage
	var b createBody
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&raw); err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST_ERROR", "The request body is not valid JSON.", "")
		return
	}
	strict := json.NewDecoder(strings.NewReader(string(raw)))
	strict.DisallowUnknownFields()
	if err := strict.Decode(&b); err != nil {
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			msg = strings.Trim(name, `"`) + " is/are not required and should not be sent"
		}
		writeError(w, http.StatusBadRequest, "BAD_REQUEST_ERROR", msg, "")
		return
	}
	now := s.nowFunc()
	bad := func(field, description string) {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST_ERROR", description, field)
	}
	switch {
	case b.Amount == nil:
		bad("amount", "The amount field is required.")
		return
	case *b.Amount < 1:
		bad("amount", "The amount must be at least 1.")
		return
	case b.Currency != "" && !currencyPattern.MatchString(b.Currency):
		bad("currency", "The currency "+b.Currency+" is not supported.")
		return
	case len(b.ReferenceID) > 40:
		bad("reference_id", "The reference id may not be greater than 40 characters.")
		return
	case b.ExpireBy != 0 && time.Unix(b.ExpireBy, 0).Before(now.Add(15*time.Minute)):
		bad("expire_by", "expire_by should be at least 15 minutes after current time")
		return
	case b.ExpireBy != 0 && time.Unix(b.ExpireBy, 0).After(now.AddDate(0, 6, 0)):
		bad("expire_by", "expire_by cannot be more than 6 months after current time")
		return
	case b.CallbackURL != "" && b.CallbackMethod != "get":
		bad("callback_method", "callback_method should be get when callback_url is passed")
		return
	case len(b.Notes) > 15:
		bad("notes", "Number of fields in notes should be less than or equal to 15")
		return
	}
	for k, v := range b.Notes {
		if len(v) > 256 {
			bad("notes", "The notes."+k+" may not be greater than 256 characters.")
			return
		}
	}
	if _, taken := s.byRef[b.ReferenceID]; taken && b.ReferenceID != "" {
		bad("reference_id", "Payment link with reference id "+b.ReferenceID+" already exists")
		return
	}

	n := len(s.links) + 1
	l := &Link{
		ID:             fmt.Sprintf("plink_%014d", n),
		ShortURL:       fmt.Sprintf("https://rzp.io/i/t%06d", n),
		Status:         "created",
		ReferenceID:    b.ReferenceID,
		Amount:         *b.Amount,
		Currency:       b.Currency,
		AcceptPartial:  b.AcceptPartial,
		Description:    b.Description,
		ReminderEnable: b.ReminderEnable,
		ExpireBy:       b.ExpireBy,
		CallbackURL:    b.CallbackURL,
		CallbackMethod: b.CallbackMethod,
		Notes:          b.Notes,
		CreatedAt:      now.Unix(),
		Body:           raw,
	}
	if l.Currency == "" {
		l.Currency = "INR"
	}
	if b.Customer != nil {
		l.CustomerName, l.CustomerEmail = b.Customer.Name, b.Customer.Email
	}
	if b.Notify != nil {
		l.NotifySMS, l.NotifyEmail = b.Notify.SMS, b.Notify.Email
	}
	s.links = append(s.links, l)
	if l.ReferenceID != "" {
		s.byRef[l.ReferenceID] = l
	}
	writeJSON(w, http.StatusOK, entity(l))
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	out := []map[string]any{}
	if ref := r.URL.Query().Get("reference_id"); ref != "" {
		if l, ok := s.byRef[ref]; ok {
			out = append(out, entity(l))
		}
	} else {
		for i := len(s.links) - 1; i >= 0; i-- { // newest first
			out = append(out, entity(s.links[i]))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"payment_links": out})
}

func (s *Server) fetch(w http.ResponseWriter, r *http.Request) {
	for _, l := range s.links {
		if l.ID == r.PathValue("id") {
			writeJSON(w, http.StatusOK, entity(l))
			return
		}
	}
	writeError(w, http.StatusBadRequest, "BAD_REQUEST_ERROR", "The id provided does not exist", "")
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	for _, l := range s.links {
		if l.ID != r.PathValue("id") {
			continue
		}
		if l.Status != "created" && l.Status != "partially_paid" {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST_ERROR", "The payment link cannot be cancelled, it is "+l.Status+".", "")
			return
		}
		l.Status = "cancelled"
		writeJSON(w, http.StatusOK, entity(l))
		return
	}
	writeError(w, http.StatusBadRequest, "BAD_REQUEST_ERROR", "The id provided does not exist", "")
}

// entity is Razorpay's Payment Link entity. Like Razorpay, it sends an
// empty customer and empty notes as [].
func entity(l *Link) map[string]any {
	var cust any = []any{}
	if l.CustomerName != "" || l.CustomerEmail != "" {
		cust = map[string]string{"name": l.CustomerName, "email": l.CustomerEmail}
	}
	var notes any = []any{}
	if len(l.Notes) > 0 {
		notes = l.Notes
	}
	return map[string]any{
		"accept_partial":           l.AcceptPartial,
		"amount":                   l.Amount,
		"amount_paid":              0,
		"callback_method":          l.CallbackMethod,
		"callback_url":             l.CallbackURL,
		"cancelled_at":             0,
		"created_at":               l.CreatedAt,
		"currency":                 l.Currency,
		"customer":                 cust,
		"description":              l.Description,
		"expire_by":                l.ExpireBy,
		"expired_at":               0,
		"first_min_partial_amount": 0,
		"id":                       l.ID,
		"notes":                    notes,
		"notify":                   map[string]bool{"sms": l.NotifySMS, "email": l.NotifyEmail},
		"payments":                 nil,
		"reference_id":             l.ReferenceID,
		"reminder_enable":          l.ReminderEnable,
		"reminders":                []any{},
		"short_url":                l.ShortURL,
		"status":                   l.Status,
		"updated_at":               l.CreatedAt,
		"user_id":                  "",
	}
}

// writeError answers with Razorpay's error JSON.
func writeError(w http.ResponseWriter, status int, code, description, field string) {
	e := map[string]any{
		"code":        code,
		"description": description,
		"source":      "business",
		"step":        "payment_initiation",
		"reason":      "input_validation_failed",
		"metadata":    map[string]any{},
	}
	if status == http.StatusUnauthorized || status >= 500 {
		e["source"], e["step"], e["reason"] = "NA", "NA", "NA"
	}
	if field != "" {
		e["field"] = field
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
