package s2dict

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"
)

// testDictText is a dictionary of the kind the store uses: records of
// JSON with their field names and common values.
const testDictText = `{"id":"dlv_","invoiceId":"inv_","sendId":"snd_","channel":"email","to":"","status":"sent","provider":"smtp","providerId":"dlv_",` +
	`"createdAt":"2026-","updatedAt":"2026-","sentAt":"2026-","history":[{"status":"queued","at":"2026-","source":"api"},{"status":"sent","at":"2026-",` +
	`"source":"worker","detail":"accepted by smtp"}],"attempts":[{"at":"2026-","provider":"smtp"}],"content":{"subject":"Invoice INV- from ","attachments":["INV-.pdf"]}}` +
	`{"id":"inv_","type":"invoice","number":"INV-","status":"paid","currency":"EUR","issueDate":"2026-","dueDate":"2026-","language":"en","customer":{"name":"",` +
	`"email":"","address":{"line1":"","city":"","postalCode":"","country":"RO"}},"lines":[{"description":"","quantity":"1","unit":"h","unitPrice":".00",` +
	`"taxRate":"19","discount":"0.00","amount":".00"}],"subtotal":".00","taxTotal":".00","total":".00","createdAt":"2026-","updatedAt":"2026-"}.000Z"`

// testDictStart is where the first repeat of testDict is looked for.
const testDictStart = `{"id":"`

// testDelivery and testInvoice are records as the store writes them.
const (
	testDelivery = `{"id":"dlv_rs5arjygftt74r6t","invoiceId":"inv_1","sendId":"snd_aglvlbwyffw7wtg6","channel":"email","to":"ana@example.com","status":"sent",` +
		`"provider":"outbox","providerId":"dlv_rs5arjygftt74r6t.eml","createdAt":"2026-12-05T19:20:31.123Z","updatedAt":"2026-12-05T19:20:31.123Z",` +
		`"sentAt":"2026-12-05T19:20:31.123Z","history":[{"status":"queued","at":"2026-12-05T19:20:31.123Z","source":"api"},{"status":"sent",` +
		`"at":"2026-12-05T19:20:31.123Z","source":"worker","detail":"accepted by outbox"}],"attempts":[{"at":"2026-12-05T19:20:31.123Z","provider":"outbox"}],` +
		`"content":{"subject":"Invoice INV-1 from ACME SRL","attachments":["INV-1.pdf"]}}`
	testLine = `{"description":"Consulting","quantity":"10","unit":"h","unitPrice":"95.00","taxRate":"19","discount":"0.00","amount":"950.00"}`
)

// testInvoice returns an invoice's JSON with n lines.
func testInvoice(n int) string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = strings.Replace(testLine, "10", fmt.Sprint(i), 1)
	}
	return `{"id":"inv_7","type":"invoice","number":"INV-7","status":"open","currency":"EUR","issueDate":"2026-11-21","dueDate":"2026-12-21",` +
		`"language":"en","customer":{"name":"Ana Popescu","email":"ana@example.com","address":{"line1":"Str. Lalelelor 5","city":"Cluj-Napoca",` +
		`"postalCode":"400000","country":"RO"}},"lines":[` + strings.Join(lines, ",") + `],"subtotal":"3214.70","taxTotal":"583.69","total":"3798.39"}`
}

// dicts returns the dictionary of testDictText as s2 makes it and as
// MakeDict makes it.
func dicts(t testing.TB, text, start string) (*s2.Dict, *Dict) {
	t.Helper()
	lib, d := s2.MakeDict([]byte(text), []byte(start)), MakeDict([]byte(text), []byte(start))
	if (lib == nil) != (d == nil) {
		t.Fatalf("of %d bytes, s2 made %v, MakeDict %v", len(text), lib != nil, d != nil)
	}
	return lib, d
}

