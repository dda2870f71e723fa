package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// Channel is how a delivery reaches its recipient.
type Channel string

// The delivery channels.
const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// Transition is one step in a delivery's history.
type Transition struct {
	Status DeliveryStatus `json:"status"`
	At     time.Time      `json:"at"`
	// Source is who reported it: worker, api, ses, twilio, tracking.
	Source string `json:"source"`
	Detail string `json:"detail,omitempty"`
	// IP is the address an open or a click came from, when known.
	IP string `json:"ip,omitempty"`
}

// FromIP returns a mutate function for Store.Transition that records ip
// on the step it appends: the address an open or a click came from. An
// empty ip records nothing.
func FromIP(ip string) func(*Delivery) {
	if ip == "" {
		return nil
	}
	return func(d *Delivery) { d.History[len(d.History)-1].IP = ip }
}

// Attempt is one try at handing a delivery to its provider.
type Attempt struct {
	At       time.Time `json:"at"`
	Provider string    `json:"provider"`
	// Error is empty for a successful attempt.
	Error     string `json:"error,omitempty"`
	Code      string `json:"code,omitempty"`
	Permanent bool   `json:"permanent,omitempty"`
}

// Delivery is one channel to one recipient of one send, with its status and
// the append-only history of how it got there.
type Delivery struct {
	ID        string         `json:"id"`
	TenantID  string         `json:"-"`
	InvoiceID string         `json:"invoiceId"`
	SendID    string         `json:"sendId"`
	Channel   Channel        `json:"channel"`
	To        string         `json:"to"`
	Cc        []string       `json:"cc,omitempty"`
	Bcc       []string       `json:"bcc,omitempty"`
	Status    DeliveryStatus `json:"status"`
	TestMode  bool           `json:"testMode,omitempty"`
	// Provider is the provider that took the message; ProviderID its id.
	Provider    string       `json:"provider,omitempty"`
	ProviderID  string       `json:"providerId,omitempty"`
	Error       string       `json:"error,omitempty"`
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
	SentAt      *time.Time   `json:"sentAt,omitempty"`
	DeliveredAt *time.Time   `json:"deliveredAt,omitempty"`
	OpenedAt    *time.Time   `json:"openedAt,omitempty"`
	ClickedAt   *time.Time   `json:"clickedAt,omitempty"`
	History     []Transition `json:"history"`
	// RepeatsNotKept counts the repeats Note counted but did not keep in
	// History, past the first MaxRepeats of a status.
	RepeatsNotKept int       `json:"repeatsNotKept,omitempty"`
	Attempts       []Attempt `json:"attempts,omitempty"`
	// Claim, while set, is the attempt handing the queued delivery to its
	// provider. It is internal: the API shows the delivery as queued.
	Claim *Claim `json:"claim,omitempty"`
	// Content is what an email delivery carried, recorded by the worker
	// when it handed the message to its provider (or last tried to); nil
	// until then, and for SMS.
	Content *EmailContent `json:"content,omitempty"`
}

// EmailContent is what one email carried, as the worker composed it: the
// tenant's templates may change later, the record does not.
type EmailContent struct {
	Subject string `json:"subject"`
	// Attachments are the attached files' names, such as
	// "FAC-2024-001.pdf" and "FAC-2024-001.xml".
	Attachments []string `json:"attachments"`
}

// emailNamespace is the namespace of EmailID's name-based UUIDs: a fixed
// random UUID, so the same delivery always gets the same id and no other
// name-based UUID is mistaken for one.
var emailNamespace = uuid.MustParse("f58b6b77-f063-4627-b1c4-c94790a349e4")

// EmailID is the UUID by which an email delivery is known on the Storno
// routes (emailId). It is derived from the delivery, so it needs no
// storage and is the same in every answer that shows the delivery.
func EmailID(tenantID, deliveryID string) string {
	return uuid.NewSHA1(emailNamespace, []byte(tenantID+"/"+deliveryID)).String()
}

