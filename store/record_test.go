package store

import (
	"bytes"
	stdflate "compress/flate"
	"encoding/hex"
	"encoding/json"
	"io"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/klauspost/compress/flate"

	"github.com/invoiced/invoiced/invoice"
)

func sampleDelivery() *Delivery {
	at := time.Date(2026, 12, 5, 19, 20, 31, 123e6, time.UTC)
	return &Delivery{ID: "dlv_rs5arjygftt74r6t", InvoiceID: "inv_1", SendID: "snd_aglvlbwyffw7wtg6", Channel: ChannelEmail,
		To: "ana@example.com", Status: DeliverySent, Provider: "outbox", ProviderID: "dlv_rs5arjygftt74r6t.eml",
		CreatedAt: at, UpdatedAt: at, SentAt: &at,
		History:  []Transition{{Status: DeliveryQueued, At: at, Source: "api"}, {Status: DeliverySent, At: at, Source: "worker", Detail: "accepted by outbox"}},
		Attempts: []Attempt{{At: at, Provider: "outbox"}},
		Content:  &EmailContent{Subject: "Invoice INV-1 from ACME SRL", Attachments: []string{"INV-1.pdf"}}}
}

// sampleInvoice is an open invoice of ten lines at three VAT rates, as
// the load test sends them.
func sampleInvoice() *invoice.Invoice {
	at := time.Date(2026, 12, 5, 19, 20, 31, 123e6, time.UTC)
	items := []invoice.Line{
		{Description: "Consulting", Quantity: "10", Unit: "h", UnitPrice: "95.00", TaxRate: "19", Discount: "0.00", Amount: "950.00"},
		{Description: "Hosting, monthly", Quantity: "1", Unit: "mo", UnitPrice: "49.90", TaxRate: "19", Discount: "0.00", Amount: "49.90"},
		{Description: "Training materials", Quantity: "3", Unit: "pcs", UnitPrice: "12.50", TaxRate: "9", Discount: "0.00", Amount: "37.50"},
		{Description: "Books", Quantity: "2", Unit: "pcs", UnitPrice: "35.00", TaxRate: "5", Discount: "0.00", Amount: "70.00"},
	}
	inv := &invoice.Invoice{ID: "inv_7", Type: invoice.TypeInvoice, Number: "INV-7", Status: invoice.StatusOpen, Currency: "EUR",
		IssueDate: "2026-11-21", DueDate: "2026-12-21", Language: "en",
		Customer: invoice.Customer{Name: "Ana Popescu", Email: "ana@example.com",
			Address: invoice.Address{Line1: "Str. Lalelelor 5", City: "Cluj-Napoca", PostalCode: "400000", Country: "RO"}},
		Notes: "Thank you!", Profile: invoice.ProfileEN16931,
		Subtotal: "3214.70", DiscountTotal: "0.00", NetTotal: "3214.70", TaxTotal: "583.69", Total: "3798.39", AmountPaid: "0.00", AmountDue: "3798.39",
		Taxes: []invoice.TaxSummary{{Category: "S", Rate: "19", Base: "2999.70", Amount: "569.94"},
			{Category: "S", Rate: "9", Base: "75.00", Amount: "6.75"}, {Category: "S", Rate: "5", Base: "140.00", Amount: "7.00"}},
		CreatedAt: at, UpdatedAt: at, FinalizedAt: &at, FinalizedBy: "send",
		PaymentLink: "https://pay.example.com/inv_7?amount=3798.39&currency=EUR"}
	for i := range 10 {
		inv.Lines = append(inv.Lines, items[i%len(items)])
	}
	return inv
}

// storedDelivery is sampleDelivery as recordS2 stores it: a record
// written before must read the same for as long as the store keeps
// records, whatever the dictionary of later formats.
const storedDelivery = "02fc043dbc3c72733561726a796766747437347236744acc0100313ecd013c61676c766c627779666677377774673666dd0138616e61406578616d706c652e636f6d76ec016634033ea5000c2e656d6c4e02024831322d30355431393a32303a33312e3132335a4e15025627003628025624009e3b02563e005520864e027a41007661022d496a6302565f005d761d4382780238312066726f6d2041434d452053524c56810220312e706466225d7d7d"

