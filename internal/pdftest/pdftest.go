// Package pdftest reads back the PDFs invoiced renders, for tests.
package pdftest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/invoiced/invoiced/internal/redistest"
)

// Text returns the text of pdf laid out as on the page, from poppler's
// pdftotext; without it the test is skipped (failed with CI=true).
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	redistest.RequireTool(t, "pdftotext")
	f := filepath.Join(t.TempDir(), "x.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(context.Background(), "pdftotext", "-enc", "UTF-8", "-layout", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// CJKFontDir is where Debian's fonts-ipafont-gothic puts IPA Gothic, a
// Japanese font with TrueType outlines, which the PDF can take as a
// fallback font.
const CJKFontDir = "/usr/share/fonts/opentype/ipafont-gothic"

// RequireCJKFonts returns CJKFontDir, and skips the test when the fonts
// are not installed, except in CI (CI=true), where it fails.
func RequireCJKFonts(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(CJKFontDir, "ipagp.ttf")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fonts-ipafont-gothic is required in CI: %v", err)
		}
		t.Skipf("fonts-ipafont-gothic is not installed (%v); skipping", err)
	}
	return CJKFontDir
}
