package providers

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestEmailMsgGolden holds the messages Msg writes to the byte, but for
// the MIME boundaries, which are random: the headers, the parts, their
// order and their encodings, as a mail client reads them.
func TestEmailMsgGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Email)
	}{
		{"invoice", func(e *Email) { e.Attachments[0].Data = e.Attachments[0].Data[:4<<10] }},
		{"invoice-xml", func(e *Email) {
			e.Attachments[0].Data = e.Attachments[0].Data[:1<<10]
			e.Attachments = append(e.Attachments, Attachment{Filename: "INV-0042.xml", ContentType: "application/xml",
				Data: []byte("<?xml version=\"1.0\"?>\n<Invoice>INV-0042</Invoice>\n")})
		}},
		{"text", func(e *Email) { e.HTML, e.Attachments = "", nil }},
		{"html", func(e *Email) { e.Text, e.Attachments = "", nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := invoiceEmail()
			tt.edit(e)
			_, raw := writeMsg(t, e, time.Date(2026, 11, 21, 9, 26, 53, 0, time.UTC))
			got := withFixedBoundaries(raw)
			path := filepath.Join("testdata", tt.name+".eml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("the message differs from %s:\n%s", path, got)
			}
		})
	}
}

var boundaryRE = regexp.MustCompile(`boundary=([0-9a-f]{20,})`)

// withFixedBoundaries replaces the random MIME boundaries in msg with
// boundary-1, boundary-2, … in the order they are declared.
func withFixedBoundaries(msg []byte) []byte {
	for i, m := range boundaryRE.FindAllSubmatch(msg, -1) {
		msg = regexp.MustCompile(regexp.QuoteMeta(string(m[1]))).ReplaceAll(msg, []byte("boundary-"+string(rune('1'+i))))
	}
	return msg
}
