package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/invoiced/invoiced/tasks"
)

// errorMessage returns error.message of an error answer.
func (r response) errorMessage() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// limitedTenant creates a tenant whose hourly email limit is perHour.
func (h *harness) limitedTenant(perHour int, defaults map[string]any) string {
	h.t.Helper()
	settings := acmeSettings()
	if defaults == nil {
		defaults = map[string]any{}
	}
	defaults["emailsPerHour"] = perHour
	settings["defaults"] = defaults
	return h.tenant("ACME SRL", settings)
}

func TestEmailsPerHourCeiling(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true; o.maxEmailsPerHour = 50 })
	token := h.tenant("ACME SRL", acmeSettings())

	settings := acmeSettings()
	settings["defaults"] = map[string]any{"emailsPerHour": 1000000}
	r := h.must(http.StatusBadRequest, h.do("PUT", "/api/v1/settings", token, settings))
	msg, _ := r.errorFields()["defaults.emailsPerHour"].(string)
	if !strings.Contains(msg, "50") {
		t.Fatalf("emailsPerHour over the ceiling: %s; want the field named with the ceiling of 50", r.Raw)
	}
	settings["defaults"] = map[string]any{"emailsPerHour": 50}
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, settings))

	// A tenant that kept a larger limit from before the ceiling was
	// lowered gets the ceiling, and is shown it.
	tenantID := h.tenantID(token)
	st, err := h.Store.Settings(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	st.Defaults.EmailsPerHour = 5000
	if err := h.Store.SaveSettings(context.Background(), tenantID, st); err != nil {
		t.Fatal(err)
	}
	got := h.must(http.StatusOK, h.do("GET", "/api/v1/settings", token, nil)).data()
	if n := got["defaults"].(map[string]any)["emailsPerHour"]; n != float64(50) {
		t.Fatalf("emailsPerHour shown = %v, want the ceiling 50", n)
	}
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_c")))
	cc := make([]string, 49)
	for i := range cc {
		cc[i] = "copy" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.com"
	}
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_c/send", token, map[string]any{"cc": cc}))
	r = h.must(http.StatusTooManyRequests, h.do("POST", "/api/v1/invoices/inv_c/send", token, nil))
	if !strings.Contains(r.errorMessage(), "50 emails per hour") {
		t.Fatalf("over the lowered ceiling: %s", r.Raw)
	}
}

