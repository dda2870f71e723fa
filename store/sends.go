package store

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/invoice"
)

// SendStatus is where a send stands: scheduled or queued until a worker
// starts it, then started; canceled only before it starts.
type SendStatus string

// The send statuses.
const (
	SendScheduled SendStatus = "scheduled"
	SendQueued    SendStatus = "queued"
	SendStarted   SendStatus = "started"
	SendCanceled  SendStatus = "canceled"
)

// Send kinds.
const (
	SendKindSend     = "send"
	SendKindResend   = "resend"
	SendKindAuto     = "auto"     // emailed when the grace period finalized the draft
	SendKindReminder = "reminder" // a payment reminder (Settings.Reminders)
)

// Send is one request to send an invoice: its recipients and message
// overrides, resolved by the API, and the deliveries it fans out to.
type Send struct {
	ID          string            `json:"id"`
	TenantID    string            `json:"-"`
	InvoiceID   string            `json:"invoiceId"`
	Kind        string            `json:"kind"`
	Status      SendStatus        `json:"status"`
	Channels    []Channel         `json:"channels"`
	Email       string            `json:"email,omitempty"`
	Cc          []string          `json:"cc,omitempty"`
	Bcc         []string          `json:"bcc,omitempty"`
	ReplyTo     string            `json:"replyTo,omitempty"`
	Phone       string            `json:"phone,omitempty"`
	Subject     string            `json:"subject,omitempty"`
	Message     string            `json:"message,omitempty"`
	Note        string            `json:"note,omitempty"` // a paragraph after the body's greeting; Message replaces the body
	Variables   map[string]string `json:"variables,omitempty"`
	AttachPDF   bool              `json:"attachPdf"`
	AttachXML   bool              `json:"attachXml"`
	Language    string            `json:"language,omitempty"`
	TestMode    bool              `json:"testMode,omitempty"`
	ScheduledAt *time.Time        `json:"scheduledAt,omitempty"`
	DeliveryIDs []string          `json:"deliveryIds"`
	CreatedAt   time.Time         `json:"createdAt"`
	StartedAt   *time.Time        `json:"startedAt,omitempty"`
	CanceledAt  *time.Time        `json:"canceledAt,omitempty"`
}

func sendKey(tenantID, id string) string { return tenantKey(tenantID, "send", id) }

// scheduledSendsKey indexes a tenant's sends that wait for their time,
// scored by it (Unix milliseconds): in it from creation until the send
// starts or is canceled.
func scheduledSendsKey(tenantID string) string { return tenantKey(tenantID, "sends-scheduled") }

// CreateSend stores send and one delivery per channel and recipient, in one
// step and one round trip (casScript), with deliveries scheduled or queued
// as the send is. If a send with the same id exists, nothing is written,
// send is left as it was, and the existing send is returned with created
// false, so a deterministic id makes creation idempotent.
func (s *Store) CreateSend(ctx context.Context, send *Send) (out *Send, created bool, err error) {
	out, created, _, err = s.createSend(ctx, send, nil)
	return out, created, err
}

// CreateSendTaking is CreateSend that first takes emails from the
// tenant's hourly budget of perHour, as TakeEmails does, in the same step
// and round trip: a send whose emails do not fit is not created, and the
// refused take (OK false) says when they would; a send that exists takes
// nothing. A perHour of zero or less is no limit; emails above perHour is
// ErrOverHourlyLimit.
func (s *Store) CreateSendTaking(ctx context.Context, send *Send, emails, perHour int) (out *Send, created bool, took EmailTake, err error) {
	if perHour <= 0 {
		out, created, err = s.CreateSend(ctx, send)
		return out, created, EmailTake{OK: true}, err
	}
	if emails > perHour {
		return nil, false, EmailTake{}, fmt.Errorf("%d emails, %d per hour: %w", emails, perHour, ErrOverHourlyLimit)
	}
	out, created, refused, err := s.createSend(ctx, send, &emailTakeArgs{tenantID: send.TenantID, n: emails, perHour: perHour})
	if refused != nil {
		return nil, false, *refused, err
	}
	return out, created, EmailTake{OK: true}, err
}

