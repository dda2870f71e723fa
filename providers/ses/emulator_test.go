package ses

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/providers/ses/sestest"
)

// These tests send through the real SDK to the aws-ses-v2-local emulator.
// For raw content the emulator stores what it parses out of the MIME
// message (see package sestest), so they check that SES receives a
// well-formed message: its From, Reply-To, To and Cc headers, no Bcc
// header, the decoded subject and bodies, and every attachment's name,
// type and bytes. What only the request carries (Destination,
// FromEmailAddress, ConfigurationSetName) is checked by the wire tests.

// emulatorSender returns a Sender for a running emulator.
func emulatorSender(tb testing.TB, endpoint string) *Sender {
	tb.Helper()
	s, err := New(context.Background(), Config{
		Region: "eu-west-1", AccessKeyID: "x", SecretAccessKey: "y",
		Endpoint: endpoint, ConfigurationSet: "invoiced-events", Timeout: 10 * time.Second,
	})
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return s
}

// pdf returns n bytes that start like a PDF and go on with binary noise,
// so a transfer-encoding mistake changes them.
func pdf(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	copy(b, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	return b
}

func TestSendEmulator(t *testing.T) {
	t.Parallel()
	endpoint := sestest.Start(t)
	s := emulatorSender(t, endpoint)

	tests := []struct {
		name string
		edit func(*providers.Email)
	}{
		{
			name: "invoice with PDF",
			edit: func(e *providers.Email) {
				e.Attachments[0].Data = pdf(20_000)
			},
		},
		{
			name: "text only with PDF and UBL XML",
			edit: func(e *providers.Email) {
				e.HTML = ""
				e.Attachments = []providers.Attachment{
					{Filename: "INV-0042.pdf", ContentType: "application/pdf", Data: pdf(5_000)},
					{Filename: "INV-0042.xml", ContentType: "application/xml", Data: []byte(`<?xml version="1.0"?><Invoice/>`)},
				}
			},
		},
		{
			name: "non-ASCII names",
			edit: func(e *providers.Email) {
				e.FromName = "Müller & Söhne GmbH"
				e.To = []string{"Zoë Ærøskøbing <zoe@customer.test>"}
				e.Subject = "Rechnung Nr. 2026-17 über 1.234,50 €"
				e.Attachments[0].Filename = "Rechnung-2026-17-Müller.pdf"
				e.Attachments[0].Data = pdf(3_000)
			},
		},
		{
			name: "Bcc only",
			edit: func(e *providers.Email) {
				e.To, e.Cc = nil, nil
				e.Bcc = []string{"archive@acme.test", "audit@acme.test"}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEmail()
			e.MessageID = strings.ReplaceAll(tt.name, " ", "-") + "@invoiced.test"
			tt.edit(e)

			id, err := s.SendEmail(context.Background(), e)
			if err != nil {
				t.Fatalf("SendEmail: %v", err)
			}
			if !strings.HasPrefix(id, "ses-") {
				t.Errorf("provider ID = %q, want the emulator's ses-… MessageId", id)
			}
			got := sestest.Find(t, endpoint, id)
			checkStored(t, got, e)
		})
	}
}

// checkStored compares what the emulator parsed out of the message with e.
func checkStored(t *testing.T, got sestest.Email, e *providers.Email) {
	t.Helper()
	from, err := netmail.ParseAddress(got.From)
	if err != nil || from.Address != e.FromEmail || from.Name != e.FromName {
		t.Errorf("From = %q (%v), want %q <%s>", got.From, err, e.FromName, e.FromEmail)
	}
	if len(got.ReplyTo) != 1 || !strings.Contains(got.ReplyTo[0], e.ReplyTo) {
		t.Errorf("Reply-To = %q, want %s", got.ReplyTo, e.ReplyTo)
	}
	checkAddrs(t, "To", got.Destination.To, e.To)
	checkAddrs(t, "Cc", got.Destination.Cc, e.Cc)
	// The emulator takes a raw message's recipients from its headers: Bcc
	// recipients must be in none.
	checkAddrs(t, "Bcc", got.Destination.Bcc, nil)
	if got.Subject != e.Subject {
		t.Errorf("Subject = %q, want %q", got.Subject, e.Subject)
	}
	if strings.TrimSpace(got.Body.Text) != e.Text {
		t.Errorf("text body = %q, want %q", got.Body.Text, e.Text)
	}
	if e.HTML != "" && !strings.Contains(got.Body.HTML, e.HTML) {
		t.Errorf("HTML body = %q, want it to hold %q", got.Body.HTML, e.HTML)
	}
	if len(got.Attachments) != len(e.Attachments) {
		t.Fatalf("%d attachments stored, want %d", len(got.Attachments), len(e.Attachments))
	}
	for i, want := range e.Attachments {
		a := got.Attachments[i]
		if a.Filename != want.Filename || a.ContentType != want.ContentType {
			t.Errorf("attachment %d = %q (%s), want %q (%s)", i, a.Filename, a.ContentType, want.Filename, want.ContentType)
		}
		if !bytes.Equal(a.Content, want.Data) || a.Size != len(want.Data) {
			t.Errorf("attachment %s: %d bytes stored (size %d), want the %d bytes sent", want.Filename, len(a.Content), a.Size, len(want.Data))
		}
	}
}

// checkAddrs compares the bare addresses in the emulator's header texts
// (one string per header) with the addresses sent.
func checkAddrs(t *testing.T, header string, stored, sent []string) {
	t.Helper()
	var got, want []string
	for _, text := range stored {
		list, err := netmail.ParseAddressList(text)
		if err != nil {
			t.Errorf("%s %q: %v", header, text, err)
			continue
		}
		for _, a := range list {
			got = append(got, a.Address)
		}
	}
	for _, s := range sent {
		a, err := netmail.ParseAddress(s)
		if err != nil {
			t.Fatalf("%s %q: %v", header, s, err)
		}
		want = append(want, a.Address)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %q, want %q", header, got, want)
	}
}

// BenchmarkSendEmulator sends a 50 KB invoice email (a PDF attachment,
// text and HTML) to the emulator, one send after another, and reports
// sends per second. It measures this package, the SDK (signing, JSON,
// HTTP on loopback) and the emulator's MIME parsing, not SES.
func BenchmarkSendEmulator(b *testing.B) {
	endpoint := sestest.Start(b)
	s := emulatorSender(b, endpoint)
	e := newEmail()
	e.Attachments[0].Data = pdf(36_000)
	ctx := context.Background()

	m, err := e.Msg()
	if err != nil {
		b.Fatal(err)
	}
	var raw bytes.Buffer
	if _, err := m.WriteTo(&raw); err != nil {
		b.Fatal(err)
	}

	sent := 0
	start := time.Now()
	for b.Loop() {
		if _, err := s.SendEmail(ctx, e); err != nil {
			b.Fatalf("SendEmail: %v", err)
		}
		// The emulator keeps every message in memory.
		if sent++; sent%1000 == 0 {
			sestest.Clear(b, endpoint)
		}
	}
	b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "sends/s")
	b.ReportMetric(float64(raw.Len()), "msg-bytes")
}