// TestEmailLimitCountsRecipients checks that a send takes one email per
// recipient (to, cc and bcc) from the hourly budget, and that a send that
// does not fit is refused whole.
func TestEmailLimitCountsRecipients(t *testing.T) {
	t.Parallel()
	threeCc := map[string]any{"cc": []string{"a@example.com", "b@example.com", "c@example.com"}}

	t.Run("does not fit what is left", func(t *testing.T) {
		t.Parallel()
		h := setup(t, func(o *options) { o.noWorker = true })
		token := h.limitedTenant(5, nil)
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_1")))
		for range 2 {
			h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_1/send", token, nil))
		}
		r := h.must(http.StatusTooManyRequests, h.do("POST", "/api/v1/invoices/inv_1/send", token, threeCc))
		if r.errorCode() != "rate_limited" || r.Header.Get("Retry-After") == "" || !strings.Contains(r.errorMessage(), "3 left") {
			t.Fatalf("4 recipients with 3 left = %s (Retry-After %q)", r.Raw, r.Header.Get("Retry-After"))
		}
		if ds := h.deliveries(token, "inv_1"); len(ds) != 2 {
			t.Fatalf("%d deliveries after the refused send, want the 2 before it", len(ds))
		}
		// Nothing was taken: the 3 left are still there.
		h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_1/send", token,
			map[string]any{"cc": []string{"a@example.com"}, "bcc": "b@example.com"}))
		h.must(http.StatusTooManyRequests, h.do("POST", "/api/v1/invoices/inv_1/send", token, nil))
	})
	t.Run("fits exactly", func(t *testing.T) {
		t.Parallel()
		h := setup(t, func(o *options) { o.noWorker = true })
		token := h.limitedTenant(4, nil)
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_2")))
		h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_2/send", token, threeCc))
		r := h.must(http.StatusTooManyRequests, h.do("POST", "/api/v1/invoices/inv_2/send", token, nil))
		if !strings.Contains(r.errorMessage(), "0 left") {
			t.Fatalf("after a 4-recipient send of 4/hour: %s", r.Raw)
		}
	})
	t.Run("never fits", func(t *testing.T) {
		t.Parallel()
		h := setup(t, func(o *options) { o.noWorker = true })
		token := h.limitedTenant(3, nil)
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_3")))
		r := h.must(http.StatusBadRequest, h.do("POST", "/api/v1/invoices/inv_3/send", token, threeCc))
		if msg, _ := r.errorFields()["cc"].(string); !strings.Contains(msg, "4 recipients") || !strings.Contains(msg, "3 emails per hour") {
			t.Fatalf("4 recipients at 3/hour = %s; want cc named", r.Raw)
		}
		// Refusing it took nothing.
		h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_3/send", token,
			map[string]any{"cc": []string{"a@example.com", "b@example.com"}}))
	})
	t.Run("Storno's route", func(t *testing.T) {
		t.Parallel()
		h := setup(t, func(o *options) { o.noWorker = true })
		token := h.limitedTenant(3, nil)
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_4")))
		h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_4/finalize", token, nil))
		h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_4/email", token,
			map[string]any{"to": "ana@example.com", "cc": "a@example.com, b@example.com"}))
		h.must(http.StatusTooManyRequests, h.do("POST", "/api/v1/invoices/inv_4/email", token, map[string]any{"to": "ana@example.com"}))
	})
}

// TestAutoEmailCountsAgainstTheLimit checks that the email the worker
// sends when the grace period finalizes a draft takes from the same
// hourly budget as the API's sends.
func TestAutoEmailCountsAgainstTheLimit(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.limitedTenant(1, map[string]any{"gracePeriod": "1s", "autoEmailOnFinalize": true})
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_auto")))
	eventually(t, 15*time.Second, "the auto email", func() bool { return len(h.emails()) == 1 })

	r := h.must(http.StatusTooManyRequests, h.do("POST", "/api/v1/invoices/inv_auto/send", token, nil))
	if !strings.Contains(r.errorMessage(), "0 left") {
		t.Fatalf("send after the auto email spent the budget: %s", r.Raw)
	}
}

// TestWorkerEmailOverTheLimitWaits checks that an email the worker
// originates (the auto email) when the budget is spent neither goes out
// nor is dropped: its delivery stays queued with a rate_limited attempt,
// its task waits without using up retries, and it goes out once the budget
// frees up.
func TestWorkerEmailOverTheLimitWaits(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.limitedTenant(1, map[string]any{"gracePeriod": "1s", "autoEmailOnFinalize": true})
	sent := sampleInvoice("inv_sent")
	sent["autoAdvance"] = false
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sent))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_sent/send", token, nil))
	eventually(t, 10*time.Second, "the API's send", func() bool { return len(h.emails()) == 1 })

	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_auto")))
	var ds []map[string]any
	eventually(t, 15*time.Second, "the auto email to wait for the budget", func() bool {
		ds = h.deliveries(token, "inv_auto")
		if len(ds) != 1 {
			return false
		}
		attempts, _ := ds[0]["attempts"].([]any)
		return len(attempts) > 0
	})
	d := ds[0]
	attempts := d["attempts"].([]any)
	a := attempts[0].(map[string]any)
	if d["status"] != "queued" || len(attempts) != 1 || a["code"] != "rate_limited" || a["permanent"] == true ||
		!strings.Contains(a["error"].(string), "hourly email limit") {
		t.Fatalf("auto email over the limit = %v; want queued with one rate_limited attempt", d)
	}
	// Tried again and again (the tests retry every 200ms) it stays one
	// attempt, uses up no retries, and sends nothing.
	time.Sleep(time.Second)
	if n := len(h.emails()); n != 1 {
		t.Fatalf("outbox holds %d emails, want only the API's: the auto email went over the limit", n)
	}
	if ds := h.deliveries(token, "inv_auto"); ds[0]["status"] != "queued" || len(ds[0]["attempts"].([]any)) != 1 {
		t.Fatalf("auto email while waiting = %v", ds[0])
	}
	tenantID := h.tenantID(token)
	ti, err := h.Inspector.GetTaskInfo(tasks.QueueCritical, tasks.DeliveryTaskID(tenantID, d["id"].(string)))
	if err != nil {
		t.Fatalf("the auto email's task is gone: %v", err)
	}
	if ti.State == asynq.TaskStateArchived || ti.Retried != 0 {
		t.Fatalf("the auto email's task is %s after %d retries; want it waiting, no retries used", ti.State, ti.Retried)
	}

	// The hour passes: the budget is whole again and the email goes out.
	if err := h.Redis.Client(t).Del(context.Background(), "rate:ivd:{"+tenantID+"}:emails-per-hour").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the auto email once the budget freed up", func() bool { return len(h.emails()) == 2 })
	if ds := h.deliveries(token, "inv_auto"); ds[0]["status"] != "sent" {
		t.Fatalf("auto email after the wait = %v", ds[0])
	}
}