// createSend is CreateSend, after take when it is set; a refused take
// is returned, and nothing written.
func (s *Store) createSend(ctx context.Context, send *Send, take *emailTakeArgs) (out *Send, created bool, refused *EmailTake, err error) {
	key := sendKey(send.TenantID, send.ID)
	// The send is filled in as new before Redis says whether it is; the
	// caller's send is left as it was if it is not.
	orig := *send
	orig.DeliveryIDs = slices.Clone(send.DeliveryIDs)
	ds, due := newSend(send, s.Now())
	b, err := encodeRecord(send)
	if err != nil {
		*send = orig
		return nil, false, nil, err
	}
	res, err := s.compareAndWrite(ctx, key, nil, func(p redis.Pipeliner) error {
		return putSend(ctx, p, send, b, ds, due)
	}, casOptions{take: take})
	switch {
	case err != nil:
		*send = orig
		return nil, false, nil, fmt.Errorf("create send %s: %w", send.ID, err)
	case res.written:
		return send, true, nil, nil
	case res.refused != nil:
		*send = orig
		return nil, false, res.refused, nil
	}
	*send = orig
	var old Send
	if err := decodeRecord(res.now, &old); err != nil {
		return nil, false, nil, fmt.Errorf("decode %s: %w", key, err)
	}
	old.TenantID = send.TenantID
	return &old, false, nil, nil
}

// newSend fills the stored fields of a new send as of now and returns its
// deliveries and when they are due.
func newSend(send *Send, now time.Time) ([]*Delivery, time.Time) {
	send.CreatedAt = now
	status := DeliveryQueued
	send.Status = SendQueued
	due := now
	if send.ScheduledAt != nil {
		status = DeliveryScheduled
		send.Status = SendScheduled
		due = *send.ScheduledAt
	}
	ds := newDeliveries(send, status, now)
	send.DeliveryIDs = send.DeliveryIDs[:0]
	for _, d := range ds {
		send.DeliveryIDs = append(send.DeliveryIDs, d.ID)
	}
	return ds, due
}

// putSend queues the writes of a new send, encoded as b, and its
// deliveries ds, due at due.
func putSend(ctx context.Context, p redis.Pipeliner, send *Send, b []byte, ds []*Delivery, due time.Time) error {
	p.Set(ctx, sendKey(send.TenantID, send.ID), b, 0)
	if send.ScheduledAt != nil {
		p.ZAdd(ctx, scheduledSendsKey(send.TenantID), redis.Z{Score: float64(send.ScheduledAt.UnixMilli()), Member: send.ID})
	}
	return putDeliveries(ctx, p, ds, due)
}

// newDeliveries fans a send out: one email delivery (to the send's address,
// with its cc and bcc on the same message) and one SMS delivery.
func newDeliveries(send *Send, status DeliveryStatus, now time.Time) []*Delivery {
	var ds []*Delivery
	for i, ch := range send.Channels {
		d := &Delivery{
			ID:        deliveryID(send.TenantID, send.ID, i, ch),
			TenantID:  send.TenantID,
			InvoiceID: send.InvoiceID,
			SendID:    send.ID,
			Channel:   ch,
			Status:    status,
			TestMode:  send.TestMode,
			CreatedAt: now,
			UpdatedAt: now,
			History:   []Transition{{Status: status, At: now, Source: "api"}},
		}
		switch ch {
		case ChannelEmail:
			d.To, d.Cc, d.Bcc = send.Email, send.Cc, send.Bcc
		case ChannelSMS:
			d.To = send.Phone
		}
		ds = append(ds, d)
	}
	return ds
}

// deliveryID is the id of a send's i-th delivery, on channel: derived
// from the send's id, so a send made again under the same id (the
// worker's auto-send or a reminder, after Redis lost the first one in a
// machine crash) makes the same delivery, with the same claim and the
// same Message-ID, rather than a second email. A send with a random id
// gets a delivery id as random.
func deliveryID(tenantID, sendID string, i int, ch Channel) string {
	id := formDeliveryID(tenantID, sendID, i, ch)
	return string(id[:])
}

