package message

import (
	"html/template"
	"strconv"
	"strings"
)

// The HTML email is written by writeHTML, statement for statement as the
// template layout.html prints it. layout.html shows the layout at a glance
// and is what writeHTML is held to: TestLayoutWriter renders every kind of
// message, hostile values included, with both and compares the bytes. A
// change to the layout is made in both.
//
// Executed by html/template, the layout cost two thirds of a message's
// rendering: its walk, and the escapers it calls through reflection for
// each of some forty values. writeHTML escapes each value as html/template
// does in the same place (see writeText and writeURL), into one builder.

// msoOpen and msoClose hold the card in a 600 px table for Outlook on
// Windows, whose Word engine ignores max-width; every other client skips
// them as comments. layout.html prints them from layoutData's fields,
// since html/template drops the comments written in a template.
const (
	msoOpen  template.HTML = `<!--[if mso]><table role="presentation" width="600" align="center" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->`
	msoClose template.HTML = `<!--[if mso]></td></tr></table><![endif]-->`
)

// fontStack is the font-family of every text of the layout.
const fontStack = `font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;`

// layoutSize is about the size of a message's HTML without its
// paragraphs, which the builder is grown to at once.
const layoutSize = 7 << 10

// writeHTML writes the HTML document of d, as layout.html prints it.
//
// The colours are "#RRGGBB" and the lang attribute a language tag (see
// layoutFor), which html/template's CSS filter and attribute escaper leave
// as they are; they are written attribute-escaped all the same.
func (d *layoutData) writeHTML(b *strings.Builder) {
	b.WriteString(`<!DOCTYPE html>
<html lang="`)
	writeText(b, d.Lang)
	b.WriteString(`">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light dark">
<meta name="supported-color-schemes" content="light dark">
<title>`)
	writeText(b, d.Subject)
	b.WriteString(`</title>
<style>
:root { color-scheme: light dark; supported-color-schemes: light dark; }
@media (max-width: 480px) {
  .em-outer { padding: 12px 6px !important; }
  .em-pad { padding-left: 20px !important; padding-right: 20px !important; }
  .em-amount { font-size: 30px !important; }
}
@media (prefers-color-scheme: dark) {
  .em-page { background-color: #0d1117 !important; }
  .em-card { background-color: #161b22 !important; border-color: #30363d !important; }
  .em-text { color: #e6edf3 !important; }
  .em-muted { color: #a5b0bc !important; }
  .em-rule { border-color: #30363d !important; }
  .em-link { color: #8cb4ff !important; }
  .em-alt { background-color: #21262d !important; border-color: #484f58 !important; }
  .em-alt-text { color: #e6edf3 !important; }
  .em-logo { background-color: #ffffff !important; padding: 6px 8px !important; }
}
</style>
</head>
<body class="em-page" style="margin:0;padding:0;background-color:#f4f5f7;-webkit-text-size-adjust:100%;text-size-adjust:100%;">
<table role="presentation" class="em-page" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;background-color:#f4f5f7;">
<tr>
<td class="em-outer" align="center" style="padding:24px 12px;">
`)
	b.WriteString(string(d.MSOOpen))
	b.WriteString(`
<table role="presentation" class="em-card" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;background-color:#ffffff;border:1px solid #e5e7eb;border-radius:8px;border-collapse:separate;">
<tr>
<td height="4" bgcolor="`)
	writeText(b, d.Accent)
	b.WriteString(`" style="height:4px;line-height:4px;font-size:0;background-color:`)
	writeText(b, d.Accent)
	b.WriteString(`;border-radius:8px 8px 0 0;">&nbsp;</td>
</tr>`)
	if l := d.Logo; l != nil {
		b.WriteString(`
<tr>
<td class="em-pad" style="padding:28px 32px 0;">
<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr><td class="em-logo" style="border-radius:6px;"><img src="`)
		writeURL(b, l.URL)
		b.WriteString(`"`)
		if l.Width != 0 {
			b.WriteString(` width="`)
			b.WriteString(strconv.Itoa(l.Width))
			b.WriteString(`"`)
		}
		b.WriteString(` height="`)
		b.WriteString(strconv.Itoa(l.Height))
		b.WriteString(`" alt="`)
		writeText(b, d.Merchant)
		b.WriteString(`" style="display:block;border:0;outline:none;text-decoration:none;`)
		if l.Width != 0 {
			b.WriteString(`width:`)
			b.WriteString(strconv.Itoa(l.Width))
			b.WriteString(`px;`)
		}
		b.WriteString(`height:`)
		b.WriteString(strconv.Itoa(l.Height))
		b.WriteString(`px;max-width:100%;"></td></tr></table>
</td>
</tr>`)
	}
	b.WriteString(`
<tr>
<td class="em-pad" style="padding:28px 32px 0;` + fontStack + `">
<h1 class="em-muted" style="margin:0;font-size:16px;line-height:1.4;font-weight:normal;color:#4b5563;">`)
	writeText(b, d.Heading)
	b.WriteString(`</h1>`)
	if d.Amount != "" {
		b.WriteString(`
<div class="em-amount em-text" style="margin:6px 0 0;font-size:36px;line-height:1.2;font-weight:bold;color:#111827;">`)
		writeText(b, d.Amount)
		b.WriteString(`</div>`)
	}
	if d.AmountNote != "" {
		b.WriteString(`
<div class="em-muted" style="margin:6px 0 0;font-size:15px;line-height:1.4;color:#4b5563;">`)
		writeText(b, d.AmountNote)
		b.WriteString(`</div>`)
	}
	b.WriteString(`
</td>
</tr>`)
	if d.PayURL != "" || d.ViewURL != "" {
		d.writeButtons(b)
	}
	if len(d.Summary) > 0 {
		b.WriteString(`
<tr>
<td class="em-pad" style="padding:24px 32px 0;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;` + fontStack + `font-size:14px;line-height:1.4;">`)
		for _, r := range d.Summary {
			b.WriteString(`
<tr>
<td class="em-muted em-rule" valign="top" style="padding:10px 12px 10px 0;border-top:1px solid #e5e7eb;color:#4b5563;">`)
			writeText(b, r.Label)
			b.WriteString(`</td>
<td class="em-text em-rule" valign="top" align="right" style="padding:10px 0;border-top:1px solid #e5e7eb;color:#111827;text-align:right;`)
			if r.Strong {
				b.WriteString(`font-weight:bold;`)
			}
			b.WriteString(`">`)
			writeText(b, r.Value)
			b.WriteString(`</td>
</tr>`)
		}
		b.WriteString(`
</table>
</td>
</tr>`)
	}
	if len(d.Paragraphs) > 0 {
		d.writeParagraphs(b)
	}
	b.WriteString(`
<tr>
<td style="height:16px;line-height:16px;font-size:0;">&nbsp;</td>
</tr>
</table>`)
	if len(d.Footer) > 0 {
		b.WriteString(`
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;">
<tr>
<td class="em-muted" align="center" style="padding:20px 16px 8px;` + fontStack + `font-size:12px;line-height:1.6;color:#4b5563;text-align:center;">`)
		for i, line := range d.Footer {
			if i == 0 {
				b.WriteString(`<strong>`)
				writeText(b, line)
				b.WriteString(`</strong>`)
				continue
			}
			b.WriteString(`<br>`)
			writeText(b, line)
		}
		b.WriteString(`</td>
</tr>
</table>`)
	}
	b.WriteString("\n")
	b.WriteString(string(d.MSOClose))
	b.WriteString(`
</td>
</tr>
</table>
</body>
</html>
`)
}

