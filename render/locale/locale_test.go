package locale

import (
	"strings"
	"testing"

	"github.com/invoiced/invoiced/money"
)

// spaces makes the expected strings readable: "_" stands for a no-break
// space and "^" for a narrow no-break space.
func spaces(s string) string {
	return strings.NewReplacer("_", NBSP, "^", NNBSP).Replace(s)
}

func TestMoney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		amount, currency, lang, want string
	}{
		{"1190.00", "RON", "ro", "1.190,00_RON"},
		{"1190.00", "EUR", "de", "1.190,00_€"},
		{"1190.00", "EUR", "en", "€1,190.00"},
		{"1190.00", "EUR", "fr", "1^190,00_€"},
		{"1190.00", "RON", "en", "RON_1,190.00"},
		{"1190.00", "RON", "fr", "1^190,00_RON"},
		{"1234567.89", "USD", "en", "$1,234,567.89"},
		{"1234567.89", "USD", "de", "1.234.567,89_$"},
		{"1234567.89", "GBP", "fr", "1^234^567,89_£"},
		{"0.5", "EUR", "en", "€0.50"},
		{"12", "EUR", "ro", "12,00_€"},
		{"999", "EUR", "en", "€999.00"},
		{"1000", "EUR", "en", "€1,000.00"},
		// Currencies with 0 and 3 minor digits.
		{"6597", "JPY", "en", "¥6,597"},
		{"6597", "JPY", "de", "6.597_¥"},
		{"33.017", "BHD", "en", "BHD_33.017"},
		{"1033.017", "BHD", "ro", "1.033,017_BHD"},
		{"33.5", "BHD", "fr", "33,500_BHD"},
		// Negative amounts; no negative zero.
		{"-120.00", "EUR", "en", "-€120.00"},
		{"-1120.00", "EUR", "de", "-1.120,00_€"},
		{"-1120.00", "RON", "en", "-RON_1,120.00"},
		{"-0.00", "EUR", "en", "€0.00"},
		// Extra precision is kept, never rounded.
		{"0.3333", "EUR", "de", "0,3333_€"},
		// Unknown codes print as they are; language tags are matched.
		{"10", "XYZ", "en", "XYZ_10"},
		{"10.5", "XYZ", "de-AT", "10,5_XYZ"},
		{"10.00", "EUR", "pt-BR", "€10.00"},
		{"10.00", "EUR", "fr_CA", "10,00_€"},
		// Not a number: unchanged.
		{"", "EUR", "en", ""},
		{"12,50", "EUR", "en", "12,50"},
		{"1e5", "EUR", "en", "1e5"},
	}
	for _, tt := range tests {
		if got, want := Money(tt.amount, tt.currency, tt.lang), spaces(tt.want); got != want {
			t.Errorf("Money(%q, %q, %q) = %q, want %q", tt.amount, tt.currency, tt.lang, got, want)
		}
	}
}

func TestAmountNumberPercent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"Amount en", Amount("1190", "EUR", "en"), "1,190.00"},
		{"Amount fr", Amount("-1190.5", "EUR", "fr"), "-1^190,50"},
		{"Amount JPY", Amount("5997", "JPY", "de"), "5.997"},
		{"Number en", Number("1.5", "en"), "1.5"},
		{"Number ro", Number("1.5", "ro"), "1,5"},
		{"Number de", Number("12500", "de"), "12.500"},
		{"Number fr", Number("12500.25", "fr"), "12^500,25"},
		{"Number leading zeros", Number("007", "en"), "7"},
		{"Percent en", Percent("19", "en"), "19%"},
		{"Percent de", Percent("19", "de"), "19_%"},
		{"Percent fr", Percent("5.5", "fr"), "5,5_%"},
		{"Percent ro", Percent("0", "ro"), "0_%"},
	}
	for _, tt := range tests {
		if want := spaces(tt.want); tt.got != want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, want)
		}
	}
}

func TestDate(t *testing.T) {
	t.Parallel()
	tests := []struct{ date, lang, want string }{
		{"2026-11-21", "en", "21 Nov 2026"},
		{"2026-01-05", "en", "5 Jan 2026"},
		{"2026-11-21", "ro", "21.11.2026"},
		{"2026-11-21", "de", "21.11.2026"},
		{"2026-11-21", "fr", "21/11/2026"},
		{"2026-03-09", "fr-BE", "09/03/2026"},
		{"2026-12-31", "es", "31 Dec 2026"},
		{"2026-02-30", "en", "2026-02-30"},
		{"next week", "de", "next week"},
		{"", "en", ""},
	}
	for _, tt := range tests {
		if got := Date(tt.date, tt.lang); got != tt.want {
			t.Errorf("Date(%q, %q) = %q, want %q", tt.date, tt.lang, got, tt.want)
		}
	}
}

func TestLang(t *testing.T) {
	t.Parallel()
	for tag, want := range map[string]string{
		"en": "en", "RO": "ro", "de-AT": "de", "fr_CA": "fr", " de ": "de",
		"": "en", "pt-BR": "en", "xx": "en",
	} {
		if got := Lang(tag); got != want {
			t.Errorf("Lang(%q) = %q, want %q", tag, got, want)
		}
	}
}

func BenchmarkMoney(b *testing.B) {
	for b.Loop() {
		Money("1234567.89", "EUR", "fr")
	}
}

// TestFormatAllocs holds each printed amount, number and percentage to one
// allocation, its string: each is formed on the stack (Money made the
// number's string and then the amount's, Percent three).
func TestFormatAllocs(t *testing.T) {
	for name, f := range map[string]func(){
		"Money":      func() { Money("-1234567.5", "EUR", "fr") },
		"Money/code": func() { Money("1190", "RON", "en") },
		"Amount":     func() { Amount("-1234567.89", "JPY", "de") },
		"Number":     func() { Number("12500.25", "en") },
		"Percent":    func() { Percent("5.5", "fr") },
	} {
		if n := testing.AllocsPerRun(100, f); n > 1 {
			t.Errorf("%s: %.0f allocations, want 1", name, n)
		}
	}
}

// commonCurrencies are the currencies an invoice is most often in.
var commonCurrencies = []string{"EUR", "USD", "GBP", "RON", "CHF", "PLN", "CZK", "SEK", "NOK", "DKK", "HUF", "BGN", "CAD", "AUD", "INR", "JPY", "KRW"}

// TestDigits holds the minor-unit digits digits gives the common
// currencies to what money.ParseCurrency says, and refuses other codes.
func TestDigits(t *testing.T) {
	t.Parallel()
	for _, code := range commonCurrencies {
		c, err := money.ParseCurrency(code)
		if err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		if got := digits(code); got != c.Digits {
			t.Errorf("digits(%s) = %d, want %d", code, got, c.Digits)
		}
	}
	for _, code := range []string{"eur", "XXX", "EU", ""} {
		if got := digits(code); got != -1 {
			t.Errorf("digits(%q) = %d, want -1", code, got)
		}
	}
}
