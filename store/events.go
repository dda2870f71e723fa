package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Webhook event types.
const (
	EventInvoiceFinalized      = "invoice.finalized"
	EventInvoicePaid           = "invoice.paid"
	EventInvoiceVoided         = "invoice.voided"
	EventInvoiceSent           = "invoice.sent"
	EventInvoiceDelivered      = "invoice.delivered"
	EventInvoiceOpened         = "invoice.opened"
	EventInvoiceLinkClicked    = "invoice.payment_link_clicked"
	EventInvoiceDeliveryFailed = "invoice.delivery_failed"
	EventEmailDelivered        = "email.delivered"
	EventEmailBounced          = "email.bounced"
	EventSMSDelivered          = "sms.delivered"
	EventSMSFailed             = "sms.failed"
	EventCreditNoteCreated     = "credit_note.created"
)

// EventTypes lists every event type, for validating endpoint filters.
var EventTypes = []string{
	EventInvoiceFinalized, EventInvoicePaid, EventInvoiceVoided, EventInvoiceSent, EventInvoiceDelivered, EventInvoiceOpened,
	EventInvoiceLinkClicked, EventInvoiceDeliveryFailed, EventEmailDelivered, EventEmailBounced,
	EventSMSDelivered, EventSMSFailed, EventCreditNoteCreated,
}

// EventTTL is how long events are kept for replay.
const EventTTL = 30 * 24 * time.Hour

// Event is something that happened to an invoice, as webhooks carry it.
// Its id is derived from what happened, so recording it twice is a no-op
// and receivers see one webhook-id however often it is delivered.
type Event struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

func eventKey(tenantID, id string) string { return tenantKey(tenantID, "evt", id) }

// DeliveryEventTypes returns the webhook events a delivery's move to status
// fires: a delivered email fires invoice.delivered and email.delivered, a
// bounce email.bounced and invoice.delivery_failed, and so on. A move to
// sent fires none of its own: invoice.sent is the send's event, once all
// of its deliveries have left queued (see Store.SentEventData).
func DeliveryEventTypes(ch Channel, to DeliveryStatus) []string {
	switch to {
	case DeliveryDelivered:
		if ch == ChannelSMS {
			return []string{EventInvoiceDelivered, EventSMSDelivered}
		}
		return []string{EventInvoiceDelivered, EventEmailDelivered}
	case DeliveryOpened:
		return []string{EventInvoiceOpened}
	case DeliveryClicked:
		return []string{EventInvoiceLinkClicked}
	case DeliveryBounced:
		return []string{EventEmailBounced, EventInvoiceDeliveryFailed}
	case DeliveryFailed:
		if ch == ChannelSMS {
			return []string{EventSMSFailed, EventInvoiceDeliveryFailed}
		}
		return []string{EventInvoiceDeliveryFailed}
	}
	return nil
}

// DeliveryEventData is the data of a delivery's events: invoiceId,
// sendId, deliveryId, method (the channel; channel too), to, status, the
// times it reached each status so far (sentAt, deliveredAt, openedAt,
// clickedAt; absent until then), provider and providerId once a provider
// took it, error when it failed, source (who reported the change) and
// ipAddress when the change came with one (an open or a click).
func DeliveryEventData(d *Delivery) map[string]any {
	// The map is made at the size it may reach (7 keys, 4 times, 5 more),
	// where it grew past 8 keys, the times are read from an array, not a
	// map, and the channel is boxed once for its two keys.
	channel := any(d.Channel)
	data := make(map[string]any, 16)
	data["invoiceId"], data["sendId"], data["deliveryId"] = d.InvoiceID, d.SendID, d.ID
	data["method"], data["channel"], data["to"], data["status"] = channel, channel, d.To, d.Status
	for _, at := range [...]struct {
		name string
		at   *time.Time
	}{{"sentAt", d.SentAt}, {"deliveredAt", d.DeliveredAt}, {"openedAt", d.OpenedAt}, {"clickedAt", d.ClickedAt}} {
		if at.at != nil {
			data[at.name] = at.at.UTC()
		}
	}
	if d.Provider != "" {
		data["provider"], data["providerId"] = d.Provider, d.ProviderID
	}
	if d.Error != "" {
		data["error"] = d.Error
	}
	if n := len(d.History); n > 0 {
		last := d.History[n-1]
		data["source"] = last.Source
		if last.IP != "" {
			data["ipAddress"] = last.IP
		}
	}
	return data
}

