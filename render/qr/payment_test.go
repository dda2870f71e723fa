package qr

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestEPCPayload(t *testing.T) {
	t.Parallel()
	const iban = "RO49 AAAA 1B31 0075 9384 0000"
	tests := []struct {
		name                                  string
		holder, iban, bic, amount, remittance string
		want                                  string
		wantErr                               bool
	}{
		{name: "full", holder: "ACME SRL", iban: iban, bic: "aaaa ro22", amount: "2440.1", remittance: "INV-1001",
			want: "BCD\n002\n1\nSCT\nAAAARO22\nACME SRL\nRO49AAAA1B31007593840000\nEUR2440.10\n\n\nINV-1001"},
		{name: "no BIC", holder: "Max Mustermann", iban: "DE89370400440532013000", amount: "12", remittance: "R-7",
			want: "BCD\n002\n1\nSCT\n\nMax Mustermann\nDE89370400440532013000\nEUR12.00\n\n\nR-7"},
		{name: "no remittance", holder: "A", iban: iban, amount: "0.01",
			want: "BCD\n002\n1\nSCT\n\nA\nRO49AAAA1B31007593840000\nEUR0.01\n\n\n"},
		{name: "UTF-8 name", holder: "Mădălina Țîrlea", iban: iban, amount: "999999999.99", remittance: "Ü",
			want: "BCD\n002\n1\nSCT\n\nMădălina Țîrlea\nRO49AAAA1B31007593840000\nEUR999999999.99\n\n\nÜ"},
		{name: "name of 70", holder: strings.Repeat("n", 70), iban: iban, amount: "1", remittance: strings.Repeat("r", 140),
			want: "BCD\n002\n1\nSCT\n\n" + strings.Repeat("n", 70) + "\nRO49AAAA1B31007593840000\nEUR1.00\n\n\n" + strings.Repeat("r", 140)},
		{name: "name of 71", holder: strings.Repeat("n", 71), iban: iban, amount: "1", wantErr: true},
		{name: "remittance of 141", holder: "A", iban: iban, amount: "1", remittance: strings.Repeat("r", 141), wantErr: true},
		{name: "no name", holder: " ", iban: iban, amount: "1", wantErr: true},
		{name: "line break", holder: "A\nB", iban: iban, amount: "1", wantErr: true},
		{name: "bad check digits", holder: "A", iban: "RO48AAAA1B31007593840000", amount: "1", wantErr: true},
		{name: "bad IBAN", holder: "A", iban: "not an iban at all", amount: "1", wantErr: true},
		{name: "bad BIC", holder: "A", iban: iban, bic: "AAAA", amount: "1", wantErr: true},
		{name: "no amount", holder: "A", iban: iban, wantErr: true},
		{name: "zero", holder: "A", iban: iban, amount: "0.00", wantErr: true},
		{name: "negative", holder: "A", iban: iban, amount: "-5", wantErr: true},
		{name: "too large", holder: "A", iban: iban, amount: "1000000000.00", wantErr: true},
		{name: "three decimals", holder: "A", iban: iban, amount: "1.005", wantErr: true},
		{name: "over 331 bytes", holder: strings.Repeat("ș", 70), iban: iban, amount: "1", remittance: strings.Repeat("ț", 140), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := EPCPayload(tt.holder, tt.iban, tt.bic, tt.amount, tt.remittance)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("EPCPayload = %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("EPCPayload =\n%q\nwant\n%q", got, tt.want)
			}
			c, err := Encode(got)
			if err != nil {
				t.Fatal(err)
			}
			if decoded := decode(t, picture(c, 4)); decoded != got {
				t.Errorf("decoded %q", decoded)
			}
		})
	}
}

