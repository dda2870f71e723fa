package money

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseCurrency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code   string
		digits int
		ok     bool
	}{
		{"EUR", 2, true},
		{"RON", 2, true},
		{"JPY", 0, true},
		{"BHD", 3, true},
		{"KWD", 3, true},
		{"eur", 0, false},
		{"ABC", 0, false},
		{"XXX", 0, false},
		{"EURO", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			c, err := ParseCurrency(tt.code)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseCurrency(%q) err = %v, want ok=%v", tt.code, err, tt.ok)
			}
			if tt.ok && c.Digits != tt.digits {
				t.Fatalf("ParseCurrency(%q).Digits = %d, want %d", tt.code, c.Digits, tt.digits)
			}
		})
	}
}

func TestParseDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		scale int
		want  string // FormatRat at scale 8, or "" for an error
	}{
		{"10", 4, "10"},
		{"0.0125", 4, "0.0125"},
		{"-3.5", 4, "-3.5"},
		{"007.10", 4, "7.1"},
		{"1.23456", 4, ""},
		{"1e3", 4, ""},
		{"1,5", 4, ""},
		{" 1", 4, ""},
		{"+1", 4, ""},
		{"1.", 4, ""},
		{".5", 4, ""},
		{"", 4, ""},
		{"-", 4, ""},
		{"1234567890123456", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseDecimal(tt.in, tt.scale)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParseDecimal(%q) = %v, want an error", tt.in, r)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDecimal(%q): %v", tt.in, err)
			}
			if got := FormatRat(r, 8); got != tt.want {
				t.Fatalf("ParseDecimal(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestRoundHalfUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		num, den int64
		digits   int
		want     int64
	}{
		{1805, 10, 0, 181},   // 180.5 → 181
		{18049, 100, 0, 180}, // 180.49 → 180
		{-1805, 10, 0, -181}, // halves away from zero
		{5, 1000, 2, 1},      // 0.005 → 0.01
		{4999, 1000000, 2, 0},
		{1, 3, 3, 333},
		{2, 3, 3, 667},
	}
	for _, tt := range tests {
		got := RoundHalfUp(big.NewRat(tt.num, tt.den), tt.digits)
		if got != tt.want {
			t.Errorf("RoundHalfUp(%d/%d, %d) = %d, want %d", tt.num, tt.den, tt.digits, got, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		minor  int64
		digits int
		want   string
	}{
		{113050, 2, "1130.50"},
		{5, 2, "0.05"},
		{-5, 2, "-0.05"},
		{113050, 0, "113050"},
		{1130500, 3, "1130.500"},
		{7, 3, "0.007"},
		{0, 2, "0.00"},
		{-9223372036854775808, 2, "-92233720368547758.08"},
		{9223372036854775807, 0, "9223372036854775807"},
		{-1, 30, "-0.000000000000000000000000000001"},
		{42, -1, "42"},
	}
	for _, tt := range tests {
		if got := Format(tt.minor, tt.digits); got != tt.want {
			t.Errorf("Format(%d, %d) = %q, want %q", tt.minor, tt.digits, got, tt.want)
		}
	}
}

// TestFormatRandom holds Format to the decimal string of big.Int, the
// point put in by hand, for random amounts of every size.
func TestFormatRandom(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	for range 20000 {
		minor := rng.Int64() >> rng.IntN(64)
		if rng.IntN(2) == 0 {
			minor = -minor
		}
		digits := rng.IntN(24) - 2
		s := new(big.Int).Abs(big.NewInt(minor)).String()
		if digits > 0 {
			s = strings.Repeat("0", max(0, digits-len(s)+1)) + s
			s = s[:len(s)-digits] + "." + s[len(s)-digits:]
		}
		if minor < 0 {
			s = "-" + s
		}
		if got := Format(minor, digits); got != s {
			t.Fatalf("Format(%d, %d) = %q, want %q", minor, digits, got, s)
		}
	}
}

// TestFormatAllocs holds Format to one allocation, its string.
func TestFormatAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = Format(-1234567, 2) }); n != 1 {
		t.Errorf("Format allocates %v times, want 1", n)
	}
}

func BenchmarkFormat(b *testing.B) {
	for b.Loop() {
		_ = Format(113050, 2)
	}
}

func TestParseAmount(t *testing.T) {
	t.Parallel()
	jpy, _ := ParseCurrency("JPY")
	bhd, _ := ParseCurrency("BHD")
	if got, err := ParseAmount("1500", jpy); err != nil || got != 1500 {
		t.Fatalf("ParseAmount(1500 JPY) = %d, %v", got, err)
	}
	if _, err := ParseAmount("1500.5", jpy); err == nil {
		t.Fatal("ParseAmount(1500.5 JPY) accepted a fraction JPY does not have")
	}
	if got, err := ParseAmount("1.234", bhd); err != nil || got != 1234 {
		t.Fatalf("ParseAmount(1.234 BHD) = %d, %v", got, err)
	}
}