// randomBytes returns n bytes of r, which do not compress.
func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// edgeCases are inputs at the edges of what encodeBlock does: empty, one
// byte, just under and at the shortest block it searches, the dictionary
// itself, repeats longer than a copy, inputs past the offsets a block may
// refer to the dictionary from (s2.MaxDictSrcOffset), bytes that do not
// compress, and records.
func edgeCases() map[string][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	pastDict := strings.Repeat(testDelivery, s2.MaxDictSrcOffset/len(testDelivery)+2)
	return map[string][]byte{
		"empty":                   {},
		"one byte":                {'{'},
		"31 bytes":                []byte(testDelivery[:31]),
		"32 bytes":                []byte(testDelivery[:32]),
		"the dictionary":          []byte(testDictText),
		"the dictionary twice":    []byte(testDictText + testDictText),
		"the dictionary reversed": reversed(testDictText),
		"zeros":                   make([]byte, 100<<10),
		"past MaxDictSrcOffset":   []byte(pastDict),
		"past MaxDictSrcOffset, starting with random bytes": append(randomBytes(r, s2.MaxDictSrcOffset-3), testDictText...),
		"random, 100 bytes":      randomBytes(r, 100),
		"random, 5,000 bytes":    randomBytes(r, 5000),
		"random, 70,000 bytes":   randomBytes(r, 70000),
		"delivery":               []byte(testDelivery),
		"invoice of 10 lines":    []byte(testInvoice(10)),
		"invoice of 1,000 lines": []byte(testInvoice(1000)),
		"delivery in random":     append(append(randomBytes(r, 3000), testDelivery...), randomBytes(r, 3000)...),
	}
}

func reversed(s string) []byte {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}

// checkEncode encodes src with d, with the table sized to it, and checks
// that s2's decoder reads it back as src; and with the full table, and
// checks that it is the block s2's encoder writes.
func checkEncode(t *testing.T, lib *s2.Dict, d *Dict, src []byte) {
	t.Helper()
	enc := d.Encode(nil, src)
	got, err := lib.Decode(nil, enc)
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("%d bytes encoded in %d, decoded by s2 to %d bytes (%v), want them back", len(src), len(enc), len(got), err)
	}
	full := d.encode(make([]byte, s2.MaxEncodedLen(len(src))), src, new([1 << maxTableBits]uint32), maxTableBits)
	if want := lib.Encode(nil, src); !bytes.Equal(full, want) {
		t.Fatalf("%d bytes with the full table encoded in %d bytes, s2 encodes them in %d:\n%x\n%x", len(src), len(full), len(want), full, want)
	}
}

// TestEncode: every edge case reads back through s2's decoder as it was,
// and with the full table is the block s2 writes.
func TestEncode(t *testing.T) {
	t.Parallel()
	lib, d := dicts(t, testDictText, testDictStart)
	for name, src := range edgeCases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkEncode(t, lib, d, src)
		})
	}
}

// TestEncodeIntoDst: a block is written into dst's array when it has the
// room for the longest block, and into a new one otherwise.
func TestEncodeIntoDst(t *testing.T) {
	t.Parallel()
	_, d := dicts(t, testDictText, testDictStart)
	src := []byte(testDelivery)
	room := make([]byte, 0, s2.MaxEncodedLen(len(src)))
	if enc := d.Encode(room, src); &enc[0] != &room[:1][0] {
		t.Errorf("with room for %d bytes, the block was written elsewhere", cap(room))
	}
	small := make([]byte, 0, len(src)/2)
	if enc := d.Encode(small, src); &enc[0] == &small[:1][0] {
		t.Errorf("with room for %d bytes only, the block was written into it", cap(small))
	}
}

// TestMakeDict: MakeDict takes the bytes and the first repeat that
// s2.MakeDict takes, and makes no dictionary where it makes none.
func TestMakeDict(t *testing.T) {
	t.Parallel()
	long := strings.Repeat(testDictText, s2.MaxDictSize/len(testDictText)+1)
	for _, tc := range []struct{ name, text, start string }{
		{"records", testDictText, testDictStart},
		{"start not found", testDictText, `<xml>`},
		{"start partly found", testDictText, `{"id":"#`},
		{"no start", testDictText, ``},
		{"start at the end", testDictText + `"uniq"`, `"uniq"`},
		{"longer than s2.MaxDictSize", long + `{"id":"x`, testDictStart},
		{"s2.MinDictSize", testDictText[:s2.MinDictSize], testDictStart},
		{"shorter than s2.MinDictSize", testDictText[:s2.MinDictSize-1], testDictStart},
		{"empty", ``, testDictStart},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lib, d := dicts(t, tc.text, tc.start)
			if lib == nil {
				return
			}
			want := lib.Bytes()
			repeat, n := binary.Uvarint(want)
			if !bytes.Equal(d.dict, want[n:]) || uint64(d.repeat) != repeat {
				t.Errorf("MakeDict took %d bytes from %d, s2 %d from %d", len(d.dict), d.repeat, len(want)-n, repeat)
			}
			checkEncode(t, lib, d, []byte(testDelivery))
		})
	}
}

