package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decode JPEG logos
	_ "image/png"  // decode PNG logos
	"strconv"
	"strings"

	"github.com/signintech/gopdf"
)

// Limits on a logo, checked by CheckLogo.
const (
	MaxLogoBytes  = 1 << 20 // 1 MiB
	MaxLogoPixels = 4000    // on either side
)

// The errors of the Check functions, for callers that map them to
// validation messages. The returned errors wrap them with details.
var (
	ErrLogo   = errors.New("logo must be a PNG or JPEG image")
	ErrAccent = errors.New(`accent must be a colour like "#1D4E89"`)
	ErrPaper  = errors.New(`paper must be "A4" or "Letter"`)
)

// CheckLogo returns nil when b is a logo Render can print: empty (no
// logo), or a complete PNG or JPEG image of at most MaxLogoBytes bytes and
// MaxLogoPixels pixels on either side. Otherwise the error wraps ErrLogo.
func CheckLogo(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if len(b) > MaxLogoBytes {
		return fmt.Errorf("%w of at most 1 MB; this one has %d bytes", ErrLogo, len(b))
	}
	if !isPNG(b) && !isJPEG(b) {
		return ErrLogo
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLogo, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxLogoPixels || cfg.Height > MaxLogoPixels {
		return fmt.Errorf("%w of at most %d×%d pixels; this one has %d×%d",
			ErrLogo, MaxLogoPixels, MaxLogoPixels, cfg.Width, cfg.Height)
	}
	// Only a full decode finds a truncated or corrupt image.
	if _, _, err := image.Decode(bytes.NewReader(b)); err != nil {
		return fmt.Errorf("%w: %v", ErrLogo, err)
	}
	return nil
}

func isPNG(b []byte) bool  { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }
func isJPEG(b []byte) bool { return bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) }

// CheckAccent returns nil for an empty accent (the default colour) and for
// a colour written "#RRGGBB" in hexadecimal digits of either case, and an
// error wrapping ErrAccent otherwise.
func CheckAccent(s string) error {
	if s == "" {
		return nil
	}
	if _, ok := parseAccent(s); !ok {
		return fmt.Errorf("%w, not %q", ErrAccent, s)
	}
	return nil
}

// parseAccent reads "#RRGGBB".
func parseAccent(s string) (rgb, bool) {
	if len(s) != 7 || s[0] != '#' {
		return 0, false
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return 0, false
	}
	return rgb(v), true
}

// CheckPaper returns nil for "", "A4" and "Letter", in any case, and an
// error wrapping ErrPaper otherwise.
func CheckPaper(s string) error {
	if _, ok := parsePaper(s); !ok {
		return fmt.Errorf("%w, not %q", ErrPaper, s)
	}
	return nil
}

// paper is a page size in points.
type paper struct {
	w, h float64
	size *gopdf.Rect
}

// parsePaper returns the paper named s; empty is A4.
func parsePaper(s string) (paper, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "a4":
		return paper{w: 595, h: 842, size: gopdf.PageSizeA4}, true
	case "letter":
		return paper{w: 612, h: 792, size: gopdf.PageSizeLetter}, true
	}
	return paper{}, false
}
