package qr

import (
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// zbarimg reads the QR code in a PNG with zbarimg, byte for byte.
func zbarimg(t *testing.T, png []byte) string {
	t.Helper()
	if _, err := exec.LookPath("zbarimg"); err != nil {
		t.Skip("zbarimg is not installed")
	}
	path := filepath.Join(t.TempDir(), "code.png")
	if err := os.WriteFile(path, png, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("zbarimg", "--raw", "-q", path).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	if n := len(out); n > 0 && out[n-1] == '\n' {
		out = out[:n-1]
	}
	return string(out)
}

// TestEncodeDeclaresUTF8 checks that the three payment codes declare
// UTF-8 with an ECI segment (mode 0111, designator 26) when they carry
// text beyond ASCII, that readers get the exact text back, and that
// ASCII-only codes stay without the segment.
func TestEncodeDeclaresUTF8(t *testing.T) {
	t.Parallel()
	const name = "Ștefănescu Müller"
	epc, err := EPCPayload(name, "DE89370400440532013000", "", "12.50", "Factura Ștefănescu Müller")
	if err != nil {
		t.Fatal(err)
	}
	bill := swissExample()
	bill.Creditor.Name = name
	swiss, err := SwissQRPayload(bill)
	if err != nil {
		t.Fatal(err)
	}
	link := "https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c?payee=" + name
	ascii, err := EPCPayload("ACME SRL", "DE89370400440532013000", "", "12.50", "INV-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, content string
		eci           bool
	}{
		{"EPC transfer", epc, true},
		{"Swiss QR bill", swiss, true},
		{"payment link", link, true},
		{"ASCII EPC transfer", ascii, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, words, err := codewordsOf(tc.content)
			if err != nil {
				t.Fatal(err)
			}
			// The first 12 bits: the mode indicator and, for ECI, the
			// one-byte designator.
			head := uint(words[0])<<4 | uint(words[1])>>4
			switch {
			case tc.eci && head != 0b0111_00011010:
				t.Errorf("the code begins %012b, want ECI 26 (0111 00011010)", head)
			case !tc.eci && head>>8 == 0b0111:
				t.Errorf("an ASCII code begins with an ECI segment: %012b", head)
			}
			c, err := Encode(tc.content)
			if err != nil {
				t.Fatal(err)
			}
			png, err := c.PNG(8*(c.Size()+2*QuietZone), color.RGBA{A: 0xff}, color.RGBA{0xff, 0xff, 0xff, 0xff})
			if err != nil {
				t.Fatal(err)
			}
			if got := zbarimg(t, png); got != tc.content {
				t.Errorf("zbarimg read %q, want %q", got, tc.content)
			}
			if got := decode(t, picture(c, 4)); got != tc.content {
				t.Errorf("zxing read %q, want %q", got, tc.content)
			}
		})
	}
}
