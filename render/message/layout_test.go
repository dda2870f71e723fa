package message

import (
	_ "embed"
	"fmt"
	"html/template"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
)

// layoutHTML is the layout as a template, which writeHTML is held to.
//
//go:embed layout.html
var layoutHTML string

var layoutTemplate = template.Must(template.New("layout.html").Parse(layoutHTML))

// executeLayout is d's HTML as html/template executes layout.html.
func executeLayout(t *testing.T, d *layoutData) string {
	t.Helper()
	var b strings.Builder
	if err := layoutTemplate.Execute(&b, d); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestLayoutWriter renders messages of every kind, in every language and
// with hostile values, and compares the HTML writeHTML writes with the
// one html/template makes of layout.html: they must be the same to the
// byte.
func TestLayoutWriter(t *testing.T) {
	t.Parallel()
	logo, err := os.ReadFile(filepath.Join("testdata", "logo.png"))
	if err != nil {
		t.Fatal(err)
	}
	const hostile = `"><img src=x onerror=alert(1)> +&'{{.Accent}}` + "\x00\xff"
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
		{"logo of unknown size", Template{}, func(v *Vars) {
			v.Brand = Brand{LogoURL: "https://invoiced.example.test/i/Zx81kQ/logo?s=a+b&t=%41%zz", Logo: []byte("not an image")}
		}},
		{"lower-case accent, not payable", Template{}, func(v *Vars) {
			v.Brand.Accent = "#0a0b0c"
			v.Payable = false
		}},
		{"no links", Template{}, func(v *Vars) { v.PaymentLink, v.PublicURL = "", "" }},
		{"no public page", Template{}, func(v *Vars) { v.PublicURL = "" }},
		{"nothing due, no seller", Template{}, func(v *Vars) {
			v.AmountDue, v.pdf.amountDue, v.MerchantName, v.DueDate = "", "", "", ""
		}},
		{"bad accent and links", Template{}, func(v *Vars) {
			v.Brand.Accent = `red;background:url(javascript:alert(1))`
			v.PaymentLink, v.PublicURL = "javascript:alert(1)", `https://x.test/"onmouseover="alert(1)`
		}},
		{"odd links", Template{}, func(v *Vars) {
			v.PaymentLink = "https://pay.test/p?a=1&b=+2&c=%E2%82%AC&d=€&e='x'&f=%4"
			v.PublicURL = "HTTP://x.test/a(b)[c]{d}|e^f`g"
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
				_, d := prepare(tt.t, lang, v)
				want := executeLayout(t, d)
				if got := Render(tt.t, lang, v).HTML; got != want {
					i := diffAt(got, want)
					t.Errorf("the HTML differs from the layout's at byte %d:\n got …%s…\nwant …%s…", i, around(got, i), around(want, i))
				}
			})
		}
	}
}

// TestLayoutWriterRandom writes layouts made at random of the edge cases
// of each field, as html/template would print them and as writeHTML
// does. The colours are what layoutFor gives, "#RRGGBB", and the lang
// attribute a language tag.
func TestLayoutWriterRandom(t *testing.T) {
	t.Parallel()
	texts := []string{"", "a", "ACME SRL", "€1,130.50", "1.130,50\u00a0€", `"`, "'", "&", "&amp;", "<b>", ">", "+", "\x00",
		"\xff", "\xe2\x82", "{{.Accent}}", "a b", "\ufffd", "%41", "javascript:x", "\t\r\n"}
	urls := []string{"https://x.test/", "http://x.test/a?b=1&c=2", "HTTPS://X.TEST/%e2%82%ac", "https://x.test/a+b",
		"https://x.test/€ ü", "https://x.test/%", "https://x.test/%4", "https://x.test/%zz%41", "https://x.test/'\"<>",
		"mailto:a@x.test", "javascript:alert(1)", "data:text/html,x", "//x.test/a:b", "/a:b", "https://x.test/\x00\x7f\xff",
		"https://x.test/!$*,;=?@[]-._~#(){}|^`\\"}
	colours := []string{DefaultAccent, "#FFD54F", "#0a0b0c", colourWhite, colourBlack}
	langs := []string{"en", "ro", "de-at", "pt-br", "x1-y2"}
	r := rand.New(rand.NewPCG(3, 4))
	text := func() string {
		var b strings.Builder
		for range r.IntN(4) {
			b.WriteString(texts[r.IntN(len(texts))])
		}
		return b.String()
	}
	url := func() string {
		if r.IntN(4) == 0 {
			return ""
		}
		return urls[r.IntN(len(urls))] + text()
	}
	for range 3000 {
		d := &layoutData{
			Lang: langs[r.IntN(len(langs))], Subject: text(),
			Accent: colours[r.IntN(len(colours))], OnAccent: colours[r.IntN(len(colours))], Link: colours[r.IntN(len(colours))],
			Merchant: text(), Heading: text(), Amount: text(), AmountNote: text(),
			PayURL: url(), PayLabel: text(), ViewURL: url(), ViewLabel: text(), CopyURL: url(), CopyLabel: text(),
			MSOOpen: msoOpen, MSOClose: msoClose,
		}
		if r.IntN(2) == 0 {
			d.Logo = &logoImage{URL: urls[r.IntN(len(urls))], Width: r.IntN(2) * r.IntN(300), Height: 1 + r.IntN(40)}
		}
		for range r.IntN(5) {
			d.Summary = append(d.Summary, summaryRow{Label: text(), Value: text(), Strong: r.IntN(2) == 0})
		}
		for range r.IntN(4) {
			var p paragraph
			for range 1 + r.IntN(3) {
				var line []segment
				for range r.IntN(4) {
					if u := url(); u != "" && r.IntN(2) == 0 {
						line = append(line, segment{Text: text(), URL: u})
					} else {
						line = append(line, segment{Text: text()})
					}
				}
				p.Lines = append(p.Lines, line)
			}
			d.Paragraphs = append(d.Paragraphs, p)
		}
		for range r.IntN(4) {
			d.Footer = append(d.Footer, text())
		}
		want := executeLayout(t, d)
		if got := d.html(0); got != want {
			i := diffAt(got, want)
			t.Fatalf("the HTML of %+v differs from the layout's at byte %d:\n got …%s…\nwant …%s…", d, i, around(got, i), around(want, i))
		}
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
