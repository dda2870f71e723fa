package message

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/locale"
)

// TestEmailLocalized holds each language's email (subject, HTML, plain
// text) and SMS to its amounts and dates: the HTML card as the invoice's
// PDF prints them (render/locale), the template variables as the
// message's language writes them (Storno's documented forms in Romanian),
// and no amount or date left as stored.
func TestEmailLocalized(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang                 string
		cardTotal, cardDue   string // the HTML card, as the PDF prints them
		textTotal, textDates string // the template variables
		sms                  string
	}{
		{"en", "€1,130.50", "21 Dec 2026", "€1,130.50", "21 Dec 2026", "ACME SRL: New invoice for €1,130.50 due 21 Dec 2026."},
		{"ro", "1.130,50\u00a0€", "21.12.2026", "1,130.50 EUR", "21.12.2026", "ACME SRL: factura INV-1001, total 1,130.50 EUR. Termen: 21.12.2026."},
		{"de", "1.130,50\u00a0€", "21.12.2026", "1.130,50\u00a0€", "21.12.2026", "ACME SRL: Rechnung INV-1001 über 1.130,50 €. Fällig am 21.12.2026."},
		{"fr", "1\u202f130,50\u00a0€", "21/12/2026", "1\u202f130,50\u00a0€", "21/12/2026", "ACME SRL : facture INV-1001 de 1 130,50 €. Échéance : 21/12/2026."},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			inv := testInvoice()
			if got, got2 := locale.Money(inv.Total, inv.Currency, tt.lang), locale.Date(inv.DueDate, tt.lang); got != tt.cardTotal || got2 != tt.cardDue {
				t.Fatalf("render/locale prints %q and %q, the test expects %q and %q", got, got2, tt.cardTotal, tt.cardDue)
			}
			v := testVarsIn(tt.lang)
			m := Render(Template{}, tt.lang, v)
			l := labelsFor(tt.lang)
			for _, want := range []string{
				">" + tt.cardTotal + "</div>",
				">" + strings.Replace(l.Due, "%s", tt.cardDue, 1) + "</div>",
				">" + strings.Replace(l.Pay, "%s", tt.cardTotal, 1) + "</a>",
				">" + tt.cardDue + "</td>",
				"font-weight:bold;\">" + tt.cardTotal + "</td>",
			} {
				if !strings.Contains(m.HTML, want) {
					t.Errorf("HTML lacks %q", want)
				}
			}
			for _, want := range []string{tt.textTotal, tt.textDates} {
				if !strings.Contains(m.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, m.Text)
				}
			}
			sms := RenderSMS(Template{}, tt.lang, v)
			if !strings.HasPrefix(sms, tt.sms) {
				t.Errorf("SMS %q, want it to start %q", sms, tt.sms)
			}
			for _, raw := range []string{"1130.50", "1130,50", "2026-12-21", "2026-11-21"} {
				for part, s := range map[string]string{"subject": m.Subject, "html": m.HTML, "text": m.Text, "sms": sms} {
					if strings.Contains(s, raw) {
						t.Errorf("%s prints %q as stored", part, raw)
					}
				}
			}
			if t.Failed() {
				t.Logf("HTML:\n%s", m.HTML)
			}
		})
	}
}

// TestEmailPayButtonOnlyWhenPayable: the Pay button, and the due date under
// the amount, only for an invoice that asks for money with an http(s)
// payment link.
func TestEmailPayButtonOnlyWhenPayable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*invoice.Invoice)
		pay  bool
		due  bool // the due date under the amount: the invoice asks for money
	}{
		{"open with something due", func(*invoice.Invoice) {}, true, true},
		{"paid", func(inv *invoice.Invoice) { inv.Status, inv.AmountDue = invoice.StatusPaid, "0.00" }, false, false},
		{"paid, amount due left as stored", func(inv *invoice.Invoice) { inv.Status = invoice.StatusPaid }, false, false},
		{"void", func(inv *invoice.Invoice) { inv.Status = invoice.StatusVoid }, false, false},
		{"draft", func(inv *invoice.Invoice) { inv.Status = invoice.StatusDraft }, false, false},
		{"credited in full", func(inv *invoice.Invoice) { inv.AmountDue = "0.00" }, false, false},
		{"credit note", func(inv *invoice.Invoice) {
			inv.Type = invoice.TypeCreditNote
			inv.Corrects = &invoice.Reference{ID: "inv_1", Number: "INV-1", IssueDate: "2026-11-01"}
		}, false, false},
		{"no payment link: paid by transfer", func(inv *invoice.Invoice) { inv.PaymentLink = "" }, false, true},
		{"a link that is not http(s)", func(inv *invoice.Invoice) { inv.PaymentLink = "javascript:alert(1)" }, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := testInvoice()
			tt.edit(inv)
			v := InvoiceVars(inv, "en", "ACME SRL", nil)
			v.PublicURL = "https://invoiced.example.test/i/Zx81kQ"
			tmpl := Resolve("en", nil, Template{})
			if inv.IsCreditNote() {
				tmpl = ResolveCreditNote("en", Template{})
			}
			html := Render(tmpl, "en", v).HTML
			if got := strings.Contains(html, `class="em-pay"`) || strings.Contains(html, ">Pay €"); got != tt.pay {
				t.Errorf("Pay button %v, want %v:\n%s", got, tt.pay, html)
			}
			if got := strings.Contains(html, ">Due 21 Dec 2026</div>"); got != tt.due {
				t.Errorf("due date under the amount %v, want %v", got, tt.due)
			}
			if !strings.Contains(html, ">View / download ") {
				t.Errorf("no button to the hosted page:\n%s", html)
			}
		})
	}
}

