package message

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/invoiced/invoiced/internal/chromiumtest"
	"github.com/invoiced/invoiced/invoice"
)

// brandedVarsIn are testVarsIn(lang) with a logo served by srv, an accent
// and a seller with an address and contacts, and a payment link long
// enough to overflow a phone's screen if printed unbroken.
func brandedVarsIn(t *testing.T, lang, logoURL string) Vars {
	t.Helper()
	logo, err := os.ReadFile(filepath.Join("testdata", "logo.png"))
	if err != nil {
		t.Fatal(err)
	}
	v := testVarsIn(lang)
	v.PaymentLink = "https://pay.example.test/p/inv_1001_8fK2xQ9mZ1aB7cD3eF5gH7jK9mN1pQ3rS5tU7vW9xY?ref=mail&lang=" + lang
	v.Brand = Brand{LogoURL: logoURL, Logo: logo, Accent: "#0E7C66", Seller: invoice.Seller{
		Name: "ACME SRL", Email: "billing@acme.example", Phone: "+40 21 555 0100", Website: "acme.example",
		Address: invoice.Address{Line1: "Str. Lalelelor 5", City: "Cluj-Napoca", PostalCode: "400000", Country: "RO"},
	}}
	return v
}

// emailMetrics is what measureJS reads from a rendered email.
type emailMetrics struct {
	ScrollWidth int     `json:"scrollWidth"`
	CardWidth   float64 `json:"cardWidth"`
	LogoLoaded  bool    `json:"logoLoaded"`
	LogoHeight  float64 `json:"logoHeight"`
	PayWidth    float64 `json:"payWidth"`
	MinContrast float64 `json:"minContrast"`
	Worst       string  `json:"worst"`
	Overflowing string  `json:"overflowing"`
}

// measureJS measures the page as a reader sees it: its scroll width, the
// card's and the Pay button's widths, the logo, any element whose right
// edge passes the viewport's, and the lowest contrast between a text's
// colour and the background it is drawn on.
const measureJS = `(() => {
  const rgb = s => { const m = s.match(/[\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c.a > 0) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  let min = 99, worst = "", over = "";
  const vw = document.documentElement.clientWidth;
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 0.5 && !over) over = el.tagName + " " + (el.textContent || "").trim().slice(0, 40) + " right=" + r.right;
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim() !== "");
    if (!own || r.width === 0) continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < min) { min = ratio; worst = el.tagName + " " + el.textContent.trim().slice(0, 40); }
  }
  const card = document.querySelector(".em-card"), logo = document.querySelector("img"), pay = document.querySelector("a.em-pay");
  return JSON.stringify({
    scrollWidth: document.documentElement.scrollWidth,
    cardWidth: card ? card.getBoundingClientRect().width : 0,
    logoLoaded: !!logo && logo.complete && logo.naturalWidth > 0,
    logoHeight: logo ? logo.getBoundingClientRect().height : 0,
    payWidth: pay ? pay.getBoundingClientRect().width : 0,
    minContrast: min, worst: worst, overflowing: over,
  });
})()`

// TestEmailInChromium opens the branded email in headless Chromium at a
// phone's width (390 px) and at the card's (600 px), in light and dark
// mode, in each language: nothing is wider than the screen, the card
// keeps to 600 px, the logo loads at 40 px high, the Pay button spans the
// card, and every text reads at a contrast of at least 4.5:1 on its
// background. With INVOICED_SCREENSHOTS set to a folder, screenshots are
// kept there to be looked at.
func TestEmailInChromium(t *testing.T) {
	t.Parallel()
	logo, err := os.ReadFile(filepath.Join("testdata", "logo.png"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(logo)
	}))
	t.Cleanup(srv.Close)
	ctx := chromiumtest.Browser(t, 90*time.Second)
	dir := t.TempDir()
	shots := os.Getenv("INVOICED_SCREENSHOTS")
	for _, lang := range languages {
		path := filepath.Join(dir, lang+".html")
		m := Render(Template{}, lang, brandedVarsIn(t, lang, srv.URL+"/logo.png"))
		if err := os.WriteFile(path, []byte(m.HTML), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, width := range []int64{390, 600} {
			for _, dark := range []bool{false, true} {
				name := fmt.Sprintf("%s-%d", lang, width)
				if dark {
					name += "-dark"
				}
				scheme := "light"
				if dark {
					scheme = "dark"
				}
				var raw string
				var shot []byte
				err := chromedp.Do(ctx,
					chromedp.EmulateViewport(width, 600),
					chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
						_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
							Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
						return err
					}),
					chromedp.Navigate("file://"+path),
					chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
						if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.readyState === "complete" && Array.from(document.images).every(i => i.complete)`)); err != nil {
							return err
						}
						var err error
						if raw, err = chromedp.Run(ctx, chromedp.Evaluate[string](measureJS)); err != nil {
							return err
						}
						shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
						return err
					}),
				)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				var got emailMetrics
				if err := json.Unmarshal([]byte(raw), &got); err != nil {
					t.Fatalf("%s: %v in %s", name, err, raw)
				}
				if got.ScrollWidth > int(width) || got.Overflowing != "" {
					t.Errorf("%s: the page is %d px wide, over the screen's %d: %s", name, got.ScrollWidth, width, got.Overflowing)
				}
				if got.CardWidth > 600 || got.CardWidth < float64(width)-40 {
					t.Errorf("%s: the card is %.0f px wide, want at most 600 and near the screen's %d", name, got.CardWidth, width)
				}
				if !got.LogoLoaded || got.LogoHeight != logoMaxHeight {
					t.Errorf("%s: logo loaded %v, %.1f px high, want it loaded and %d px high", name, got.LogoLoaded, got.LogoHeight, logoMaxHeight)
				}
				if got.PayWidth < got.CardWidth*0.8 {
					t.Errorf("%s: the Pay button is %.0f px wide in a %.0f px card", name, got.PayWidth, got.CardWidth)
				}
				if got.MinContrast < 4.5 {
					t.Errorf("%s: %q reads at a contrast of %.2f:1 on its background, want at least 4.5", name, got.Worst, got.MinContrast)
				}
				if shots != "" {
					if err := os.WriteFile(filepath.Join(shots, "email-"+name+".png"), shot, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
}
