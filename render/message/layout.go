package message

import (
	_ "embed"
	"html/template"
	"strings"
	"sync"
)

//go:embed layout.html
var layoutHTML string

// layout is the layout as written, parsed once; it is never modified
// after.
var layout = parseLayout(layoutHTML)

func parseLayout(src string) *template.Template {
	return template.Must(template.New("layout.html").Parse(src))
}

// msoOpen and msoClose hold the card in a 600 px table for Outlook on
// Windows, whose Word engine ignores max-width; every other client skips
// them as comments. html/template drops comments written in the layout,
// so they are inserted as constant HTML, from layoutData's fields rather
// than functions, which html/template would call through reflection.
const (
	msoOpen  template.HTML = `<!--[if mso]><table role="presentation" width="600" align="center" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->`
	msoClose template.HTML = `<!--[if mso]></td></tr></table><![endif]-->`
)

// chrome is what the layout prints that is the same in every message of
// a tenant in one language: the lang attribute, the colours, and the
// labels of the view button and the copied link. html/template calls its
// escapers through reflection for every value it prints, a dozen of them
// for these alone; written into the layout's text, they cost nothing.
type chrome struct {
	Lang, Accent, OnAccent, Link string
	ViewLabel, CopyLabel         string
}

// maxLayouts bounds the layouts kept with their chrome written in: a
// tenant's colours in each language it sends in. A parsed layout holds
// about 40 KB.
const maxLayouts = 256

// layouts holds the layout parsed with each chrome written into its text,
// at most maxLayouts of them. Each is parsed once and never modified
// after.
var layouts = struct {
	sync.RWMutex
	m map[chrome]*template.Template
}{m: make(map[chrome]*template.Template)}

// layoutTemplate is the layout for d: the layout with d's chrome written
// into its text, which prints what the layout as written prints for d.
// A chrome whose values would print as something other than themselves
// (see literal) gets the layout as written.
func layoutTemplate(d *layoutData) *template.Template {
	c := chrome{Lang: d.Lang, Accent: d.Accent, OnAccent: d.OnAccent, Link: d.Link,
		ViewLabel: d.ViewLabel, CopyLabel: d.CopyLabel}
	layouts.RLock()
	t := layouts.m[c]
	layouts.RUnlock()
	if t != nil {
		return t
	}
	if !c.literal() {
		return layout
	}
	t = parseLayout(strings.NewReplacer(
		"{{.Lang}}", c.Lang,
		"{{.Accent}}", c.Accent,
		"{{.OnAccent}}", c.OnAccent,
		"{{.Link}}", c.Link,
		"{{$.Link}}", c.Link,
		"{{.ViewLabel}}", c.ViewLabel,
		"{{.CopyLabel}}", c.CopyLabel,
	).Replace(layoutHTML))
	layouts.Lock()
	defer layouts.Unlock()
	if len(layouts.m) >= maxLayouts {
		for k := range layouts.m {
			delete(layouts.m, k)
			break
		}
	}
	layouts.m[c] = t
	return t
}

// literal reports whether each of c's values prints as itself where the
// layout prints it, so that writing it into the layout's text changes
// nothing: the colours are "#RRGGBB" (which the CSS filter and the
// attribute escaper leave alone), the lang attribute a language tag of
// lower-case letters, digits and "-", and the labels plain text without
// a character html/template escapes or a template delimiter.
func (c chrome) literal() bool {
	for _, colour := range []string{c.Accent, c.OnAccent, c.Link} {
		if _, ok := parseHex(colour); !ok {
			return false
		}
	}
	if c.Lang == "" || strings.ContainsFunc(c.Lang, func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-')
	}) {
		return false
	}
	for _, label := range []string{c.ViewLabel, c.CopyLabel} {
		if strings.ContainsAny(label, "\x00\"&'+<>{}") {
			return false
		}
	}
	return true
}
