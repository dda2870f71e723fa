package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"unsafe"

	"github.com/goccy/go-json"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/s2"

	"github.com/invoiced/invoiced/store/internal/s2dict"
)

// Invoices, sends and deliveries (and events, idempotent responses) are
// kept compressed, against a preset dictionary of their field names and
// common values: a record of under a kilobyte of JSON shrinks to a third
// or so, and such records are most of what a tenant keeps for as long as
// its retention. A stored record starts with a format byte; JSON, which
// starts with "{", is read as it is, so records written before (and
// settings, tenants) need no migration.
//
// Records are written as recordS2. recordDeflated, as they were written
// before, cost the writer most of its time taking in recordDict again for
// every record (a deflate writer has no way to keep it), and the reader
// a Huffman table per record; S2 keeps the hashes of its dictionary
// between records, and its blocks are copies and literals without
// entropy coding, for records a few percent larger (BENCHMARKS.md).
const (
	recordDeflated = 1 // deflate with recordDict: read, no longer written
	recordS2       = 2 // an S2 block with recordS2Dict
)

// recordDict is the dictionary of recordDeflated. It is part of the
// stored format: never change it. Deflate looks back at most 32 KB, and
// finds the strings near the end cheapest, so the most common come last.
var recordDict = []byte(`{"id":"evt_dlv__invoice.payment_link_clicked","type":"email.delivered","timestamp":"2026-","data":{"channel":"email","deliveryId":"dlv_","invoiceId":"inv_","method":"email","provider":"ses","providerId":"","sendId":"snd_","kind":"send","sentVia":["email"],"sentTo":[""],"sentAt":"2026-","source":"worker","status":"delivered","to":"","ipAddress":""}}` +
	`{"id":"evt_inv__invoice.finalized","type":"invoice.paid","timestamp":"2026-","data":{"invoiceId":"inv_","invoice":{"id":"inv_","publicUrl":"https://","publicPdfUrl":"https://","deliveries":[]}}}` +
	`{"id":"snd_","invoiceId":"inv_","kind":"reminder","status":"canceled","channels":["sms"],"cc":[],"bcc":[],"replyTo":"","subject":"","message":"","note":"","variables":{},"language":"en","testMode":true,"scheduledAt":"2026-","canceledAt":"2026-` +
	`{"id":"inv_","type":"credit_note","corrects":{"id":"inv_","number":"","issueDate":"2026-"},"number":"INV-","status":"void","currency":"EUR","issueDate":"2026-","dueDate":"2026-","language":"en","autoAdvance":false,"customer":{"name":"","email":"","phone":"+","vatId":"","address":{"line1":"","city":"","postalCode":"","country":"RO"}},` +
	`"lines":[{"description":"","quantity":"1","unit":"h","unitPrice":".00","taxRate":"0","discountRate":"","discount":"0.00","amount":".00"}],"notes":"","subtotal":".00","discountTotal":"0.00","taxTotal":".00","total":".00","amountCredited":".00","amountPaid":".00","amountDue":"0.00","taxes":[{"rate":"19","base":".00","amount":".00"}],` +
	`"paymentLink":"https://","paymentLinkId":"plink_","paymentLinkExpiresAt":"2026-","paymentLinkError":"","createdAt":"2026-","updatedAt":"2026-","finalizeAt":"2026-","finalizedAt":"2026-","finalizedBy":"grace","voidedAt":"2026-","paidAt":"2026-","paidBy":"api"}` +
	`{"id":"dlv_","invoiceId":"inv_","sendId":"snd_","channel":"sms","to":"+40","status":"failed","error":"","provider":"twilio","providerId":"SM","deliveredAt":"2026-","openedAt":"2026-","clickedAt":"2026-","history":[{"status":"scheduled","at":"2026-","source":"tracking","ip":"","detail":""},{"status":"delivered","at":"2026-","source":"ses"},{"status":"opened","at":"2026-","source":"tracking","ip":"1"}],"claim":{"token":"","provider":"ses","at":"2026-","until":"2026-"},` +
	`{"id":"snd_","invoiceId":"inv_","kind":"send","status":"started","channels":["email","sms"],"email":"","phone":"+40","attachPdf":true,"attachXml":false,"deliveryIds":["dlv_","dlv_"],"createdAt":"2026-","startedAt":"2026-"}` +
	`{"id":"dlv_","invoiceId":"inv_","sendId":"snd_","channel":"email","to":"","status":"sent","provider":"outbox","providerId":"dlv_","createdAt":"2026-","updatedAt":"2026-","sentAt":"2026-","history":[{"status":"queued","at":"2026-","source":"api"},{"status":"sent","at":"2026-","source":"worker","detail":"accepted by smtp"}],"attempts":[{"at":"2026-","provider":"smtp"}],"content":{"subject":"Invoice INV- from ","attachments":["INV-.pdf"]}}` +
	`Z","updatedAt":"2026-12-`)