// SentEventData returns the data of the invoice.sent event of tenant's
// send, and true, once every delivery of the send has left scheduled and
// queued and its provider took at least one of them: invoiceId, sendId,
// kind, sentVia (the channels taken, in the send's channel order), sentTo
// (their recipients, in the same order) and sentAt (when the last of them
// was taken). It returns false while a delivery is still scheduled or
// queued, and when none was taken: the failures fire their own events.
//
// The data depends only on deliveries that have left queued, whose sent
// time no longer changes, so whoever computes it gets the same. Callers
// record a delivery's change before they call this: of two deliveries
// settling at once, at least one then sees the other settled, and the
// event's id, derived from the send, keeps the two to one event.
//
// recorded, when not nil, is a delivery of the send as the caller just
// recorded it, which is used as it is instead of being read again; the
// send's other deliveries are read in one round trip.
func (s *Store) SentEventData(ctx context.Context, tenantID, sendID string, recorded *Delivery) (map[string]any, bool, error) {
	send, err := s.Send(ctx, tenantID, sendID)
	if err != nil {
		return nil, false, fmt.Errorf("send %s: %w", sendID, err)
	}
	return s.SendSentEventData(ctx, send, recorded)
}

// SendSentEventData is SentEventData of send as the caller read it: what
// the event's data takes from a send (its invoice, kind, channels and
// deliveries) does not change once the send is made, so any reading of it
// will do.
func (s *Store) SendSentEventData(ctx context.Context, send *Send, recorded *Delivery) (map[string]any, bool, error) {
	deliveries, err := s.sendDeliveries(ctx, send.TenantID, send.DeliveryIDs, recorded)
	if err != nil {
		return nil, false, err
	}
	data, complete := sentEventData(send, deliveries)
	return data, complete, nil
}

// sentEventData is SendSentEventData of send with its deliveries as read.
func sentEventData(send *Send, deliveries []*Delivery) (map[string]any, bool) {
	taken := map[Channel][]*Delivery{}
	var sentAt time.Time
	for _, d := range deliveries {
		if d.Status.open() {
			return nil, false
		}
		if at, ok := d.acceptedAt(); ok {
			taken[d.Channel] = append(taken[d.Channel], d)
			if at.After(sentAt) {
				sentAt = at
			}
		}
	}
	if len(taken) == 0 {
		return nil, false
	}
	sentVia, sentTo := []Channel{}, []string{}
	for _, ch := range send.Channels {
		if len(taken[ch]) == 0 {
			continue
		}
		sentVia = append(sentVia, ch)
		for _, d := range taken[ch] {
			sentTo = append(sentTo, d.To)
		}
		delete(taken, ch) // a channel named twice is sent once
	}
	return map[string]any{
		"invoiceId": send.InvoiceID, "sendId": send.ID, "kind": send.Kind,
		"sentVia": sentVia, "sentTo": sentTo, "sentAt": sentAt.UTC(),
	}, true
}

// sendDeliveries returns the deliveries of ids that exist, in order:
// recorded (when one of them) as it is, the others read with one MGET.
func (s *Store) sendDeliveries(ctx context.Context, tenantID string, ids []string, recorded *Delivery) ([]*Delivery, error) {
	out := make([]*Delivery, len(ids))
	var keys []string
	var at []int
	for i, id := range ids {
		if recorded != nil && recorded.ID == id && recorded.TenantID == tenantID {
			out[i] = recorded
			continue
		}
		keys = append(keys, deliveryKey(tenantID, id))
		at = append(at, i)
	}
	if len(keys) > 0 {
		vals, err := s.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, fmt.Errorf("get deliveries: %w", err)
		}
		for j, v := range vals {
			str, ok := v.(string)
			if !ok {
				continue // gone
			}
			d := new(Delivery)
			if err := decodeRecord(replyBytes(str), d); err != nil {
				return nil, fmt.Errorf("decode %s: %w", keys[j], err)
			}
			d.TenantID = tenantID
			out[at[j]] = d
		}
	}
	return slices.DeleteFunc(out, func(d *Delivery) bool { return d == nil }), nil
}

// fanoutPendingKey holds the ids of tenant's events whose fan-out to
// webhook endpoints has not run, scored by when they were recorded (ms).
func fanoutPendingKey(tenantID string) string { return tenantKey(tenantID, "evt-pending") }

// recordEventsLua defines recordEvents(i), which stores the events laid
// out in ARGV from i that do not exist yet, and marks their fan-out
// pending if the tenant has a webhook endpoint, in one step: an event is
// never recorded without a trace of the fan-out it still needs. The
// layout (eventArgs): the TTL, the time (ms) and how many KEYS come
// before the events' own, then each event's JSON and id. Those KEYS are
// the pending set, the endpoints hash, then each event's key, in the
// order of the events: no key crosses twice. It returns the ids whose
// fan-out is pending.
const recordEventsLua = `
local function recordEvents(i)
	local ttl, now, k = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
	local pendingKey = KEYS[k + 1]
	local fanout = redis.call('EXISTS', KEYS[k + 2]) == 1
	local pending = {}
	k = k + 3
	for j = i + 3, #ARGV, 2 do
		if redis.call('SET', KEYS[k], ARGV[j], 'NX', 'PX', ttl) and fanout then
			redis.call('ZADD', pendingKey, now, ARGV[j + 1])
			table.insert(pending, ARGV[j + 1])
		end
		k = k + 1
	end
	return pending
end
`