// formDeliveryID forms deliveryID's id on the stack.
func formDeliveryID(tenantID, sendID string, i int, ch Channel) [20]byte {
	var in [128]byte
	b := append(in[:0], tenantID...)
	b = append(append(b, 0), sendID...)
	b = strconv.AppendInt(append(b, 0), int64(i), 10)
	b = append(append(b, 0), ch...)
	sum := sha256.Sum256(b)
	// 10 bytes are 16 characters of base32 exactly, with no padding.
	id := [20]byte{'d', 'l', 'v', '_'}
	base32.StdEncoding.Encode(id[4:], sum[:10])
	for i, c := range id[4:] {
		if c >= 'A' && c <= 'Z' {
			id[4+i] = c + ('a' - 'A')
		}
	}
	return id
}

// Send returns tenant's send id, or ErrNotFound.
func (s *Store) Send(ctx context.Context, tenantID, id string) (*Send, error) {
	var send Send
	if err := getJSON(ctx, s.rdb, sendKey(tenantID, id), &send); err != nil {
		return nil, err
	}
	send.TenantID = tenantID
	return &send, nil
}

// SendJob returns, in one round trip, what a delivery of send sendID
// needs besides itself: the send, its invoice invoiceID and the tenant's
// settings, each as Send, Invoice and Settings return it. A missing send
// or invoice is ErrNotFound, wrapped with which it is. An update of the
// send or the invoice that follows starts from them (see seenRecords).
func (s *Store) SendJob(ctx context.Context, tenantID, sendID, invoiceID string) (*Send, *invoice.Invoice, Settings, error) {
	_, send, inv, st, err := s.job(ctx, tenantID, nil, sendID, invoiceID)
	return send, inv, st, err
}

// StartJob is SendJob that reads the send's deliveries deliveryIDs as
// well, in the same round trip: what a send task starts from. The
// deliveries come back in the order of deliveryIDs; a missing one is
// ErrNotFound. Updates of the deliveries that follow start from them.
func (s *Store) StartJob(ctx context.Context, tenantID, sendID, invoiceID string, deliveryIDs []string) (*Send, *invoice.Invoice, []*Delivery, Settings, error) {
	ds, send, inv, st, err := s.job(ctx, tenantID, deliveryIDs, sendID, invoiceID)
	return send, inv, ds, st, err
}

// DeliveryJob returns, in one round trip, delivery id with what it needs
// (see SendJob): its send sendID and invoice invoiceID, as a delivery
// task names them, and the tenant's settings. If the delivery belongs to
// another send or invoice than named, those are read in a second round
// trip. A missing delivery, send or invoice is ErrNotFound, wrapped with
// which it is.
func (s *Store) DeliveryJob(ctx context.Context, tenantID, id, sendID, invoiceID string) (*Delivery, *Send, *invoice.Invoice, Settings, error) {
	ds, send, inv, st, err := s.job(ctx, tenantID, []string{id}, sendID, invoiceID)
	if err != nil {
		return nil, nil, nil, Settings{}, err
	}
	d := ds[0]
	if d.SendID != sendID || d.InvoiceID != invoiceID {
		send, inv, st, err = s.SendJob(ctx, tenantID, d.SendID, d.InvoiceID)
	}
	return d, send, inv, st, err
}

// job reads deliveries ids, send sendID, invoice invoiceID and tenant's
// settings with one MGET (see getWithSettings).
func (s *Store) job(ctx context.Context, tenantID string, ids []string, sendID, invoiceID string) ([]*Delivery, *Send, *invoice.Invoice, Settings, error) {
	send, inv := &Send{}, &invoice.Invoice{}
	keys := make([]string, 0, 3+len(ids))
	keys = append(keys, sendKey(tenantID, sendID), invoiceKey(tenantID, invoiceID))
	records := make([]any, 0, 2+len(ids))
	records = append(records, send, inv)
	ds := make([]*Delivery, len(ids))
	for i, id := range ids {
		ds[i] = &Delivery{}
		keys = append(keys, deliveryKey(tenantID, id))
		records = append(records, ds[i])
	}
	st, err := s.getWithSettings(ctx, tenantID, keys, records)
	if err != nil {
		return nil, nil, nil, Settings{}, err
	}
	send.TenantID, inv.TenantID = tenantID, tenantID
	for _, d := range ds {
		d.TenantID = tenantID
	}
	return ds, send, inv, st, nil
}