// TestRecordRoundTrip: a record reads back as it was stored, compressed,
// as a stored record of the current format, or as the plain JSON records
// were stored before; a corrupt record is an error.
func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	d := sampleDelivery()
	plain, _ := json.Marshal(d)
	compressed, err := encodeRecord(d)
	if err != nil {
		t.Fatal(err)
	}
	if compressed[0] != recordS2 {
		t.Fatalf("a stored record starts with %q, want the format byte", compressed[0])
	}
	if len(compressed) >= len(plain)/2 {
		t.Errorf("the delivery is stored in %d bytes, its JSON is %d", len(compressed), len(plain))
	}
	stored, _ := hex.DecodeString(storedDelivery)
	for name, b := range map[string][]byte{"compressed": compressed, "stored": stored, "JSON": plain} {
		var got Delivery
		if err := decodeRecord(b, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(&got, d) {
			t.Errorf("%s: read back %+v, want %+v", name, got, d)
		}
	}
	// What a record decoded to is its own: decoding others after it,
	// into the buffers decodeRecord lends, leaves it as it was.
	var first Delivery
	if err := decodeRecord(compressed, &first); err != nil {
		t.Fatal(err)
	}
	other := sampleDelivery()
	other.ID, other.To, other.Content.Subject = "dlv_other", "ion@example.com", "Factura 2 de la ACME SRL"
	for range 10 {
		b, _ := encodeRecord(other)
		if err := decodeRecord(b, new(Delivery)); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(&first, d) {
		t.Errorf("after other records were decoded, the first reads %+v, want %+v", first, d)
	}
	for _, b := range [][]byte{{recordDeflated, 0xff, 0x00}, {recordS2, 0xff, 0x00}, {recordS2}, compressed[:len(compressed)-3], {recordS2, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00}, nil} {
		if err := decodeRecord(b, new(Delivery)); err == nil {
			t.Errorf("the corrupt record %x decoded without an error", b)
		}
	}
}

// TestRecordWrittenByDeflate reads records as the store wrote them
// before recordS2: deflated with recordDict by the standard library at
// its default level, and later by klauspost/compress at level 4.
func TestRecordWrittenByDeflate(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]any{"delivery": sampleDelivery(), "invoice": sampleInvoice()} {
		plain, _ := json.Marshal(v)
		for _, w := range []struct {
			name  string
			write func(*bytes.Buffer) (io.WriteCloser, error)
		}{
			{"compress/flate", func(out *bytes.Buffer) (io.WriteCloser, error) {
				return stdflate.NewWriterDict(out, stdflate.DefaultCompression, recordDict)
			}},
			{"klauspost level 4", func(out *bytes.Buffer) (io.WriteCloser, error) {
				return flate.NewWriterDict(out, 4, recordDict)
			}},
		} {
			out := bytes.NewBuffer([]byte{recordDeflated})
			fw, err := w.write(out)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = fw.Write(plain)
			if err := fw.Close(); err != nil {
				t.Fatal(err)
			}
			got := reflect.New(reflect.TypeOf(v).Elem()).Interface()
			if err := decodeRecord(out.Bytes(), got); err != nil {
				t.Fatalf("%s by %s: %v", name, w.name, err)
			}
			if !reflect.DeepEqual(got, v) {
				t.Errorf("%s by %s: read back %+v, want %+v", name, w.name, got, v)
			}
		}
	}
}

// TestIdempotentBodyRoundTrip: an idempotent response's body reads back
// as stored, in the current format and deflated as before.
func TestIdempotentBodyRoundTrip(t *testing.T) {
	t.Parallel()
	body, _ := json.Marshal(sampleInvoice())
	hash := strings.Repeat("ab", 32)
	got, err := decodeIdempotent(encodeIdempotent(hash, 201, body))
	if err != nil || got.StatusCode != 201 || got.RequestHash != hash || !bytes.Equal(got.Body, body) {
		t.Fatalf("read back %+v, %v", got, err)
	}
}

// trickyStrings are strings whose JSON encoders may disagree on: HTML,
// line and paragraph separators, control characters, invalid UTF-8.
var trickyStrings = []string{"", "<a href=\"x\">&amp;</a>", "line\u2028para\u2029", "tab\tnl\n\x01\x1f\x7f", "bad \xff\xfe utf-8", "ăîșț Ελληνικά 日本語 🧾", `back\slash "quoted"`}

