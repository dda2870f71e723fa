package e2e

import (
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

func TestPaymentReminders(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["reminders"] = map[string]any{"days": []int{-2, 5, 40}, "time": "10:00", "timeZone": "Europe/Bucharest"}
	// English invoices get the tenant's own overdue text, and the built-in
	// reminder before the due date.
	settings["templates"] = map[string]any{"en": map[string]any{"overdueSubject": "Still unpaid: {{invoiceNumber}}, due {{dueDate}}",
		"overdueBody": "Dear {{customerName}}, {{invoiceTotal}} ({{amount}} {{currency}}) is still open."}}
	token := h.tenant("ACME SRL", settings)
	tenantID := h.tenantID(token)
	bucharest, err := time.LoadLocation("Europe/Bucharest")
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(bucharest)
	date := func(days int) string { return today.AddDate(0, 0, days).Format("2006-01-02") }
	open := func(id string, dueIn int) {
		t.Helper()
		inv := sampleInvoice(id)
		inv["issueDate"], inv["dueDate"] = date(-20), date(dueIn)
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv))
		h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/"+id+"/finalize", token, nil))
	}
	// scheduled returns invoice id's scheduled sends: send id → time.
	scheduled := func(id string) map[string]time.Time {
		t.Helper()
		out := map[string]time.Time{}
		d := h.must(http.StatusOK, h.do("GET", "/api/v1/scheduled-sends?limit=100", token, nil)).data()
		for _, s := range d["sends"].([]any) {
			s := s.(map[string]any)
			if s["invoiceId"] == id && s["kind"] != "reminder" {
				t.Errorf("scheduled send %v is not a reminder", s)
			}
			if s["invoiceId"] == id {
				at, _ := time.Parse(time.RFC3339, s["scheduledAt"].(string))
				out[s["sendId"].(string)] = at
			}
		}
		return out
	}
	at := func(dueIn, days int) time.Time {
		d := today.AddDate(0, 0, dueIn+days)
		return time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, bucharest)
	}

	// Due in ten days: all three reminders are ahead.
	open("inv_due", 10)
	var reminders map[string]time.Time
	eventually(t, 10*time.Second, "three reminders scheduled", func() bool { reminders = scheduled("inv_due"); return len(reminders) == 3 })
	var first string
	for id, when := range reminders {
		if when.Equal(at(10, -2)) {
			first = id
		}
		if !when.Equal(at(10, -2)) && !when.Equal(at(10, 5)) && !when.Equal(at(10, 40)) {
			t.Errorf("reminder %s at %v, want 10:00 Bucharest two days before, 5 and 40 days after the due date", id, when)
		}
	}
	if first == "" {
		t.Fatalf("no reminder two days before the due date: %v", reminders)
	}
	// Overdue by ten days: only the one 40 days after is still ahead.
	open("inv_late", -10)
	eventually(t, 10*time.Second, "one reminder scheduled", func() bool { return len(scheduled("inv_late")) == 1 })
	for _, when := range scheduled("inv_late") {
		if !when.Equal(at(-10, 40)) {
			t.Errorf("the late invoice's reminder is at %v, want %v", when, at(-10, 40))
		}
	}

	// The first reminder's time comes.
	before := len(h.emails())
	if err := h.Inspector.RunTask(tasks.QueueCritical, tasks.SendTaskID(tenantID, first)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the reminder email", func() bool { return len(h.emails()) == before+1 })
	e := parseEmail(t, mustRead(t, h.emails()[len(h.emails())-1]))
	subject, _ := new(mime.WordDecoder).DecodeHeader(e.Header.Get("Subject"))
	if !strings.HasPrefix(subject, "Reminder: invoice INV-due is due on") || !strings.Contains(e.Text, "friendly reminder") || e.Attachments["INV-due.pdf"] == nil {
		t.Fatalf("reminder email: subject %q, %d attachments\n%s", subject, len(e.Attachments), e.Text)
	}

	// An overdue one, in the tenant's words.
	open("inv_over", -3)
	var overdue string
	eventually(t, 10*time.Second, "the overdue reminders", func() bool {
		for id, when := range scheduled("inv_over") {
			if when.Equal(at(-3, 5)) {
				overdue = id
			}
		}
		return overdue != ""
	})
	before = len(h.emails())
	if err := h.Inspector.RunTask(tasks.QueueCritical, tasks.SendTaskID(tenantID, overdue)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the overdue email", func() bool { return len(h.emails()) == before+1 })
	var found bool
	for _, f := range h.emails() {
		e := parseEmail(t, mustRead(t, f))
		subject, _ := new(mime.WordDecoder).DecodeHeader(e.Header.Get("Subject"))
		if strings.Contains(subject, "INV-over") {
			found = true
			if !strings.HasPrefix(subject, "Still unpaid: INV-over, due ") || !strings.Contains(e.Text, "Dear Ana Popescu, €1,130.50 (1,130.50 EUR) is still open.") {
				t.Fatalf("overdue email: subject %q\n%s", subject, e.Text)
			}
		}
	}
	if !found {
		t.Fatal("no email for inv_over")
	}

	// Paying cancels the reminders still waiting.
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_due/mark-paid", token, nil))
	if left := scheduled("inv_due"); len(left) != 0 {
		t.Fatalf("reminders of a paid invoice still scheduled: %v", left)
	}
	canceled := 0
	for _, d := range h.deliveries(token, "inv_due") {
		if d["status"] == "canceled" {
			canceled++
		}
	}
	if canceled != 2 {
		t.Fatalf("%d reminder deliveries canceled, want the 2 still waiting", canceled)
	}

	// A reminder whose time comes after the invoice was paid in a way
	// that left it scheduled cancels itself instead of going out.
	if _, _, err := h.Store.MarkPaid(t.Context(), tenantID, "inv_late", "bank"); err != nil {
		t.Fatal(err)
	}
	var late string
	for id := range scheduled("inv_late") {
		late = id
	}
	before = len(h.emails())
	if err := h.Inspector.RunTask(tasks.QueueCritical, tasks.SendTaskID(tenantID, late)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the late reminder canceled", func() bool {
		ds := h.deliveries(token, "inv_late")
		return len(ds) == 1 && ds[0]["status"] == "canceled"
	})
	if d := h.deliveries(token, "inv_late")[0]; !strings.Contains(strings.Join(historyOf(d), ","), string(store.DeliveryCanceled)) {
		t.Fatalf("late reminder history: %v", d["history"])
	}
	time.Sleep(300 * time.Millisecond)
	if len(h.emails()) != before {
		t.Fatal("a reminder went out for a paid invoice")
	}
}

