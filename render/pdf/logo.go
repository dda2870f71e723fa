package pdf

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"

	"golang.org/x/image/draw"
)

// logoCacheEntries is how many prepared logos a Renderer keeps: a few
// tenants' worth, each typically tens of kilobytes.
const logoCacheEntries = 64

// maxLogoSide is the longest side, in pixels, of a logo as embedded: the
// logo box is at most 180 pt wide, so this is over 500 dpi. Larger logos
// are scaled down once, when first prepared.
const maxLogoSide = 1200

// logo is a tenant's logo in a form gopdf embeds without decoding it
// again: a baseline JPEG, or an opaque, non-interlaced 8-bit PNG whose
// compressed pixels go into the PDF as they are.
type logo struct {
	// id names the image for gopdf, which would otherwise hash it on
	// every render.
	id   string
	data []byte
	w, h int // pixels
}

// prepareLogo turns the bytes of a PNG or JPEG into a logo. A PNG with
// transparency is flattened onto white, the page's colour; gopdf would
// otherwise split its alpha channel on every render.
func prepareLogo(b []byte) (*logo, error) {
	if err := CheckLogo(b); err != nil {
		return nil, err
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	l := &logo{id: hex.EncodeToString(sum[:16]), data: b, w: cfg.Width, h: cfg.Height}
	small := max(cfg.Width, cfg.Height) <= maxLogoSide
	switch {
	case small && format == "jpeg" && (cfg.ColorModel == color.YCbCrModel || cfg.ColorModel == color.GrayModel):
		return l, nil
	case small && format == "png" && plainPNG(b):
		return l, nil
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return l, l.redraw(img)
}

// redraw replaces the logo with img flattened onto white, scaled to fit
// maxLogoSide, as an opaque PNG.
func (l *logo) redraw(img image.Image) error {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	if side := max(w, h); side > maxLogoSide {
		w, h = max(1, w*maxLogoSide/side), max(1, h*maxLogoSide/side)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Over, nil)
	var buf bytes.Buffer
	if err := png.Encode(&buf, dst); err != nil {
		return fmt.Errorf("pdf: encode logo: %w", err)
	}
	l.data, l.w, l.h = buf.Bytes(), w, h
	return nil
}

// plainPNG reports whether a PNG is 8-bit, not interlaced, and has no
// transparency: what gopdf copies into a PDF without decoding it.
func plainPNG(b []byte) bool {
	const ihdrEnd = 8 + 8 + 13
	if len(b) < ihdrEnd {
		return false
	}
	depth, colorType, interlace := b[24], b[25], b[28]
	if depth != 8 || interlace != 0 || colorType == 4 || colorType == 6 {
		return false
	}
	for pos := 8; pos+8 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[pos:]))
		switch string(b[pos+4 : pos+8]) {
		case "tRNS":
			return false
		case "IDAT", "IEND":
			return true // tRNS must come before the image data
		}
		pos += 12 + n
	}
	return false
}

// imageHolder hands a prepared logo to gopdf under its precomputed id.
type imageHolder struct {
	id string
	*bytes.Reader
}

func (h imageHolder) ID() string { return h.id }

// logoCache keeps prepared logos by the hash of their original bytes, so
// a tenant's logo is decoded and checked once, not on every invoice. It
// holds at most max logos and forgets the oldest first.
type logoCache struct {
	mu    sync.Mutex
	max   int
	byKey map[[32]byte]*logo
	order [][32]byte
}

func newLogoCache(max int) *logoCache {
	return &logoCache{max: max, byKey: map[[32]byte]*logo{}}
}

// get returns the prepared form of b, preparing it on first use. Errors
// are not cached: a bad logo is rare, and retrying it is cheap enough.
func (c *logoCache) get(b []byte) (*logo, error) {
	key := sha256.Sum256(b)
	c.mu.Lock()
	l, ok := c.byKey[key]
	c.mu.Unlock()
	if ok {
		return l, nil
	}
	l, err := prepareLogo(b)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[key]; !ok {
		c.byKey[key] = l
		c.order = append(c.order, key)
		if len(c.order) > c.max {
			delete(c.byKey, c.order[0])
			c.order = c.order[1:]
		}
	}
	return l, nil
}
