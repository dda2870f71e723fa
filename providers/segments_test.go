package providers

import (
	"strings"
	"testing"
)

func TestSMSSegments(t *testing.T) {
	t.Parallel()
	a := func(n int) string { return strings.Repeat("a", n) }
	s := func(n int) string { return strings.Repeat("ș", n) } // U+0219, not in GSM 03.38
	const emoji = "🧾"                                         // U+1F9FE, a surrogate pair

	tests := []struct {
		name         string
		text         string
		wantSegments int
		wantEncoding string
	}{
		{"empty", "", 0, EncodingGSM7},
		{"one char", "a", 1, EncodingGSM7},
		{"basic alphabet", "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà", 1, EncodingGSM7},
		{"exactly 160", a(160), 1, EncodingGSM7},
		{"161", a(161), 2, EncodingGSM7},
		{"306 is two full segments", a(306), 2, EncodingGSM7},
		{"307", a(307), 3, EncodingGSM7},
		{"euro counts two", "€" + a(158), 1, EncodingGSM7},
		{"euro tips over 160", "€" + a(159), 2, EncodingGSM7},
		{"every extension char counts two", "^{}\\[~]|€\f" + a(140), 1, EncodingGSM7},
		{"extension chars over 160", "^{}\\[~]|€\f" + a(141), 2, EncodingGSM7},
		// 306 septets would fit two segments, but the escape sequence
		// cannot start at septet 153 of the first one.
		{"escape never split", a(152) + "€" + a(152), 3, EncodingGSM7},
		{"escape at segment end", a(151) + "€" + a(153), 2, EncodingGSM7},
		{"romanian s-comma forces UCS-2", "Plată" + "ș", 1, EncodingUCS2},
		{"one s-comma in 160 GSM chars", a(159) + "ș", 3, EncodingUCS2},
		{"s-cedilla is not GSM either", "ş", 1, EncodingUCS2},
		{"lowercase c-cedilla is not GSM", "ç", 1, EncodingUCS2},
		{"exactly 70 UCS-2", s(70), 1, EncodingUCS2},
		{"71 UCS-2", s(71), 2, EncodingUCS2},
		{"134 UCS-2 is two full segments", s(134), 2, EncodingUCS2},
		{"135 UCS-2", s(135), 3, EncodingUCS2},
		{"emoji counts two", emoji + s(68), 1, EncodingUCS2},
		{"emoji tips over 70", emoji + s(69), 2, EncodingUCS2},
		{"emoji alone", emoji, 1, EncodingUCS2},
		{"surrogate pair never split", s(66) + emoji + s(66), 3, EncodingUCS2},
		{"extension char in UCS-2 counts one", "€" + s(69), 1, EncodingUCS2},
		{"invalid UTF-8", "\xff", 1, EncodingUCS2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			segments, encoding := SMSSegments(tt.text)
			if segments != tt.wantSegments || encoding != tt.wantEncoding {
				t.Errorf("SMSSegments(%q) = %d, %s; want %d, %s",
					tt.text, segments, encoding, tt.wantSegments, tt.wantEncoding)
			}
		})
	}
}
