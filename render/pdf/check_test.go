package pdf

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"testing"
)

func TestCheckLogo(t *testing.T) {
	t.Parallel()
	pngLogo := testLogo(t, 600, 200, "png")
	var huge bytes.Buffer
	if err := png.Encode(&huge, image.NewGray(image.Rect(0, 0, MaxLogoPixels+1, 10))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		logo []byte
		ok   bool
	}{
		{"none", nil, true},
		{"png", pngLogo, true},
		{"jpeg", testLogo(t, 300, 300, "jpeg"), true},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), false},
		{"truncated png", pngLogo[:len(pngLogo)/2], false},
		{"too wide", huge.Bytes(), false},
		{"too large", append(append([]byte{}, pngLogo...), make([]byte, MaxLogoBytes)...), false},
	}
	for _, tt := range tests {
		err := CheckLogo(tt.logo)
		if (err == nil) != tt.ok {
			t.Errorf("%s: CheckLogo = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrLogo) {
			t.Errorf("%s: %v does not wrap ErrLogo", tt.name, err)
		}
	}
}

func TestCheckAccentAndPaper(t *testing.T) {
	t.Parallel()
	for s, ok := range map[string]bool{"": true, "#1D4E89": true, "#0f766e": true, "1D4E89": false, "#1D4E8": false, "#GGGGGG": false, "blue": false} {
		if err := CheckAccent(s); (err == nil) != ok || (err != nil && !errors.Is(err, ErrAccent)) {
			t.Errorf("CheckAccent(%q) = %v, want ok=%v", s, err, ok)
		}
	}
	for s, ok := range map[string]bool{"": true, "A4": true, "a4": true, "Letter": true, "LETTER": true, "A3": false, "Legal": false} {
		if err := CheckPaper(s); (err == nil) != ok || (err != nil && !errors.Is(err, ErrPaper)) {
			t.Errorf("CheckPaper(%q) = %v, want ok=%v", s, err, ok)
		}
	}
}

func TestLogoCache(t *testing.T) {
	t.Parallel()
	c := newLogoCache(2)
	logos := [][]byte{testLogo(t, 100, 50, "png"), testLogo(t, 120, 50, "png"), testLogo(t, 140, 50, "png")}
	first, err := c.get(logos[0])
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.get(logos[0]); again != first {
		t.Error("the same logo was prepared twice")
	}
	for _, l := range logos[1:] {
		if _, err := c.get(l); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.byKey) != 2 || len(c.order) != 2 {
		t.Errorf("cache holds %d logos, want 2", len(c.byKey))
	}
	if again, _ := c.get(logos[0]); again == first {
		t.Error("the oldest logo was not evicted")
	}
	// Logos with transparency become opaque PNGs gopdf copies as they are.
	if !plainPNG(first.data) {
		t.Error("a prepared logo still needs decoding")
	}
}
