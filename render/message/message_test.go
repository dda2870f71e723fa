package message

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/invoiced/invoiced/invoice"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var languages = []string{"en", "ro", "de", "fr"}

// testInvoice is a typical invoice, with every field the messages use set.
func testInvoice() *invoice.Invoice {
	return &invoice.Invoice{
		Number: "INV-1001", Status: invoice.StatusOpen, Currency: "EUR", IssueDate: "2026-11-21", DueDate: "2026-12-21",
		Customer: invoice.Customer{Name: "Ana Popescu"},
		Total:    "1130.50", AmountDue: "1130.50",
		PaymentLink: "https://pay.example.test/p/inv_1001?ref=mail&lang=en",
	}
}

// testVarsIn returns the variables of testInvoice in lang, with a public
// URL and a send's variables.
func testVarsIn(lang string) Vars {
	v := InvoiceVars(testInvoice(), lang, "ACME SRL",
		map[string]string{"orderRef": "PO-77", "account_manager": "Dan", "po-number": "4711"})
	v.PublicURL = "https://invoiced.example.test/i/Zx81kQ"
	return v
}

// testVars returns the English variables of testInvoice.
func testVars() Vars { return testVarsIn("en") }

func TestExpand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"invoiceNumber", "{{invoiceNumber}}|{{ invoiceNumber }}|{invoice_number}|{ invoice_number }", "INV-1001|INV-1001|INV-1001|INV-1001"},
		{"invoiceTotal", "{{invoiceTotal}}|{{  invoiceTotal\t}}|{invoice_total}", "€1,130.50|€1,130.50|€1,130.50"},
		{"amount", "{{amount}}|{{ amount }}|{amount}", "1,130.50|1,130.50|1,130.50"},
		{"amountDue", "{{amountDue}}|{amount_due}", "€1,130.50|€1,130.50"},
		{"currency", "{{currency}}|{{ currency }}|{currency}", "EUR|EUR|EUR"},
		{"customerName", "{{customerName}}|{{ customerName }}|{customer_name}", "Ana Popescu|Ana Popescu|Ana Popescu"},
		{"clientName", "{{clientName}}|{{ clientName }}|{client_name}", "Ana Popescu|Ana Popescu|Ana Popescu"},
		{"merchantName", "{{merchantName}}|{{ merchantName }}|{merchant_name}", "ACME SRL|ACME SRL|ACME SRL"},
		{"companyName", "{{companyName}}|{{ companyName }}|{company_name}", "ACME SRL|ACME SRL|ACME SRL"},
		{"dueDate", "{{dueDate}}|{{ dueDate }}|{due_date}", "21 Dec 2026|21 Dec 2026|21 Dec 2026"},
		{"issueDate", "{{issueDate}}|{{ issueDate }}|{issue_date}", "21 Nov 2026|21 Nov 2026|21 Nov 2026"},
		{"paymentLink", "{{paymentLink}}|{{ paymentLink }}|{payment_link}", "https://pay.example.test/p/inv_1001?ref=mail&lang=en|https://pay.example.test/p/inv_1001?ref=mail&lang=en|https://pay.example.test/p/inv_1001?ref=mail&lang=en"},
		{"publicUrl", "{{publicUrl}}|{{ publicUrl }}|{public_url}|{{publicURL}}", "https://invoiced.example.test/i/Zx81kQ|https://invoiced.example.test/i/Zx81kQ|https://invoiced.example.test/i/Zx81kQ|https://invoiced.example.test/i/Zx81kQ"},
		{"payUrl", "{{payUrl}}|{pay_url}", "https://pay.example.test/p/inv_1001?ref=mail&lang=en|https://pay.example.test/p/inv_1001?ref=mail&lang=en"},
		{"crossed spellings", "{{invoice_number}} {invoiceNumber} {{INVOICE_NUMBER}}", "INV-1001 INV-1001 INV-1001"},
		{"in a sentence", "Invoice #{{invoiceNumber}} for {amount} {currency}.", "Invoice #INV-1001 for 1,130.50 EUR."},
		{"dollar amount", "New invoice for ${{amount}}.", "New invoice for $1,130.50."},
		{"extra as given", "{{orderRef}} {account_manager} {{po-number}}", "PO-77 Dan 4711"},
		{"extra snake and camel", "{order_ref} {{accountManager}} {{ po_number }} {poNumber}", "PO-77 Dan 4711 4711"},
		{"unknown double", "Hi {{nickname}}!", "Hi {{nickname}}!"},
		{"unknown single", "Use code {x} at checkout", "Use code {x} at checkout"},
		{"unknown with spaces", "{{ nick_name }} { x }", "{{ nick_name }} { x }"},
		{"json is not a variable", `{"invoice_number": 1}`, `{"invoice_number": 1}`},
		{"digits do not start a name", "{0} {{1}}", "{0} {{1}}"},
		{"unclosed", "{{invoiceNumber} {invoice_number", "{INV-1001 {invoice_number"},
		{"mismatched close", "{invoiceNumber}}", "INV-1001}"},
		{"triple braces", "{{{invoiceNumber}}}", "{INV-1001}"},
		{"no newline inside", "{{invoice\nNumber}}", "{{invoice\nNumber}}"},
		{"no braces", "plain text", "plain text"},
		{"empty", "", ""},
	}
	v := testVars()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Expand(tt.in, v); got != tt.want {
				t.Errorf("Expand(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExpandValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		v    Vars
		want string
	}{
		{
			name: "values are not expanded again",
			in:   "{{customerName}}",
			v:    Vars{CustomerName: "{{invoiceNumber}} {merchant_name}", InvoiceNumber: "X"},
			want: "{{invoiceNumber}} {merchant_name}",
		},
		{
			name: "values are inserted verbatim",
			in:   "{{customerName}}",
			v:    Vars{CustomerName: "<b>Ana</b> & \"Co\"\n"},
			want: "<b>Ana</b> & \"Co\"\n",
		},
		{
			name: "empty value is still known",
			in:   "[{{dueDate}}]",
			v:    Vars{},
			want: "[]",
		},
		{
			name: "extra overrides the invoice's values",
			in:   "Invoice #{{invoiceNumber}} from {{merchantName}} for {amount}",
			v: Vars{InvoiceNumber: "INV-1", MerchantName: "ACME SRL", Amount: "5.00",
				Extra: map[string]string{"invoiceNumber": "INV-12345", "merchantName": "ACME Corp", "amount": "0.00"}},
			want: "Invoice #INV-12345 from ACME Corp for 0.00",
		},
		{
			name: "an override reaches every spelling and alias",
			in:   "{invoice_number} {{ INVOICE_NUMBER }} {company_name} {{companyName}} {client_name}",
			v: Vars{InvoiceNumber: "INV-1", MerchantName: "ACME SRL", CustomerName: "Ana",
				Extra: map[string]string{"invoice_number": "INV-2", "merchantName": "ACME Corp", "clientName": "Dan"}},
			want: "INV-2 INV-2 ACME Corp ACME Corp Dan",
		},
		{
			name: "an override of one name leaves the others",
			in:   "{{invoiceTotal}} / {{amount}}",
			v:    Vars{InvoiceTotal: "€5.00", Amount: "5.00", Extra: map[string]string{"amount": "7.00"}},
			want: "€5.00 / 7.00",
		},
		{
			name: "payUrl falls back to the hosted page",
			in:   "{{payUrl}}",
			v:    Vars{PublicURL: "https://i.test/i/x"},
			want: "https://i.test/i/x",
		},
		{
			name: "payUrl follows an overridden payment link",
			in:   "{{payUrl}}",
			v:    Vars{PaymentLink: "https://pay.test/a", PublicURL: "https://i.test/i/x", Extra: map[string]string{"paymentLink": "https://pay.test/b"}},
			want: "https://pay.test/b",
		},
		{
			name: "exact extra key wins over a look-alike",
			in:   "{{orderRef}} {order_ref} {ORDERREF}",
			v:    Vars{Extra: map[string]string{"orderRef": "camel", "order_ref": "snake"}},
			want: "camel snake camel", // other spellings get the key that sorts first
		},
		{
			name: "nil extra",
			in:   "{{orderRef}}",
			v:    Vars{},
			want: "{{orderRef}}",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Expand(tt.in, tt.v); got != tt.want {
				t.Errorf("Expand(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestBuiltin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang string
		want string
	}{
		{"en", "en"},
		{"ro", "ro"},
		{"de", "de"},
		{"fr", "fr"},
		{"RO", "ro"},
		{"de-AT", "de"},
		{"fr_CA", "fr"},
		{" en-GB ", "en"},
		{"pt-BR", "en"},
		{"pt", "en"},
		{"xx", "en"},
		{"", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			tmpl, got := Builtin(tt.lang)
			if got != tt.want {
				t.Fatalf("Builtin(%q) language = %q, want %q", tt.lang, got, tt.want)
			}
			want, _ := builtin(tt.want)
			if tmpl != want {
				t.Errorf("Builtin(%q) template = %+v, want the %q one", tt.lang, tmpl, tt.want)
			}
			if tmpl.Subject == "" || tmpl.Body == "" || tmpl.SMS == "" {
				t.Errorf("Builtin(%q) has a blank field: %+v", tt.lang, tmpl)
			}
		})
	}
}

func TestBuiltinRenders(t *testing.T) {
	t.Parallel()
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			v := testVarsIn(lang)
			m := Render(Template{}, lang, v)
			sms := RenderSMS(Template{}, lang, v)
			body := m.HTML[strings.Index(m.HTML, "</style>"):] // the style block's braces are CSS
			for part, s := range map[string]string{"subject": m.Subject, "text": m.Text, "html": body, "sms": sms} {
				if strings.Contains(s, "{") || strings.Contains(s, "}") {
					t.Errorf("%s has a leftover brace:\n%s", part, s)
				}
				if part != "sms" && !strings.Contains(s, v.InvoiceNumber) {
					t.Errorf("%s lacks the invoice number %q:\n%s", part, v.InvoiceNumber, s)
				}
				total := v.InvoiceTotal
				if part == "sms" {
					total = smsSpaces.Replace(total)
				}
				if part != "subject" && !strings.Contains(s, total) {
					t.Errorf("%s lacks the total %q:\n%s", part, total, s)
				}
				// The total carries its currency: printing the code again
				// would say "€1,130.50 EUR".
				if strings.Contains(s, total+" "+v.Currency) {
					t.Errorf("%s prints the currency twice, %q:\n%s", part, total+" "+v.Currency, s)
				}
				if !utf8.ValidString(s) {
					t.Errorf("%s is not valid UTF-8", part)
				}
			}
			if !strings.Contains(m.Text, v.DueDate) {
				t.Errorf("text lacks the due date %q:\n%s", v.DueDate, m.Text)
			}
			if !strings.Contains(m.HTML, `<a class="em-pay" href="https://pay.example.test/p/inv_1001?ref=mail&amp;lang=en"`) {
				t.Errorf("HTML lacks the payment button:\n%s", m.HTML)
			}
			if !strings.Contains(sms, v.DueDate) {
				t.Errorf("SMS lacks the due date %q: %s", v.DueDate, sms)
			}
			if lang != "ro" { // Storno's Romanian text has no name, link or PDF
				for _, want := range []string{v.CustomerName, v.PaymentLink, "PDF"} {
					if !strings.Contains(m.Text, want) {
						t.Errorf("text lacks %q:\n%s", want, m.Text)
					}
				}
			}
			if !strings.Contains(m.Subject, v.MerchantName) {
				t.Errorf("subject %q lacks the merchant name", m.Subject)
			}
		})
	}
}