// TestRemindersCountAgainstTheLimit checks that payment reminders take
// from the hourly budget, and wait for it when it is spent.
func TestRemindersCountAgainstTheLimit(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["defaults"] = map[string]any{"emailsPerHour": 2}
	settings["reminders"] = map[string]any{"days": []int{5}}
	token := h.tenant("ACME SRL", settings)
	tenantID := h.tenantID(token)
	// remind opens invoice id, due in ten days, and runs its reminder now.
	remind := func(id string) {
		t.Helper()
		inv := sampleInvoice(id)
		inv["dueDate"] = time.Now().AddDate(0, 0, 10).Format(time.DateOnly)
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv))
		h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/"+id+"/finalize", token, nil))
		var sendID string
		eventually(t, 10*time.Second, "the reminder scheduled", func() bool {
			d := h.must(http.StatusOK, h.do("GET", "/api/v1/scheduled-sends", token, nil)).data()
			for _, s := range d["sends"].([]any) {
				if s := s.(map[string]any); s["invoiceId"] == id {
					sendID = s["sendId"].(string)
				}
			}
			return sendID != ""
		})
		if err := h.Inspector.RunTask(tasks.QueueCritical, tasks.SendTaskID(tenantID, sendID)); err != nil {
			t.Fatal(err)
		}
	}

	remind("inv_1")
	eventually(t, 10*time.Second, "the first reminder", func() bool { return len(h.emails()) == 1 })
	r := h.must(http.StatusTooManyRequests, h.do("POST", "/api/v1/invoices/inv_1/send", token, map[string]any{"cc": "a@example.com"}))
	if !strings.Contains(r.errorMessage(), "1 left") {
		t.Fatalf("2 recipients after a reminder took 1 of 2: %s", r.Raw)
	}
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_1/send", token, nil))
	eventually(t, 10*time.Second, "the API's send", func() bool { return len(h.emails()) == 2 })

	remind("inv_2")
	eventually(t, 10*time.Second, "the second reminder to wait for the budget", func() bool {
		ds := h.deliveries(token, "inv_2")
		if len(ds) != 1 {
			return false
		}
		attempts, _ := ds[0]["attempts"].([]any)
		return ds[0]["status"] == "queued" && len(attempts) == 1 && attempts[0].(map[string]any)["code"] == "rate_limited"
	})
	time.Sleep(500 * time.Millisecond)
	if n := len(h.emails()); n != 2 {
		t.Fatalf("outbox holds %d emails, want 2: the reminder went over the limit", n)
	}
}