// InvoiceForSend returns, in one round trip, tenant's invoice id, as
// Invoice does, and the tenant's settings, as Settings does: what a send
// request checks. A missing invoice is ErrNotFound.
func (s *Store) InvoiceForSend(ctx context.Context, tenantID, id string) (*invoice.Invoice, Settings, error) {
	keys := []string{invoiceKey(tenantID, id), tenantKey(tenantID, "settings")}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	return s.invoiceForSend(tenantID, keys, vals, err)
}

// InvoiceRead is what InvoiceForSend returns: an invoice with its
// tenant's settings, or the error that kept them from being read.
type InvoiceRead struct {
	Invoice  *invoice.Invoice
	Settings Settings
	Err      error
}

// TenantAndInvoiceForSend returns the tenant of an API token, as
// TenantByToken does, and that tenant's invoice id with its settings, as
// InvoiceForSend does: a send request's reads. Once this store has seen
// the token, all of it is one round trip (two on a Redis Cluster, where
// the token is in another slot, in parallel), one fewer than
// TenantByToken and then InvoiceForSend.
//
// The invoice is read for the tenant the token named when last looked up
// and kept only if the token still names that tenant; otherwise it is
// read again for the tenant the token names now. A token that is no
// longer in Redis, or whose tenant is not, is ErrNotFound, as is a
// missing invoice in the InvoiceRead's Err.
func (s *Store) TenantAndInvoiceForSend(ctx context.Context, token, id string) (Tenant, InvoiceRead, error) {
	var keys []string
	var mget *redis.SliceCmd
	t, err := s.tenantByToken(ctx, token, func(p redis.Pipeliner, tenantID string) {
		keys = []string{invoiceKey(tenantID, id), tenantKey(tenantID, "settings")}
		mget = p.MGet(ctx, keys...)
	})
	if err != nil {
		return Tenant{}, InvoiceRead{}, err
	}
	inv, st, err := s.invoiceForSend(t.ID, keys, mget.Val(), mget.Err())
	return t, InvoiceRead{Invoice: inv, Settings: st, Err: err}, nil
}

// invoiceForSend decodes the reply (vals, err) of an MGET of keys, the
// invoice and the settings of tenant, as InvoiceForSend returns them.
func (s *Store) invoiceForSend(tenantID string, keys []string, vals []any, err error) (*invoice.Invoice, Settings, error) {
	var inv invoice.Invoice
	st, err := s.decodeWithSettings(tenantID, keys[:1], []any{&inv}, vals, err, false)
	if err != nil {
		return nil, Settings{}, err
	}
	inv.TenantID = tenantID
	return &inv, st, nil
}

// getWithSettings reads the record at each of keys into the records at
// the same index, and tenant's settings, with one MGET, and keeps the
// records' bytes for updates that follow (see seenRecords), and a copy
// of each record for BeginSend (see decodedRecords). A missing record is
// ErrNotFound, wrapped with its key; missing settings are the defaults.
func (s *Store) getWithSettings(ctx context.Context, tenantID string, keys []string, records []any) (Settings, error) {
	vals, err := s.rdb.MGet(ctx, append(keys, tenantKey(tenantID, "settings"))...).Result()
	return s.decodeWithSettings(tenantID, keys, records, vals, err, true)
}

// decodeWithSettings decodes the reply (vals, err) of the MGET of
// getWithSettings as it does; it keeps copies of the records decoded only
// if keep is set.
func (s *Store) decodeWithSettings(tenantID string, keys []string, records []any, vals []any, err error, keep bool) (Settings, error) {
	if err != nil {
		return Settings{}, fmt.Errorf("mget %s: %w", keys[0], err)
	}
	for i, v := range records {
		str, ok := vals[i].(string)
		if !ok {
			return Settings{}, fmt.Errorf("%s: %w", keys[i], ErrNotFound)
		}
		b := replyBytes(str) // decoding reads it, the seen records keep it
		if err := decodeRecord(b, v); err != nil {
			return Settings{}, fmt.Errorf("decode %s: %w", keys[i], err)
		}
		s.seen.put(keys[i], b)
		if keep {
			s.keepDecoded(keys[i], b, v)
		}
	}
	if b, ok := vals[len(keys)].(string); ok {
		return s.decodeSettings(tenantID, replyBytes(b))
	}
	return Settings{}, nil
}

