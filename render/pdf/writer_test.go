package pdf

import (
	"slices"
	"testing"
)

// TestBlocksTake checks that the slices take returns are zeroed, do not
// overlap, and grow into arrays of their own when appended to.
func TestBlocksTake(t *testing.T) {
	var b blocks[int]
	var taken [][]int
	for i, n := range []int{1, 3, 0, 64, 1, 100, 2} {
		s := b.take(n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("take(%d): len %d, cap %d", n, len(s), cap(s))
		}
		for j := range s {
			if s[j] != 0 {
				t.Fatalf("take(%d)[%d] = %d, want 0", n, j, s[j])
			}
			s[j] = i + 1
		}
		taken = append(taken, s)
	}
	grown := append(taken[0], 99)
	grown[0] = 42
	for i, s := range taken {
		for j, v := range s {
			if v != i+1 {
				t.Errorf("slice %d [%d] = %d, want %d: slices overlap", i, j, v, i+1)
			}
		}
	}
}

// TestClean checks that clean composes decomposed text, turns tabs
// into spaces, drops control characters, and leaves a text already
// clean as it is, without allocating: nearly every text of an invoice.
func TestClean(t *testing.T) {
	w, err := newWriter(newRenderer(t), sampleDoc(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, want string }{
		{"Mădălina Țîrlea-Brâncuși", "Mădălina Țîrlea-Brâncuși"},
		{"Ma\u0306da\u0306lina", "Mădălina"},
		{"Größe\tXL\u0007\u200b", "Größe XL"},
		{"Λογισμικό\nПрограммное", "Λογισμικό\nПрограммное"},
	}
	for _, tt := range tests {
		if got := w.clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, s := range []string{"Mădălina Țîrlea-Brâncuși", "Straßenbau-Gutachten (Größe XL, Prüfung für Öl)", "1.130,50 €"} {
		if n := testing.AllocsPerRun(10, func() { w.clean(s) }); n != 0 {
			t.Errorf("clean(%q) allocates %v times, want none", s, n)
		}
	}
}

// TestUseAllocations checks that switching between text styles of one
// colour allocates nothing, in one font or between two.
func TestUseAllocations(t *testing.T) {
	w, err := newWriter(newRenderer(t), sampleDoc(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	w.newPage()
	body, strong, label := w.spec(styleBody), w.spec(styleStrong), w.spec(styleTotal)
	n := testing.AllocsPerRun(10, func() {
		w.use(body, w.face(body))
		w.use(strong, w.face(strong))
		w.use(label, w.face(label))
	})
	if n != 0 {
		t.Errorf("use allocates %v times, want none", n)
	}
	if w.err != nil {
		t.Fatal(w.err)
	}
}

// TestCleanAsIs checks the characters clean leaves as they are without
// looking at them twice: every one of them, in any order, is a text
// the full check also leaves as it is, and the letters, signs and
// spaces of an invoice in Latin, Greek and Cyrillic are among them.
func TestCleanAsIs(t *testing.T) {
	r := newRenderer(t)
	for _, tt := range []struct {
		name  string
		fonts *fontSet
	}{{"core", r.core}, {"full", r.full}} {
		t.Run(tt.name, func(t *testing.T) {
			doc := sampleDoc(t, 0)
			w, err := newWriterWith(r, doc, tt.fonts)
			if err != nil {
				t.Fatal(err)
			}
			asIs := 0
			for c := range rune(denseRunes) {
				s := "x" + string(c) + string(c) + "\n" + string(c) + "é"
				if !tt.fonts.asIs(s) {
					continue
				}
				asIs++
				if got := w.cleanAll(s); got != s {
					t.Errorf("U+%04X: clean leaves %q as it is, the full check makes it %q", c, s, got)
				}
			}
			if asIs < 1000 {
				t.Errorf("%d characters are left as they are, want the fonts' letters", asIs)
			}
			for _, s := range []string{"Mădălina Țîrlea-Brâncuși", "Größe XL", "Λογισμικό\nПрограммное", "1\u00a0130,50\u00a0€", "« 19 % » – №"} {
				if !tt.fonts.asIs(s) {
					t.Errorf("%q is not left as it is", s)
				}
			}
			for _, s := range []string{"Ma\u0306da\u0306lina", "a\tb", "a\u200bb", "\xff", "日本", "\u037e"} {
				if tt.fonts.asIs(s) {
					t.Errorf("%q is left as it is", s)
				}
			}
		})
	}
}

// TestTableRowAllocations checks that a table's rows take their cells,
// spans and lines from the writer's blocks: building a line's row and a
// one-line amount allocates nothing of its own, and wrapping a text
// allocates only its lines of more than one word.
func TestTableRowAllocations(t *testing.T) {
	w, err := newWriter(newRenderer(t), sampleDoc(t, 6))
	if err != nil {
		t.Fatal(err)
	}
	lc := w.lineTableColumns()
	var row tableRow
	var spans []span
	var lines []string
	for _, tt := range []struct {
		name string
		f    func()
		want float64
	}{
		{"lineRow", func() { row = w.lineRow(5, lc) }, 0},
		{"numberCell", func() { spans = w.numberCell("1.130,50\u00a0€", styleBody, 80) }, 0},
		{"wrap", func() { lines = w.wrap("Unit price (EUR)  per month", styleBody, 50) }, 2},
	} {
		if n := testing.AllocsPerRun(20, tt.f); n != tt.want {
			t.Errorf("%s allocates %v times, want %v", tt.name, n, tt.want)
		}
	}
	if len(row) != len(lc.cols) || row[0][0].text != "Line item 0002, support and maintenance" || len(spans) != 1 {
		t.Errorf("row %v, spans %v", row, spans)
	}
	if want := []string{"Unit price", "(EUR) per", "month"}; !slices.Equal(lines, want) {
		t.Errorf("wrap: %q, want %q", lines, want)

	}
}

// TestBlocksReset checks that reset hands the arrays back for the next
// document cleared and keeps no more than keptBlocks of them, and that
// finish hands a writer's blocks on.
func TestBlocksReset(t *testing.T) {
	var b blocks[string]
	first := b.take(3)
	first[0] = "kept"
	for range 64 * (keptBlocks + 2) {
		b.take(1)[0] = "x"
	}
	b.reset()
	if len(b.chunks) != keptBlocks {
		t.Errorf("%d arrays kept, want %d", len(b.chunks), keptBlocks)
	}
	for _, c := range b.chunks {
		for i, s := range c[:cap(c)] {
			if s != "" {
				t.Fatalf("a kept array holds %q at %d", s, i)
			}
		}
	}
	again := b.take(3)
	if &again[0] != &first[0] {
		t.Error("the first array is not taken again")
	}
	if n := testing.AllocsPerRun(10, func() { b.take(2) }); n != 0 {
		t.Errorf("take from kept arrays allocates %v times, want none", n)
	}

	w, err := newWriter(newRenderer(t), sampleDoc(t, 6))
	if err != nil {
		t.Fatal(err)
	}
	w.document()
	if _, err := w.finish(); err != nil {
		t.Fatal(err)
	}
	if w.scratch != nil {
		t.Error("finish keeps the writer's scratch")
	}
}

// TestLineTableColumnsAllocations checks that laying out the line
// table's columns allocates little beyond the strings of the numbers it
// measures: the titles, the columns and the list of each line's numbers.
func TestLineTableColumnsAllocations(t *testing.T) {
	w, err := newWriter(newRenderer(t), sampleDoc(t, 6))
	if err != nil {
		t.Fatal(err)
	}
	var lc lineColumns
	n := testing.AllocsPerRun(20, func() { lc = w.lineTableColumns() })
	numbers := 0
	for _, l := range lc.numbers {
		for _, c := range l {
			numbers += len(c)
		}
	}
	if n > float64(numbers+6) {
		t.Errorf("lineTableColumns allocates %v times for %d numbers, want at most %d", n, numbers, numbers+6)
	}
}

// TestGroupIBAN checks groupIBAN's groups of four, of an IBAN as it is
// stored and as it may be typed, and that it allocates only its result.
func TestGroupIBAN(t *testing.T) {
	for in, want := range map[string]string{
		"RO49AAAA1B31007593840000":    "RO49 AAAA 1B31 0075 9384 0000",
		"gb82 west 1234 5698 7654 32": "GB82 WEST 1234 5698 7654 32",
		"DE89\u00a03704 0044":         "DE89 3704 0044",
		"CH93":                        "CH93",
		"":                            "",
	} {
		if got := groupIBAN(in); got != want {
			t.Errorf("groupIBAN(%q) = %q, want %q", in, got, want)
		}
	}
	var s string
	if n := testing.AllocsPerRun(10, func() { s = groupIBAN("RO49AAAA1B31007593840000") }); n != 1 {
		t.Errorf("groupIBAN allocates %v times, want 1", n)
	}
	_ = s
}

// TestJoinNonEmpty checks that joinNonEmpty leaves out blank values and
// allocates only the joined text.
func TestJoinNonEmpty(t *testing.T) {
	if got, want := joinNonEmpty(" · ", "Invoice INV-1", " ", "", "ACME SRL"), "Invoice INV-1 · ACME SRL"; got != want {
		t.Errorf("joinNonEmpty = %q, want %q", got, want)
	}
	var s string
	if n := testing.AllocsPerRun(10, func() { s = joinNonEmpty(", ", "Str. Lalelelor 5", "", "400000 Cluj-Napoca", "RO") }); n != 1 {
		t.Errorf("joinNonEmpty allocates %v times, want 1", n)
	}
	_ = s
}