// recordS2Text is the dictionary of recordS2: a record of each kind with
// its fields in the order they are written and their common values, the
// most common kinds last, since S2 prefers the later of two equal
// strings. It is part of the stored format, and so is the repeat offset
// recordS2Dict starts from (the last `{"id":"`): never change either; add
// another format byte with another dictionary instead.
const recordS2Text = `{"id":"evt_dlv__email.opened","type":"invoice.delivery_failed","timestamp":"2026-","data":{"channel":"sms","clickedAt":"2026-","deliveredAt":"2026-","deliveryId":"dlv_","error":"","invoiceId":"inv_","ipAddress":"","method":"sms","openedAt":"2026-","provider":"twilio","providerId":"SM","sendId":"snd_","sentAt":"2026-",` +
	`"source":"tracking","status":"bounced","to":"+"}}` +
	`{"id":"evt_inv__invoice.paid","type":"invoice.paid","timestamp":"2026-","data":{"amountPaid":".00","currency":"EUR","invoiceId":"inv_","number":"INV-","paidAt":"2026-","paidBy":"api","total":".00"}}` +
	`{"id":"evt_inv__invoice.voided","type":"invoice.voided","timestamp":"2026-","data":{"currency":"EUR","invoiceId":"inv_","number":"INV-","total":".00","voidedAt":"2026-"}}` +
	`{"id":"evt_dlv__email.delivered","type":"invoice.delivered","timestamp":"2026-","data":{"channel":"email","deliveredAt":"2026-","deliveryId":"dlv_","invoiceId":"inv_","method":"email","provider":"ses","providerId":"","sendId":"snd_","sentAt":"2026-","source":"ses","status":"delivered","to":""}}` +
	`{"id":"snd_","invoiceId":"inv_","kind":"reminder","status":"scheduled","channels":["email","sms"],"email":"","cc":[""],"bcc":[""],"replyTo":"","phone":"+","subject":"","message":"","note":"","variables":{"":""},"attachPdf":false,"attachXml":true,"language":"de","testMode":true,"scheduledAt":"2026-",` +
	`"deliveryIds":["dlv_","dlv_"],"createdAt":"2026-","startedAt":"2026-","canceledAt":"2026-"}` +
	`{"id":"dlv_","invoiceId":"inv_","sendId":"snd_","channel":"sms","to":"+","status":"failed","testMode":true,"provider":"twilio","providerId":"SM","error":"","createdAt":"2026-","updatedAt":"2026-","sentAt":"2026-","deliveredAt":"2026-","openedAt":"2026-","clickedAt":"2026-","history":[{"status":"scheduled",` +
	`"at":"2026-","source":"scheduler"},{"status":"queued","at":"2026-","source":"api"},{"status":"failed","at":"2026-","source":"worker","detail":""},{"status":"delivered","at":"2026-","source":"ses"},{"status":"opened","at":"2026-","source":"tracking","ip":"","detail":""},{"status":"clicked","at":"2026-",` +
	`"source":"tracking","ip":""}],"repeatsNotKept":1,"attempts":[{"at":"2026-","provider":"twilio","error":"","code":"","permanent":true}],"claim":{"token":"","provider":"ses","at":"2026-","until":"2026-"}}` +
	`{"id":"inv_","type":"credit_note","number":"","status":"void","currency":"USD","issueDate":"2026-","dueDate":"2026-","language":"de","reference":"","autoAdvance":true,"customer":{"externalId":"","name":"","email":"","phone":"+","vatId":"","address":{"line1":"","line2":"","city":"","postalCode":"","region":"",` +
	`"country":"DE"},"endpoint":{"scheme":"","id":""}},"lines":[{"description":"","quantity":"1","unit":"","unitPrice":".00","taxRate":"0","discountRate":"","taxCategory":"AE","taxExemptionReason":"","taxExemptionCode":"","discount":"0.00","amount":".00"}],"terms":"","profile":"xrechnung","orderReference":"",` +
	`"contractReference":"","delivery":{"date":"2026-","partyName":""},"period":{"start":"2026-","end":"2026-"},"allowances":[],"charges":[],"taxCurrency":"","taxExchangeRate":"","subtotal":".00","discountTotal":"0.00","allowanceTotal":"","chargeTotal":"","netTotal":".00","taxTotal":"0.00","taxTotalInTaxCurrency":"",` +
	`"total":".00","amountPaid":".00","amountCredited":".00","amountDue":"0.00","taxes":[{"category":"AE","rate":"0","base":".00","amount":"0.00","exemptionReason":"","exemptionCode":""}],"corrects":{"id":"inv_","number":"","issueDate":"2026-"},"creditNotes":["inv_"],"createdAt":"2026-","updatedAt":"2026-",` +
	`"finalizeAt":"2026-","finalizedAt":"2026-","finalizedBy":"grace","paymentLinkId":"plink_","paymentLinkExpiresAt":"2026-","paymentLinkError":"","paymentLinkDeactivatedAt":"2026-","paidAt":"2026-","paidBy":"stripe","voidedAt":"2026-"}` +
	`{"id":"inv_","type":"invoice","number":"INV-","status":"paid","currency":"EUR","issueDate":"2026-","dueDate":"2026-","language":"en","autoAdvance":false,"customer":{"name":"","email":"","vatId":"RO","address":{"line1":"","city":"","postalCode":"","country":"RO"}},"lines":[{"description":"","quantity":"2","unit":"pcs",` +
	`"unitPrice":".50","taxRate":"9","discount":"0.00","amount":".50"},{"description":"","quantity":"1","unit":"h","unitPrice":".00","taxRate":"19","discount":"0.00","amount":".00"}],"notes":"","profile":"en16931","subtotal":".00","discountTotal":"0.00","netTotal":".00","taxTotal":".00","total":".00","amountPaid":"0.00",` +
	`"amountDue":".00","taxes":[{"category":"S","rate":"19","base":".00","amount":".00"}],"createdAt":"2026-","updatedAt":"2026-","finalizedAt":"2026-","finalizedBy":"send","paymentLink":"https://","paidAt":"2026-","paidBy":"api"}` +
	`{"id":"evt_snd__invoice.sent","type":"invoice.sent","timestamp":"2026-","data":{"invoiceId":"inv_","kind":"send","sendId":"snd_","sentAt":"2026-","sentTo":[""],"sentVia":["email"]}}` +
	`{"id":"evt_inv__invoice.finalized","type":"invoice.finalized","timestamp":"2026-","data":{"currency":"EUR","finalizedBy":"send","invoiceId":"inv_","number":"INV-","total":".00"}}` +
	`{"id":"snd_","invoiceId":"inv_","kind":"send","status":"started","channels":["email"],"email":"","attachPdf":true,"attachXml":false,"deliveryIds":["dlv_"],"createdAt":"2026-","startedAt":"2026-"}` +
	`{"id":"dlv_","invoiceId":"inv_","sendId":"snd_","channel":"email","to":"","status":"sent","provider":"outbox","providerId":"dlv_.eml","history":[{"status":"sent","at":"2026-","source":"worker","detail":"accepted by outbox"}],"attempts":[{"at":"2026-","provider":"outbox"}],"content":{"subject":"","attachments":[".pdf",".xml"]}}` +
	`{"id":"dlv_","invoiceId":"inv_","sendId":"snd_","channel":"email","to":"","status":"sent","provider":"smtp","providerId":"dlv_","createdAt":"2026-","updatedAt":"2026-","sentAt":"2026-","history":[{"status":"queued","at":"2026-","source":"api"},{"status":"sent","at":"2026-","source":"worker",` +
	`"detail":"accepted by smtp"}],"attempts":[{"at":"2026-","provider":"smtp"}],"content":{"subject":"Invoice INV- from ","attachments":["INV-.pdf"]}}.000Z"`