// MadeQueued reports whether the send made its deliveries queued (it was
// never scheduled) and they are the ones newSend made: a delivery then
// needs no transition to queued when the send starts.
func (send *Send) MadeQueued() bool {
	if send.ScheduledAt != nil || len(send.DeliveryIDs) != len(send.Channels) {
		return false
	}
	for i, ch := range send.Channels {
		id := formDeliveryID(send.TenantID, send.ID, i, ch)
		if send.DeliveryIDs[i] != string(id[:]) {
			return false
		}
	}
	return true
}

// StartSend marks a scheduled or queued send started and returns it. A send
// that is already started is returned as is, so a retried task resumes it.
// A canceled send is ErrConflict: it must not go out.
func (s *Store) StartSend(ctx context.Context, tenantID, id string) (*Send, error) {
	send, err := update(ctx, s, sendKey(tenantID, id), func(send *Send) error {
		switch send.Status {
		case SendCanceled:
			return fmt.Errorf("%w: send %s was canceled", ErrConflict, id)
		case SendScheduled, SendQueued:
			now := s.Now()
			send.Status = SendStarted
			send.StartedAt = &now
		}
		return nil
	}, func(p redis.Pipeliner, send *Send) {
		if send.ScheduledAt != nil { // only a send made scheduled is indexed
			p.ZRem(ctx, scheduledSendsKey(tenantID), id)
		}
	})
	if err != nil {
		return nil, err
	}
	send.TenantID = tenantID
	return send, nil
}

// CancelSend cancels a scheduled send that has not started, and its
// deliveries. Any other status is ErrConflict.
func (s *Store) CancelSend(ctx context.Context, tenantID, invoiceID, id string) (*Send, error) {
	send, err := update(ctx, s, sendKey(tenantID, id), func(send *Send) error {
		if send.InvoiceID != invoiceID {
			return ErrNotFound
		}
		if send.Status == SendCanceled {
			return nil
		}
		if send.Status != SendScheduled {
			return fmt.Errorf("%w: send %s is %s; only a scheduled send can be canceled", ErrConflict, id, send.Status)
		}
		now := s.Now()
		send.Status = SendCanceled
		send.CanceledAt = &now
		return nil
	}, func(p redis.Pipeliner, _ *Send) {
		p.ZRem(ctx, scheduledSendsKey(tenantID), id)
	})
	if err != nil {
		return nil, err
	}
	send.TenantID = tenantID
	for _, did := range send.DeliveryIDs {
		if _, _, err := s.Transition(ctx, tenantID, did, DeliveryCanceled, "api", "send canceled", nil); err != nil {
			return nil, err
		}
	}
	return send, nil
}

// SendCursor is where a listing of scheduled sends goes on from: after the
// send with ID, due at At. It stays valid when that send starts or is
// canceled meanwhile.
type SendCursor struct {
	At time.Time
	ID string
}

// String writes the cursor as "<Unix ms>.<send id>".
func (c SendCursor) String() string { return strconv.FormatInt(c.At.UnixMilli(), 10) + "." + c.ID }

// ParseSendCursor reads a SendCursor's String.
func ParseSendCursor(s string) (SendCursor, error) {
	ms, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" || n < 0 {
		return SendCursor{}, errors.New("not a cursor from an earlier page")
	}
	return SendCursor{At: time.UnixMilli(n).UTC(), ID: id}, nil
}

