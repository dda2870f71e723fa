package providers

import "unicode/utf16"

// SMS encodings reported by SMSSegments.
const (
	EncodingGSM7 = "GSM-7"
	EncodingUCS2 = "UCS-2"
)

// Segment sizes. A concatenated message gives part of every segment to the
// user data header that numbers the parts, so it holds less than a single one.
const (
	gsm7Single  = 160 // septets
	gsm7Segment = 153
	ucs2Single  = 70 // UTF-16 code units
	ucs2Segment = 67
	gsm7Escaped = 2 // the escape septet and the character
)

// gsm7Basic is the GSM 03.38 default alphabet, one septet each.
var gsm7Basic = charSet("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")

// gsm7Ext is the GSM 03.38 extension table, reached with an escape
// septet, so each costs two.
var gsm7Ext = charSet("\f^{}\\[~]|€")

func charSet(s string) map[rune]bool {
	m := make(map[rune]bool, len(s))
	for _, r := range s {
		m[r] = true
	}
	return m
}

// SMSSegments reports how many segments text takes as an SMS and the
// encoding it goes out in.
//
// The encoding is EncodingGSM7 when every character is in the GSM 03.38
// basic alphabet or its extension table; the extension characters
// (€ [ ] { } ^ ~ \ | and form feed) count as two septets. One character
// outside both, such as the Romanian ș or an emoji, makes the whole message
// EncodingUCS2, counted in UTF-16 code units, where a character outside the
// Basic Multilingual Plane counts two. Invalid UTF-8 counts as U+FFFD.
//
// A message of up to 160 septets or 70 units is one segment. A longer one
// is split into segments of 153 septets or 67 units, and a two-unit
// character (an escape sequence, a surrogate pair) is never split across
// two segments, so a segment may hold one unit less. Empty text is 0
// segments of EncodingGSM7.
func SMSSegments(text string) (segments int, encoding string) {
	encoding = EncodingGSM7
	single, perSegment := gsm7Single, gsm7Segment
	width := gsm7Width
	for _, r := range text {
		if gsm7Width(r) == 0 {
			encoding = EncodingUCS2
			single, perSegment = ucs2Single, ucs2Segment
			width = ucs2Width
			break
		}
	}

	total := 0
	for _, r := range text {
		total += width(r)
	}
	switch {
	case total == 0:
		return 0, encoding
	case total <= single:
		return 1, encoding
	}

	segments, used := 1, 0
	for _, r := range text {
		w := width(r)
		if used+w > perSegment {
			segments++
			used = 0
		}
		used += w
	}
	return segments, encoding
}

// gsm7Width is r's size in septets, or 0 when GSM-7 cannot carry it.
func gsm7Width(r rune) int {
	switch {
	case gsm7Basic[r]:
		return 1
	case gsm7Ext[r]:
		return gsm7Escaped
	}
	return 0
}

// ucs2Width is r's size in UTF-16 code units.
func ucs2Width(r rune) int {
	if n := utf16.RuneLen(r); n > 0 {
		return n
	}
	// Invalid runes are sent as U+FFFD, one unit.
	return 1
}