// recordEventsScript runs recordEvents on all of ARGV and KEYS.
var recordEventsScript = redis.NewScript(recordEventsLua + `return recordEvents(1)`)

// newEvents returns one event per type with data, as of now, under ids
// derived from subject (a delivery, send or invoice id) and the type.
func newEvents(subject string, types []string, data map[string]any, now time.Time) []Event {
	evs := make([]Event, len(types))
	for i, typ := range types {
		evs[i] = Event{ID: "evt_" + subject + "_" + typ, Type: typ, Timestamp: now, Data: data}
	}
	return evs
}

// eventArgs lays out tenant's events evs, recorded at now, for
// recordEvents, and returns the keys they name, for a script to have in
// KEYS after the skip keys before them.
func eventArgs(tenantID string, evs []Event, now time.Time, skip int) (keys []string, args []any, err error) {
	keys = make([]string, 0, 2+len(evs))
	keys = append(keys, fanoutPendingKey(tenantID), endpointsKey(tenantID))
	args = make([]any, 0, 3+2*len(evs))
	args = append(args, EventTTL.Milliseconds(), now.UnixMilli(), skip)
	for _, ev := range evs {
		b, err := encodeRecord(ev)
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, eventKey(tenantID, ev.ID))
		args = append(args, b, ev.ID)
	}
	return keys, args, nil
}

// RecordEvents stores one event per type with data, under ids derived from
// subject (a delivery or invoice id) and the type, and returns the ids of
// those recorded now whose fan-out to the tenant's webhook endpoints is
// pending until FanoutDone: none when the tenant has no endpoint, so a
// tenant without webhooks costs no fan-out task. Such events are kept all
// the same, for a replay to an endpoint added later.
func (s *Store) RecordEvents(ctx context.Context, tenantID, subject string, types []string, data map[string]any) ([]string, error) {
	if len(types) == 0 {
		return nil, nil
	}
	now := s.Now()
	keys, args, err := eventArgs(tenantID, newEvents(subject, types, data, now), now, 0)
	if err != nil {
		return nil, err
	}
	pending, err := recordEventsScript.Run(ctx, s.rdb, keys, args...).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("record events: %w", err)
	}
	return pending, nil
}

// FanoutDone records that event id has been fanned out to the tenant's
// endpoints (or has expired), so no sweep queues it again.
func (s *Store) FanoutDone(ctx context.Context, tenantID, id string) error {
	if err := s.rdb.ZRem(ctx, fanoutPendingKey(tenantID), id).Err(); err != nil {
		return fmt.Errorf("fan-out done: %w", err)
	}
	return nil
}