// LeftQueued reports whether the last step of d's history took it out of
// scheduled or queued (to sent, failed, canceled, or past sent when the
// worker's record came late): the change that may complete its send. Call
// it on the delivery Store.Transition returned.
func (d *Delivery) LeftQueued() bool {
	n := len(d.History)
	return n >= 2 && !d.History[n-1].Status.open() && d.History[n-2].Status.open()
}

// acceptedAt returns when d's provider took it, and whether it did: its
// SentAt, or, for a delivery that moved past sent before the worker
// recorded sent (an open tracked first), the time it moved past queued. A
// delivery that failed at its provider, or was canceled, was not taken.
func (d *Delivery) acceptedAt() (time.Time, bool) {
	if d.SentAt != nil {
		return *d.SentAt, true
	}
	for _, step := range d.History {
		if progress[step.Status] > progress[DeliveryQueued] {
			return step.At, true
		}
	}
	return time.Time{}, false
}

// Claim is one attempt's hold on handing a queued delivery to its provider.
// While it is fresh no other attempt sends the delivery. Once Until has
// passed, the attempt that took it is presumed dead (its worker was killed,
// or lost Redis for longer than a send and its recording may take): the
// provider may or may not have taken the message, and another attempt may
// send it again.
type Claim struct {
	Token    string    `json:"token"`
	Provider string    `json:"provider"`
	At       time.Time `json:"at"`
	Until    time.Time `json:"until"`
}

// CodeOutcomeUnknown is the code of an attempt whose worker stopped between
// taking its claim and recording the provider's answer.
const CodeOutcomeUnknown = "outcome_unknown"

// CodeRateLimited is the code of an attempt that found the tenant's hourly
// email limit spent: the delivery stays queued and goes out when the
// budget has room for it.
const CodeRateLimited = "rate_limited"

// ErrNotQueued is returned by ClaimSend for a delivery that has left
// queued: it was sent, failed or canceled, and there is nothing to send.
var ErrNotQueued = errors.New("delivery is not queued")

// ClaimedError is returned by ClaimSend while another attempt's claim on the
// delivery is fresh.
type ClaimedError struct {
	// Until is when the claim expires if its attempt never records an
	// outcome.
	Until time.Time
}

func (e *ClaimedError) Error() string {
	return "delivery is being sent by another attempt (claimed until " + e.Until.Format(time.RFC3339) + ")"
}

func deliveryKey(tenantID, id string) string { return tenantKey(tenantID, "dlv", id) }

// invoiceDeliveriesKey lists an invoice's deliveries in creation order.
func invoiceDeliveriesKey(tenantID, invoiceID string) string {
	return tenantKey(tenantID, "inv", invoiceID, "dlv")
}

// openDeliveriesKey indexes a tenant's deliveries that are scheduled or
// queued, scored by when they became due (Unix milliseconds): the time a
// scheduled one is to go out, or when one was queued. It is what the
// delivery sweep reads to find deliveries whose task Redis lost.
func openDeliveriesKey(tenantID string) string { return tenantKey(tenantID, "dlv-open") }

// open reports whether status still waits for a task to move it on.
func (s DeliveryStatus) open() bool { return s == DeliveryScheduled || s == DeliveryQueued }