func TestBuiltinDiacritics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang      string
		must      string // letters the texts have to show
		mustNotBe string // look-alikes that would be wrong
	}{
		{"ro", "ăîșț", "şţãŞŢ"}, // comma below, not cedilla; ă, not ã
		{"de", "äüß", ""},
		{"fr", "éèàÉ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			tmpl, _ := Builtin(tt.lang)
			before, _ := Reminder(tt.lang, false)
			overdue, _ := Reminder(tt.lang, true)
			l := labelsFor(tt.lang)
			all := tmpl.Subject + tmpl.Body + tmpl.SMS + before.Subject + before.Body + overdue.Subject + overdue.Body + l.Pay + l.View + summary(tt.lang)
			for _, r := range tt.must {
				if !strings.ContainsRune(all, r) {
					t.Errorf("texts lack %q", r)
				}
			}
			if i := strings.IndexAny(all, tt.mustNotBe); i >= 0 {
				t.Errorf("template uses the wrong letter %q", []rune(all[i:])[0])
			}
		})
	}
}

// TestBuiltinRomanian holds the Romanian email to the default template of
// Romanian invoicing software, word for word: Storno's subject and body,
// without diacritics, with its variables.
func TestBuiltinRomanian(t *testing.T) {
	t.Parallel()
	inv := testInvoice()
	inv.Number, inv.Currency, inv.Total, inv.AmountDue = "FAC-2024-001", "RON", "1190.00", "1190.00"
	inv.IssueDate, inv.DueDate = "2024-02-15", "2024-03-15"
	v := InvoiceVars(inv, "ro", "Your Company SRL", nil)
	m := Render(Template{}, "ro", v)
	if want := "Factura FAC-2024-001 de la Your Company SRL"; m.Subject != want {
		t.Errorf("Subject = %q, want %q", m.Subject, want)
	}
	const want = `Buna ziua,

Gasiti atasat factura FAC-2024-001 in valoare de 1,190.00 RON.

Detalii factura:
- Numar: FAC-2024-001
- Data emiterii: 15.02.2024
- Scadenta: 15.03.2024
- Total: 1,190.00 RON

Multumim!
Your Company SRL
`
	if m.Text != want {
		t.Errorf("Text\n got %q\nwant %q", m.Text, want)
	}
	tmpl, _ := Builtin("ro")
	for i, r := range tmpl.Subject + tmpl.Body {
		if r > 0x7f {
			t.Errorf("the Romanian email has %q at %d; Storno's text has no diacritics", r, i)
		}
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	en, _ := Builtin("en")
	ro, _ := Builtin("ro")
	tenant := map[string]Template{
		"ro":    {Subject: "tenant ro subject"},
		"en":    {Subject: "tenant en subject", Body: "tenant en body"},
		"pt":    {Body: "tenant pt body"},
		"de-CH": {SMS: "tenant de-CH sms"},
		"fr":    {Subject: "  \n", Body: "tenant fr body"},
	}
	tests := []struct {
		name     string
		lang     string
		tenant   map[string]Template
		override Template
		want     Template
	}{
		{
			name: "built-in only",
			lang: "ro",
			want: ro,
		},
		{
			name:   "tenant field beats built-in, field by field",
			lang:   "ro",
			tenant: tenant,
			want:   Template{Subject: "tenant ro subject", Body: ro.Body, SMS: ro.SMS},
		},
		{
			name:     "override beats tenant",
			lang:     "ro",
			tenant:   tenant,
			override: Template{Subject: "send subject", SMS: "send sms"},
			want:     Template{Subject: "send subject", Body: ro.Body, SMS: "send sms"},
		},
		{
			name:     "override beats built-in, and its body gets the summary",
			lang:     "en",
			override: Template{Body: "send body"},
			want:     Template{Subject: en.Subject, Body: "send body", SMS: en.SMS, Summary: true},
		},
		{
			name:     "a note keeps the template's body",
			lang:     "en",
			override: Template{Note: "Order 77"},
			want:     Template{Subject: en.Subject, Body: en.Body, SMS: en.SMS, Note: "Order 77"},
		},
		{
			name:   "region finds the base language",
			lang:   "pt-BR",
			tenant: tenant,
			want:   Template{Subject: "tenant en subject", Body: "tenant pt body", SMS: en.SMS},
		},
		{
			name:   "tenant key matched without case",
			lang:   "de_ch",
			tenant: tenant,
			want:   func() Template { de, _ := Builtin("de"); de.SMS = "tenant de-CH sms"; return de }(),
		},
		{
			name:   "blank tenant field falls through",
			lang:   "fr",
			tenant: tenant,
			want:   func() Template { fr, _ := Builtin("fr"); fr.Body = "tenant fr body"; return fr }(),
		},
		{
			name:   "unknown language uses the tenant's English before ours",
			lang:   "es",
			tenant: tenant,
			want:   Template{Subject: "tenant en subject", Body: "tenant en body", SMS: en.SMS},
		},
		{
			name:   "tenant's English is not used for a built-in language",
			lang:   "de",
			tenant: map[string]Template{"en": {Subject: "tenant en subject"}},
			want:   func() Template { de, _ := Builtin("de"); return de }(),
		},
		{
			name:     "blank override falls through",
			lang:     "en",
			override: Template{Subject: " ", Body: "\n\n"},
			want:     en,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Resolve(tt.lang, tt.tenant, tt.override); got != tt.want {
				t.Errorf("Resolve(%q)\n got %+v\nwant %+v", tt.lang, got, tt.want)
			}
		})
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	t.Parallel()
	const script = "<script>alert(1)</script>"
	tests := []struct {
		name string
		t    Template
		v    func(*Vars)
	}{
		{"customer name", Template{}, func(v *Vars) { v.CustomerName = script }},
		{"merchant name in header", Template{}, func(v *Vars) { v.MerchantName = script }},
		{"extra variable", Template{Body: "Ref {{orderRef}}"}, func(v *Vars) { v.Extra = map[string]string{"orderRef": script} }},
		{"body text", Template{Body: "Hello " + script + " {{customerName}}"}, func(*Vars) {}},
		{"subject", Template{Subject: script + " {{invoiceNumber}}"}, func(*Vars) {}},
		{"url with quote", Template{Body: `See https://x.test/"><script>alert(1)</script>`}, func(*Vars) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := testVars()
			tt.v(&v)
			m := Render(tt.t, "en", v)
			if strings.Contains(strings.ToLower(m.HTML), "<script") {
				t.Fatalf("HTML holds an unescaped script tag:\n%s", m.HTML)
			}
			if !strings.Contains(m.HTML, "&lt;script&gt;") {
				t.Errorf("HTML lacks the escaped text &lt;script&gt;:\n%s", m.HTML)
			}
		})
	}
}

