// Package pdf renders an invoice as a PDF, on A4 or Letter paper, with its
// labels, amounts and dates in English, Romanian, German or French.
//
// The text is set in DejaVu Sans, embedded in the binary and parsed once,
// in New. Two cuts of it are embedded: a core subset that covers Latin
// (with every European diacritic), Greek, Cyrillic, Vietnamese, currency
// signs and punctuation, which sets nearly every invoice and keeps the PDF
// small and the render fast; and the full fonts, used for the invoices
// whose text needs more (Armenian, Georgian, Hebrew…). Characters that
// neither has, such as Chinese or Japanese, are set in the operator's
// fallback fonts (WithFontDir), character by character. An invoice with a
// character that no font has is not rendered: Render returns a
// *GlyphError naming the character and the field it is in, rather than
// print a blank box.
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

// GlyphError lists the characters of a document that no font can draw,
// such as Chinese without a fallback font, or emoji. Render and
// CheckGlyphs return it.
type GlyphError struct {
	// Runes are the missing characters in order of first appearance.
	Runes []rune
	// Fields name, for each of Runes, the first field it is in: an
	// invoice field as the API names it ("customer.name",
	// "lines[0].description"), a "branding." or a "bank." setting.
	Fields []string
}

func (e *GlyphError) Error() string {
	parts := make([]string, len(e.Runes))
	for i, r := range e.Runes {
		parts[i] = fmt.Sprintf("%U %q", r, r)
		if i < len(e.Fields) && e.Fields[i] != "" {
			parts[i] += " in " + e.Fields[i]
		}
	}
	return "pdf: no font has a glyph for " + strings.Join(parts, ", ")
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
	// fontDir is where the fallback fonts come from; fallback are
	// those fonts, in the order of their file names.
	fontDir  string
	fallback []*face

	// glyphMisses counts characters that reached gopdf without a glyph.
	// Render replaces such characters before gopdf sees them, so this
	// stays zero unless some text bypasses that step.
	glyphMisses atomic.Int64
}

// Option configures a Renderer.
type Option func(*Renderer)

// WithLogger sets the logger for warnings about documents that render
// with a substitute or without a part: a logo that cannot be
// read, an unknown paper size or colour, a QR code left out. Defaults to no logging.
func WithLogger(l *zap.Logger) Option {
	return func(r *Renderer) {
		if l != nil {
			r.logger = l
		}
	}
}

// WithFontDir adds the fonts in dir as fallbacks for the characters the
// embedded fonts lack, such as Chinese, Japanese and Korean: every .ttf
// and .otf file with TrueType outlines, and the first font of every .ttc
// collection, tried in the order of their file names. New fails, with an
// error wrapping ErrFontDir, when dir is missing, holds no such font, or
// holds a font with CFF outlines, which PDFs made here cannot embed.
// Empty means no fallback fonts.
func WithFontDir(dir string) Option {
	return func(r *Renderer) { r.fontDir = dir }
}