func TestNormalizeIBAN(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, want string
	}{
		{"GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"},
		{"ch44 3199 9123 0008 8901 2", "CH4431999123000889012"},
		{"GB82 WEST 1234 5698 7654 33", ""},
		{"GB82", ""},
		{"1282WEST12345698765432", ""},
		{"GBAAWEST12345698765432", ""},
		{"GB82WEST1234569876543!", ""},
	} {
		got, err := NormalizeIBAN(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalidIBAN) {
				t.Errorf("NormalizeIBAN(%q) = %q, %v; want ErrInvalidIBAN", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeIBAN(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// swissExample is the SIX guidelines' example bill with a QR reference.
func swissExample() SwissBill {
	return SwissBill{
		IBAN:     "CH44 3199 9123 0008 8901 2",
		Creditor: SwissAddress{Name: "Robert Schneider AG", Street: "Rue du Lac", BuildingNumber: "1268", PostalCode: "2501", Town: "Biel", Country: "CH"},
		Amount:   "1949.75",
		Currency: "CHF",
		Debtor: &SwissAddress{Name: "Pia-Maria Rutschmann-Schnyder", Street: "Grosse Marktgasse", BuildingNumber: "28",
			PostalCode: "9400", Town: "Rorschach", Country: "CH"},
		Reference: "21 00000 00003 13947 14300 09017",
		Message:   "Order of 15 June 2020",
	}
}

func TestSwissQRPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(*SwissBill)
		want    string
		wantErr bool
	}{
		{name: "QR reference", change: func(*SwissBill) {},
			want: "SPC\n0200\n1\nCH4431999123000889012\n" +
				"S\nRobert Schneider AG\nRue du Lac\n1268\n2501\nBiel\nCH\n" +
				"\n\n\n\n\n\n\n" +
				"1949.75\nCHF\n" +
				"S\nPia-Maria Rutschmann-Schnyder\nGrosse Marktgasse\n28\n9400\nRorschach\nCH\n" +
				"QRR\n210000000003139471430009017\nOrder of 15 June 2020\nEPD"},
		{name: "NON without reference, no debtor, open amount", change: func(b *SwissBill) {
			b.IBAN, b.Reference, b.Debtor, b.Amount, b.Currency = "CH9300762011623852957", "", nil, "", "EUR"
			b.Creditor.Street, b.Creditor.BuildingNumber = "", ""
		},
			want: "SPC\n0200\n1\nCH9300762011623852957\n" +
				"S\nRobert Schneider AG\n\n\n2501\nBiel\nCH\n" +
				"\n\n\n\n\n\n\n" +
				"\nEUR\n" +
				"\n\n\n\n\n\n\n" +
				"NON\n\nOrder of 15 June 2020\nEPD"},
		{name: "amount with two decimals", change: func(b *SwissBill) { b.Amount = "50" },
			want: "SPC\n0200\n1\nCH4431999123000889012\n" +
				"S\nRobert Schneider AG\nRue du Lac\n1268\n2501\nBiel\nCH\n" +
				"\n\n\n\n\n\n\n" +
				"50.00\nCHF\n" +
				"S\nPia-Maria Rutschmann-Schnyder\nGrosse Marktgasse\n28\n9400\nRorschach\nCH\n" +
				"QRR\n210000000003139471430009017\nOrder of 15 June 2020\nEPD"},
		{name: "creditor reference with an ordinary IBAN", change: func(b *SwissBill) {
			b.IBAN, b.Reference = "CH5800791123000889012", "RF18 5390 0754 7034"
		},
			want: "SPC\n0200\n1\nCH5800791123000889012\n" +
				"S\nRobert Schneider AG\nRue du Lac\n1268\n2501\nBiel\nCH\n" +
				"\n\n\n\n\n\n\n" +
				"1949.75\nCHF\n" +
				"S\nPia-Maria Rutschmann-Schnyder\nGrosse Marktgasse\n28\n9400\nRorschach\nCH\n" +
				"SCOR\nRF18539007547034\nOrder of 15 June 2020\nEPD"},
		{name: "creditor reference with wrong check digits", change: func(b *SwissBill) {
			b.IBAN, b.Reference = "CH5800791123000889012", "RF19539007547034"
		}, wantErr: true},
		{name: "creditor reference with a QR-IBAN", change: func(b *SwissBill) { b.Reference = "RF18539007547034" }, wantErr: true},
		{name: "wrong check digit", change: func(b *SwissBill) { b.Reference = "210000000003139471430009016" }, wantErr: true},
		{name: "QR-IBAN without reference", change: func(b *SwissBill) { b.Reference = "" }, wantErr: true},
		{name: "reference without QR-IBAN", change: func(b *SwissBill) { b.IBAN = "CH9300762011623852957" }, wantErr: true},
		{name: "foreign IBAN", change: func(b *SwissBill) { b.IBAN, b.Reference = "DE89370400440532013000", "" }, wantErr: true},
		{name: "USD", change: func(b *SwissBill) { b.Currency = "USD" }, wantErr: true},
		{name: "zero amount", change: func(b *SwissBill) { b.Amount = "0" }, wantErr: true},
		{name: "too large", change: func(b *SwissBill) { b.Amount = "1000000000" }, wantErr: true},
		{name: "creditor without town", change: func(b *SwissBill) { b.Creditor.Town = "" }, wantErr: true},
		{name: "debtor with long town", change: func(b *SwissBill) { b.Debtor.Town = strings.Repeat("t", 36) }, wantErr: true},
		{name: "bad country", change: func(b *SwissBill) { b.Creditor.Country = "CHE" }, wantErr: true},
		{name: "Chinese name", change: func(b *SwissBill) { b.Debtor.Name = "李雷" }, wantErr: true},
		{name: "message of 141", change: func(b *SwissBill) { b.Message = strings.Repeat("m", 141) }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := swissExample()
			tt.change(&b)
			got, err := SwissQRPayload(b)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("SwissQRPayload = %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(got, "\n") + 1; n != 31 {
				t.Errorf("%d lines, want 31", n)
			}
			if got != tt.want {
				t.Errorf("SwissQRPayload =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestCreditorReference(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"539007547034", "RF18539007547034"}, // ISO 11649's example
		{"INV-2026/0042", "RF73INV20260042"},
		{"inv 7", ""},
		{"--", ""},
		{strings.Repeat("9", 22), ""},
	} {
		got, err := CreditorReference(tt.in)
		if tt.want == "" && tt.in == "inv 7" {
			// Any valid reference will do; it must check.
			if err != nil || checkCreditorReference(got) != nil || !strings.HasSuffix(got, "INV7") {
				t.Errorf("CreditorReference(%q) = %q, %v", tt.in, got, err)
			}
			continue
		}
		if tt.want == "" {
			if err == nil {
				t.Errorf("CreditorReference(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("CreditorReference(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if err := checkCreditorReference(got); err != nil {
			t.Errorf("check(%q): %v", got, err)
		}
	}
}

func TestQRReference(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, want string
	}{
		{"21000000000313947143000901", "210000000003139471430009017"},
		{"1001", "000000000000000000000010014"},
		{"0", ""},
		{"", ""},
		{"12a", ""},
		{strings.Repeat("1", 27), ""},
	} {
		got, err := QRReference(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalidQRReference) {
				t.Errorf("QRReference(%q) = %q, %v; want ErrInvalidQRReference", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("QRReference(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if err := checkQRReference(got); err != nil {
			t.Error(err)
		}
	}
	if !IsQRIBAN("CH4431999123000889012") || IsQRIBAN("CH9300762011623852957") || IsQRIBAN("DE89370400440532013000") {
		t.Error("IsQRIBAN")
	}
}

// TestNormalizeIBANCheckDigits checks the mod-97 remainder, taken a
// character at a time, against math/big on IBANs of every length with
// letters and digits: each takes its own check digits and no others.
func TestNormalizeIBANCheckDigits(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	const chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for n := 11; n <= 30; n++ {
		for range 5 {
			bban := make([]byte, n)
			for i := range bban {
				bban[i] = chars[rng.IntN(len(chars))]
			}
			// The check digits make the number of bban + "RO00" leave
			// 98 - check when divided by 97.
			var digits strings.Builder
			for _, c := range string(bban) + "RO00" {
				if c >= 'A' {
					digits.WriteString(strconv.Itoa(int(c-'A') + 10))
				} else {
					digits.WriteRune(c)
				}
			}
			num, _ := new(big.Int).SetString(digits.String(), 10)
			check := 98 - int(new(big.Int).Mod(num, big.NewInt(97)).Int64())
			for d := 0; d < 100; d++ {
				iban := fmt.Sprintf("RO%02d%s", d, bban)
				_, err := NormalizeIBAN(iban)
				// Two check digits 97 apart are both right.
				if valid := err == nil; valid != ((d-check)%97 == 0) {
					t.Fatalf("NormalizeIBAN(%q): %v, want valid only with check digits %02d (or 97 apart)", iban, err, check)
				}
			}
		}
	}
}

// TestCompact checks that compact drops every kind of space and
// upper-cases, and returns an IBAN or BIC already in that form as it is,
// without allocating.
func TestCompact(t *testing.T) {
	for in, want := range map[string]string{
		"GB82 WEST 1234 5698 7654 32": "GB82WEST12345698765432",
		"ch44\t3199\u00a09123 0008":   "CH44319991230008",
		"aaaaro22":                    "AAAARO22",
		"ß x":                         "ßX",
		"RO49AAAA1B31007593840000":    "RO49AAAA1B31007593840000",
		"":                            "",
	} {
		if got := compact(in); got != want {
			t.Errorf("compact(%q) = %q, want %q", in, got, want)
		}
	}
	s := "RO49AAAA1B31007593840000"
	if n := testing.AllocsPerRun(10, func() { s = compact(s) }); n != 0 {
		t.Errorf("compact of a compact IBAN allocates %v times, want none", n)
	}
}
