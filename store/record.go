package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// Invoices, sends and deliveries are kept deflated, against a preset
// dictionary of their field names and common values: a record of under a
// kilobyte of JSON shrinks to a third or so, and such records are most of
// what a tenant keeps for as long as its retention. A stored record starts
// with a format byte; JSON, which starts with "{", is read as it is, so
// records written before (and settings, tenants) need no migration.
const recordDeflated = 1 // deflate with recordDict

// recordDict is the dictionary of recordDeflated. It is part of the
// stored format: never change it; add another format byte with another
// dictionary instead. Deflate looks back at most 32 KB, and finds the
// strings near the end cheapest, so the most common come last.
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

// recordCompression is the deflate level of records. klauspost/compress's
// level 4 takes a third of the time of the standard library's default
// level, most of it spent taking in recordDict again for every record,
// for records a few percent larger. Any deflate reader reads them: the
// level is not part of the stored format.
const recordCompression = 4

var (
	deflaters = sync.Pool{New: func() any {
		w, err := flate.NewWriterDict(io.Discard, recordCompression, recordDict)
		if err != nil {
			panic(err)
		}
		return w
	}}
	inflaters = sync.Pool{New: func() any { return flate.NewReaderDict(bytes.NewReader(nil), recordDict) }}
)

// deflateRecord returns b deflated with recordDict, after the format byte.
func deflateRecord(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b)/2 + 16)
	out.WriteByte(recordDeflated)
	w := deflaters.Get().(*flate.Writer)
	w.Reset(&out)
	_, _ = w.Write(b)
	_ = w.Close()
	deflaters.Put(w)
	return out.Bytes()
}

// inflateRecord reverses deflateRecord; anything else is returned as it is.
func inflateRecord(b []byte) ([]byte, error) {
	if len(b) == 0 || b[0] != recordDeflated {
		return b, nil
	}
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

// encodeRecord returns v as stored: JSON, deflated.
func encodeRecord(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return deflateRecord(b), nil
}

// decodeRecord reads a stored record, deflated or JSON, into v.
func decodeRecord(b []byte, v any) error {
	raw, err := inflateRecord(b)
	if err != nil {
		return fmt.Errorf("inflate: %w", err)
	}
	return json.Unmarshal(raw, v)
}
