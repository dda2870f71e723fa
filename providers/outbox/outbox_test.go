package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers"
)

func setup(t *testing.T) (*Outbox, string) {
	t.Helper()
	dir := t.TempDir()
	o, err := New(dir)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return o, dir
}

func newEmail(messageID string) *providers.Email {
	return &providers.Email{
		MessageID: messageID,
		FromEmail: "billing@acme.test",
		FromName:  "Acme Billing",
		To:        []string{"ann@customer.test"},
		Cc:        []string{"ap@customer.test"},
		Bcc:       []string{"archive@acme.test"},
		Subject:   "Invoice INV-0042",
		Text:      "Your invoice is attached.",
	}
}

// files lists the names in dir matching pattern.
func files(t *testing.T, dir, pattern string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

func TestNew(t *testing.T) {
	t.Parallel()
	_, dir := setup(t)
	for _, sub := range []string{"email", "sms"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			t.Errorf("%s: %v, want a directory", sub, err)
		}
	}
	if _, err := New(""); err == nil {
		t.Error(`New("") succeeded, want an error`)
	}
}

func TestSendEmail(t *testing.T) {
	t.Parallel()
	o, dir := setup(t)
	e := newEmail("delivery-42@invoiced.test")

	id, err := o.SendEmail(context.Background(), e)
	if err != nil {
		t.Fatalf("SendEmail: %v", err)
	}
	if want := "delivery-42_invoiced.test.eml"; id != want {
		t.Errorf("provider ID = %q, want %q", id, want)
	}
	f, err := os.Open(filepath.Join(dir, "email", id))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	msg, err := netmail.ReadMessage(f)
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	h := msg.Header
	if got := h.Get("Message-Id"); got != "<delivery-42@invoiced.test>" {
		t.Errorf("Message-ID = %q", got)
	}
	if got := h.Get("Subject"); got != e.Subject {
		t.Errorf("Subject = %q, want %q", got, e.Subject)
	}
	if _, ok := h["Bcc"]; ok {
		t.Error("the .eml has a Bcc header")
	}
	envelope, err := h.AddressList(HeaderEnvelopeTo)
	if err != nil {
		t.Fatalf("%s: %v", HeaderEnvelopeTo, err)
	}
	var got []string
	for _, a := range envelope {
		got = append(got, a.Address)
	}
	if want := "ann@customer.test,ap@customer.test,archive@acme.test"; strings.Join(got, ",") != want {
		t.Errorf("%s = %v, want %s", HeaderEnvelopeTo, got, want)
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), e.Text) {
		t.Errorf("body = %q, want it to contain %q", body, e.Text)
	}
}

func TestSendEmailRetryOverwrites(t *testing.T) {
	t.Parallel()
	o, dir := setup(t)
	e := newEmail("delivery-7@invoiced.test")

	first, err := o.SendEmail(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	e.Subject = "Invoice INV-0042 (retry)"
	second, err := o.SendEmail(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Errorf("provider IDs differ: %q then %q", first, second)
	}
	if names := files(t, filepath.Join(dir, "email"), "*"); len(names) != 1 {
		t.Fatalf("email folder holds %v, want one file", names)
	}
	data, err := os.ReadFile(filepath.Join(dir, "email", second))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "(retry)") {
		t.Error("the file holds the first send, want the retry")
	}
}

func TestSendEmailInvalid(t *testing.T) {
	t.Parallel()
	o, dir := setup(t)
	e := newEmail("delivery-8@invoiced.test")
	e.To = []string{"not an address"}

	_, err := o.SendEmail(context.Background(), e)
	if !providers.IsPermanent(err) {
		t.Fatalf("SendEmail error = %v, want permanent", err)
	}
	if names := files(t, filepath.Join(dir, "email"), "*"); len(names) != 0 {
		t.Errorf("email folder holds %v, want nothing", names)
	}
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	o, dir := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	if _, err := o.SendEmail(ctx, newEmail("delivery-9@invoiced.test")); !errors.Is(err, context.Canceled) {
		t.Errorf("SendEmail error = %v, want context.Canceled", err)
	}
	if _, err := o.SendSMS(ctx, &providers.SMS{ID: "sms-9", To: "+15550100", Body: "hi"}); !errors.Is(err, context.Canceled) {
		t.Errorf("SendSMS error = %v, want context.Canceled", err)
	}
	if names := files(t, dir, "*/*"); len(names) != 0 {
		t.Errorf("outbox holds %v, want nothing", names)
	}
}

func TestSendSMS(t *testing.T) {
	t.Parallel()
	o, dir := setup(t)
	now := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	o.nowFunc = func() time.Time { return now }
	s := &providers.SMS{ID: "dlv_42/sms", From: "+15550100", To: "+15550199", Body: "Invoice INV-0042: €120.00 due"}

	id, err := o.SendSMS(context.Background(), s)
	if err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if want := "dlv_42_sms.json"; id != want {
		t.Errorf("provider ID = %q, want %q", id, want)
	}
	data, err := os.ReadFile(filepath.Join(dir, "sms", id))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID, From, To, Body string
		CreatedAt          time.Time `json:"createdAt"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	if got.ID != s.ID || got.From != s.From || got.To != s.To || got.Body != s.Body || !got.CreatedAt.Equal(now) {
		t.Errorf("SMS file = %+v, want %+v at %v", got, s, now)
	}

	if _, err := o.SendSMS(context.Background(), &providers.SMS{To: "+15550199"}); !providers.IsPermanent(err) {
		t.Errorf("SendSMS without ID error = %v, want permanent", err)
	}
}

func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	o, dir := setup(t)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		// Each message is sent by three writers at once, as when a retry
		// races the original attempt in another worker.
		for range 3 {
			wg.Go(func() {
				if _, err := o.SendEmail(context.Background(), newEmail(fmt.Sprintf("delivery-%d@invoiced.test", i))); err != nil {
					errs <- err
				}
				if _, err := o.SendSMS(context.Background(), &providers.SMS{ID: fmt.Sprintf("sms-%d", i), Body: "hi"}); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := files(t, filepath.Join(dir, "email"), "*"); len(got) != n {
		t.Errorf("email folder holds %d files, want %d", len(got), n)
	}
	if got := files(t, filepath.Join(dir, "sms"), "*"); len(got) != n {
		t.Errorf("sms folder holds %d files, want %d", len(got), n)
	}
	if tmp := files(t, dir, "*/.*"); len(tmp) != 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
}

func TestFileName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id, want string
	}{
		{"delivery-42@invoiced.test", "delivery-42_invoiced.test.eml"},
		{"../../etc/passwd", "_._.._etc_passwd.eml"},
		{".hidden", "_hidden.eml"},
		{"a b\r\nc/ü", "a_b__c___.eml"},
	}
	for _, tt := range tests {
		if got := fileName(tt.id, ".eml"); got != tt.want {
			t.Errorf("fileName(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}

	long := strings.Repeat("a", 300)
	got := fileName(long+"@invoiced.test", ".eml")
	if len(got) != maxNameLen+len(".eml") || !strings.HasPrefix(got, long[:maxNameLen-17]+"-") {
		t.Errorf("fileName(long id) = %q, want %d bytes", got, maxNameLen+len(".eml"))
	}
	if other := fileName(long+"@invoiced.example", ".eml"); other == got {
		t.Errorf("two long ids share the name %q", got)
	}
}
