// Package pdf renders an invoice as a PDF, on A4 or Letter paper, with its
// labels, amounts and dates in English, Romanian, German or French.
//
// The text is set in DejaVu Sans, embedded in the binary and parsed once,
// in New. Two cuts of it are embedded: a core subset that covers Latin
// (with every European diacritic), Greek, Cyrillic, Vietnamese, currency
// signs and punctuation, which sets nearly every invoice and keeps the PDF
// small and the render fast; and the full fonts, used for the invoices
// whose text needs more (Armenian, Georgian, Hebrew…). A character that
// neither has, such as a Chinese name, prints as the replacement
// character U+FFFD and is reported in a warning; it never makes an
// invoice unrenderable.
package pdf

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/signintech/gopdf"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
)

// ErrNoInvoice is returned by Render for a Document without an Invoice.
var ErrNoInvoice = errors.New("pdf: document has no invoice")

// Document is everything printed on an invoice.
type Document struct {
	// Invoice is the invoice with its totals already computed by
	// invoice.Compute; Render prints the amounts as they are.
	Invoice *invoice.Invoice `json:"invoice"`
	// Seller is the tenant's branding, printed at the top left.
	Seller invoice.Seller `json:"seller"`
	// Bank is printed as payment details when its IBAN is set.
	Bank invoice.BankAccount `json:"bank"`
	// Language picks the labels and how numbers and dates are written:
	// "en", "ro", "de" or "fr", matched like "de-AT" → "de". Empty or
	// unknown falls back to Invoice.Language, then to "en".
	Language string `json:"language,omitempty"`
	// Logo is a PNG or JPEG printed at the top left, scaled to fit a box
	// of 180 × 60 pt keeping its proportions; see CheckLogo. A logo that
	// cannot be read is left out with a warning. Key hashes its bytes
	// directly, so it stays out of the JSON form.
	Logo []byte `json:"-"`
	// Paper is "A4" (the default) or "Letter"; see CheckPaper.
	Paper string `json:"paper,omitempty"`
	// Accent is the colour of the title, the amount due and the table
	// headings, as "#RRGGBB"; empty is a dark blue. See CheckAccent.
	Accent string `json:"accent,omitempty"`
}

// GlyphError lists characters that the embedded fonts cannot draw, such as
// Chinese or emoji. Render prints them as U+FFFD and logs them; CheckGlyphs
// returns this error so that an API can warn before an invoice is sent.
type GlyphError struct {
	// Runes are the missing characters in order of first appearance.
	Runes []rune
}

func (e *GlyphError) Error() string {
	return "pdf: the invoice font has no glyph for " + strings.Join(runeNames(e.Runes), ", ")
}

// runeNames names characters by code point: "U+674E".
func runeNames(runes []rune) []string {
	names := make([]string, len(runes))
	for i, r := range runes {
		names[i] = fmt.Sprintf("%U", r)
	}
	return names
}

// Renderer renders invoices. It parses the fonts once, in New, and shares
// them read-only between documents, so one Renderer serves any number of
// concurrent Render calls.
type Renderer struct {
	logger *zap.Logger
	fonts  *gopdf.FontContainer
	core   *fontSet
	full   *fontSet
	bill   *fontSet
	logos  *logoCache

	// glyphMisses counts characters that reached gopdf without a glyph.
	// Render replaces such characters before gopdf sees them, so this
	// stays zero unless some text bypasses that step.
	glyphMisses atomic.Int64
}

// Option configures a Renderer.
type Option func(*Renderer)

// WithLogger sets the logger for warnings about documents that render
// with a substitute: characters the fonts lack, a logo that cannot be
// read, an unknown paper size or colour. Defaults to no logging.
func WithLogger(l *zap.Logger) Option {
	return func(r *Renderer) {
		if l != nil {
			r.logger = l
		}
	}
}