// recordS2Dict is recordS2Text as S2 takes it, for reading records;
// recordS2Writer is the same dictionary for writing them, whose hash
// tables, sized to each record, are kept between records instead of
// zeroed on the stack for each (s2dict).
var (
	recordS2Dict   = s2.MakeDict([]byte(recordS2Text), []byte(`{"id":"`))
	recordS2Writer = s2dict.MakeDict([]byte(recordS2Text), []byte(`{"id":"`))
)

// maxRecordLen bounds what a stored record may expand to, so that a
// corrupt length does not make us allocate gigabytes; no record comes
// near it.
const maxRecordLen = 64 << 20

var (
	// encodeBufs lend S2's output buffers, which must be as large as a
	// record could compress to (s2.MaxEncodedLen).
	encodeBufs = sync.Pool{New: func() any { return new([]byte) }}
	// decodeBufs lend the JSON of records being decoded: the JSON decoder
	// copies what it keeps.
	decodeBufs = sync.Pool{New: func() any { return new([]byte) }}
	inflaters  = sync.Pool{New: func() any { return flate.NewReaderDict(bytes.NewReader(nil), recordDict) }}
)

// lentBufMax is the largest buffer given back to encodeBufs or
// decodeBufs; a larger one, for a rare large record, is left to the
// garbage collector.
const lentBufMax = 64 << 10

