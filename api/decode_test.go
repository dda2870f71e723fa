package api

import (
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// TestIdempotentBodyDecodes checks that a handler behind idempotent reads
// the body idempotent read, once, and that a send's body of {} (the
// usual send, with every default) is decoded without allocating.
func TestIdempotentBodyDecodes(t *testing.T) {
	for _, tc := range []struct {
		body, subject string
		// free is a body read and decoded without allocating.
		free bool
		// code is the error's, "" for none.
		code string
	}{
		{`{"subject":"Your invoice"}`, "Your invoice", false, ""},
		{`{}`, "", true, ""},
		{" {\r\n\t}\n", "", true, ""},
		{"\u00a0{}", "", false, CodeInvalidJSON},
		{"{}{}", "", false, CodeInvalidJSON},
		{"{", "", false, CodeInvalidJSON},
		{`{"subject":"Your invoice"`, "", false, CodeInvalidJSON},
	} {
		var req sendRequest
		var allocs uint64
		var apiErr *Error
		var rest []byte
		h := (&API{}).idempotentWithin(1<<10, func(w http.ResponseWriter, r *http.Request) *Error {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			apiErr = decodeJSON(bodyOf(r), &req, true)
			runtime.ReadMemStats(&after)
			allocs = after.Mallocs - before.Mallocs
			rest = bodyOf(r)
			return nil
		})
		// The fewest of three runs, so that another goroutine's
		// allocations do not count.
		fewest := uint64(math.MaxUint64)
		for range 3 {
			req = sendRequest{}
			r := httptest.NewRequest("POST", "/api/v1/invoices/inv_1/send", strings.NewReader(tc.body))
			if apiErr := h(httptest.NewRecorder(), r); apiErr != nil {
				t.Fatalf("%q: idempotent = %v", tc.body, apiErr)
			}
			fewest = min(fewest, allocs)
		}
		code := ""
		if apiErr != nil {
			code = apiErr.Code
		}
		if code != tc.code || req.Subject != tc.subject {
			t.Errorf("%q: decoded %+v, %v; want subject %q, error %q", tc.body, req, apiErr, tc.subject, tc.code)
		}
		if len(rest) != 0 {
			t.Errorf("%q: the body read twice gives %q the second time, want nothing", tc.body, rest)
		}
		if tc.free && fewest != 0 {
			t.Errorf("%q: reading and decoding the body allocates %d times, want none", tc.body, fewest)
		}
	}
}
