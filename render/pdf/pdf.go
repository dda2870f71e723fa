// Package pdf renders an invoice as an A4 PDF. The text is set in DejaVu
// Sans, embedded in the binary and subset into each PDF, so Latin (with
// Romanian, German and French diacritics), Greek and Cyrillic text prints
// exactly as sent.
package pdf

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/signintech/gopdf"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/money"
)

// The embedded fonts; fonts/LICENSE holds their license.
var (
	//go:embed fonts/DejaVuSans.ttf
	regularTTF []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	boldTTF []byte
)

// The font families registered in every document. They double as the
// PDF's /BaseFont names.
const (
	familyRegular = "DejaVuSans"
	familyBold    = "DejaVuSans-Bold"
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
	// Language picks the labels: "en", "ro", "de" or "fr", matched like
	// "de-AT" → "de". Empty or unknown falls back to Invoice.Language, then
	// to "en".
	Language string `json:"language,omitempty"`
}

// GlyphError reports characters that the embedded fonts cannot draw, such
// as Chinese or emoji. Render refuses such a document rather than print an
// invoice with boxes or gaps where a name or amount should be.
type GlyphError struct {
	// Runes are the missing characters in order of first appearance.
	Runes []rune
}

func (e *GlyphError) Error() string {
	parts := make([]string, len(e.Runes))
	for i, r := range e.Runes {
		parts[i] = fmt.Sprintf("%q (%U)", r, r)
	}
	return "pdf: the invoice font has no glyph for " + strings.Join(parts, ", ")
}

// Renderer renders invoices. It parses the fonts once, in New, and shares
// them read-only between documents, so one Renderer serves any number of
// concurrent Render calls.
type Renderer struct {
	fonts *gopdf.FontContainer
	// glyphMisses counts characters that reached gopdf without a glyph.
	// Render drops and reports those characters before gopdf sees them, so
	// this stays zero unless some text bypasses that check.
	glyphMisses atomic.Int64
}

// New parses the embedded fonts and returns a Renderer.
func New() (*Renderer, error) {
	r := &Renderer{fonts: &gopdf.FontContainer{}}
	opt := gopdf.TtfOption{
		Style:           gopdf.Regular,
		OnGlyphNotFound: func(rune) { r.glyphMisses.Add(1) },
		// gopdf's default prints a space instead; keeping the character
		// (drawn as the font's .notdef box) at least shows that one is missing.
		OnGlyphNotFoundSubstitute: func(c rune) rune { return c },
	}
	if err := r.fonts.AddTTFFontDataWithOption(familyRegular, regularTTF, opt); err != nil {
		return nil, fmt.Errorf("pdf: parse %s: %w", familyRegular, err)
	}
	if err := r.fonts.AddTTFFontDataWithOption(familyBold, boldTTF, opt); err != nil {
		return nil, fmt.Errorf("pdf: parse %s: %w", familyBold, err)
	}
	return r, nil
}

// Render lays out doc on as many A4 pages as it needs and returns the PDF.
// The output depends only on doc, so the same document always gives the
// same bytes. It returns ErrNoInvoice without an invoice, an error for an
// unknown currency, and a *GlyphError when the text holds characters the
// fonts cannot draw.
func (r *Renderer) Render(doc Document) ([]byte, error) {
	if doc.Invoice == nil {
		return nil, ErrNoInvoice
	}
	w, err := r.newWriter(doc)
	if err != nil {
		return nil, err
	}
	w.document()
	return w.finish()
}

// newWriter starts an empty PDF with the shared fonts registered.
func (r *Renderer) newWriter(doc Document) (*writer, error) {
	gp := &gopdf.GoPdf{}
	gp.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	for _, family := range []string{familyRegular, familyBold} {
		if err := gp.AddTTFFontFromFontContainer(family, r.fonts); err != nil {
			return nil, fmt.Errorf("pdf: add font %s: %w", family, err)
		}
	}
	inv := doc.Invoice
	cur, err := money.ParseCurrency(inv.Currency)
	if err != nil {
		return nil, fmt.Errorf("pdf: invoice currency: %w", err)
	}
	lb := labelsFor(language(doc))
	gp.SetInfo(gopdf.PdfInfo{
		Title:   strings.TrimSpace(lb.title + " " + inv.Number),
		Author:  doc.Seller.Name,
		Subject: inv.Customer.Name,
		Creator: "invoiced",
	})
	return &writer{
		pdf:   gp,
		doc:   doc,
		inv:   inv,
		cur:   cur,
		lb:    lb,
		known: map[glyphKey]bool{},
	}, nil
}