func TestRenderUnsafeLinks(t *testing.T) {
	t.Parallel()
	v := testVars()
	v.PaymentLink = "javascript:alert(1)"
	v.PublicURL = "javascript:alert(2)"
	m := Render(Template{}, "en", v)
	for _, bad := range []string{`href="javascript`, "#ZgotmplZ", "Pay now", "View invoice"} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("HTML holds %q:\n%s", bad, m.HTML)
		}
	}
}

func TestRenderSubjectHeaderInjection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		subject string
		v       func(*Vars)
		want    string
	}{
		{"CRLF in a variable", "", func(v *Vars) { v.MerchantName = "ACME\r\nBcc: victim@example.com" }, "Invoice INV-1001 from ACME Bcc: victim@example.com"},
		{"bare LF", "", func(v *Vars) { v.InvoiceNumber = "1\nBcc: x" }, "Invoice 1 Bcc: x from ACME SRL"},
		{"bare CR", "", func(v *Vars) { v.InvoiceNumber = "1\rBcc: x" }, "Invoice 1 Bcc: x from ACME SRL"},
		{"in the template", "Hi\r\nBcc: x {{invoiceNumber}}", func(*Vars) {}, "Hi Bcc: x INV-1001"},
		{"other controls", "a\x00b\tc\u0085d\u2028e", func(*Vars) {}, "a b c d e"},
		{"extra variable", "{{note}}", func(v *Vars) { v.Extra = map[string]string{"note": "\r\n\r\nbody"} }, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := testVars()
			tt.v(&v)
			m := Render(Template{Subject: tt.subject}, "en", v)
			if strings.ContainsAny(m.Subject, "\r\n") {
				t.Fatalf("Subject holds a line break: %q", m.Subject)
			}
			if m.Subject != tt.want {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.want)
			}
		})
	}
}

func TestRenderLeavesOutEmptyLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		v       func(*Vars)
		want    string
		wantPay int // Pay buttons in the HTML
	}{
		{
			name:    "no payment link",
			v:       func(v *Vars) { v.PaymentLink = "" },
			want:    "Hello Ana Popescu,\n\nYour invoice INV-1001 for €1,130.50 is attached as a PDF.\nPayment is due by 21 Dec 2026.\n\nView or download the invoice: https://invoiced.example.test/i/Zx81kQ\n\nThank you for your business.\n\nKind regards,\nACME SRL\n",
			wantPay: 0,
		},
		{
			name:    "no due date",
			v:       func(v *Vars) { v.DueDate = " " },
			want:    "Hello Ana Popescu,\n\nYour invoice INV-1001 for €1,130.50 is attached as a PDF.\n\nPay online: https://pay.example.test/p/inv_1001?ref=mail&lang=en\nView or download the invoice: https://invoiced.example.test/i/Zx81kQ\n\nThank you for your business.\n\nKind regards,\nACME SRL\n",
			wantPay: 1,
		},
		{
			name:    "line with a filled variable stays",
			body:    "Due {{dueDate}}, pay at {{paymentLink}}",
			v:       func(v *Vars) { v.PaymentLink = "" },
			want:    "Due 21 Dec 2026, pay at\n",
			wantPay: 0,
		},
		{
			name:    "line with only unknown variables stays",
			body:    "Code: {promo}\n{{paymentLink}}",
			v:       func(v *Vars) { v.PaymentLink = "" },
			want:    "Code: {promo}\n",
			wantPay: 0,
		},
		{
			name:    "empty extra variable",
			body:    "Hi\n\nPO: {{poNumber}}\n\nBye",
			v:       func(v *Vars) { v.Extra = map[string]string{"poNumber": ""} },
			want:    "Hi\n\nBye\n",
			wantPay: 1,
		},
		{
			name:    "button ends a body that does not show the link",
			body:    "Hi {{customerName}}\r\n\r\n\r\nBye",
			v:       func(*Vars) {},
			want:    "Hi Ana Popescu\n\nBye\n",
			wantPay: 1,
		},
		{
			name:    "multi-line value",
			body:    "Ship to:\n{{address}}",
			v:       func(v *Vars) { v.Extra = map[string]string{"address": "Str. Lalelelor 5\r\nCluj-Napoca"} },
			want:    "Ship to:\nStr. Lalelelor 5\nCluj-Napoca\n",
			wantPay: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := testVars()
			tt.v(&v)
			m := Render(Template{Body: tt.body}, "en", v)
			if m.Text != tt.want {
				t.Errorf("Text\n got %q\nwant %q", m.Text, tt.want)
			}
			if got := strings.Count(m.HTML, `class="em-pay"`); got != tt.wantPay {
				t.Errorf("HTML has %d Pay buttons, want %d", got, tt.wantPay)
			}
			if strings.Contains(m.HTML, "\r") {
				t.Errorf("HTML holds a CR")
			}
		})
	}
}

