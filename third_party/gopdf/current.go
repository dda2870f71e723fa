package gopdf

// Current current state
type Current struct {
	setXCount int //many times we go func SetX()
	X         float64
	Y         float64

	//font
	IndexOfFontObj int
	CountOfFont    int
	CountOfL       int

	FontSize      float64
	FontStyle     int // Regular|Bold|Italic|Underline
	FontFontCount int
	FontType      int // CURRENT_FONT_TYPE_IFONT or  CURRENT_FONT_TYPE_SUBSET

	IndexOfColorSpaceObj int
	CountOfColorSpace    int

	CharSpacing float64

	FontISubset *SubsetFontObj // FontType == CURRENT_FONT_TYPE_SUBSET

	//page
	IndexOfPageObj int

	//img
	CountOfImg int
	//cache of image in pdf file
	ImgCaches map[int]ImageCache

	//text color mode
	txtColorMode string //color, gray

	//text color
	txtColor ICacheColorText
	// rgbTexts are the last eight RGB text colours set, boxed once
	// each, and rgbTextKeys the same colours unboxed; rgbTextCount counts
	// those boxed.
	rgbTexts     [8]ICacheColorText
	rgbTextKeys  [8]cacheContentTextColorRGB
	rgbTextCount int

	//text grayscale
	grayFill float64
	//draw grayscale
	grayStroke float64

	lineWidth float64

	//current page size
	pageSize *Rect

	//current trim box
	trimBox *Box

	sMasksMap       SMaskMap
	extGStatesMap   ExtGStatesMap
	transparency    *Transparency
	transparencyMap TransparencyMap
}

func (c *Current) setTextColor(color ICacheColorText) {
	c.txtColor = color
}

// rgbTextColor returns rgb as an ICacheColorText: the value boxed for
// it earlier where it is one of the last eight colours set, else rgb
// boxed anew in place of the oldest of them. A document's texts take a
// few colours in turn, and boxing the three bytes allocated at each.
func (c *Current) rgbTextColor(rgb cacheContentTextColorRGB) ICacheColorText {
	n := min(c.rgbTextCount, len(c.rgbTexts))
	for i, k := range c.rgbTextKeys[:n] {
		if k == rgb {
			return c.rgbTexts[i]
		}
	}
	i := c.rgbTextCount % len(c.rgbTexts)
	c.rgbTexts[i], c.rgbTextKeys[i] = rgb, rgb
	c.rgbTextCount++
	return c.rgbTexts[i]
}

func (c *Current) textColor() ICacheColorText {
	return c.txtColor
}

// ImageCache is metadata for caching images.
type ImageCache struct {
	Path  string //ID or Path
	Index int
	Rect  *Rect
}