// PendingFanouts returns up to limit of tenant's events recorded before
// before whose fan-out has not run, oldest first: their task is still
// waiting, or was never queued because Redis went away in between. Events
// older than EventTTL have expired and are dropped from the list.
func (s *Store) PendingFanouts(ctx context.Context, tenantID string, before time.Time, limit int64) ([]string, error) {
	key := fanoutPendingKey(tenantID)
	expired := "(" + strconv.FormatInt(s.Now().Add(-EventTTL).UnixMilli(), 10)
	if err := s.rdb.ZRemRangeByScore(ctx, key, "-inf", expired).Err(); err != nil {
		return nil, fmt.Errorf("pending fan-outs: %w", err)
	}
	ids, err := s.rdb.ZRangeByScore(ctx, key, &redis.ZRangeBy{
		Min: "-inf", Max: "(" + strconv.FormatInt(before.UnixMilli(), 10), Count: limit,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("pending fan-outs: %w", err)
	}
	return ids, nil
}

// Event returns one of tenant's events.
func (s *Store) Event(ctx context.Context, tenantID, id string) (*Event, error) {
	var ev Event
	if err := getJSON(ctx, s.rdb, eventKey(tenantID, id), &ev); err != nil {
		return nil, err
	}
	return &ev, nil
}

// WebhookEndpoint is where a tenant receives events.
type WebhookEndpoint struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Events filters the event types sent; empty means all.
	Events []string `json:"events"`
	// Secret signs deliveries (Standard Webhooks, "whsec_…").
	Secret      string     `json:"-"`
	Disabled    bool       `json:"disabled"`
	DisabledWhy string     `json:"disabledReason,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	DisabledAt  *time.Time `json:"disabledAt,omitempty"`
}

// Wants reports whether the endpoint takes events of type typ.
func (e *WebhookEndpoint) Wants(typ string) bool {
	if e.Disabled {
		return false
	}
	if len(e.Events) == 0 {
		return true
	}
	for _, t := range e.Events {
		if t == typ {
			return true
		}
	}
	return false
}

// storedEndpoint keeps the secret, sealed, beside the public fields.
type storedEndpoint struct {
	WebhookEndpoint
	SealedSecret string `json:"secret"`
}

func endpointsKey(tenantID string) string { return tenantKey(tenantID, "webhooks") }

// SaveEndpoint creates or replaces a webhook endpoint.
func (s *Store) SaveEndpoint(ctx context.Context, tenantID string, e *WebhookEndpoint) error {
	b, err := json.Marshal(storedEndpoint{WebhookEndpoint: *e, SealedSecret: s.sealer.seal(e.Secret)})
	if err != nil {
		return err
	}
	return s.rdb.HSet(ctx, endpointsKey(tenantID), e.ID, b).Err()
}

// Endpoints returns tenant's webhook endpoints with their secrets.
func (s *Store) Endpoints(ctx context.Context, tenantID string) ([]*WebhookEndpoint, error) {
	all, err := s.rdb.HGetAll(ctx, endpointsKey(tenantID)).Result()
	if err != nil {
		return nil, err
	}
	out := make([]*WebhookEndpoint, 0, len(all))
	for _, raw := range all {
		e, err := s.decodeEndpoint(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Endpoint returns one webhook endpoint with its secret.
func (s *Store) Endpoint(ctx context.Context, tenantID, id string) (*WebhookEndpoint, error) {
	raw, err := s.rdb.HGet(ctx, endpointsKey(tenantID), id).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.decodeEndpoint(raw)
}

func (s *Store) decodeEndpoint(raw string) (*WebhookEndpoint, error) {
	var se storedEndpoint
	if err := json.Unmarshal([]byte(raw), &se); err != nil {
		return nil, err
	}
	secret, err := s.sealer.open(se.SealedSecret)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", se.ID, err)
	}
	se.WebhookEndpoint.Secret = secret
	return &se.WebhookEndpoint, nil
}

// DeleteEndpoint removes a webhook endpoint.
func (s *Store) DeleteEndpoint(ctx context.Context, tenantID, id string) error {
	n, err := s.rdb.HDel(ctx, endpointsKey(tenantID), id).Result()
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// DisableEndpoint stops deliveries to an endpoint, with the reason.
func (s *Store) DisableEndpoint(ctx context.Context, tenantID, id, why string) error {
	e, err := s.Endpoint(ctx, tenantID, id)
	if err != nil {
		return err
	}
	now := s.Now()
	e.Disabled, e.DisabledWhy, e.DisabledAt = true, why, &now
	return s.SaveEndpoint(ctx, tenantID, e)
}

// WebhookAttempt is one try at delivering an event to an endpoint.
type WebhookAttempt struct {
	EventID    string        `json:"eventId"`
	EventType  string        `json:"eventType"`
	Attempt    int           `json:"attempt"`
	At         time.Time     `json:"at"`
	StatusCode int           `json:"statusCode,omitempty"`
	Duration   time.Duration `json:"durationMs"`
	Error      string        `json:"error,omitempty"`
	Response   string        `json:"response,omitempty"`
	// NextAt is when the next attempt is due; nil when none will follow.
	NextAt *time.Time `json:"nextAt,omitempty"`
}

// maxAttemptsKept bounds an endpoint's attempt log.
const maxAttemptsKept = 1000

func attemptsKey(tenantID, endpointID string) string {
	return tenantKey(tenantID, "webhooks", endpointID, "attempts")
}

// RecordWebhookAttempt appends to an endpoint's attempt log, newest first.
func (s *Store) RecordWebhookAttempt(ctx context.Context, tenantID, endpointID string, a WebhookAttempt) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	key := attemptsKey(tenantID, endpointID)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, key, b)
		p.LTrim(ctx, key, 0, maxAttemptsKept-1)
		p.Expire(ctx, key, EventTTL)
		return nil
	})
	return err
}

// WebhookAttempts returns up to limit of an endpoint's attempts, newest
// first, optionally only those of one event.
func (s *Store) WebhookAttempts(ctx context.Context, tenantID, endpointID, eventID string, limit int) ([]WebhookAttempt, error) {
	raw, err := s.rdb.LRange(ctx, attemptsKey(tenantID, endpointID), 0, maxAttemptsKept-1).Result()
	if err != nil {
		return nil, err
	}
	out := []WebhookAttempt{}
	for _, r := range raw {
		var a WebhookAttempt
		if err := json.Unmarshal([]byte(r), &a); err != nil {
			return nil, err
		}
		if eventID != "" && a.EventID != eventID {
			continue
		}
		out = append(out, a)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}