func TestRenderHTMLLayout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		lang      string
		v         func(*Vars)
		want      []string
		wantNotIn []string
	}{
		{
			name: "card, paragraphs, breaks and links",
			lang: "en",
			v:    func(*Vars) {},
			want: []string{
				`>Invoice from ACME SRL</h1>`,
				`>€1,130.50</div>`,
				`>Due 21 Dec 2026</div>`,
				`<p style="margin:0 0 16px;">Hello Ana Popescu,</p>`,
				`is attached as a PDF.<br>Payment is due by 21 Dec 2026.</p>`,
				`>Pay €1,130.50</a>`,
				`href="https://invoiced.example.test/i/Zx81kQ" style="display:inline-block;`,
				`>View / download invoice</a>`,
				`>Invoice number</td>`, `>INV-1001</td>`, `>Issue date</td>`, `>21 Nov 2026</td>`,
				`>Due date</td>`, `>21 Dec 2026</td>`, `>Amount</td>`, `font-weight:bold;">€1,130.50</td>`,
				`Or copy this link into your browser: <a class="em-link" href="https://pay.example.test/p/inv_1001?ref=mail&amp;lang=en" style="color:#1D4E89;word-break:break-all;">https://pay.example.test/p/inv_1001?ref=mail&amp;lang=en</a>`,
				`background-color:#1D4E89;`,
				`<html lang="en">`,
				`<meta name="viewport"`,
				`<!--[if mso]><table role="presentation" width="600" align="center"`,
			},
			// The link the Pay button carries is no line of the body: "Pay
			// online: <link>" is the plain text's button.
			wantNotIn: []string{"Pay online", "<img", "Amount due"},
		},
		{
			name:      "no links, no merchant",
			lang:      "en",
			v:         func(v *Vars) { v.PaymentLink, v.PublicURL, v.MerchantName = "", "", "" },
			want:      []string{`>Invoice</h1>`},
			wantNotIn: []string{"em-pay", "View / download", "<a ", "copy this link"},
		},
		{
			name:      "not payable: no Pay button, no due date under the amount",
			lang:      "en",
			v:         func(v *Vars) { v.Payable = false },
			want:      []string{"Pay online: <a class=\"em-link\"", `>View / download invoice</a>`, "copy this link into your browser: <a class=\"em-link\" href=\"https://invoiced.example.test/i/Zx81kQ\""},
			wantNotIn: []string{"em-pay\"", ">Pay €", ">Due 21 Dec 2026</div>"},
		},
		{
			name: "part paid: the amount due is the big one",
			lang: "en",
			v: func(v *Vars) {
				inv := testInvoice()
				inv.AmountDue = "130.50"
				*v = InvoiceVars(inv, "en", "ACME SRL", nil)
			},
			want: []string{`>€130.50</div>`, `>Pay €130.50</a>`, `>Amount</td>`, `>€1,130.50</td>`, `>Amount due</td>`, `font-weight:bold;">€130.50</td>`},
		},
		{
			name: "labels in Romanian, amounts as the PDF prints them",
			lang: "ro-RO",
			v:    func(v *Vars) { *v = testVarsIn("ro") },
			want: []string{">Factură de la ACME SRL</h1>", ">1.130,50\u00a0€</div>", ">Scadență: 21.12.2026</div>", ">Plătiți 1.130,50\u00a0€</a>",
				">Vizualizați / descărcați factura</a>", ">Număr factură</td>", `<html lang="ro-ro">`},
		},
		{
			name: "labels in German",
			lang: "de",
			v:    func(v *Vars) { *v = testVarsIn("de") },
			want: []string{">Rechnung von ACME SRL</h1>", ">1.130,50\u00a0€</div>", ">Fällig am 21.12.2026</div>", ">1.130,50\u00a0€ bezahlen</a>", ">Rechnung ansehen / herunterladen</a>"},
		},
		{
			name: "labels in French",
			lang: "fr",
			v:    func(v *Vars) { *v = testVarsIn("fr") },
			want: []string{">Facture émise par ACME SRL</h1>", ">1\u202f130,50\u00a0€</div>", ">Échéance\u00a0: 21/12/2026</div>", ">Payer 1\u202f130,50\u00a0€</a>", ">Voir / télécharger la facture</a>"},
		},
		{
			name: "English labels for other languages",
			lang: "es",
			v:    func(*Vars) {},
			want: []string{">Pay €1,130.50</a>", ">View / download invoice</a>", `<html lang="es">`},
		},
		{
			name: "odd language tag",
			lang: `"><x`,
			v:    func(*Vars) {},
			want: []string{`<html lang="en">`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := testVars()
			tt.v(&v)
			html := Render(Template{}, tt.lang, v).HTML
			checkHTML(t, html, tt.want, tt.wantNotIn)
		})
	}
}

func TestLinkify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []segment
	}{
		{"no link", []segment{{Text: "no link"}}},
		{"Pay: https://p.test/a?b=1.", []segment{{Text: "Pay: "}, {Text: "https://p.test/a?b=1", URL: "https://p.test/a?b=1"}, {Text: "."}}},
		{"(see http://p.test/x)", []segment{{Text: "(see "}, {Text: "http://p.test/x", URL: "http://p.test/x"}, {Text: ")"}}},
		{"https://", []segment{{Text: "https://"}}},
		{"xhttps://p.test", []segment{{Text: "xhttps://p.test"}}},
		{"HTTPS://P.TEST/", []segment{{Text: "HTTPS://P.TEST/", URL: "HTTPS://P.TEST/"}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got := linkify(tt.in)
			if strings.Join(segTexts(got), "") != tt.in {
				t.Fatalf("linkify(%q) lost text: %q", tt.in, got)
			}
			if segString(got) != segString(tt.want) {
				t.Errorf("linkify(%q)\n got %s\nwant %s", tt.in, segString(got), segString(tt.want))
			}
		})
	}
}

func segTexts(segs []segment) []string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = s.Text
	}
	return out
}

func segString(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.URL != "" {
			b.WriteString("[" + s.Text + "](" + s.URL + ")")
		} else {
			b.WriteString("«" + s.Text + "»")
		}
	}
	return b.String()
}

