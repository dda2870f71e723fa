package store

import (
	"bytes"
	"maps"
	"slices"

	"github.com/invoiced/invoiced/invoice"
)

// decodedRecord is a record StartJob decoded, kept with the stored bytes
// it was decoded from, for BeginSend to take instead of decoding the same
// bytes again a moment later; or the delivery BeginSend wrote, as those
// bytes decode, for the update that records it sent (updateWith). v is a
// copy no caller holds (cloneRecord): the one that takes it owns it.
type decodedRecord struct {
	b []byte
	v any
}

// decodedRecords are the records StartJob decoded and the deliveries
// BeginSend wrote, by key, until BeginSend or an update of the record
// takes them; one not taken stays until the map starts empty again
// (lastSeenMax).
type decodedRecords = lastSeen[decodedRecord]

// keepDecoded keeps a copy of v, a record decoded from b at key, if v is
// one BeginSend takes (a send, an invoice or a delivery).
func (s *Store) keepDecoded(key string, b []byte, v any) {
	if c := cloneRecord(v); c != nil {
		s.decoded.put(key, decodedRecord{b: b, v: c})
	}
}

// takeDecoded sets *v to the record kept decoded at key and reports
// true, if it was decoded from bytes equal to b; the record is no longer
// kept either way.
func takeDecoded[T any](s *Store, key string, b []byte, v *T) bool {
	e, ok := s.decoded.take(key)
	if !ok || !bytes.Equal(e.b, b) {
		return false
	}
	kept, ok := e.v.(*T)
	if ok {
		*v = *kept
	}
	return ok
}

// cloneRecord returns a deep copy of v, a *Send, *Delivery or
// *invoice.Invoice; nil for anything else.
func cloneRecord(v any) any {
	switch v := v.(type) {
	case *Send:
		return cloneSend(v)
	case *Delivery:
		return cloneDelivery(v)
	case *invoice.Invoice:
		return cloneInvoice(v)
	}
	return nil
}

// cloneSend returns a deep copy of send. A pointer, slice or map added to
// Send must be copied here too (TestCloneRecord fails until it is).
func cloneSend(send *Send) *Send {
	c := *send
	c.Channels = slices.Clone(c.Channels)
	c.Cc, c.Bcc = slices.Clone(c.Cc), slices.Clone(c.Bcc)
	c.Variables = maps.Clone(c.Variables)
	c.ScheduledAt = cloneValue(c.ScheduledAt)
	c.DeliveryIDs = slices.Clone(c.DeliveryIDs)
	c.StartedAt, c.CanceledAt = cloneValue(c.StartedAt), cloneValue(c.CanceledAt)
	return &c
}

// cloneDelivery returns a deep copy of d. A pointer, slice or map added
// to Delivery must be copied here too (TestCloneRecord fails until it
// is).
func cloneDelivery(d *Delivery) *Delivery {
	c := *d
	c.Cc, c.Bcc = slices.Clone(c.Cc), slices.Clone(c.Bcc)
	c.SentAt, c.DeliveredAt = cloneValue(c.SentAt), cloneValue(c.DeliveredAt)
	c.OpenedAt, c.ClickedAt = cloneValue(c.OpenedAt), cloneValue(c.ClickedAt)
	c.History = slices.Clone(c.History)
	c.Attempts = slices.Clone(c.Attempts)
	c.Claim = cloneValue(c.Claim)
	if c.Content != nil {
		content := *c.Content
		content.Attachments = slices.Clone(content.Attachments)
		c.Content = &content
	}
	return &c
}

// cloneInvoice returns a deep copy of inv. A pointer, slice or map added
// to invoice.Invoice must be copied here too (TestCloneRecord fails until
// it is).
func cloneInvoice(inv *invoice.Invoice) *invoice.Invoice {
	c := *inv
	c.Customer.Endpoint = cloneValue(c.Customer.Endpoint)
	c.Lines = slices.Clone(c.Lines)
	if c.Delivery != nil {
		d := *c.Delivery
		d.Address = cloneValue(d.Address)
		c.Delivery = &d
	}
	c.Period = cloneValue(c.Period)
	c.Allowances, c.Charges = slices.Clone(c.Allowances), slices.Clone(c.Charges)
	c.Taxes = slices.Clone(c.Taxes)
	c.Corrects = cloneValue(c.Corrects)
	c.CreditNotes = slices.Clone(c.CreditNotes)
	c.FinalizeAt, c.FinalizedAt = cloneValue(c.FinalizeAt), cloneValue(c.FinalizedAt)
	c.PaymentLinkExpiresAt = cloneValue(c.PaymentLinkExpiresAt)
	c.PaymentLinkDeactivatedAt = cloneValue(c.PaymentLinkDeactivatedAt)
	c.PaidAt, c.VoidedAt = cloneValue(c.PaidAt), cloneValue(c.VoidedAt)
	return &c
}