// compressRecord returns b compressed with recordS2Dict, after the format
// byte.
func compressRecord(b []byte) []byte {
	p := encodeBufs.Get().(*[]byte)
	enc := recordS2Writer.Encode(*p, b)
	out := make([]byte, 1+len(enc))
	out[0] = recordS2
	copy(out[1:], enc)
	if cap(enc) <= lentBufMax {
		*p = enc
		encodeBufs.Put(p)
	}
	return out
}

// expandRecord reverses compressRecord, and reads a record deflated
// before; anything else is returned as it is. The JSON returned is the
// caller's.
func expandRecord(b []byte) ([]byte, error) {
	return expandRecordTo(nil, b)
}

// expandRecordTo is expandRecord writing into dst's array if it is large
// enough; b is returned as it is, not copied, if it is not compressed.
func expandRecordTo(dst, b []byte) ([]byte, error) {
	if len(b) == 0 {
		return b, nil
	}
	switch b[0] {
	case recordS2:
		n, err := s2.DecodedLen(b[1:])
		if err != nil {
			return nil, err
		}
		if n > maxRecordLen {
			return nil, fmt.Errorf("record of %d bytes", n)
		}
		return recordS2Dict.Decode(dst[:0], b[1:])
	case recordDeflated:
		return inflateRecord(b)
	}
	return b, nil
}

// inflateRecord reads a record of recordDeflated.
func inflateRecord(b []byte) ([]byte, error) {
	r := inflaters.Get().(io.ReadCloser)
	defer inflaters.Put(r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(b[1:]), recordDict); err != nil {
		return nil, err
	}
	// Records deflate to a fourth or so of their JSON.
	out := bytes.NewBuffer(make([]byte, 0, 5*len(b)))
	if _, err := out.ReadFrom(r); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// encodeRecord returns v as stored: JSON, compressed. The JSON is
// github.com/goccy/go-json's, which writes what encoding/json writes for
// the store's types (TestRecordJSONAsEncodingJSON) in half the time. It
// is compressed from the encoder's own buffer (recordEncoder), not from
// a copy of it as json.Marshal would return.
func encodeRecord(v any) ([]byte, error) {
	e := recordEncoders.Get().(*recordEncoder)
	defer recordEncoders.Put(e)
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	out := e.out
	e.out = nil
	return out, nil
}

// recordEncoders lend recordEncoders, each with its JSON encoder made
// once.
var recordEncoders = sync.Pool{New: func() any {
	e := &recordEncoder{}
	e.enc = json.NewEncoder(e)
	return e
}}

// recordEncoder is a JSON encoder that writes to its own Write, which
// compresses the record into out.
type recordEncoder struct {
	enc *json.Encoder
	out []byte
}

// Write compresses the JSON of one record, without the newline the
// encoder ends it with; b is the encoder's, and is not kept.
func (e *recordEncoder) Write(b []byte) (int, error) {
	e.out = compressRecord(bytes.TrimSuffix(b, []byte("\n")))
	return len(b), nil
}

// replyBytes returns the bytes of str, a bulk string of a go-redis
// reply, without copying them. go-redis reads every bulk string into
// memory of its own that it never writes again, and nothing here writes
// into a record's bytes (decodeRecord expands or copies them, and compare
// and swap sends them as they are), so records read are decoded from, and
// kept as, their reply's bytes.
func replyBytes(str string) []byte {
	return unsafe.Slice(unsafe.StringData(str), len(str))
}

// decodeRecord reads a stored record, compressed in either format or
// JSON, into v.
func decodeRecord(b []byte, v any) error {
	p := decodeBufs.Get().(*[]byte)
	raw, err := expandRecordTo(*p, b)
	if err != nil {
		decodeBufs.Put(p)
		return fmt.Errorf("expand: %w", err)
	}
	if len(raw) == 0 {
		decodeBufs.Put(p)
		return errors.New("empty record")
	}
	err = json.Unmarshal(raw, v)
	if len(b) > 0 && b[0] == recordS2 && cap(raw) <= lentBufMax {
		*p = raw
	}
	decodeBufs.Put(p)
	return err
}