// fill sets every field of the value v points to, recursively, with s for
// strings, and one element in slices and maps.
func fill(v reflect.Value, s string, at time.Time) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem(), s, at)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(at))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), s, at)
			}
		}
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(-7)
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		v.SetUint(7)
	case reflect.Float64:
		v.SetFloat(0.1)
	case reflect.Slice:
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e, s, at)
		v.Set(reflect.Append(reflect.MakeSlice(v.Type(), 0, 1), e))
	case reflect.Map:
		k := reflect.New(v.Type().Key()).Elem()
		fill(k, s+"k", at)
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e, s, at)
		m := reflect.MakeMap(v.Type())
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]any{"n": 12.5, "s": s, "list": []any{s, true, nil}}))
	}
}

// TestRecordJSONAsEncodingJSON: the JSON records are written and read
// with, and the JSON a stored record expands to, writes, for every field of every stored type, the bytes
// encoding/json writes, and reads what encoding/json reads, so records
// read the same by either and the API (encoding/json) shows them as
// before.
func TestRecordJSONAsEncodingJSON(t *testing.T) {
	t.Parallel()
	zones := []time.Time{
		time.Date(2026, 12, 5, 19, 20, 31, 123e6, time.UTC),
		time.Date(2026, 3, 29, 2, 30, 0, 1, time.FixedZone("EEST", 3*3600)),
		{},
	}
	types := map[string]func() any{
		"invoice":  func() any { return new(invoice.Invoice) },
		"send":     func() any { return new(Send) },
		"delivery": func() any { return new(Delivery) },
		"event":    func() any { return new(Event) },
		"settings": func() any { return new(Settings) },
		"tenant":   func() any { return new(Tenant) },
	}
	for name, mk := range types {
		values := []any{mk()} // every field zero: what omitempty leaves out
		for i, s := range trickyStrings {
			v := mk()
			fill(reflect.ValueOf(v), s, zones[i%len(zones)])
			values = append(values, v)
		}
		if name == "delivery" {
			values = append(values, sampleDelivery())
		}
		if name == "invoice" {
			values = append(values, sampleInvoice())
		}
		for i, v := range values {
			want, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := gojson.Marshal(v)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s %d: go-json writes\n%s, %v\nencoding/json\n%s", name, i, got, err, want)
			}
			stdRead, fastRead := mk(), mk()
			if err := json.Unmarshal(want, stdRead); err != nil {
				t.Fatal(err)
			}
			b, _ := encodeRecord(v)
			if raw, err := expandRecord(b); err != nil || !bytes.Equal(raw, want) {
				t.Errorf("%s %d: stored\n%s, %v\nencoding/json writes\n%s", name, i, raw, err, want)
			}
			if err := decodeRecord(b, fastRead); err != nil {
				t.Fatalf("%s %d: %v", name, i, err)
			}
			if !reflect.DeepEqual(fastRead, stdRead) {
				t.Errorf("%s %d: read back\n%+v\nencoding/json reads\n%+v", name, i, fastRead, stdRead)
			}
		}
	}
}

// TestRecordReadsAsEncodingJSON: JSON that the store never writes but
// records written by other versions may hold (fields since removed, keys
// in another case, nulls, numbers of any size) reads as encoding/json
// reads it.
func TestRecordReadsAsEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		json string
		mk   func() any
	}{
		{"unknown fields", `{"id":"dlv_1","gone":{"a":[1,2]},"alsoGone":"x","status":"sent"}`, func() any { return new(Delivery) }},
		{"keys in another case", `{"ID":"dlv_1","InvoiceId":"inv_1","STATUS":"sent"}`, func() any { return new(Delivery) }},
		{"nulls", `{"id":null,"history":null,"sentAt":null,"content":null,"attempts":[null]}`, func() any { return new(Delivery) }},
		{"numbers", `{"id":"evt_1","data":{"a":12345678901234567890,"b":1e21,"c":-0.5,"d":[1,{"e":2}],"f":null,"g":true}}`, func() any { return new(Event) }},
		{"escapes", `{"id":"inv_\u0041\n\ud83e\uddfe","notes":"\u003cb\u003e \/ \u2028"}`, func() any { return new(invoice.Invoice) }},
	} {
		want, got := tc.mk(), tc.mk()
		werr := json.Unmarshal([]byte(tc.json), want)
		gerr := decodeRecord([]byte(tc.json), got)
		if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read %+v, %v; encoding/json reads %+v, %v", tc.name, got, gerr, want, werr)
		}
	}
}

