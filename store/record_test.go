package store

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"io"
	"reflect"
	"testing"
	"time"
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

// TestRecordRoundTrip: a record reads back as it was stored, deflated or
// as the plain JSON records were stored before.
func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	d := sampleDelivery()
	plain, _ := json.Marshal(d)
	deflated, err := encodeRecord(d)
	if err != nil {
		t.Fatal(err)
	}
	if deflated[0] != recordDeflated {
		t.Fatalf("a stored record starts with %q, want the format byte", deflated[0])
	}
	for name, b := range map[string][]byte{"deflated": deflated, "JSON": plain} {
		var got Delivery
		if err := decodeRecord(b, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(&got, d) {
			t.Errorf("%s: read back %+v, want %+v", name, got, d)
		}
	}
	if err := decodeRecord([]byte{recordDeflated, 0xff, 0x00}, new(Delivery)); err == nil {
		t.Error("a corrupt record decoded without an error")
	}
}

// TestRecordWrittenByStandardDeflate reads a record as the store wrote it
// with the standard library's deflate at its default level, before
// records were deflated faster: the level is not part of the format.
func TestRecordWrittenByStandardDeflate(t *testing.T) {
	t.Parallel()
	d := sampleDelivery()
	plain, _ := json.Marshal(d)
	out := bytes.NewBuffer([]byte{recordDeflated})
	w, err := flate.NewWriterDict(out, flate.DefaultCompression, recordDict)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var got Delivery
	if err := decodeRecord(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, d) {
		t.Errorf("read back %+v, want %+v", got, d)
	}
	// And the other way: what the store writes now, the standard
	// library's inflate reads.
	now, _ := encodeRecord(d)
	raw, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(now[1:]), recordDict))
	if err != nil || !bytes.Equal(raw, plain) {
		t.Errorf("compress/flate inflates a stored record to %q, %v; want %q", raw, err, plain)
	}
}

// BenchmarkRecord compares storing and reading a sent delivery deflated
// (encode, decode) with plain JSON (the baselines), and reports the bytes
// each stores.
func BenchmarkRecord(b *testing.B) {
	d := sampleDelivery()
	plain, _ := json.Marshal(d)
	deflated, _ := encodeRecord(d)
	b.Run("json-marshal", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(d)
		}
		b.ReportMetric(float64(len(plain)), "stored-B")
	})
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			_, _ = encodeRecord(d)
		}
		b.ReportMetric(float64(len(deflated)), "stored-B")
	})
	b.Run("json-unmarshal", func(b *testing.B) {
		for b.Loop() {
			_ = json.Unmarshal(plain, new(Delivery))
		}
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			_ = decodeRecord(deflated, new(Delivery))
		}
	})
}
