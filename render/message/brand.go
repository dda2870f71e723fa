package message

import (
	"bytes"
	"image"
	_ "image/jpeg" // read the size of JPEG logos
	_ "image/png"  // read the size of PNG logos
	"math"
	"strconv"
	"strings"

	"github.com/invoiced/invoiced/invoice"
)

// Brand is how the HTML email looks: the tenant's logo and accent colour,
// and the seller the footer names. It is not a variable: templates cannot
// print it, and the plain-text alternative does not use it.
type Brand struct {
	// LogoURL is where the email's <img> loads the logo from. Only an
	// absolute http(s) URL is used; anything else means no logo.
	LogoURL string
	// Logo is the image LogoURL serves, a PNG or JPEG, read only for its
	// size so that the <img> gets its width and height. Without it, or
	// when it cannot be read, the logo is shown 40 px high.
	Logo []byte
	// Accent is the colour of the top rule and the Pay button, "#RRGGBB";
	// empty or anything else is DefaultAccent. Links use it too when it
	// reads well on white, else DefaultAccent.
	Accent string
	// Seller is who the footer names: its name, address and contacts.
	// The footer's name is the merchant name of the message's variables
	// when set, which a send may override.
	Seller invoice.Seller
}

// DefaultAccent is the accent of a tenant without one, the dark blue of
// the invoice PDF and the hosted page.
const DefaultAccent = "#1D4E89"

// Colours of the layout that the accent does not decide. Each text colour
// reads at a contrast of at least 4.5:1 (WCAG AA) on the backgrounds it is
// used on, in light mode and, with the dark-mode colours of layout.html,
// in dark mode.
const (
	colourText    = "#111827"
	colourWhite   = "#ffffff"
	colourBlack   = "#000000"
	logoMaxHeight = 40  // px
	logoMaxWidth  = 200 // px
)

// accentOf returns s when it is "#RRGGBB", else DefaultAccent.
func accentOf(s string) string {
	if _, ok := parseHex(s); ok {
		return s
	}
	return DefaultAccent
}

// onAccent is the colour of text on an accent background: white or
// black, whichever reads better, so that a pale accent such as "#FFD54F"
// still gives a readable button. One of the two always reads at 4.58:1 or
// more.
func onAccent(accent string) string {
	if contrast(accent, colourWhite) >= contrast(accent, colourBlack) {
		return colourWhite
	}
	return colourBlack
}

// linkColour is the colour of links on the white card: the accent when it
// reads well on white, else DefaultAccent.
func linkColour(accent string) string {
	if contrast(accent, colourWhite) >= 4.5 {
		return accent
	}
	return DefaultAccent
}

// parseHex reads "#RRGGBB" into its three channels.
func parseHex(s string) ([3]uint8, bool) {
	if len(s) != 7 || s[0] != '#' {
		return [3]uint8{}, false
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return [3]uint8{}, false
	}
	return [3]uint8{uint8(v >> 16), uint8(v >> 8), uint8(v)}, true
}

// luminance is the WCAG relative luminance of "#RRGGBB", 0 for black to 1
// for white; text that is not such a colour counts as black.
func luminance(hex string) float64 {
	c, _ := parseHex(hex)
	var l [3]float64
	for i, v := range c {
		s := float64(v) / 255
		if s <= 0.04045 {
			l[i] = s / 12.92
		} else {
			l[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

// contrast is the WCAG contrast ratio of two "#RRGGBB" colours, from 1 to
// 21.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// logoImage is the logo as the layout shows it.
type logoImage struct {
	URL           string
	Width, Height int // CSS pixels; Width is 0 when the size is unknown
}

// logoFor returns the logo of b as shown, or nil when b has none: scaled
// to at most logoMaxHeight high and logoMaxWidth wide, never up.
func logoFor(b Brand) *logoImage {
	u := webURL(b.LogoURL)
	if u == "" {
		return nil
	}
	l := &logoImage{URL: u, Height: logoMaxHeight}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b.Logo))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return l
	}
	w, h := float64(cfg.Width), float64(cfg.Height)
	scale := min(1, logoMaxHeight/h, logoMaxWidth/w)
	l.Width, l.Height = max(1, int(math.Round(w*scale))), max(1, int(math.Round(h*scale)))
	return l
}

// footerLines are the footer's lines: the seller's name, its address on
// one line, and its email, phone and website. Blank parts are left out.
func footerLines(name string, s invoice.Seller) []string {
	var out []string
	if name = strings.TrimSpace(name); name == "" {
		name = strings.TrimSpace(s.Name)
	}
	if name != "" {
		out = append(out, name)
	}
	a := s.Address
	city := joinNonBlank(" ", a.PostalCode, a.City)
	if addr := joinNonBlank(", ", a.Line1, a.Line2, city, a.Region, a.Country); addr != "" {
		out = append(out, addr)
	}
	if contact := joinNonBlank(" · ", s.Email, s.Phone, s.Website); contact != "" {
		out = append(out, contact)
	}
	return out
}

// joinNonBlank joins the parts that are not blank, each trimmed and with
// line breaks made spaces.
func joinNonBlank(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p = oneLine(p); p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}