func TestRenderSMS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sms  string
		lang string
		v    func(*Vars)
		want string
	}{
		{
			name: "built-in en",
			lang: "en",
			v:    func(*Vars) {},
			want: "ACME SRL: New invoice for €1,130.50 due 21 Dec 2026.\nPay now: https://pay.example.test/p/inv_1001?ref=mail&lang=en",
		},
		{
			name: "built-in en without due date",
			lang: "en",
			v:    func(v *Vars) { v.DueDate = "" },
			want: "ACME SRL: New invoice for €1,130.50\nPay now: https://pay.example.test/p/inv_1001?ref=mail&lang=en",
		},
		{
			name: "built-in en without payment link: the hosted page",
			lang: "en",
			v:    func(v *Vars) { v.PaymentLink = "" },
			want: "ACME SRL: New invoice for €1,130.50 due 21 Dec 2026.\nPay now: https://invoiced.example.test/i/Zx81kQ",
		},
		{
			name: "built-in en without any link",
			lang: "en",
			v:    func(v *Vars) { v.PaymentLink, v.PublicURL = "", "" },
			want: "ACME SRL: New invoice for €1,130.50 due 21 Dec 2026.",
		},
		{
			name: "Auxvault's SMS",
			lang: "en",
			v: func(v *Vars) {
				inv := testInvoice()
				inv.Currency, inv.Total, inv.DueDate, inv.PaymentLink = "USD", "500.00", "2026-02-15", "https://pay.auxvault.com/inv_abc123"
				*v = InvoiceVars(inv, "en", "ACME Corp", nil)
			},
			want: "ACME Corp: New invoice for $500.00 due 15 Feb 2026.\nPay now: https://pay.auxvault.com/inv_abc123",
		},
		{
			name: "built-in ro without link",
			lang: "ro",
			v:    func(v *Vars) { *v = testVarsIn("ro"); v.PublicURL = "" },
			want: "ACME SRL: factura INV-1001, total 1,130.50 EUR. Termen: 21.12.2026.",
		},
		{
			name: "built-in de: the amount's no-break space becomes a plain one",
			lang: "de",
			v:    func(v *Vars) { *v = testVarsIn("de") },
			want: "ACME SRL: Rechnung INV-1001 über 1.130,50 €. Fällig am 21.12.2026. Ansehen und bezahlen: https://invoiced.example.test/i/Zx81kQ",
		},
		{
			name: "paragraphs keep a newline",
			sms:  "Invoice {{invoiceNumber}}\n{{ missing_value }}\n\nThanks,\n{{merchantName}}",
			lang: "en",
			v:    func(v *Vars) { v.Extra = map[string]string{"missing_value": ""} },
			want: "Invoice INV-1001\nThanks, ACME SRL",
		},
		{
			name: "control characters in values",
			sms:  "{{customerName}}: {{invoiceNumber}}",
			lang: "en",
			v:    func(v *Vars) { v.CustomerName = "Ana\r\n\tPopescu" },
			want: "Ana Popescu: INV-1001",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := testVars()
			tt.v(&v)
			if got := RenderSMS(Template{SMS: tt.sms}, tt.lang, v); got != tt.want {
				t.Errorf("RenderSMS\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// gsm7 is the GSM 03.38 default alphabet; gsm7Ext are the characters of its
// extension table, which take two septets each.
const (
	gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext = "^{}\\[~]|€\f"
)

// gsm7Septets returns how many septets s takes in the GSM 7-bit alphabet, or
// false when s needs UCS-2.
func gsm7Septets(s string) (int, bool) {
	n := 0
	for _, r := range s {
		switch {
		case strings.ContainsRune(gsm7, r):
			n++
		case strings.ContainsRune(gsm7Ext, r):
			n += 2
		default:
			return 0, false
		}
	}
	return n, true
}

func TestBuiltinSMSFitsOneSegment(t *testing.T) {
	t.Parallel()
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			v := testVars()
			v.MerchantName = "ACME Consulting SRL"
			v.PublicURL = "https://inv.example/i/8fK2xQ9mZ1"
			sms := RenderSMS(Template{}, lang, v)
			n, ok := gsm7Septets(sms)
			if !ok {
				t.Fatalf("SMS needs UCS-2 (70 characters a segment): %q", sms)
			}
			if n > 160 {
				t.Errorf("SMS takes %d septets, over one 160-septet segment: %q", n, sms)
			}
		})
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			v := testVarsIn(lang)
			m := Render(Template{}, lang, v)
			golden(t, lang+".txt", "Subject: "+m.Subject+"\n\n"+m.Text)
			golden(t, lang+".html", m.HTML)
			golden(t, lang+".sms.txt", RenderSMS(Template{}, lang, v)+"\n")
		})
	}
}

// TestGoldenSendTexts renders, in each language, a send's own message
// (which gets the invoice's summary) and a send's note in the built-in
// body.
func TestGoldenSendTexts(t *testing.T) {
	t.Parallel()
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			v := testVarsIn(lang)
			custom := Render(Resolve(lang, nil, Template{Body: "Thank you for your business!"}), lang, v)
			golden(t, lang+".custom.txt", "Subject: "+custom.Subject+"\n\n"+custom.Text)
			golden(t, lang+".custom.html", custom.HTML)
			note := Render(Resolve(lang, nil, Template{Note: "Order PO-77, delivered on site.\nQuestions? Call Dan."}), lang, v)
			golden(t, lang+".note.txt", "Subject: "+note.Subject+"\n\n"+note.Text)
		})
	}
}