// writeButtons writes the row of the Pay and view buttons and the copied
// link, for a message with at least one of the buttons.
func (d *layoutData) writeButtons(b *strings.Builder) {
	b.WriteString(`
<tr>
<td class="em-pad" style="padding:24px 32px 0;">`)
	if d.PayURL != "" {
		b.WriteString(`
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;border-collapse:separate;">
<tr>
<td align="center" bgcolor="`)
		writeText(b, d.Accent)
		b.WriteString(`" style="border-radius:6px;background-color:`)
		writeText(b, d.Accent)
		b.WriteString(`;">
<a class="em-pay" href="`)
		writeURL(b, d.PayURL)
		b.WriteString(`" style="display:inline-block;width:100%;box-sizing:border-box;padding:14px 20px;` + fontStack + `font-size:16px;font-weight:bold;line-height:1.25;color:`)
		writeText(b, d.OnAccent)
		b.WriteString(`;text-align:center;text-decoration:none;border-radius:6px;">`)
		writeText(b, d.PayLabel)
		b.WriteString(`</a>
</td>
</tr>
</table>`)
	}
	if d.ViewURL != "" {
		b.WriteString(`
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;border-collapse:separate;`)
		if d.PayURL != "" {
			b.WriteString(`margin-top:12px;`)
		}
		b.WriteString(`">
<tr>
<td class="em-alt" align="center" bgcolor="#f3f4f6" style="border-radius:6px;background-color:#f3f4f6;border:1px solid #d1d5db;">
<a class="em-alt-text" href="`)
		writeURL(b, d.ViewURL)
		b.WriteString(`" style="display:inline-block;width:100%;box-sizing:border-box;padding:13px 20px;` + fontStack + `font-size:16px;font-weight:bold;line-height:1.25;color:#111827;text-align:center;text-decoration:none;border-radius:6px;">`)
		writeText(b, d.ViewLabel)
		b.WriteString(`</a>
</td>
</tr>
</table>`)
	}
	if d.CopyURL != "" {
		b.WriteString(`
<p class="em-muted" style="margin:12px 0 0;` + fontStack + `font-size:12px;line-height:1.5;color:#6b7280;">`)
		writeText(b, d.CopyLabel)
		b.WriteString(` <a class="em-link" href="`)
		writeURL(b, d.CopyURL)
		b.WriteString(`" style="color:`)
		writeText(b, d.Link)
		b.WriteString(`;word-break:break-all;">`)
		writeText(b, d.CopyURL)
		b.WriteString(`</a></p>`)
	}
	b.WriteString(`
</td>
</tr>`)
}