// deflateRecord is a record as the store wrote it before recordS2: the
// baseline of BenchmarkRecord.
func deflateRecord(w *flate.Writer, v any) []byte {
	b, _ := json.Marshal(v)
	out := bytes.NewBuffer([]byte{recordDeflated})
	w.Reset(out)
	_, _ = w.Write(b)
	_ = w.Close()
	return out.Bytes()
}

// BenchmarkRecord compares storing and reading records (a sent email
// delivery, an invoice of ten lines) as they are stored now (encode,
// decode) with how they were stored before (encoding/json and deflate at
// klauspost level 4, the baselines), and with plain encoding/json, and
// the copy StartJob keeps of a record it decoded (clone); it reports the
// bytes each stores.
func BenchmarkRecord(b *testing.B) {
	w, _ := flate.NewWriterDict(nil, 4, recordDict)
	for _, r := range []struct {
		name string
		v    any
		mk   func() any
	}{
		{"delivery", sampleDelivery(), func() any { return new(Delivery) }},
		{"invoice", sampleInvoice(), func() any { return new(invoice.Invoice) }},
	} {
		plain, _ := json.Marshal(r.v)
		deflated := deflateRecord(w, r.v)
		stored, _ := encodeRecord(r.v)
		b.Run(r.name+"/json-marshal", func(b *testing.B) {
			for b.Loop() {
				_, _ = json.Marshal(r.v)
			}
			b.ReportMetric(float64(len(plain)), "stored-B")
		})
		b.Run(r.name+"/encode-deflate", func(b *testing.B) {
			for b.Loop() {
				_ = deflateRecord(w, r.v)
			}
			b.ReportMetric(float64(len(deflated)), "stored-B")
		})
		b.Run(r.name+"/encode", func(b *testing.B) {
			for b.Loop() {
				_, _ = encodeRecord(r.v)
			}
			b.ReportMetric(float64(len(stored)), "stored-B")
		})
		b.Run(r.name+"/json-unmarshal", func(b *testing.B) {
			for b.Loop() {
				_ = json.Unmarshal(plain, r.mk())
			}
		})
		b.Run(r.name+"/decode-deflate", func(b *testing.B) {
			for b.Loop() {
				raw, _ := inflateRecord(deflated)
				_ = json.Unmarshal(raw, r.mk())
			}
		})
		b.Run(r.name+"/decode", func(b *testing.B) {
			for b.Loop() {
				_ = decodeRecord(stored, r.mk())
			}
		})
		b.Run(r.name+"/clone", func(b *testing.B) {
			for b.Loop() {
				_ = cloneRecord(r.v)
			}
		})
	}
}

// storedRecords are records of every kind the store compresses, as a
// send leaves them: the invoice, finalized; the send, started; the
// delivery queued, claimed and sent; the events of the invoice's
// finalization, its sending and the email's delivery; an idempotent
// response's body; and settings and a tenant with every field set.
func storedRecords() map[string][]byte {
	at := time.Date(2026, 12, 5, 19, 20, 31, 123e6, time.UTC)
	inv := sampleInvoice()
	sent := sampleDelivery()
	queued := cloneDelivery(sent)
	queued.Status, queued.ProviderID, queued.SentAt, queued.Content = DeliveryQueued, "", nil, nil
	queued.History, queued.Attempts = queued.History[:1], nil
	claimed := cloneDelivery(queued)
	claimed.Claim = &Claim{Token: "clm_c2x4hq3kzbv7ymtd", Provider: "outbox", At: at, Until: at.Add(time.Minute)}
	send := &Send{ID: sent.SendID, InvoiceID: inv.ID, Kind: "send", Status: SendStarted, Channels: []Channel{ChannelEmail},
		Email: sent.To, AttachPDF: true, DeliveryIDs: []string{sent.ID}, CreatedAt: at, StartedAt: &at}
	records := map[string]any{
		"invoice": inv, "send": send, "delivery queued": queued, "delivery claimed": claimed, "delivery sent": sent,
		"event invoice.finalized": newEvents(inv.ID, []string{EventInvoiceFinalized}, FinalizedEventData(inv), at)[0],
	}
	sentData, _ := sentEventData(send, []*Delivery{sent})
	records["event invoice.sent"] = newEvents(send.ID, []string{EventInvoiceSent}, sentData, at)[0]
	delivered := cloneDelivery(sent)
	delivered.Status, delivered.DeliveredAt = DeliveryDelivered, &at
	for _, ev := range newEvents(sent.ID, DeliveryEventTypes(ChannelEmail, DeliveryDelivered), DeliveryEventData(delivered), at) {
		records["event "+ev.Type] = ev
	}
	st, ten := new(Settings), new(Tenant)
	fill(reflect.ValueOf(st), "ACME SRL", at)
	fill(reflect.ValueOf(ten), "ten_a", at)
	records["settings"], records["tenant"] = st, ten
	out := make(map[string][]byte, len(records)+1)
	for name, v := range records {
		out[name], _ = json.Marshal(v)
	}
	out["idempotent response"], _ = json.Marshal(sampleInvoice())
	return out
}

