package message

import (
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Message is a rendered email.
type Message struct {
	Subject string // one line: never holds CR, LF or other control characters
	Text    string // the plain-text body, ending in a newline
	HTML    string // the HTML alternative, a complete document
}

// Render expands t with v into an email. Blank fields of t are taken from
// the built-in template for lang, so Render(Template{}, lang, v) gives the
// built-in message.
//
// In the body, a line whose variables all expand to blank is left out, and a
// paragraph left with no lines goes with it: "Pay online: {{paymentLink}}"
// disappears when there is no payment link, "Payment is due by {{dueDate}}"
// when there is no due date. Lines without variables always stay. t.Note
// follows the body's first paragraph, and with t.Summary the invoice's
// essentials, in lang, end the body (see Template).
//
// The plain-text alternative is those paragraphs, lines wrapped at
// TextWidth characters between words (see wrap): a word or URL is never
// cut, and a URL stays with the label before it.
//
// The HTML alternative is a card in the tenant's colours (v.Brand): the
// logo, "Invoice from <merchant>", the amount due in large type with the
// due date under it, a Pay button (only when v.Payable and the payment
// link is an http(s) URL) labelled with the amount, a button to the hosted
// invoice page, a line with the main link for mail clients whose buttons
// fail, a summary (number, issue date, due date, amount; a credit note's
// amount credited and the invoice it corrects), the body's paragraphs, and
// a footer with the seller's name, address and contacts. Everything is
// escaped. In the paragraphs, a line that only shows a link one of the
// buttons carries ("Pay online: <link>") is left out, such a link inside a
// sentence reads as the button's words, and other http(s) URLs become
// links; the summary that ends a send's own body is left out, the card has
// its own. Labels are in lang, in English for a language without a
// built-in template, and use the values after v.Extra's overrides.
//
// The subject is folded onto one line: CR, LF and other control characters
// become spaces, so no variable can add a header.
func Render(t Template, lang string, v Vars) Message {
	m, data := prepare(t, lang, v)
	m.HTML = data.html(len(m.Text))
	return m
}

// prepare is Render but for the HTML: the message without it, and the
// layout's data.
func prepare(t Template, lang string, v Vars) (Message, *layoutData) {
	t = withBuiltin(t, lang)
	vs := newVarSet(v)
	_, used := Builtin(lang)

	subject, _, _ := vs.expand(t.Subject)
	subject = oneLine(subject)
	paras := vs.paragraphs(t.Body)
	if note := noteParagraphs(t.Note); len(note) > 0 {
		at := min(1, len(paras))
		paras = slices.Concat(paras[:at], note, paras[at:])
	}
	var sum [][]string
	if t.Summary {
		s := summary(used)
		if t.CreditNote {
			s = creditNoteSummary(used)
		}
		sum = vs.paragraphs(s)
	}

	var text strings.Builder
	for i, p := range slices.Concat(paras, sum) {
		if i > 0 {
			text.WriteString("\n\n")
		}
		for j, l := range p {
			if j > 0 {
				text.WriteString("\n")
			}
			text.WriteString(wrap(l, TextWidth))
		}
	}
	text.WriteString("\n")

	data := layoutFor(t, &vs, used, lang, subject, v)
	for _, p := range paras {
		if para := data.paragraph(p); len(para.Lines) > 0 {
			data.Paragraphs = append(data.Paragraphs, para)
		}
	}
	return Message{Subject: subject, Text: text.String()}, data
}

// html is the HTML document of d (see writeHTML), for a message whose
// plain text is textLen bytes long.
func (d *layoutData) html(textLen int) string {
	var b strings.Builder
	// The document is about the layout's size plus the paragraphs with
	// their markup; growing to that at once spares the builder its
	// doubling and copying.
	b.Grow(layoutSize + 2*textLen)
	d.writeHTML(&b)
	return b.String()
}

// TextWidth is the width, in characters, the plain-text alternative's
// lines are wrapped at.
const TextWidth = 76

// wrap breaks line at spaces into lines of at most width characters. A
// word longer than width is not cut, and a URL stays on the line of the
// word before it, so that "Pay online: <link>" keeps its label however
// long the link. No-break spaces, as in "1.130,50 €", do not break.
func wrap(line string, width int) string {
	if utf8.RuneCountInString(line) <= width {
		return line
	}
	var (
		b   strings.Builder
		col int
	)
	// Leading spaces (an indented line) stay with the first word.
	indent := len(line) - len(strings.TrimLeft(line, " "))
	b.WriteString(line[:indent])
	col = indent
	for i, word := range strings.Split(line[indent:], " ") {
		n := utf8.RuneCountInString(word)
		switch {
		case i == 0:
		case col+1+n > width && col > indent && urlAt(word, 0) == 0:
			b.WriteString("\n")
			col = 0
		default:
			b.WriteString(" ")
			col++
		}
		b.WriteString(word)
		col += n
	}
	return b.String()
}

// RenderSMS expands t.SMS with v into the text of an SMS. A blank t.SMS is
// taken from the built-in template for lang.
//
// Lines whose variables all expand to blank are left out, as in a body. The
// remaining lines of a paragraph are joined with single spaces and
// paragraphs with one newline, so a template can put each optional part on
// its own line and still produce one flowing sentence. Control characters in
// values become spaces, and so do the no-break spaces of formatted amounts
// ("1.190,00 €"), which the GSM 7-bit alphabet lacks: one of them would
// make the SMS cost a segment per 70 characters instead of 160.
func RenderSMS(t Template, lang string, v Vars) string {
	t = withBuiltin(t, lang)
	vs := newVarSet(v)
	paras := vs.paragraphs(t.SMS)
	out := make([]string, 0, len(paras))
	for _, p := range paras {
		out = append(out, oneLine(smsSpaces.Replace(strings.Join(p, " "))))
	}
	return strings.Join(out, "\n")
}

// smsSpaces turns the no-break spaces locale puts in amounts into plain ones.
var smsSpaces = strings.NewReplacer("\u00a0", " ", "\u202f", " ")

// noteParagraphs splits a send's note into paragraphs of lines, as written.
func noteParagraphs(s string) [][]string {
	var (
		paras [][]string
		cur   []string
	)
	for line := range strings.SplitSeq(normalizeNewlines(s), "\n") {
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				paras = append(paras, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		paras = append(paras, cur)
	}
	return paras
}

// paragraphs expands a plain-text template and splits it into paragraphs of
// lines, leaving out lines whose variables all expand to blank. Line ends are
// normalized to "\n", in the template and in the values.
func (vs *varSet) paragraphs(s string) [][]string {
	s = normalizeNewlines(s)
	// The paragraphs are consecutive runs of one list of all the lines,
	// each capped at its end, which spares each its own growing.
	var (
		paras = make([][]string, 0, strings.Count(s, "\n\n")+1)
		lines = make([]string, 0, strings.Count(s, "\n")+1)
		start int // of the current paragraph in lines
	)
	for line := range strings.SplitSeq(s, "\n") {
		if strings.TrimSpace(line) == "" {
			if len(lines) > start {
				paras = append(paras, lines[start:len(lines):len(lines)])
				start = len(lines)
			}
			continue
		}
		out, used, filled := vs.expand(line)
		if used > 0 && filled == 0 {
			continue
		}
		lines = append(lines, strings.TrimRightFunc(normalizeNewlines(out), unicode.IsSpace))
	}
	if len(lines) > start {
		paras = append(paras, lines[start:len(lines):len(lines)])
	}
	return paras
}

func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// oneLine turns s into text fit for a single header line: invalid UTF-8 is
// replaced, every control character (CR and LF included) and the Unicode
// line and paragraph separators become spaces, runs of spaces collapse, and
// the ends are trimmed.
func oneLine(s string) string {
	if isOneLine(s) {
		return s
	}
	return foldLine(s)
}

// foldLine is oneLine for a string that needs a copy.
func foldLine(s string) string {
	s = strings.ToValidUTF8(s, string(utf8.RuneError))
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			r = ' '
		}
		if r == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// isOneLine reports whether oneLine would return s as it is, as it does
// for nearly every name, amount and date, without building a copy.
func isOneLine(s string) bool {
	if !utf8.ValidString(s) || strings.Contains(s, "  ") {
		return false
	}
	for i, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' ||
			(i == 0 || i+utf8.RuneLen(r) == len(s)) && unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// htmlLang is the lang attribute of the HTML document: the language asked
// for when it looks like a language tag, else the one the labels are in.
func htmlLang(lang, used string) string {
	c := candidates(lang)
	if len(c) == 0 || len(c[0]) > 35 {
		return used
	}
	for _, r := range c[0] {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-') {
			return used
		}
	}
	return c[0]
}

// webURL returns s trimmed if it is an absolute http(s) URL, else "": a
// button to anything else would be at best broken and at worst a
// javascript: link.
func webURL(s string) string {
	s = strings.TrimSpace(s)
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (!strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(u.Scheme, "http")) {
		return ""
	}
	return s
}

// layoutData is what writeHTML writes, as layout.html shows it.
type layoutData struct {
	Lang    string
	Subject string

	Accent   string // the top rule and the Pay button
	OnAccent string // text on the accent
	Link     string // links on the card
	Logo     *logoImage
	Merchant string // the logo's alternative text

	Heading    string // "Invoice from ACME SRL"
	Amount     string // in large type: the amount due, or a credit note's total
	AmountNote string // under it: the due date

	PayURL, PayLabel   string // the Pay button, when both are set
	ViewURL, ViewLabel string // the hosted page's button, when ViewURL is set
	CopyURL, CopyLabel string // the main link, printed for mail clients whose buttons fail

	Summary    []summaryRow
	Paragraphs []paragraph
	Footer     []string

	MSOOpen, MSOClose template.HTML // msoOpen and msoClose
}

// summaryRow is one fact of the card's summary.
type summaryRow struct {
	Label, Value string
	Strong       bool
}

// paragraph is one <p> of the HTML body.
type paragraph struct {
	Lines [][]segment
}

// segment is a run of text, or a link when URL is set.
type segment struct {
	Text string
	URL  string
}

// layoutFor is the layout's data for a message in the language l (one
// with built-in texts) but for its paragraphs.
func layoutFor(t Template, vs *varSet, l, lang, subject string, v Vars) *layoutData {
	lb := labelsFor(l)
	if t.CreditNote {
		lb = creditNoteLabels(l)
	}
	accent := accentOf(v.Brand.Accent)
	merchant := strings.TrimSpace(vs.value("merchantname"))
	d := &layoutData{
		Lang:     htmlLang(lang, l),
		Subject:  subject,
		Accent:   accent,
		OnAccent: onAccent(accent),
		Link:     linkColour(accent),
		Logo:     logoFor(v.Brand),
		Merchant: oneLine(merchant),
		Heading:  lb.Title,
		ViewURL:  webURL(vs.value("publicurl")),
		Footer:   footerLines(merchant, v.Brand.Seller),
		MSOOpen:  msoOpen,
		MSOClose: msoClose,
	}
	if merchant != "" {
		d.Heading = fmt.Sprintf(lb.Heading, oneLine(merchant))
	}
	d.ViewLabel = lb.View

	number := strings.TrimSpace(vs.value("invoicenumber"))
	total := vs.shown("invoicetotal", v.pdf.total)
	due := vs.shown("amountdue", v.pdf.amountDue)
	dueDate := strings.TrimSpace(vs.value("duedate"))
	issued := strings.TrimSpace(vs.value("issuedate"))
	if due == "" {
		due = total
	}
	row := func(label, value string, strong bool) {
		if value = strings.TrimSpace(value); value != "" {
			d.Summary = append(d.Summary, summaryRow{Label: label, Value: oneLine(value), Strong: strong})
		}
	}
	if t.CreditNote {
		d.Amount = total
		row(lb.Number, number, false)
		row(lb.Issued, issued, false)
		row(lb.Credited, total, true)
		if c := strings.TrimSpace(vs.value("correctedinvoicenumber")); c != "" {
			if date := strings.TrimSpace(vs.value("correctedissuedate")); date != "" {
				c = fmt.Sprintf(lb.CorrectsOf, c, date)
			}
			row(lb.Corrects, c, false)
		}
	} else {
		d.Amount = due
		if v.Payable && dueDate != "" {
			d.AmountNote = fmt.Sprintf(lb.Due, dueDate)
		}
		row(lb.Number, number, false)
		row(lb.Issued, issued, false)
		row(lb.DueDate, dueDate, false)
		row(lb.Amount, total, due == total)
		if due != total {
			row(lb.AmountDue, due, true)
		}
		if pay := webURL(vs.value("paymentlink")); pay != "" && v.Payable && due != "" {
			d.PayURL, d.PayLabel = pay, fmt.Sprintf(lb.Pay, oneLine(due))
		}
	}
	d.Amount = oneLine(d.Amount)
	switch {
	case d.PayURL != "":
		d.CopyURL = d.PayURL
	case d.ViewURL != "":
		d.CopyURL = d.ViewURL
	}
	if d.CopyURL != "" {
		d.CopyLabel = lb.Copy
	}
	return d
}

// shown is the card's value of the built-in variable with normalized
// name n: pdf, the value as the invoice's PDF prints it, unless it is
// blank or a send's variables override n.
func (vs *varSet) shown(n, pdf string) string {
	if pdf = strings.TrimSpace(pdf); pdf != "" && !vs.isOverridden(n) {
		return pdf
	}
	return strings.TrimSpace(vs.value(n))
}

// paragraph turns the lines of a plain-text paragraph into HTML ones. A
// line that only shows a link a button carries, as "Pay online: <link>"
// does, is left out; such a link inside other text reads as the button's
// words rather than as a URL.
func (d *layoutData) paragraph(lines []string) paragraph {
	var para paragraph
	for _, l := range lines {
		for part := range strings.SplitSeq(l, "\n") {
			segs := linkify(part)
			if d.buttonOnly(segs) {
				continue
			}
			for i, s := range segs {
				switch {
				case s.URL == "":
				case s.URL == d.PayURL && d.PayURL != "":
					segs[i].Text = d.PayLabel
				case s.URL == d.ViewURL && d.ViewURL != "":
					segs[i].Text = d.ViewLabel
				}
			}
			para.Lines = append(para.Lines, segs)
		}
	}
	return para
}

// buttonOnly reports whether segs are a link a button carries, alone or
// after a label ending in ":", as in "Pay online: <link>".
func (d *layoutData) buttonOnly(segs []segment) bool {
	at := slices.IndexFunc(segs, func(s segment) bool { return s.URL != "" })
	if at < 0 || (segs[at].URL != d.PayURL && segs[at].URL != d.ViewURL) {
		return false
	}
	var before, after strings.Builder
	for _, s := range segs[:at] {
		before.WriteString(s.Text)
	}
	for _, s := range segs[at+1:] {
		after.WriteString(s.Text)
	}
	label := strings.TrimSpace(strings.ReplaceAll(before.String(), "\u00a0", " "))
	return strings.Trim(after.String(), " .") == "" && (label == "" || strings.HasSuffix(label, ":"))
}

// linkify splits a line into text and the http(s) URLs in it. Punctuation
// that ends a sentence is not taken as part of a URL.
func linkify(line string) []segment {
	var segs []segment
	text := 0 // start of the pending text
	for i := 0; i < len(line); {
		n := urlAt(line, i)
		if n == 0 {
			i++
			continue
		}
		if i > text {
			segs = append(segs, segment{Text: line[text:i]})
		}
		u := line[i : i+n]
		segs = append(segs, segment{Text: u, URL: u})
		i += n
		text = i
	}
	if text < len(line) {
		segs = append(segs, segment{Text: line[text:]})
	}
	return segs
}

// urlAt returns the length of the http(s) URL that starts at s[i], or 0.
func urlAt(s string, i int) int {
	if i > 0 && isWordByte(s[i-1]) {
		return 0
	}
	rest := s[i:]
	var scheme int
	switch {
	case hasPrefixFold(rest, "https://"):
		scheme = len("https://")
	case hasPrefixFold(rest, "http://"):
		scheme = len("http://")
	default:
		return 0
	}
	end := strings.IndexFunc(rest, func(r rune) bool {
		return unicode.IsSpace(r) || r == '<' || r == '>' || r == '"'
	})
	if end < 0 {
		end = len(rest)
	}
	u := strings.TrimRight(rest[:end], ".,;:!?'’»")
	if strings.HasSuffix(u, ")") && !strings.Contains(u, "(") {
		u = strings.TrimRight(u, ")")
		u = strings.TrimRight(u, ".,;:!?'’»")
	}
	if len(u) <= scheme {
		return 0
	}
	return len(u)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}