// New parses the embedded fonts, and the fallback fonts of WithFontDir,
// and returns a Renderer.
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
	if r.fontDir != "" {
		if r.fallback, err = loadFallbackFaces(r.fonts, onMiss, r.fontDir); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Render lays out doc on as many pages as it needs and returns the PDF.
// The output depends only on doc, so the same document always gives the
// same bytes. It returns ErrNoInvoice without an invoice, an error for
// an unknown currency, and a *GlyphError when some character of doc is
// in no font.
func (r *Renderer) Render(doc Document) ([]byte, error) {
	if doc.Invoice == nil {
		return nil, ErrNoInvoice
	}
	fonts, ge := r.scanText(doc)
	if ge != nil {
		return nil, ge
	}
	w, err := newWriterWith(r, doc, fonts)
	if err != nil {
		return nil, err
	}
	w.document()
	pdf, err := w.finish()
	if err != nil {
		return nil, err
	}
	if len(w.missing) > 0 {
		// CheckGlyphs saw every text Render prints; this is a text it
		// missed.
		return nil, &GlyphError{Runes: w.missing}
	}
	return pdf, nil
}

// CheckGlyphs returns a *GlyphError naming the characters of doc that no
// font can draw, each with the field it is in, or nil when every
// character prints as sent.
func (r *Renderer) CheckGlyphs(doc Document) error {
	if doc.Invoice == nil {
		return ErrNoInvoice
	}
	if _, ge := r.scanText(doc); ge != nil {
		return ge
	}
	return nil
}

// fontsFor returns the core fonts when they can draw every character of
// doc that the full fonts can, and the full fonts otherwise.
func (r *Renderer) fontsFor(doc Document) *fontSet {
	fonts, _ := r.scanText(doc)
	return fonts
}

// scanText reads the text of doc that comes from outside (eachText)
// once for what CheckGlyphs and fontsFor tell: the fonts to set it in,
// and a *GlyphError for the characters no font has, nil when there are
// none. A document in printable ASCII costs no allocation.
func (r *Renderer) scanText(doc Document) (*fontSet, *GlyphError) {
	fonts := r.core
	var ge *GlyphError
	eachText(doc, func(t fieldText) {
		for _, c := range t.text {
			if c >= ' ' && c < 0x7F {
				continue // printable ASCII, which the core fonts have
			}
			if !printable(c) {
				continue
			}
			if fonts == r.core && !r.core.has(c) && r.full.has(c) {
				fonts = r.full
			}
			if !r.canDraw(c) && (ge == nil || !containsRune(ge.Runes, c)) {
				if ge == nil {
					ge = &GlyphError{}
				}
				ge.Runes = append(ge.Runes, c)
				ge.Fields = append(ge.Fields, t.name())
			}
		}
	})
	return fonts, ge
}

// fieldText is a text of a document and the field it comes from: field
// itself, or field formatted with index for a field of a list
// ("lines[%d].unit").
type fieldText struct {
	field string
	index int
	text  string
}

// name is the field's name as the API names it.
func (t fieldText) name() string {
	if t.index < 0 {
		return t.field
	}
	return fmt.Sprintf(t.field, t.index)
}

// field is a fieldText of a field that is not in a list.
func field(name, text string) fieldText { return fieldText{name, -1, text} }

// eachText calls visit with each text of doc that comes from outside,
// with the field it comes from: everything but the labels and the
// formatted numbers, which the core fonts cover. It builds no list, so
// that checking a document allocates nothing.
func eachText(doc Document, visit func(fieldText)) {
	inv, s, c, b := doc.Invoice, doc.Seller, doc.Invoice.Customer, doc.Bank
	// The addresses' field names written out, where joining them to a
	// prefix would make a dozen strings a render.
	sa, ca := s.Address, c.Address
	for _, t := range [...]fieldText{
		field("number", inv.Number), field("reference", inv.Reference), field("notes", inv.Notes), field("terms", inv.Terms),
		field("paymentLink", inv.PaymentLink),
		field("branding.name", s.Name), field("branding.vatId", s.VATID), field("branding.registrationNumber", s.RegistrationNumber),
		field("branding.email", s.Email), field("branding.phone", s.Phone), field("branding.website", s.Website),
		field("customer.name", c.Name), field("customer.email", c.Email), field("customer.phone", c.Phone), field("customer.vatId", c.VATID),
		field("bank.iban", b.IBAN), field("bank.bic", b.BIC), field("bank.bankName", b.BankName), field("bank.holder", b.Holder),
		field("branding.address.line1", sa.Line1), field("branding.address.line2", sa.Line2),
		field("branding.address.city", sa.City), field("branding.address.postalCode", sa.PostalCode),
		field("branding.address.region", sa.Region), field("branding.address.country", sa.Country),
		field("customer.address.line1", ca.Line1), field("customer.address.line2", ca.Line2),
		field("customer.address.city", ca.City), field("customer.address.postalCode", ca.PostalCode),
		field("customer.address.region", ca.Region), field("customer.address.country", ca.Country),
	} {
		visit(t)
	}
	if inv.Corrects != nil {
		visit(field("corrects.number", inv.Corrects.Number))
	}
	for i, l := range inv.Lines {
		visit(fieldText{"lines[%d].description", i, l.Description})
		visit(fieldText{"lines[%d].unit", i, l.Unit})
	}
	eachEinvoiceText(inv, visit)
}

func containsRune(runes []rune, r rune) bool {
	for _, x := range runes {
		if x == r {
			return true
		}
	}
	return false
}
