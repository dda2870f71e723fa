package gopdf

import (
	"bytes"
	"os"
	"runtime"
	"testing"
)

// TestWriteObjectsAllocations checks that writing out a document of
// two pages with a font, a link and document information allocates
// little beyond its content streams: the object writers format their
// numbers into the output's free space rather than through fmt, and the
// font's ToUnicode map and widths are those an earlier document with
// the same characters made.
func TestWriteObjectsAllocations(t *testing.T) {
	font, err := os.ReadFile(glyphsTestFont)
	if err != nil {
		t.Skipf("no test font: %v", err)
	}
	var out bytes.Buffer
	allocs := func() uint64 {
		var gp GoPdf
		gp.Start(Config{PageSize: *PageSizeA4, Unit: UnitPT})
		gp.SetInfo(PdfInfo{Title: "Invoice INV-1001", Author: "ACME SRL", Subject: "Ţară", Creator: "invoiced"})
		if err := gp.AddTTFFontData("sans", font); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			gp.AddPage()
			if err := gp.SetFont("sans", "", 10); err != nil {
				t.Fatal(err)
			}
			gp.SetXY(40, 40)
			if err := gp.Text("Invoice INV-1001"); err != nil {
				t.Fatal(err)
			}
			gp.AddExternalLink("https://pay.invoiced.test/i/tok", 40, 40, 100, 12)
		}
		out.Reset()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := gp.WriteTo(&out)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		gp.Release()
		return after.Mallocs - before.Mallocs
	}
	allocs() // grows out and fills the font's caches
	n := allocs()
	for range 4 {
		n = min(n, allocs())
	}
	t.Logf("%d allocations", n)
	// 7 allocations: the compressors' state, the content streams', the
	// object offsets. With fmt it was 79; with the ToUnicode map and
	// widths made for each document 21, with an entry made at each
	// look-up of the font's tables 19, and with a scratch writer made
	// for each content stream 13.
	const most = 8
	if n > most {
		t.Errorf("writing the document allocated %d times, want at most %d", n, most)
	}
}

// TestDrawingAllocations checks that a page's rules, colours, line
// widths and filled rectangles are allocated a few dozen at a time, not
// one by one: 64 rules, each with its stroke colour and width, and 16
// rectangles, each with its fill colour, are 224 items.
func TestDrawingAllocations(t *testing.T) {
	var gp GoPdf
	gp.Start(Config{PageSize: *PageSizeA4, Unit: UnitPT})
	gp.AddPage()
	n := testing.AllocsPerRun(10, func() {
		for i := range 64 {
			gp.SetStrokeColor(uint8(i), 0, 0)
			gp.SetLineWidth(0.5)
			gp.Line(10, float64(i), 200, float64(i))
		}
		for i := range 16 {
			gp.SetFillColor(0, uint8(i), 0)
			gp.RectFromUpperLeftWithStyle(10, float64(10*i), 50, 5, "F")
		}
	})
	if n > 16 {
		t.Errorf("drawing 224 items allocates %v times, want at most 16", n)
	}
	var out bytes.Buffer
	if _, err := gp.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
}
