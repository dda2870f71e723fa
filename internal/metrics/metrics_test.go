package metrics

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/store"
)

func TestDeliveryStatusProvider(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    store.Delivery
		want string
	}{
		{"the provider that took it", store.Delivery{Provider: "ses", Attempts: []store.Attempt{{Provider: "smtp"}}}, "ses"},
		{"the last provider tried", store.Delivery{Attempts: []store.Attempt{{Provider: "smtp"}, {Provider: "ses"}}}, "ses"},
		{"none tried", store.Delivery{}, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := New()
			tt.d.Channel, tt.d.Status = store.ChannelEmail, store.DeliveryFailed
			m.DeliveryStatus(&tt.d)
			if got := testutil.ToFloat64(m.deliveries.WithLabelValues("email", tt.want, "failed")); got != 1 {
				t.Errorf("deliveries{provider=%q} = %v, want 1", tt.want, got)
			}
			if n := testutil.CollectAndCount(m.deliveries); n != 1 {
				t.Errorf("%d series, want 1", n)
			}
		})
	}
}

// stubRenderer stands in for the PDF renderer: how long it takes is what
// is measured, not what it draws.
type stubRenderer struct{ err error }

func (s stubRenderer) Render(pdf.Document) ([]byte, error) {
	time.Sleep(5 * time.Millisecond)
	return []byte("%PDF-"), s.err
}

func TestTimePDF(t *testing.T) {
	t.Parallel()
	m := New()
	r := m.TimePDF(stubRenderer{})
	if b, err := r.Render(pdf.Document{}); err != nil || string(b) != "%PDF-" {
		t.Fatalf("Render = %q, %v", b, err)
	}
	failing := m.TimePDF(stubRenderer{err: errors.New("no font")})
	if _, err := failing.Render(pdf.Document{}); err == nil {
		t.Fatal("the renderer's error was lost")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if !strings.Contains(body, "invoiced_pdf_render_duration_seconds_count 2\n") {
		t.Errorf("want two renders counted:\n%s", body)
	}
	if !strings.Contains(body, `invoiced_pdf_render_duration_seconds_bucket{le="0.005"} 0`) {
		t.Errorf("renders of 5 ms or more landed below 5 ms:\n%s", body)
	}
}