func TestRemindersSettingsValidation(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", nil)
	for _, tt := range []struct {
		reminders map[string]any
		field     string
	}{
		{map[string]any{"days": []int{1, 2, 3, 4, 5, 6, 7}}, "reminders.days"},
		{map[string]any{"days": []int{3, 3}}, "reminders.days"},
		{map[string]any{"days": []int{-61}}, "reminders.days"},
		{map[string]any{"days": []int{366}}, "reminders.days"},
		{map[string]any{"time": "9am"}, "reminders.time"},
		{map[string]any{"time": "24:00"}, "reminders.time"},
		{map[string]any{"timeZone": "Mars/Olympus"}, "reminders.timeZone"},
		{map[string]any{"timeZone": "Local"}, "reminders.timeZone"},
	} {
		r := h.do("PUT", "/api/v1/settings", token, map[string]any{"reminders": tt.reminders})
		if r.Status != http.StatusBadRequest || r.errorFields()[tt.field] == nil {
			t.Errorf("reminders %v = %d %s, want 400 naming %s", tt.reminders, r.Status, r.Raw, tt.field)
		}
	}
	got := h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, map[string]any{"reminders": map[string]any{"days": []int{-3, 7}}})).data()
	r := got["reminders"].(map[string]any)
	if r["time"] != "09:00" || r["timeZone"] != "UTC" || len(r["days"].([]any)) != 2 {
		t.Fatalf("reminders shown as %v, want the defaults filled in", r)
	}
}
