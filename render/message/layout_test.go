package message

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
)

// TestLayoutChromeWrittenIn renders messages of every kind with the
// layout as written and with the one their chrome is written into
// (layoutTemplate): the HTML must be the same to the byte, hostile
// values included, and the chrome must be written in for every message
// Render makes.
func TestLayoutChromeWrittenIn(t *testing.T) {
	t.Parallel()
	logo, err := os.ReadFile(filepath.Join("testdata", "logo.png"))
	if err != nil {
		t.Fatal(err)
	}
	const hostile = `"><img src=x onerror=alert(1)> +&'{{.Accent}}`
	variants := []struct {
		name string
		t    Template
		v    func(*Vars)
	}{
		{"built-in", Template{}, func(*Vars) {}},
		{"credit note", Template{CreditNote: true}, func(v *Vars) {
			v.CorrectedInvoiceNumber, v.CorrectedIssueDate = "INV-0999", "1 Oct 2026"
		}},
		{"pale accent, logo, seller", Template{}, func(v *Vars) {
			v.Brand = Brand{Accent: "#FFD54F", LogoURL: "https://invoiced.example.test/i/Zx81kQ/logo", Logo: logo,
				Seller: invoice.Seller{Name: "ACME SRL", Email: "billing@acme.test", Phone: "+40 21 000 0000",
					Address: invoice.Address{Line1: "Str. Lunga 1", City: "Brasov", Country: "RO"}}}
		}},
		{"lower-case accent, not payable", Template{}, func(v *Vars) {
			v.Brand.Accent = "#0a0b0c"
			v.Payable = false
		}},
		{"no links", Template{}, func(v *Vars) { v.PaymentLink, v.PublicURL = "", "" }},
		{"bad accent and links", Template{}, func(v *Vars) {
			v.Brand.Accent = `red;background:url(javascript:alert(1))`
			v.PaymentLink, v.PublicURL = "javascript:alert(1)", `https://x.test/"onmouseover="alert(1)`
		}},
		{"hostile values", Template{
			Subject: hostile + " {{invoiceNumber}}",
			Body:    "Hello {{customerName}},\n\n" + hostile + "\nSee https://x.test/a?b=1&c=\"2\" and {{orderRef}}.\n\nPay online: {{paymentLink}}",
			Note:    hostile,
		}, func(v *Vars) {
			v.CustomerName, v.MerchantName = hostile, hostile
			v.Extra = map[string]string{"orderRef": hostile, "invoiceNumber": hostile}
			v.Brand.Seller = invoice.Seller{Name: hostile, Website: "https://acme.test/?a=<b>"}
		}},
		{"custom body with summary", Template{Body: "Thank you, {{customerName}}!", Summary: true}, func(*Vars) {}},
	}
	for _, lang := range append(languages, "pt-BR", "", `x"><script>`) {
		for _, tt := range variants {
			t.Run(fmt.Sprintf("%s/%s", lang, tt.name), func(t *testing.T) {
				t.Parallel()
				v := testVarsIn(lang)
				tt.v(&v)
				m, d := prepare(tt.t, lang, v)
				tmpl := layoutTemplate(d)
				if tmpl == layout {
					t.Fatalf("the chrome %+v is not written into the layout", d)
				}
				want := d.execute(layout, len(m.Text))
				if got := d.execute(tmpl, len(m.Text)); got != want {
					t.Errorf("with the chrome written in, the HTML differs at byte %d:\n got …%s…\nwant …%s…",
						diffAt(got, want), around(got, diffAt(got, want)), around(want, diffAt(got, want)))
				}
				if got := Render(tt.t, lang, v).HTML; got != want {
					t.Errorf("Render's HTML differs from the layout's at byte %d", diffAt(got, want))
				}
			})
		}
	}
}

// TestLayoutChromeNotLiteral gives layoutTemplate a chrome whose values
// would not print as themselves: it must get the layout as written.
func TestLayoutChromeNotLiteral(t *testing.T) {
	t.Parallel()
	ok := layoutData{Lang: "en", Accent: DefaultAccent, OnAccent: colourWhite, Link: DefaultAccent,
		ViewLabel: "View", CopyLabel: "Copy:"}
	if layoutTemplate(&ok) == layout {
		t.Fatal("a literal chrome is not written in")
	}
	for name, change := range map[string]func(*layoutData){
		"accent":      func(d *layoutData) { d.Accent = "red" },
		"link":        func(d *layoutData) { d.Link = `#000000" onclick="x` },
		"on accent":   func(d *layoutData) { d.OnAccent = "" },
		"lang":        func(d *layoutData) { d.Lang = "en US" },
		"view label":  func(d *layoutData) { d.ViewLabel = "View & pay" },
		"copy label":  func(d *layoutData) { d.CopyLabel = "A+B" },
		"delimiter":   func(d *layoutData) { d.CopyLabel = "{{.PayURL}}" },
		"empty lang":  func(d *layoutData) { d.Lang = "" },
		"quote label": func(d *layoutData) { d.ViewLabel = `"View"` },
	} {
		d := ok
		change(&d)
		if layoutTemplate(&d) != layout {
			t.Errorf("%s: the chrome %+v is written in", name, d)
		}
	}
}

// TestLayoutsBounded asks for more layouts than are kept.
func TestLayoutsBounded(t *testing.T) {
	t.Parallel()
	for i := range maxLayouts + 10 {
		d := layoutData{Lang: "en", Accent: fmt.Sprintf("#%06x", i), OnAccent: colourWhite, Link: DefaultAccent}
		layoutTemplate(&d)
	}
	layouts.RLock()
	defer layouts.RUnlock()
	if n := len(layouts.m); n > maxLayouts {
		t.Fatalf("%d layouts kept, want at most %d", n, maxLayouts)
	}
}

func diffAt(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func around(s string, i int) string {
	return s[max(0, i-60):min(len(s), i+60)]
}

// TestOneLineAsIs checks oneLine's shortcut, the string returned as it
// is, against the copy it otherwise builds, on the edge cases and on
// strings made at random of them.
func TestOneLineAsIs(t *testing.T) {
	t.Parallel()
	parts := []string{"a", "Ş", " ", "  ", "\t", "\r\n", "\x00", "\u0085", "\u00a0", "\u2028", "\u2029", "\u3000",
		"\ufffd", "\xff", "\xe2\x82", "€", "ACME SRL", "\u202f"}
	check := func(s string) {
		if got, want := oneLine(s), foldLine(s); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", s, got, want)
		}
	}
	for _, a := range parts {
		for _, b := range parts {
			check(a + b)
			check(a + "x" + b)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		check(b.String())
	}
}