// TestRecordCompressedAsS2: every kind of record is stored as an S2
// block that s2's own decoder reads back with recordS2Dict, no more than
// a few bytes larger than s2's own encoder writes it; and a record long
// enough for the encoder's whole hash table (over 32 KB) is stored as s2
// writes it.
func TestRecordCompressedAsS2(t *testing.T) {
	t.Parallel()
	records := storedRecords()
	long := sampleInvoice()
	for len(long.Lines) < 400 {
		long.Lines = append(long.Lines, long.Lines...)
	}
	records["invoice of 640 lines"], _ = json.Marshal(long)
	var total, s2Total int
	for name, plain := range records {
		stored := compressRecord(plain)
		if stored[0] != recordS2 {
			t.Fatalf("%s: stored with the format byte %d", name, stored[0])
		}
		got, err := recordS2Dict.Decode(nil, stored[1:])
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: s2 reads back\n%s, %v\nwant\n%s", name, got, err, plain)
		}
		bys2 := recordS2Dict.Encode(nil, plain)
		if len(stored)-1 > len(bys2)+len(bys2)/20 {
			t.Errorf("%s of %d bytes: stored in %d bytes, s2 writes %d", name, len(plain), len(stored)-1, len(bys2))
		}
		if len(plain) > 32<<10 && !bytes.Equal(stored[1:], bys2) {
			t.Errorf("%s of %d bytes: stored in %d bytes, not the %d s2 writes", name, len(plain), len(stored)-1, len(bys2))
		}
		t.Logf("%s: %d bytes of JSON stored in %d, s2 %d", name, len(plain), len(stored)-1, len(bys2))
		total, s2Total = total+len(stored)-1, s2Total+len(bys2)
	}
	if total > s2Total+s2Total/100 {
		t.Errorf("the records are stored in %d bytes, s2 writes them in %d", total, s2Total)
	}
}

// TestRecordEncodeStack: a goroutine that encodes a record keeps a small
// stack. (S2's Dict.Encode keeps a 64 KB hash table on the stack of its
// caller, which grew to 128 KB for it.) It reads the stack of the whole
// process, so it does not run beside the other tests.
func TestRecordEncodeStack(t *testing.T) {
	const n = 256
	inv := sampleInvoice()
	if _, err := encodeRecord(inv); err != nil { // what is made once
		t.Fatal(err)
	}
	var encoded, done sync.WaitGroup
	encoded.Add(n)
	release := make(chan struct{})
	runtime.GC() // the stacks of goroutines gone are let go
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		done.Go(func() {
			_, _ = encodeRecord(inv)
			encoded.Done()
			<-release
		})
	}
	encoded.Wait()
	runtime.ReadMemStats(&after)
	close(release)
	done.Wait()
	per := (int64(after.StackInuse) - int64(before.StackInuse)) / n
	if per > 32<<10 {
		t.Errorf("a goroutine that encoded an invoice holds %d KB of stack", per>>10)
	}
	t.Logf("a goroutine that encoded an invoice holds %d KB of stack", per>>10)
}
