package message

import (
	_ "embed"
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

//go:embed layout.html
var layoutHTML string

// layout is parsed once; it is never modified after.
var layout = template.Must(template.New("layout.html").Parse(layoutHTML))

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
// The HTML alternative is built from the same paragraphs, everything
// escaped: paragraphs become <p>, line breaks <br>, and http(s) URLs links,
// under a header with the merchant's name. When the payment link is an
// http(s) URL, a button to it follows the first paragraph that shows the
// link (the built-in "Pay online: …" line, or the summary), or ends the
// body if none does, so the text alternative stays complete and the HTML
// one has a clear call to action. When the hosted invoice page's URL is
// one, a footer links to it. Button and link are labelled in lang, in
// English for a language without a built-in template. Header, button and
// footer use the values after v.Extra's overrides.
//
// The subject is folded onto one line: CR, LF and other control characters
// become spaces, so no variable can add a header.
func Render(t Template, lang string, v Vars) Message {
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
	if t.Summary {
		sum := summary(used)
		if t.CreditNote {
			sum = creditNoteSummary(used)
		}
		paras = append(paras, vs.paragraphs(sum)...)
	}

	var text strings.Builder
	for i, p := range paras {
		if i > 0 {
			text.WriteString("\n\n")
		}
		text.WriteString(strings.Join(p, "\n"))
	}
	text.WriteString("\n")

	data := layoutData{
		Lang:     htmlLang(lang, used),
		Subject:  subject,
		Merchant: strings.TrimSpace(vs.value("merchantname")),
		PayURL:   webURL(vs.value("paymentlink")),
		ViewURL:  webURL(vs.value("publicurl")),
		Labels:   labelsFor(used),
	}
	if t.CreditNote {
		data.Labels = creditNoteLabels(used)
	}
	for _, p := range paras {
		para := paragraph{}
		for _, l := range p {
			for _, part := range strings.Split(l, "\n") {
				para.Lines = append(para.Lines, linkify(part))
			}
			if data.PayURL != "" && !data.payPlaced && strings.Contains(l, data.PayURL) {
				para.PayAfter = true
				data.payPlaced = true
			}
		}
		data.Paragraphs = append(data.Paragraphs, para)
	}
	data.PayAtEnd = data.PayURL != "" && !data.payPlaced
	var html strings.Builder
	if err := layout.Execute(&html, data); err != nil {
		// The layout is fixed and its data is plain strings: an error here is
		// a bug in the layout, which the tests render.
		panic(fmt.Sprintf("message: executing layout: %v", err))
	}
	return Message{Subject: subject, Text: text.String(), HTML: html.String()}
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
	paras := newVarSet(v).paragraphs(t.SMS)
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
	for _, line := range strings.Split(normalizeNewlines(s), "\n") {
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
func (vs varSet) paragraphs(s string) [][]string {
	s = normalizeNewlines(s)
	var (
		paras [][]string
		cur   []string
	)
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				paras = append(paras, cur)
				cur = nil
			}
			continue
		}
		out, used, filled := vs.expand(line)
		if used > 0 && filled == 0 {
			continue
		}
		cur = append(cur, strings.TrimRightFunc(normalizeNewlines(out), unicode.IsSpace))
	}
	if len(cur) > 0 {
		paras = append(paras, cur)
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

// layoutData is what layout.html renders.
type layoutData struct {
	Lang       string
	Subject    string
	Merchant   string
	Paragraphs []paragraph
	PayURL     string
	PayAtEnd   bool // no paragraph shows the payment link: the button ends the body
	ViewURL    string
	Labels     labels

	payPlaced bool
}

// paragraph is one <p> of the HTML body.
type paragraph struct {
	Lines    [][]segment
	PayAfter bool // the paragraph shows the payment link: the button follows it
}

// segment is a run of text, or a link when URL is set.
type segment struct {
	Text string
	URL  string
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