// ScheduledSends returns up to limit of tenant's sends that wait for their
// time, soonest first (sends due in the same millisecond by id), starting
// after the cursor after if it is set, and the cursor of the page after
// it (nil when there is none).
func (s *Store) ScheduledSends(ctx context.Context, tenantID string, after *SendCursor, limit int) ([]*Send, *SendCursor, error) {
	if err := s.indexSends(ctx, tenantID); err != nil {
		return nil, nil, err
	}
	key := scheduledSendsKey(tenantID)
	minScore := "-inf"
	if after != nil {
		minScore = strconv.FormatInt(after.At.UnixMilli(), 10)
	}
	var out []*Send
	batch := int64(limit + 1)
	for offset := int64(0); ; offset += batch {
		zs, err := s.rdb.ZRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{Min: minScore, Max: "+inf", Offset: offset, Count: batch}).Result()
		if err != nil {
			return nil, nil, fmt.Errorf("scheduled sends: %w", err)
		}
		for _, z := range zs {
			id := z.Member.(string)
			if after != nil && int64(z.Score) == after.At.UnixMilli() && id <= after.ID {
				continue // on an earlier page
			}
			send, err := s.Send(ctx, tenantID, id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			if send.Status != SendScheduled || send.ScheduledAt == nil {
				continue // started or canceled just now
			}
			if len(out) == limit {
				last := out[limit-1]
				return out, &SendCursor{At: *last.ScheduledAt, ID: last.ID}, nil
			}
			out = append(out, send)
		}
		if int64(len(zs)) < batch {
			return out, nil, nil
		}
	}
}

// SendStart is what BeginSend is asked to write: the start of tenant's
// send SendID, the finalization of its invoice when that is a draft, and
// the claim of its delivery DeliveryID for the attempt holding Token.
type SendStart struct {
	TenantID, SendID, DeliveryID string
	// Finalized, if set, makes further changes to the invoice in the same
	// write when BeginSend finalizes it, as FinalizeWith's then does.
	Finalized func(inv *invoice.Invoice)
	// Token, Provider and TTL are the claim's, as ClaimSend takes them.
	Token, Provider string
	TTL             time.Duration
	// Recipients, when set, are looked up on the tenant's suppression
	// list in the same round trip (Suppressed).
	Recipients []string
}

// SendBegun is what BeginSend did. When Begun is false nothing was
// written, and the caller goes on step by step (StartSend, FinalizeWith,
// ClaimSend), which start from what the records hold now.
type SendBegun struct {
	Begun bool
	// Send, Invoice and Delivery are the records as written: the send
	// started, the invoice finalized (Finalized) or as it was, the
	// delivery claimed.
	Send      *Send
	Invoice   *invoice.Invoice
	Delivery  *Delivery
	Finalized bool
	// Fanout are the ids of the events recorded with the write
	// (invoice.finalized) whose fan-out is pending (see RecordEvents).
	Fanout []string
	// Suppression is the answer for Recipients, when they were given.
	Suppression *SuppressionLookup
}