// writeParagraphs writes the body's paragraphs, their lines separated by
// <br> and their links in the link colour.
func (d *layoutData) writeParagraphs(b *strings.Builder) {
	b.WriteString(`
<tr>
<td class="em-pad em-text" style="padding:24px 32px 0;` + fontStack + `font-size:15px;line-height:1.55;color:#111827;">`)
	for _, p := range d.Paragraphs {
		b.WriteString(`
<p style="margin:0 0 16px;">`)
		for i, line := range p.Lines {
			if i > 0 {
				b.WriteString(`<br>`)
			}
			for _, s := range line {
				if s.URL == "" {
					writeText(b, s.Text)
					continue
				}
				b.WriteString(`<a class="em-link" href="`)
				writeURL(b, s.URL)
				b.WriteString(`" style="color:`)
				writeText(b, d.Link)
				b.WriteString(`;word-break:break-all;">`)
				writeText(b, s.Text)
				b.WriteString(`</a>`)
			}
		}
		b.WriteString(`</p>`)
	}
	b.WriteString(`
</td>
</tr>`)
}

// writeText writes s escaped as html/template escapes a string it prints
// in text, in a quoted attribute and in <title>: NUL becomes U+FFFD, and
// the characters that could end the text or the attribute, and "+", become
// character references. Everything else, invalid UTF-8 included, is
// written as it is.
func writeText(b *strings.Builder, s string) {
	done := 0
	for i := 0; i < len(s); i++ {
		var ref string
		switch s[i] {
		case 0:
			ref = "\uFFFD"
		case '"':
			ref = "&#34;"
		case '&':
			ref = "&amp;"
		case '\'':
			ref = "&#39;"
		case '+':
			ref = "&#43;"
		case '<':
			ref = "&lt;"
		case '>':
			ref = "&gt;"
		default:
			continue
		}
		b.WriteString(s[done:i])
		b.WriteString(ref)
		done = i + 1
	}
	b.WriteString(s[done:])
}

// writeURL writes the URL s into a quoted attribute as html/template
// does: a URL with a scheme other than http, https or mailto becomes
// "#ZgotmplZ"; bytes a URL may not hold as they are are percent-encoded
// (a "%" that starts an escape stays), and "&" and "+" become character
// references.
func writeURL(b *strings.Builder, s string) {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") &&
		!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "mailto") {
		s = "#ZgotmplZ"
	}
	const hex = "0123456789abcdef"
	done := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			continue
		case strings.IndexByte("!#$*,/:;=?@[]-._~", c) >= 0:
			continue
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			continue
		}
		b.WriteString(s[done:i])
		switch c {
		case '&':
			b.WriteString("&amp;")
		case '+':
			b.WriteString("&#43;")
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
		done = i + 1
	}
	b.WriteString(s[done:])
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
