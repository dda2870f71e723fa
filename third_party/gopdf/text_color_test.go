package gopdf

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestSetTextColorAllocations checks that a document switching among a
// few text colours boxes each colour once, not at every switch.
func TestSetTextColorAllocations(t *testing.T) {
	var gp GoPdf
	gp.Start(Config{PageSize: *PageSizeA4, Unit: UnitPT})
	gp.AddPage()
	n := testing.AllocsPerRun(100, func() {
		gp.SetTextColor(0x1F, 0x29, 0x33)
		gp.SetTextColor(0x61, 0x6E, 0x7C)
		gp.SetTextColor(0x1D, 0x4E, 0x89)
		gp.SetTextColor(0, 0, 0)
	})
	if n != 0 {
		t.Errorf("switching among four text colours allocates %v times, want 0", n)
	}
}

// TestSetTextColorSequence checks that each text is drawn in the colour
// set last before it, through more colours than a document keeps boxed,
// some met again after others have taken their places.
func TestSetTextColorSequence(t *testing.T) {
	font, err := os.ReadFile(glyphsTestFont)
	if err != nil {
		t.Skipf("no test font: %v", err)
	}
	var gp GoPdf
	gp.Start(Config{PageSize: *PageSizeA4, Unit: UnitPT})
	gp.SetNoCompression()
	if err := gp.AddTTFFontData("sans", font); err != nil {
		t.Fatal(err)
	}
	gp.AddPage()
	if err := gp.SetFont("sans", "", 10); err != nil {
		t.Fatal(err)
	}
	reds := []uint8{0, 25, 0, 50, 75, 100, 125, 150, 175, 200, 225, 0, 225, 50, 25, 0, 125, 125}
	var want []string
	for i, r := range reds {
		g := r / 2
		gp.SetTextColor(r, g, 0)
		gp.SetXY(40, 40+float64(i)*12)
		if err := gp.Text("Total"); err != nil {
			t.Fatal(err)
		}
		// The stream leaves out a colour it has already set.
		if rg := string(appendRGB(nil, r, g, 0, "rg")); len(want) == 0 || want[len(want)-1] != rg {
			want = append(want, rg)
		}
	}
	var buf bytes.Buffer
	if _, err := gp.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	gp.Release()
	got := regexp.MustCompile(`[0-9.]+ [0-9.]+ [0-9.]+ rg\n`).FindAllString(buf.String(), -1)
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Errorf("text colours\n%q\nwant\n%q", got, want)
	}
}
