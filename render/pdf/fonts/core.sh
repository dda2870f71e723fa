#!/bin/sh
# core.sh rebuilds DejaVuSans-Core.ttf and DejaVuSans-Bold-Core.ttf, the
# subsets of DejaVu Sans that set nearly every invoice. It needs fontTools
# (Debian: apt-get install python3-fonttools).
#
# The subsets keep the characters below, drop TrueType hinting (PDF viewers
# rasterize without it) and the OpenType layout tables (gopdf does not
# shape text), and renumber the glyphs. Every PDF embeds a subset of a
# subset, so the smaller these fonts, the less work each render does and
# the smaller the PDF. Text with characters outside this set falls back to
# the full fonts beside them.
set -eu
cd "$(dirname "$0")"

UNICODES="U+0020-007E"            # Basic Latin
UNICODES="$UNICODES,U+00A0-024F"  # Latin-1 Supplement, Latin Extended-A and -B (ș ț)
UNICODES="$UNICODES,U+0259"       # ə (Azerbaijani)
UNICODES="$UNICODES,U+02BB-02BC,U+02C6-02DD" # modifier apostrophes, spacing accents
UNICODES="$UNICODES,U+0300-036F"  # combining diacritics that have no precomposed form
UNICODES="$UNICODES,U+0370-03FF"  # Greek
UNICODES="$UNICODES,U+0400-052F"  # Cyrillic and Cyrillic Supplement
UNICODES="$UNICODES,U+1E00-1EFF"  # Latin Extended Additional (Vietnamese, Welsh)
UNICODES="$UNICODES,U+2000-206F"  # General Punctuation: dashes, quotes, spaces, •
UNICODES="$UNICODES,U+20A0-20CF"  # Currency Symbols: € ₹ ₺ ₽ ₴ …
UNICODES="$UNICODES,U+2100-214F"  # Letterlike Symbols: № ™ ℃
UNICODES="$UNICODES,U+2190-2199"  # arrows
UNICODES="$UNICODES,U+2212,U+2215,U+2219,U+221E,U+2248,U+2260,U+2264,U+2265" # math
UNICODES="$UNICODES,U+25A0-25A1,U+25AA-25AB,U+25CB,U+25CF,U+25E6" # bullets
UNICODES="$UNICODES,U+2713-2714,U+2717-2718" # check marks
UNICODES="$UNICODES,U+FB00-FB06"  # Latin ligatures (text pasted from PDFs)
UNICODES="$UNICODES,U+FFFD"       # the replacement character

for face in DejaVuSans DejaVuSans-Bold; do
	python3 -m fontTools.subset "$face.ttf" \
		--output-file="$face-Core.ttf" \
		--unicodes="$UNICODES" \
		--no-hinting --layout-features='' \
		--drop-tables+=GPOS,GSUB,GDEF,kern,MATH,FFTM \
		--name-IDs='*' --notdef-outline --glyph-names=false
done