// TestEmailCreditNoteCard: a credit note's card shows the amount credited
// and the invoice it corrects, and names the credit note.
func TestEmailCreditNoteCard(t *testing.T) {
	t.Parallel()
	html := Render(ResolveCreditNote("de", Template{}), "de", creditVarsIn("de")).HTML
	for _, want := range []string{">Gutschrift von ACME SRL</h1>", ">226,10\u00a0€</div>", ">Gutschriftsnummer</td>", ">CN-0042</td>",
		">Gutschriftsbetrag</td>", `font-weight:bold;">226,10` + "\u00a0€</td>", ">Zur Rechnung</td>", ">INV-1001 vom 21.11.2026</td>",
		">Gutschrift ansehen / herunterladen</a>"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(html, "Fällig") || strings.Contains(html, "em-pay\"") {
		t.Errorf("a credit note's card speaks of payment:\n%s", html)
	}
}

// TestEmailPlainText: the plain-text alternative holds no HTML, keeps
// lines to TextWidth characters between words, never cuts a URL or an
// amount, and keeps a link beside its label.
func TestEmailPlainText(t *testing.T) {
	t.Parallel()
	for _, lang := range languages {
		for name, tmpl := range map[string]Template{
			"built-in": {},
			"reminder": func() Template { r, _ := Reminder(lang, true); return r }(),
			"custom":   Resolve(lang, nil, Template{Body: "Hi {{customerName}},\n\n" + strings.Repeat("A long sentence about the work done this month. ", 5)}),
		} {
			v := testVarsIn(lang)
			v.PaymentLink = "https://pay.example.test/p/inv_1001_8fK2xQ9mZ1aB7cD3eF5gH7jK9mN1pQ3rS5tU7vW9xY?ref=mail&lang=" + lang
			text := Render(tmpl, lang, v).Text
			if regexp.MustCompile(`<[a-zA-Z/][^>]*>|&[a-z]+;|&#`).MatchString(text) {
				t.Errorf("%s %s: the text holds HTML:\n%s", lang, name, text)
			}
			for _, line := range strings.Split(text, "\n") {
				if n := len([]rune(line)); n > TextWidth && !strings.Contains(line, "https://") {
					t.Errorf("%s %s: a line of %d characters: %q", lang, name, n, line)
				}
			}
			for _, whole := range []string{v.PaymentLink, v.InvoiceTotal} {
				if strings.Contains(Expand(tmpl.Body, v), whole) && !strings.Contains(text, whole) {
					t.Errorf("%s %s: %q is cut:\n%s", lang, name, whole, text)
				}
			}
		}
	}
	got := wrap("Pay online: https://pay.example.test/"+strings.Repeat("x", 80), TextWidth)
	if strings.Contains(got, "\n") {
		t.Errorf("a link left its label: %q", got)
	}
	got = wrap(strings.Repeat("word ", 30)+"end", 20)
	for _, l := range strings.Split(got, "\n") {
		if len(l) > 20 || strings.HasPrefix(l, " ") || strings.HasSuffix(l, " ") {
			t.Errorf("wrapped line %q", l)
		}
	}
	if strings.ReplaceAll(got, "\n", " ") != strings.Repeat("word ", 30)+"end" {
		t.Errorf("wrapping lost text: %q", got)
	}
	const want = "Hello Ana Popescu,\n\nYour invoice INV-1001 for €1,130.50 is attached as a PDF.\nPayment is due by 21 Dec 2026.\n\n" +
		"Pay online: https://pay.example.test/p/inv_1001?ref=mail&lang=en\nView or download the invoice: https://invoiced.example.test/i/Zx81kQ\n\n" +
		"Thank you for your business.\n\nKind regards,\nACME SRL\n"
	if got := Render(Template{}, "en", testVars()).Text; got != want {
		t.Errorf("English text\n got %q\nwant %q", got, want)
	}
}

// TestEmailBrand: the accent colours the rule and the Pay button (with
// text that reads on it) and the links when they read on white; the logo
// is scaled into its box with its size on the <img>; anything but a
// colour or an http(s) URL is ignored.
func TestEmailBrand(t *testing.T) {
	t.Parallel()
	logo, err := os.ReadFile(filepath.Join("testdata", "logo.png")) // 400×96
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		brand     Brand
		want      []string
		wantNotIn []string
	}{
		{
			name:  "dark accent and a logo",
			brand: Brand{Accent: "#8A1538", LogoURL: "https://invoiced.example.test/i/Zx81kQ/logo", Logo: logo},
			want: []string{`bgcolor="#8A1538" style="height:4px;`, `<td align="center" bgcolor="#8A1538" style="border-radius:6px;background-color:#8A1538;">`,
				`text-decoration:none;border-radius:6px;">Pay €1,130.50</a>`, `color:#ffffff;text-align:center;`,
				`style="color:#8A1538;word-break:break-all;"`,
				`<img src="https://invoiced.example.test/i/Zx81kQ/logo" width="167" height="40" alt="ACME SRL" style="display:block;border:0;outline:none;text-decoration:none;width:167px;height:40px;max-width:100%;">`},
		},
		{
			name:      "pale accent: dark text on the button, default links",
			brand:     Brand{Accent: "#FFD54F"},
			want:      []string{`background-color:#FFD54F;`, `color:#000000;text-align:center;text-decoration:none;border-radius:6px;">Pay €1,130.50</a>`, `style="color:#1D4E89;word-break:break-all;"`},
			wantNotIn: []string{"<img", `style="color:#FFD54F;`},
		},
		{
			name:      "no accent: the default dark blue",
			brand:     Brand{},
			want:      []string{`bgcolor="#1D4E89"`, `background-color:#1D4E89;`},
			wantNotIn: []string{"<img"},
		},
		{
			name:      "an accent that is not a colour",
			brand:     Brand{Accent: `red;background:url(https://evil.test/x)"><script>`},
			want:      []string{`bgcolor="#1D4E89"`},
			wantNotIn: []string{"evil", "<script", "ZgotmplZ"},
		},
		{
			name:      "a logo URL that is not http(s)",
			brand:     Brand{LogoURL: `javascript:alert(1)`, Logo: logo},
			wantNotIn: []string{"<img", "javascript", "ZgotmplZ"},
		},
		{
			name:  "a logo of unknown size is 40 px high",
			brand: Brand{LogoURL: "https://cdn.example.test/logo.png"},
			want:  []string{`<img src="https://cdn.example.test/logo.png" height="40" alt="ACME SRL" style="display:block;border:0;outline:none;text-decoration:none;height:40px;max-width:100%;">`},
		},
		{
			name: "seller in the footer, escaped",
			brand: Brand{Seller: invoice.Seller{Name: "ignored: the merchant name signs", Email: "billing@acme.test", Phone: "+40 21 555 0100",
				Website: "acme.test", Address: invoice.Address{Line1: "Str. <b>Lalelelor</b> 5", City: "Cluj-Napoca", PostalCode: "400000", Country: "RO"}}},
			want: []string{"<strong>ACME SRL</strong><br>Str. &lt;b&gt;Lalelelor&lt;/b&gt; 5, 400000 Cluj-Napoca, RO<br>billing@acme.test · &#43;40 21 555 0100 · acme.test</td>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := testVars()
			v.Brand = tt.brand
			html := Render(Template{}, "en", v).HTML
			checkHTML(t, html, tt.want, tt.wantNotIn)
		})
	}
}