// TestEncodeReusesTable: the hash table one block was encoded with leaves
// nothing in the next: a block encoded after another, on the same table,
// is the block encoded on a new one, for random pairs of records, random
// bytes and parts of the dictionary, of random lengths.
func TestEncodeReusesTable(t *testing.T) {
	t.Parallel()
	lib, d := dicts(t, testDictText, testDictStart)
	r := rand.New(rand.NewPCG(3, 4))
	sources := [][]byte{[]byte(testDelivery), []byte(testInvoice(10)), []byte(testInvoice(200)), []byte(testDictText), randomBytes(r, 40<<10)}
	pick := func() []byte {
		src := sources[r.IntN(len(sources))]
		i := r.IntN(len(src))
		return src[i : i+r.IntN(len(src)-i+1)]
	}
	table := new([1 << maxTableBits]uint32)
	for range 2000 {
		a, b := pick(), pick()
		_ = d.encode(make([]byte, s2.MaxEncodedLen(len(a))), a, table, tableBits(len(a)))
		after := d.encode(make([]byte, s2.MaxEncodedLen(len(b))), b, table, tableBits(len(b)))
		alone := d.encode(make([]byte, s2.MaxEncodedLen(len(b))), b, new([1 << maxTableBits]uint32), tableBits(len(b)))
		if !bytes.Equal(after, alone) {
			t.Fatalf("%d bytes encoded after %d bytes on the same table: %x; on a new table: %x", len(b), len(a), after, alone)
		}
		if got, err := lib.Decode(nil, after); err != nil || !bytes.Equal(got, b) {
			t.Fatalf("%d bytes encoded after %d bytes decoded to %d bytes, %v", len(b), len(a), len(got), err)
		}
	}
}

// TestEncodeConcurrent: blocks encoded at once by many goroutines, with
// the tables of the Dict's pool, read back as they were.
func TestEncodeConcurrent(t *testing.T) {
	t.Parallel()
	lib, d := dicts(t, testDictText, testDictStart)
	sources := [][]byte{[]byte(testDelivery), []byte(testInvoice(10)), []byte(testInvoice(300))}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 300 {
				src := sources[(g+i)%len(sources)]
				if got, err := lib.Decode(nil, d.Encode(nil, src)); err != nil || !bytes.Equal(got, src) {
					errs <- fmt.Errorf("%d bytes decoded to %d bytes, %v", len(src), len(got), err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// FuzzEncode: any input reads back through s2's decoder as it was, and
// with the full table is the block s2 writes, against testDictText or,
// when dict is long enough to be one, against dict.
func FuzzEncode(f *testing.F) {
	for _, src := range edgeCases() {
		if len(src) <= 8<<10 {
			f.Add(src, []byte{})
		}
	}
	f.Add([]byte(testDelivery), []byte(testDelivery))
	f.Add([]byte(testInvoice(3)), []byte(testInvoice(1)))
	f.Add([]byte(testDictText[100:300]+testDictText[:100]), []byte(testDictText[:64]))
	lib, d := dicts(f, testDictText, testDictStart)
	f.Fuzz(func(t *testing.T, src, dict []byte) {
		lib, d := lib, d
		if len(dict) >= s2.MinDictSize {
			lib, d = dicts(t, string(dict), testDictStart)
		}
		checkEncode(t, lib, d, src)
	})
}

// BenchmarkEncode compares Encode with s2's Dict.Encode on records.
func BenchmarkEncode(b *testing.B) {
	lib, d := dicts(b, testDictText, testDictStart)
	for _, r := range []struct {
		name string
		src  []byte
	}{{"delivery", []byte(testDelivery)}, {"invoice", []byte(testInvoice(10))}} {
		dst := make([]byte, s2.MaxEncodedLen(len(r.src)))
		b.Run(r.name+"/s2", func(b *testing.B) {
			for b.Loop() {
				_ = lib.Encode(dst, r.src)
			}
			b.ReportMetric(float64(len(lib.Encode(dst, r.src))), "encoded-B")
		})
		b.Run(r.name+"/s2dict", func(b *testing.B) {
			for b.Loop() {
				_ = d.Encode(dst, r.src)
			}
			b.ReportMetric(float64(len(d.Encode(dst, r.src))), "encoded-B")
		})
	}
}
