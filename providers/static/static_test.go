package static

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/providers"
)

func newLinker(t testing.TB, tmpl string) *Linker {
	t.Helper()
	l, err := New(Config{Template: tmpl})
	if err != nil {
		t.Fatalf("New(%q): %v", tmpl, err)
	}
	return l
}

func newRequest() *providers.PaymentRequest {
	return &providers.PaymentRequest{
		TenantID: "ten_1", InvoiceID: "inv_1001", Number: "INV-1001",
		Amount: 113050, Currency: "EUR", CustomerEmail: "ana@example.com",
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tmpl    string
		wantErr string // empty: New succeeds
	}{
		{"https://pay.acme.test/i/{invoiceId}?amount={amount}&currency={currency}", ""},
		{"http://localhost:8080/pay?n={number}&t={tenantId}", ""},
		{"https://{tenantId}.pay.acme.test/{number}", ""},
		{"", "required"},
		{"https://pay.acme.test/invoices", "uses none of"},
		{"https://pay.acme.test/{invoiceID}", "{invoiceID} is not one of"},
		{"https://pay.acme.test/{number", "not closed"},
		{"https://pay.acme.test/number}", `"}" closes no placeholder`},
		{"https://pay.acme.test/{{number}}", "is not one of"},
		{"/pay/{number}", "not an absolute http or https URL"},
		{"ftp://pay.acme.test/{number}", "not an absolute http or https URL"},
		{"javascript:alert({number})", "not an absolute http or https URL"},
		{"https://user:pass@pay.acme.test/{number}", "credentials"},
		{"https://pay acme.test/{number}", "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			t.Parallel()
			_, err := New(Config{Template: tt.tmpl})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("New: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("New error %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestCreatePaymentLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tmpl string
		edit func(*providers.PaymentRequest)
		want string
	}{
		{
			name: "every placeholder",
			tmpl: "https://pay.acme.test/{tenantId}/{invoiceId}?n={number}&amount={amount}&currency={currency}",
			want: "https://pay.acme.test/ten_1/inv_1001?n=INV-1001&amount=1130.50&currency=EUR",
		},
		{
			name: "zero-decimal currency",
			tmpl: "https://pay.acme.test/?a={amount}&c={currency}",
			edit: func(r *providers.PaymentRequest) { r.Amount, r.Currency = 5000, "JPY" },
			want: "https://pay.acme.test/?a=5000&c=JPY",
		},
		{
			name: "three-decimal currency",
			tmpl: "https://pay.acme.test/?a={amount}&c={currency}",
			edit: func(r *providers.PaymentRequest) { r.Amount, r.Currency = 1250, "BHD" },
			want: "https://pay.acme.test/?a=1.250&c=BHD",
		},
		{
			name: "less than one unit",
			tmpl: "https://pay.acme.test/?a={amount}",
			edit: func(r *providers.PaymentRequest) { r.Amount = 5 },
			want: "https://pay.acme.test/?a=0.05",
		},
		{
			name: "a placeholder used twice",
			tmpl: "https://pay.acme.test/{number}?ref={number}",
			want: "https://pay.acme.test/INV-1001?ref=INV-1001",
		},
		{
			name: "values are escaped",
			tmpl: "https://pay.acme.test/{number}?n={number}",
			edit: func(r *providers.PaymentRequest) { r.Number = "INV 2026/11&x=1+?#ü" },
			want: "https://pay.acme.test/INV%202026%2F11%26x%3D1%2B%3F%23%C3%BC?n=INV%202026%2F11%26x%3D1%2B%3F%23%C3%BC",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRequest()
			if tt.edit != nil {
				tt.edit(r)
			}
			link, err := newLinker(t, tt.tmpl).CreatePaymentLink(context.Background(), r)
			if err != nil {
				t.Fatalf("CreatePaymentLink: %v", err)
			}
			if link.URL != tt.want {
				t.Errorf("URL =\n %s\nwant\n %s", link.URL, tt.want)
			}
			if link.ID != "" || link.ExpiresAt != nil {
				t.Errorf("ID %q, ExpiresAt %v; want neither", link.ID, link.ExpiresAt)
			}
		})
	}
}

// TestValuesReadBack checks that an awkward value comes back unchanged
// from both the path and the query of the link.
func TestValuesReadBack(t *testing.T) {
	t.Parallel()
	l := newLinker(t, "https://pay.acme.test/i/{number}?n={number}&t={tenantId}")
	for _, number := range []string{"INV 1/2", "a&b=c", "100%", "x+y", "ünï", "#frag", "?q", "~._-"} {
		r := newRequest()
		r.Number = number
		link, err := l.CreatePaymentLink(context.Background(), r)
		if err != nil {
			t.Fatalf("CreatePaymentLink(%q): %v", number, err)
		}
		u, err := url.Parse(link.URL)
		if err != nil {
			t.Fatalf("%q does not parse: %v", link.URL, err)
		}
		if got := u.Query().Get("n"); got != number {
			t.Errorf("query n = %q, want %q (%s)", got, number, link.URL)
		}
		if got := u.Query().Get("t"); got != "ten_1" {
			t.Errorf("query t = %q, want ten_1", got)
		}
		seg, err := url.PathUnescape(strings.TrimPrefix(u.EscapedPath(), "/i/"))
		if err != nil || seg != number {
			t.Errorf("path segment = %q, %v; want %q (%s)", seg, err, number, link.URL)
		}
	}
}

func TestCreatePaymentLinkRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tmpl string
		edit func(*providers.PaymentRequest)
	}{
		{"no tenant", "", func(r *providers.PaymentRequest) { r.TenantID = "" }},
		{"no invoice", "", func(r *providers.PaymentRequest) { r.InvoiceID = "" }},
		{"no number", "", func(r *providers.PaymentRequest) { r.Number = "" }},
		{"zero amount", "", func(r *providers.PaymentRequest) { r.Amount = 0 }},
		{"lower-case currency", "", func(r *providers.PaymentRequest) { r.Currency = "eur" }},
		{"unknown currency", "", func(r *providers.PaymentRequest) { r.Currency = "ABC" }},
		{"a value that breaks the host", "https://{tenantId}.pay.acme.test/", func(r *providers.PaymentRequest) { r.TenantID = "a b" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl := tt.tmpl
			if tmpl == "" {
				tmpl = "https://pay.acme.test/{invoiceId}?a={amount}"
			}
			r := newRequest()
			tt.edit(r)
			_, err := newLinker(t, tmpl).CreatePaymentLink(context.Background(), r)
			var perm *providers.PermanentError
			if !errors.As(err, &perm) || perm.Code != "invalid_request" {
				t.Errorf("error %v, want permanent invalid_request", err)
			}
		})
	}
	t.Run("nil request", func(t *testing.T) {
		t.Parallel()
		_, err := newLinker(t, "https://pay.acme.test/{number}").CreatePaymentLink(context.Background(), nil)
		if !providers.IsPermanent(err) {
			t.Errorf("error %v, want permanent", err)
		}
	})
	t.Run("canceled ctx", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newLinker(t, "https://pay.acme.test/{number}").CreatePaymentLink(ctx, newRequest())
		if !errors.Is(err, context.Canceled) || providers.IsPermanent(err) {
			t.Errorf("error %v, want a transient one wrapping context.Canceled", err)
		}
	})
}