// TestParseAmountShortcut checks that ParseAmount, which reads plain
// amounts without a big.Rat, gives what the big.Rat reading gives for
// every string, amounts, near misses and nonsense, in currencies of 0 to
// 4 fraction digits.
func TestParseAmountShortcut(t *testing.T) {
	t.Parallel()
	inputs := []string{
		"", "-", ".", "-.", "0", "-0", "-0.00", "00", "000.10", ".5", "-.5", "5.", "1.5", "1.50", "1.505", "12.3456",
		"999999999999999", "9999999999999.99", "9999999999999.999", "99999999999999.99", "-9999999999999.99",
		"1000000000000000", "123456789012345678", "0000000000000000000001", "1e3", "+1", "1,5", " 1", "1 ", "--1", "1.-5", "٣",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789.-"
	for range 20000 {
		b := make([]byte, rng.IntN(20))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
			if i > 0 && rng.IntN(3) > 0 {
				b[i] = alphabet[rng.IntN(10)]
			}
		}
		inputs = append(inputs, string(b))
	}
	for digits := range 5 {
		c := Currency{Code: "XTS", Digits: digits}
		for _, s := range inputs {
			got, gotErr := ParseAmount(s, c)
			want, wantErr := parseAmountRat(s, c)
			if got != want || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
				t.Fatalf("ParseAmount(%q, %d digits) = %d, %v; the big.Rat reading gives %d, %v", s, digits, got, gotErr, want, wantErr)
			}
		}
	}
}

// TestMaxAmount: the largest amount is MaxDigits nines in minor units, in
// every currency, and ParseAmount reads it and refuses one minor unit more.
func TestMaxAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code     string
		max      string
		overMax  string
		overText string
	}{
		{"EUR", "9999999999999.99", "10000000000000.00", "10000000000000"},
		{"JPY", "999999999999999", "1000000000000000", "1000000000000000"},
		{"BHD", "999999999999.999", "1000000000000.000", "1000000000000"},
		{"CLF", "99999999999.9999", "100000000000.0000", "100000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			c, err := ParseCurrency(tt.code)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Max(); got != tt.max {
				t.Errorf("Max() = %s, want %s", got, tt.max)
			}
			if got, err := ParseAmount(tt.max, c); err != nil || got != MaxMinor {
				t.Errorf("ParseAmount(%s) = %d, %v, want %d", tt.max, got, err, MaxMinor)
			}
			for _, s := range []string{tt.overText, "-" + tt.overText} {
				if _, err := ParseAmount(s, c); !errors.Is(err, ErrTooLarge) {
					t.Errorf("ParseAmount(%s) = %v, want ErrTooLarge", s, err)
				}
			}
			over, _ := new(big.Rat).SetString(tt.overMax)
			if _, err := Minor(over, c); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tt.max) {
				t.Errorf("Minor(%s) = %v, want ErrTooLarge naming the limit %s", tt.overMax, err, tt.max)
			}
			// Just under a minor unit more rounds down to the maximum.
			under := new(big.Rat).Add(new(big.Rat).SetFrac(big.NewInt(MaxMinor), pow10(c.Digits)),
				new(big.Rat).SetFrac(big.NewInt(49), pow10(c.Digits+2)))
			if got, err := Minor(under, c); err != nil || got != MaxMinor {
				t.Errorf("Minor(%s) = %d, %v, want %d", under.FloatString(c.Digits+2), got, err, MaxMinor)
			}
		})
	}
}

// TestRoundHalfUpOverflow: a result int64 cannot hold is a panic, never a
// wrapped amount.
func TestRoundHalfUpOverflow(t *testing.T) {
	t.Parallel()
	huge, _ := new(big.Rat).SetString("99989999999999900.0001")
	defer func() {
		if recover() == nil {
			t.Fatal("RoundHalfUp of an amount beyond int64 returned instead of panicking")
		}
	}()
	got := RoundHalfUp(huge, 3)
	t.Errorf("RoundHalfUp(%s, 3) = %d", huge.FloatString(4), got)
}

// TestCommonCurrencies holds the currencies ParseCurrency answers without
// the ISO table to what the table says.
func TestCommonCurrencies(t *testing.T) {
	for _, code := range []string{"EUR", "USD", "GBP", "RON", "CHF", "PLN", "CZK", "SEK", "NOK", "DKK", "HUF", "BGN", "CAD", "AUD", "INR", "JPY", "KRW"} {
		got, err := ParseCurrency(code)
		if err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		want, err := parseISO(code)
		if err != nil || got != want {
			t.Errorf("ParseCurrency(%s) = %+v, want %+v (%v)", code, got, want, err)
		}
	}
}