func TestRenderCustomMessageSummary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    func(*Vars)
		want string
	}{
		{
			name: "every fact",
			v:    func(*Vars) {},
			want: "Hi Ana Popescu,\n\nPlease find your invoice attached.\n\nThank you!\nACME SRL\n\n" +
				"Invoice: INV-1001\nAmount due: €1,130.50\nDue date: 21 Dec 2026\n" +
				"Pay online: https://pay.example.test/p/inv_1001?ref=mail&lang=en\nView invoice: https://invoiced.example.test/i/Zx81kQ\n",
		},
		{
			name: "no due date, no payment link",
			v:    func(v *Vars) { v.DueDate, v.PaymentLink = "", "" },
			want: "Hi Ana Popescu,\n\nPlease find your invoice attached.\n\nThank you!\nACME SRL\n\n" +
				"Invoice: INV-1001\nAmount due: €1,130.50\nView invoice: https://invoiced.example.test/i/Zx81kQ\n",
		},
		{
			name: "the send's variables reach the summary",
			v:    func(v *Vars) { v.Extra = map[string]string{"invoiceNumber": "INV-12345"} },
			want: "Hi Ana Popescu,\n\nPlease find your invoice attached.\n\nThank you!\nACME SRL\n\n" +
				"Invoice: INV-12345\nAmount due: €1,130.50\nDue date: 21 Dec 2026\n" +
				"Pay online: https://pay.example.test/p/inv_1001?ref=mail&lang=en\nView invoice: https://invoiced.example.test/i/Zx81kQ\n",
		},
	}
	const custom = "Hi {{customerName}},\n\nPlease find your invoice attached.\n\nThank you!\n{{merchantName}}"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := testVars()
			tt.v(&v)
			m := Render(Resolve("en", nil, Template{Body: custom}), "en", v)
			if m.Text != tt.want {
				t.Errorf("Text\n got %q\nwant %q", m.Text, tt.want)
			}
			// The HTML's card has the summary: the text's is not repeated.
			wantPay := 0
			if strings.Contains(m.Text, "Pay online") {
				wantPay = 1
			}
			if strings.Count(m.HTML, `class="em-pay"`) != wantPay || strings.Contains(m.HTML, "Amount due:") ||
				!strings.Contains(m.HTML, `<p style="margin:0 0 16px;">Thank you!<br>`) {
				t.Errorf("HTML lacks the send's message, or has the text's summary or %d Pay buttons:\n%s", 1-wantPay, m.HTML)
			}
		})
	}
	// A tenant's template is not a send's message: no summary.
	m := Render(Resolve("en", map[string]Template{"en": {Body: "Hi {{customerName}}"}}, Template{}), "en", testVars())
	if m.Text != "Hi Ana Popescu\n" {
		t.Errorf("tenant body got %q, want it alone", m.Text)
	}
}

func TestRenderNote(t *testing.T) {
	t.Parallel()
	const script = "<script>alert(1)</script>"
	tests := []struct {
		name string
		t    Template
		want string
	}{
		{
			name: "after the greeting",
			t:    Template{Body: "Hello {{customerName}},\n\nYour invoice.\n\nBye", Note: "Order {{orderRef}}\r\nThanks"},
			want: "Hello Ana Popescu,\n\nOrder {{orderRef}}\nThanks\n\nYour invoice.\n\nBye\n",
		},
		{
			name: "paragraphs of the note stay paragraphs",
			t:    Template{Body: "Hello,\n\nBye", Note: "\n\nOne  \n\n\nTwo\n"},
			want: "Hello,\n\nOne\n\nTwo\n\nBye\n",
		},
		{
			name: "a one-paragraph body ends with it",
			t:    Template{Body: "Your invoice {{invoiceNumber}}.", Note: "See you"},
			want: "Your invoice INV-1001.\n\nSee you\n",
		},
		{
			name: "blank note",
			t:    Template{Body: "Hello,\n\nBye", Note: " \n\t"},
			want: "Hello,\n\nBye\n",
		},
		{
			name: "with a send's message, before the summary",
			t:    Template{Body: "Hi,\n\nThanks", Note: "PO 4711", Summary: true},
			want: "Hi,\n\nPO 4711\n\nThanks\n\nInvoice: INV-1001\nAmount due: €1,130.50\nDue date: 21 Dec 2026\n" +
				"Pay online: https://pay.example.test/p/inv_1001?ref=mail&lang=en\nView invoice: https://invoiced.example.test/i/Zx81kQ\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := Render(tt.t, "en", testVars())
			if m.Text != tt.want {
				t.Errorf("Text\n got %q\nwant %q", m.Text, tt.want)
			}
		})
	}
	m := Render(Template{Note: script + " https://x.test/a"}, "en", testVars())
	if strings.Contains(m.HTML, "<script") || !strings.Contains(m.HTML, `&lt;script&gt;alert(1)&lt;/script&gt; <a class="em-link" href="https://x.test/a"`) {
		t.Errorf("the note is not escaped and linked in the HTML:\n%s", m.HTML)
	}
	if !strings.HasPrefix(m.Text, "Hello Ana Popescu,\n\n"+script+" https://x.test/a\n\nYour invoice") {
		t.Errorf("the note is not after the built-in greeting:\n%s", m.Text)
	}
}

func TestRenderHeaderUsesOverrides(t *testing.T) {
	t.Parallel()
	v := testVars()
	v.Extra = map[string]string{"merchantName": "ACME Corp", "paymentLink": "https://pay.example.test/other"}
	m := Render(Template{Subject: "Invoice #{{invoiceNumber}} from {{merchantName}}"}, "en", v)
	if m.Subject != "Invoice #INV-1001 from ACME Corp" {
		t.Errorf("Subject = %q", m.Subject)
	}
	for _, want := range []string{`>Invoice from ACME Corp</h1>`, `<a class="em-pay" href="https://pay.example.test/other" style="display:inline-block;`, "<strong>ACME Corp</strong>"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, m.HTML)
		}
	}
}