// TestEmailEscapesTenantText: whatever a tenant or a send writes (names,
// address, note, variables, subject) reaches the HTML escaped, in the
// card, the alternative text of the logo and the footer alike.
func TestEmailEscapesTenantText(t *testing.T) {
	t.Parallel()
	const evil = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	v := testVars()
	v.MerchantName = "ACME " + evil
	v.CustomerName = evil
	v.InvoiceNumber = evil
	v.Extra = map[string]string{"ref": evil}
	v.Brand = Brand{LogoURL: "https://invoiced.example.test/logo?a=1&b=" + `"onload="alert(3)`, Seller: invoice.Seller{
		Email: evil, Website: evil, Address: invoice.Address{Line1: evil}}}
	m := Render(Template{Subject: "{{ref}}", Body: "Hi {{customerName}} {{ref}}", Note: evil}, "en", v)
	lower := strings.ToLower(m.HTML)
	for _, bad := range []string{"<script", "<img src=x", `onload="`} {
		if strings.Contains(lower, bad) {
			t.Errorf("HTML holds %q:\n%s", bad, m.HTML)
		}
	}
	if n := strings.Count(m.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;"); n < 6 {
		t.Errorf("the tenant's text shows escaped %d times, want it in heading, summary, body, note and footer:\n%s", n, m.HTML)
	}
}

// TestContrast holds the colour arithmetic the layout relies on to WCAG's
// figures.
func TestContrast(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#767676", "#ffffff", 4.54},
		{DefaultAccent, "#ffffff", 8.39},
	} {
		if got := contrast(tt.a, tt.b); got < tt.want-0.01 || got > tt.want+0.01 {
			t.Errorf("contrast(%s, %s) = %.2f, want %.2f", tt.a, tt.b, got, tt.want)
		}
	}
	for _, accent := range []string{"#FFD54F", "#8A1538", "#00FF00", "#777777", DefaultAccent, "#FFFFFF", "#000000"} {
		if c := contrast(onAccent(accent), accent); c < 4.5 {
			t.Errorf("text on %s reads at %.2f:1", accent, c)
		}
		if c := contrast(linkColour(accent), colourWhite); c < 4.5 {
			t.Errorf("links for %s read at %.2f:1 on white", accent, c)
		}
	}
}