// OverdueDeliveries returns up to limit of tenant's deliveries that have
// been due (scheduled for, or queued at) since before at least, oldest
// first.
func (s *Store) OverdueDeliveries(ctx context.Context, tenantID string, before time.Time, limit int64) ([]string, error) {
	if err := s.indexSends(ctx, tenantID); err != nil {
		return nil, err
	}
	ids, err := s.rdb.ZRangeByScore(ctx, openDeliveriesKey(tenantID), &redis.ZRangeBy{
		Min: "-inf", Max: "(" + strconv.FormatInt(before.UnixMilli(), 10), Count: limit,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("overdue deliveries: %w", err)
	}
	return ids, nil
}

// RecheckDeliveryAt moves an open delivery's place in the overdue index to
// at, so the sweep looks at it again only once it is overdue from there. A
// delivery that is no longer open (or gone) is dropped from the index.
func (s *Store) RecheckDeliveryAt(ctx context.Context, tenantID, id string, at time.Time) error {
	d, err := s.Delivery(ctx, tenantID, id)
	if errors.Is(err, ErrNotFound) || (err == nil && !d.Status.open()) {
		err = s.rdb.ZRem(ctx, openDeliveriesKey(tenantID), id).Err()
	} else if err == nil {
		err = s.rdb.ZAddXX(ctx, openDeliveriesKey(tenantID), redis.Z{Score: float64(at.UnixMilli()), Member: id}).Err()
	}
	if err != nil {
		return fmt.Errorf("recheck delivery %s: %w", id, err)
	}
	return nil
}

// Delivery returns tenant's delivery id, or ErrNotFound.
func (s *Store) Delivery(ctx context.Context, tenantID, id string) (*Delivery, error) {
	var d Delivery
	if err := s.getRecord(ctx, deliveryKey(tenantID, id), &d); err != nil {
		return nil, err
	}
	d.TenantID = tenantID
	return &d, nil
}

// InvoiceDeliveries returns an invoice's deliveries, oldest first.
func (s *Store) InvoiceDeliveries(ctx context.Context, tenantID, invoiceID string) ([]*Delivery, error) {
	ids, err := s.rdb.LRange(ctx, invoiceDeliveriesKey(tenantID, invoiceID), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	out := make([]*Delivery, 0, len(ids))
	for _, id := range ids {
		d, err := s.Delivery(ctx, tenantID, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Transition moves a delivery to status to, recording source and detail in
// its history, and sets the timestamp field that goes with the status. It
// reports whether the status changed: a duplicate or an out-of-order event
// (one that would move the delivery backwards or out of a terminal status)
// changes nothing and is not an error. mutate, if set, makes further changes
// in the same atomic update when the transition happens.
//
// A transition that changes nothing writes nothing.
func (s *Store) Transition(ctx context.Context, tenantID, id string, to DeliveryStatus, source, detail string, mutate func(*Delivery)) (*Delivery, bool, error) {
	m, err := s.transition(ctx, tenantID, id, to, source, detail, mutate, nil, false, nil)
	return m.Delivery, m.Changed, err
}

// Moved is a delivery's change as the store recorded it with its events
// (TransitionRecorded, RecordSent).
type Moved struct {
	// Delivery is the delivery as it is now.
	Delivery *Delivery
	// Changed reports whether the status changed (see Transition).
	Changed bool
	// Fanout are the ids of the events recorded with the change whose
	// fan-out to webhook endpoints is pending (see RecordEvents).
	Fanout []string
	// SentUndecided reports that the change took the delivery out of
	// queued and its send's invoice.sent was not decided with it: the
	// send has other deliveries, which are to be read after the change
	// (so of two settling at once one sees the other; see
	// SentEventData), or the send was not given.
	SentUndecided bool
}

// TransitionRecorded is Transition that records the move's events
// (DeliveryEventTypes, with DeliveryEventData) in the same step as the
// change. send, when set, is the delivery's send as the caller read it:
// when the delivery is its only one, the send's invoice.sent is decided
// from the delivery as the move leaves it, and recorded in the same step
// too when it is due (see SentEventData).
func (s *Store) TransitionRecorded(ctx context.Context, tenantID, id string, to DeliveryStatus, source, detail string, send *Send, mutate func(*Delivery)) (Moved, error) {
	return s.transition(ctx, tenantID, id, to, source, detail, mutate, nil, true, send)
}

// RecordSent moves a delivery to sent, as TransitionRecorded does with
// source "worker", and, when providerID is set, indexes it as provider's
// message providerID (IndexProviderMessage) in the same round trip. The
// index is written even when the delivery was already past sent, as a
// retry of the recording finds it; err is only the transition's, indexErr
// the index's.
func (s *Store) RecordSent(ctx context.Context, tenantID, id, provider, providerID string, send *Send, mutate func(*Delivery)) (m Moved, indexErr, err error) {
	var index *redis.StatusCmd
	var beside func(p redis.Pipeliner)
	if providerID != "" {
		beside = func(p redis.Pipeliner) {
			index = p.Set(ctx, providerMessageKey(provider, providerID), tenantID+"/"+id, EventTTL)
		}
	}
	m, err = s.transition(ctx, tenantID, id, DeliverySent, "worker", "accepted by "+provider, mutate, beside, true, send)
	switch {
	case err != nil || providerID == "":
	case index != nil:
		indexErr = index.Err()
	default: // no write was tried: the delivery was past sent
		indexErr = s.IndexProviderMessage(ctx, provider, providerID, tenantID, id)
	}
	return m, indexErr, err
}

// transition is Transition, with commands beside it (see also.beside),
// and, when record is set, the events TransitionRecorded records, of the
// delivery's send send (or nil).
func (s *Store) transition(ctx context.Context, tenantID, id string, to DeliveryStatus, source, detail string, mutate func(*Delivery), beside func(p redis.Pipeliner), record bool, send *Send) (Moved, error) {
	changed := false
	var from DeliveryStatus
	var cur *Delivery
	a := also[Delivery]{beside: beside, extra: func(p redis.Pipeliner, d *Delivery) {
		d.TenantID = tenantID
		moveInDeliveryLog(ctx, p, d, from)
		if to.open() {
			p.ZAdd(ctx, openDeliveriesKey(tenantID), redis.Z{Score: float64(d.UpdatedAt.UnixMilli()), Member: id})
		} else {
			p.ZRem(ctx, openDeliveriesKey(tenantID), id)
		}
	}}
	sentUndecided := false
	if record {
		a.events = func(d *Delivery) *eventBatch {
			now := s.Now()
			evs := newEvents(id, DeliveryEventTypes(d.Channel, to), DeliveryEventData(d), now)
			sentUndecided = d.LeftQueued()
			if sentUndecided && send != nil && send.TenantID == tenantID && send.ID == d.SendID && len(send.DeliveryIDs) == 1 && send.DeliveryIDs[0] == id {
				sentUndecided = false
				if data, complete := sentEventData(send, []*Delivery{d}); complete {
					evs = append(evs, newEvents(send.ID, []string{EventInvoiceSent}, data, now)...)
				}
			}
			return &eventBatch{tenantID: tenantID, at: now, events: evs}
		}
	}
	d, fanout, err := updateWith(ctx, s, deliveryKey(tenantID, id), func(d *Delivery) error {
		changed = CanTransition(d.Status, to)
		if !changed {
			cur = d
			return errUnchanged
		}
		from = d.Status
		now := s.Now()
		d.Status = to
		d.UpdatedAt = now
		d.Claim = nil // only a queued delivery is claimed
		d.History = append(d.History, Transition{Status: to, At: now, Source: source, Detail: detail})
		switch to {
		case DeliverySent:
			d.SentAt = &now
		case DeliveryDelivered:
			d.DeliveredAt = &now
		case DeliveryOpened:
			d.OpenedAt = &now
		case DeliveryClicked:
			d.ClickedAt = &now
		case DeliveryFailed, DeliveryBounced:
			d.Error = detail
		}
		if mutate != nil {
			mutate(d)
		}
		return nil
	}, a)
	if errors.Is(err, errUnchanged) {
		d, err = cur, nil
	}
	if err != nil {
		return Moved{}, err
	}
	d.TenantID = tenantID
	m := Moved{Delivery: d, Changed: changed, Fanout: fanout}
	m.SentUndecided = changed && sentUndecided
	return m, nil
}

// MaxRepeats is how many repeats of one status (opens, clicks, soft
// bounces) a delivery's history keeps after the step that reached it.
const MaxRepeats = 20

// Note appends step, an event that changes no status, to a delivery's
// history, stamped now: a second open, a soft bounce, a delivery delay.
// Only a delivery that already reached step's status (or went past it)
// takes a repeat of it. The history keeps the first MaxRepeats repeats of
// a status; later ones are only counted, in RepeatsNotKept.
func (s *Store) Note(ctx context.Context, tenantID, id string, step Transition) (*Delivery, error) {
	d, err := update(ctx, s, deliveryKey(tenantID, id), func(d *Delivery) error {
		now := s.Now()
		d.UpdatedAt = now
		same := 0
		for _, h := range d.History {
			if h.Status == step.Status {
				same++
			}
		}
		if same > MaxRepeats {
			d.RepeatsNotKept++
			return nil
		}
		step.At = now
		d.History = append(d.History, step)
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	d.TenantID = tenantID
	return d, nil
}

// RecordAttempt appends an attempt to a delivery's history without changing
// its status, and releases the claim of token if the delivery is still
// claimed by it (an empty token releases nothing).
func (s *Store) RecordAttempt(ctx context.Context, tenantID, id, token string, a Attempt) error {
	_, err := update(ctx, s, deliveryKey(tenantID, id), func(d *Delivery) error {
		d.Attempts = append(d.Attempts, a)
		d.UpdatedAt = s.Now()
		if token != "" && d.Claim != nil && d.Claim.Token == token {
			d.Claim = nil
		}
		return nil
	}, nil)
	return err
}

// ReleaseClaim releases the claim of token on delivery id, for an attempt
// that took it and then did not hand the delivery to its provider (it
// waits for its turn, or its worker stops). A delivery no longer claimed
// by token is left as it is.
func (s *Store) ReleaseClaim(ctx context.Context, tenantID, id, token string) error {
	_, err := update(ctx, s, deliveryKey(tenantID, id), func(d *Delivery) error {
		if d.Claim == nil || d.Claim.Token != token {
			return errUnchanged
		}
		d.Claim = nil
		d.UpdatedAt = s.Now()
		return nil
	}, nil)
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

// ClaimSend claims queued delivery id for ttl on behalf of the attempt
// holding token, which is about to hand it to provider. It returns the
// claimed delivery and, when an earlier claim had expired, that stale claim:
// its attempt stopped without recording whether the provider took the
// message, so ClaimSend adds it to the delivery's attempts with code
// outcome_unknown, and the caller sends again (at least once, so the
// message may arrive twice; it keeps its Message-ID). A delivery that has
// left queued returns ErrNotQueued; another attempt's fresh claim returns a
// *ClaimedError.
func (s *Store) ClaimSend(ctx context.Context, tenantID, id, token, provider string, ttl time.Duration) (*Delivery, *Claim, error) {
	var stale *Claim
	d, err := update(ctx, s, deliveryKey(tenantID, id), func(d *Delivery) error {
		stale = nil
		if d.Status != DeliveryQueued {
			return ErrNotQueued
		}
		now := s.Now()
		if c := d.Claim; c != nil && c.Token != token {
			if now.Before(c.Until) {
				return &ClaimedError{Until: c.Until}
			}
			stale = c
			d.Attempts = append(d.Attempts, Attempt{At: c.At, Provider: c.Provider, Code: CodeOutcomeUnknown,
				Error: "outcome unknown: the worker sending it stopped before recording the provider's answer; sent again"})
		}
		d.Claim = &Claim{Token: token, Provider: provider, At: now, Until: now.Add(ttl)}
		d.UpdatedAt = now
		return nil
	}, nil)
	if err != nil {
		return nil, nil, err
	}
	d.TenantID = tenantID
	return d, stale, nil
}

// putDeliveries queues the commands that create deliveries in p, indexed
// as open from due (see openDeliveriesKey).
func putDeliveries(ctx context.Context, p redis.Pipeliner, ds []*Delivery, due time.Time) error {
	for _, d := range ds {
		b, err := encodeRecord(d)
		if err != nil {
			return err
		}
		p.Set(ctx, deliveryKey(d.TenantID, d.ID), b, 0)
		p.RPush(ctx, invoiceDeliveriesKey(d.TenantID, d.InvoiceID), d.ID)
		logDelivery(ctx, p, d, d.Status)
		if d.Status.open() {
			p.ZAdd(ctx, openDeliveriesKey(d.TenantID), redis.Z{Score: float64(due.UnixMilli()), Member: d.ID})
		}
	}
	return nil
}