// New parses the embedded fonts and returns a Renderer.
func New(opts ...Option) (*Renderer, error) {
	r := &Renderer{
		logger: zap.NewNop(),
		fonts:  &gopdf.FontContainer{},
		logos:  newLogoCache(logoCacheEntries),
	}
	for _, opt := range opts {
		opt(r)
	}
	onMiss := gopdf.TtfOption{
		Style:                     gopdf.Regular,
		OnGlyphNotFound:           func(rune) { r.glyphMisses.Add(1) },
		OnGlyphNotFoundSubstitute: func(rune) rune { return replacement },
	}
	var err error
	if r.core, err = loadFontSet(r.fonts, onMiss, coreFaces(), true); err != nil {
		return nil, err
	}
	if r.full, err = loadFontSet(r.fonts, onMiss, fullFaces(), true); err != nil {
		return nil, err
	}
	if r.bill, err = loadFontSet(r.fonts, onMiss, billFaces(), false); err != nil {
		return nil, err
	}
	return r, nil
}

// Render lays out doc on as many pages as it needs and returns the PDF.
// The output depends only on doc, so the same document always gives the
// same bytes. It returns ErrNoInvoice without an invoice and an error for
// an unknown currency. Characters the fonts cannot draw print as U+FFFD
// and are logged with the invoice's ID.
func (r *Renderer) Render(doc Document) ([]byte, error) {
	if doc.Invoice == nil {
		return nil, ErrNoInvoice
	}
	w, err := newWriter(r, doc)
	if err != nil {
		return nil, err
	}
	w.document()
	pdf, err := w.finish()
	if err != nil {
		return nil, err
	}
	if len(w.missing) > 0 {
		r.logger.Warn("pdf: the invoice fonts lack some characters; printed U+FFFD instead",
			zap.String("invoice_id", doc.Invoice.ID),
			zap.Strings("runes", runeNames(w.missing)))
	}
	return pdf, nil
}

// CheckGlyphs returns a *GlyphError naming the characters of doc that
// neither font can draw, or nil when every character prints as sent.
func (r *Renderer) CheckGlyphs(doc Document) error {
	if doc.Invoice == nil {
		return ErrNoInvoice
	}
	var missing []rune
	for _, s := range documentText(doc) {
		for _, c := range s {
			if printable(c) && !r.full.has(c) && !containsRune(missing, c) {
				missing = append(missing, c)
			}
		}
	}
	if len(missing) > 0 {
		return &GlyphError{Runes: missing}
	}
	return nil
}

// fontsFor returns the core fonts when they can draw every character of
// doc, and the full fonts otherwise.
func (r *Renderer) fontsFor(doc Document) *fontSet {
	for _, s := range documentText(doc) {
		for _, c := range s {
			if printable(c) && !r.core.has(c) && r.full.has(c) {
				return r.full
			}
		}
	}
	return r.core
}

// documentText lists the text of doc that comes from outside: everything
// but the labels and the formatted numbers, which the core fonts cover.
func documentText(doc Document) []string {
	inv, s, c := doc.Invoice, doc.Seller, doc.Invoice.Customer
	text := []string{
		inv.Number, inv.Reference, inv.Notes, inv.Terms, inv.PaymentLink,
		s.Name, s.VATID, s.RegistrationNumber, s.Email, s.Phone, s.Website,
		c.Name, c.Email, c.Phone, c.VATID,
		doc.Bank.IBAN, doc.Bank.BIC, doc.Bank.BankName, doc.Bank.Holder,
	}
	for _, a := range []invoice.Address{s.Address, c.Address} {
		text = append(text, a.Line1, a.Line2, a.City, a.PostalCode, a.Region, a.Country)
	}
	for _, l := range inv.Lines {
		text = append(text, l.Description, l.Unit)
	}
	return append(text, einvoiceText(inv)...)
}

func containsRune(runes []rune, r rune) bool {
	for _, x := range runes {
		if x == r {
			return true
		}
	}
	return false
}