func TestInvoiceVars(t *testing.T) {
	t.Parallel()
	inv := testInvoice()
	inv.Currency, inv.Total, inv.AmountDue, inv.IssueDate, inv.DueDate = "RON", "1190.00", "190.00", "2024-02-15", "2024-03-15"
	tests := []struct {
		lang                                   string
		total, amount, due, dueDate, issueDate string
	}{
		{"ro", "1,190.00 RON", "1,190.00", "190.00 RON", "15.03.2024", "15.02.2024"},
		{"ro-MD", "1,190.00 RON", "1,190.00", "190.00 RON", "15.03.2024", "15.02.2024"},
		{"en", "RON\u00a01,190.00", "1,190.00", "RON\u00a0190.00", "15 Mar 2024", "15 Feb 2024"},
		{"de", "1.190,00\u00a0RON", "1.190,00", "190,00\u00a0RON", "15.03.2024", "15.02.2024"},
		{"fr", "1\u202f190,00\u00a0RON", "1\u202f190,00", "190,00\u00a0RON", "15/03/2024", "15/02/2024"},
		{"pt", "RON\u00a01,190.00", "1,190.00", "RON\u00a0190.00", "15 Mar 2024", "15 Feb 2024"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			v := InvoiceVars(inv, tt.lang, "Your Company SRL", nil)
			got := []string{v.InvoiceTotal, v.Amount, v.AmountDue, v.DueDate, v.IssueDate}
			want := []string{tt.total, tt.amount, tt.due, tt.dueDate, tt.issueDate}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("total|amount|amountDue|dueDate|issueDate\n got %q\nwant %q", got, want)
			}
			if v.Currency != "RON" || v.MerchantName != "Your Company SRL" {
				t.Errorf("currency %q, merchant %q", v.Currency, v.MerchantName)
			}
		})
	}
	usd := testInvoice()
	usd.Currency, usd.Total = "USD", "500.00"
	if got := Expand("${{amount}} or {invoice_total}", InvoiceVars(usd, "en", "ACME Corp", nil)); got != "$500.00 or $500.00" {
		t.Errorf("USD in en = %q", got)
	}
	usd.DueDate = ""
	if v := InvoiceVars(usd, "ro", "", nil); v.DueDate != "" {
		t.Errorf("no due date gives %q", v.DueDate)
	}
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the rendered message (run go test -update if the change is intended)\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestRenderAllocs bounds the allocations of rendering an invoice email,
// which a worker does for each it sends: the variables are held in arrays
// and looked up by a name normalized on the stack, and a template's lines
// share one list (88 allocations before).
func TestRenderAllocs(t *testing.T) {
	v := testVars()
	if n := testing.AllocsPerRun(20, func() { Render(Template{}, "en", v) }); n > 66 {
		t.Errorf("%.0f allocations per message, want at most 66", n)
	}
}

// BenchmarkRender reports, besides the time, the CPU of the rendering
// thread per message (cpu-µs/op), which other work on the machine
// disturbs less.
func BenchmarkRender(b *testing.B) {
	v := testVars()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	for b.Loop() {
		Render(Template{}, "en", v)
	}
	b.ReportMetric(float64(threadCPU()-start)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}

// threadCPU returns the CPU time, user and system, of the calling thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkExpand(b *testing.B) {
	v := testVars()
	tmpl, _ := Builtin("en")
	for b.Loop() {
		Expand(tmpl.Body, v)
	}
}

// TestReminderRenders renders each language's reminders: before the due
// date and overdue, each with every fact a customer needs, different from
// each other and from the invoice email.
func TestReminderRenders(t *testing.T) {
	t.Parallel()
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			v := testVarsIn(lang)
			before, used := Reminder(lang, false)
			overdue, _ := Reminder(lang, true)
			if used != lang {
				t.Fatalf("Reminder(%s) used %s", lang, used)
			}
			first, _ := Builtin(lang)
			if before.Subject == overdue.Subject || before.Body == overdue.Body || before.Subject == first.Subject {
				t.Fatalf("the reminders are not told apart:\n%q\n%q\n%q", before.Subject, overdue.Subject, first.Subject)
			}
			for name, tmpl := range map[string]Template{"before": before, "overdue": overdue} {
				m := Render(tmpl, lang, v)
				for _, s := range []string{m.Subject, m.Text} {
					if strings.ContainsAny(s, "{}") {
						t.Errorf("%s has a leftover brace:\n%s", name, s)
					}
				}
				for _, want := range []string{v.InvoiceNumber, v.DueDate} {
					if !strings.Contains(m.Subject, want) {
						t.Errorf("%s subject %q lacks %q", name, m.Subject, want)
					}
				}
				for _, want := range []string{v.CustomerName, v.InvoiceTotal, v.PaymentLink, v.MerchantName, "PDF"} {
					if !strings.Contains(m.Text, want) {
						t.Errorf("%s text lacks %q:\n%s", name, want, m.Text)
					}
				}
			}
		})
	}
	if _, used := Reminder("pt-BR", true); used != "en" {
		t.Errorf("Reminder(pt-BR) used %s, want en", used)
	}
}

func TestResolveReminder(t *testing.T) {
	t.Parallel()
	tenant := map[string]Template{"ro": {Subject: "Plătiți factura {{invoiceNumber}}"}}
	ro := ResolveReminder("ro", tenant, Template{}, true)
	builtinRo, _ := Reminder("ro", true)
	if ro.Subject != "Plătiți factura {{invoiceNumber}}" || ro.Body != builtinRo.Body {
		t.Fatalf("ro = %+v; want the tenant's subject and the built-in overdue body", ro)
	}
	de := ResolveReminder("de", tenant, Template{}, false)
	if builtinDe, _ := Reminder("de", false); de != builtinDe {
		t.Fatalf("de = %+v; want the built-in reminder, the tenant's Romanian text is not German", de)
	}
	if got := ResolveReminder("de", tenant, Template{Subject: "mine"}, false); got.Subject != "mine" {
		t.Fatalf("an override subject lost to %q", got.Subject)
	}
}

// checkHTML checks that html holds each of want and none of wantNotIn,
// and logs it whole when it does not.
func checkHTML(t *testing.T, html string, want, wantNotIn []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(html, w) {
			t.Errorf("HTML lacks %q", w)
		}
	}
	for _, w := range wantNotIn {
		if strings.Contains(html, w) {
			t.Errorf("HTML holds %q", w)
		}
	}
	if t.Failed() {
		t.Logf("HTML:\n%s", html)
	}
}