// BeginSend starts a send, finalizes its draft invoice (recording
// invoice.finalized) and claims one of its deliveries, in one step and one
// round trip, from the records as StartJob read them: it writes all of
// them only if each still holds what was read, and otherwise nothing. It
// is for a send's common case, and begins nothing, without asking Redis,
// when the records are not in it: the send is not queued or did not make
// its deliveries queued (Send.MadeQueued), the invoice is not the
// send's or is void, the delivery is not the send's, not queued, or
// claimed, or the records were not read by this store last. Then, and
// when a record changed since it was read, the caller goes on step by
// step; what the records hold now is kept for those steps (seenRecords).
// A paid or open invoice is compared and left as it is.
func (s *Store) BeginSend(ctx context.Context, start SendStart) (SendBegun, error) {
	ten := start.TenantID
	sk, dk := sendKey(ten, start.SendID), deliveryKey(ten, start.DeliveryID)
	var send Send
	var d Delivery
	oldSend, ok := seenRecord(s, sk, &send)
	if !ok || send.Status != SendQueued {
		return SendBegun{}, nil
	}
	send.TenantID = ten
	if !send.MadeQueued() || !slices.Contains(send.DeliveryIDs, start.DeliveryID) {
		return SendBegun{}, nil
	}
	ik := invoiceKey(ten, send.InvoiceID)
	var inv invoice.Invoice
	oldInv, ok := seenRecord(s, ik, &inv)
	if !ok || !inv.Status.Sendable() {
		return SendBegun{}, nil
	}
	oldD, ok := seenRecord(s, dk, &d)
	if !ok || d.SendID != send.ID || d.Status != DeliveryQueued || d.Claim != nil {
		return SendBegun{}, nil
	}
	inv.TenantID, d.TenantID = ten, ten

	now := s.Now()
	send.Status, send.StartedAt = SendStarted, &now
	before := inv
	finalized := inv.Status == invoice.StatusDraft
	if finalized {
		inv.Status = invoice.StatusOpen
		inv.FinalizedAt, inv.FinalizedBy, inv.FinalizeAt, inv.UpdatedAt = &now, "send", nil, now
		if start.Finalized != nil {
			start.Finalized(&inv)
		}
	}
	d.Claim = &Claim{Token: start.Token, Provider: start.Provider, At: now, Until: now.Add(start.TTL)}
	d.UpdatedAt = now

	sendB, err := encodeRecord(&send)
	if err != nil {
		return SendBegun{}, err
	}
	dB, err := encodeRecord(&d)
	if err != nil {
		return SendBegun{}, err
	}
	invB := oldInv
	var o casOptions
	if finalized {
		if invB, err = encodeRecord(&inv); err != nil {
			return SendBegun{}, err
		}
		o.events = &eventBatch{tenantID: ten, at: now, events: newEvents(inv.ID, []string{EventInvoiceFinalized}, FinalizedEventData(&inv), now)}
	}
	var suppressed *redis.SliceCmd
	if len(start.Recipients) > 0 {
		o.beside = func(p redis.Pipeliner) {
			suppressed = p.HMGet(ctx, suppressionKey(ten), suppressionFields(start.Recipients)...)
		}
	}
	keys := []string{sk, ik, dk}
	res, held, err := s.compareAndWriteAll(ctx, keys, [][]byte{oldSend, oldInv, oldD}, func(p redis.Pipeliner) error {
		p.Set(ctx, sk, sendB, redis.KeepTTL)
		if finalized {
			p.Set(ctx, ik, invB, redis.KeepTTL)
			p.ZRem(ctx, draftsKey(ten), inv.ID)
			indexInvoice(ctx, p, ten, &inv, &before)
		}
		p.Set(ctx, dk, dB, redis.KeepTTL)
		return nil
	}, o)
	if err != nil {
		for _, k := range keys {
			s.seen.drop(k)
		}
		return SendBegun{}, fmt.Errorf("begin send %s: %w", start.SendID, err)
	}
	if !res.written {
		for i, k := range keys {
			if held[i] == nil {
				s.seen.drop(k)
			} else {
				s.seen.put(k, held[i])
			}
		}
		return SendBegun{}, nil
	}
	s.seen.put(sk, sendB)
	s.seen.put(ik, invB)
	s.seen.put(dk, dB)
	// The delivery's recording sent (or failed) follows: it starts from
	// the delivery as written, not from dB decoded again.
	kept := cloneDelivery(&d)
	kept.TenantID = "" // not stored: as dB decodes
	s.decoded.put(dk, decodedRecord{b: dB, v: kept})
	out := SendBegun{Begun: true, Send: &send, Invoice: &inv, Delivery: &d, Finalized: finalized, Fanout: res.fanout}
	if suppressed != nil {
		l := suppressedIn(start.Recipients, suppressed)
		out.Suppression = &l
	}
	return out, nil
}

// seenRecord decodes the record at key as this store last read or wrote
// it (seenRecords) into v, and returns its bytes; false when there are
// none, or they do not decode. The copy StartJob kept of the record, if
// it was decoded from those very bytes, is taken instead of decoding
// them again (decodedRecords).
func seenRecord[T any](s *Store, key string, v *T) ([]byte, bool) {
	b, ok := s.seen.get(key)
	if !ok {
		return nil, false
	}
	if takeDecoded(s, key, b, v) {
		return b, true
	}
	if decodeRecord(b, v) != nil {
		return nil, false
	}
	return b, true
}