// BenchmarkCreateLink builds links from a template with every
// placeholder.
func BenchmarkCreateLink(b *testing.B) {
	l := newLinker(b, "https://pay.acme.test/{tenantId}/{invoiceId}?n={number}&amount={amount}&currency={currency}")
	r := newRequest()
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.CreatePaymentLink(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "links/s")
}

// TestCreatePaymentLinkAllocations holds a link to its own string, the
// amount printed, the URL parsed to check it and the link returned: the
// values are put in without a map or a string per escaped value.
func TestCreatePaymentLinkAllocations(t *testing.T) {
	l := newLinker(t, "https://pay.acme.test/{tenantId}/{invoiceId}?n={number}&amount={amount}&currency={currency}")
	r := newRequest()
	r.Number = "INV 1001/A"
	ctx := context.Background()
	n := testing.AllocsPerRun(100, func() {
		if _, err := l.CreatePaymentLink(ctx, r); err != nil {
			t.Fatal(err)
		}
	})
	if n > 4 {
		t.Errorf("CreatePaymentLink: %v allocations, want at most 4", n)
	}
}

// TestEscapeLikeQueryEscape: a value is escaped as url.QueryEscape would
// escape it, with a space as %20.
func TestEscapeLikeQueryEscape(t *testing.T) {
	t.Parallel()
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	for _, v := range []string{"", "INV-1001", "a b+c", "ä/€?&=#%", "~._-", string(all)} {
		want := strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
		if got := string(appendEscaped(nil, v)); got != want {
			t.Errorf("appendEscaped(%q) = %q, want %q", v, got, want)
		}
	}
}

// BenchmarkNew builds a linker from a template with three placeholders,
// as a send does for a tenant with static links.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(Config{Template: "https://pay.acme.test/{invoiceId}?amount={amount}&currency={currency}"}); err != nil {
			b.Fatal(err)
		}
	}
}
