package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
	Attempts    []Attempt    `json:"attempts,omitempty"`
}

func deliveryKey(tenantID, id string) string { return tenantKey(tenantID, "dlv", id) }

// invoiceDeliveriesKey lists an invoice's deliveries in creation order.
func invoiceDeliveriesKey(tenantID, invoiceID string) string {
	return tenantKey(tenantID, "inv", invoiceID, "dlv")
}

// Delivery returns tenant's delivery id, or ErrNotFound.
func (s *Store) Delivery(ctx context.Context, tenantID, id string) (*Delivery, error) {
	var d Delivery
	if err := getJSON(ctx, s.rdb, deliveryKey(tenantID, id), &d); err != nil {
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
func (s *Store) Transition(ctx context.Context, tenantID, id string, to DeliveryStatus, source, detail string, mutate func(*Delivery)) (*Delivery, bool, error) {
	changed := false
	d, err := update(ctx, s, deliveryKey(tenantID, id), func(d *Delivery) error {
		changed = CanTransition(d.Status, to)
		if !changed {
			return nil
		}
		now := s.Now()
		d.Status = to
		d.UpdatedAt = now
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
	}, nil)
	if err != nil {
		return nil, false, err
	}
	d.TenantID = tenantID
	return d, changed, nil
}

// Note appends an event that changes no status to a delivery's history: a
// second open, a soft bounce, a delivery delay. Only a delivery that already
// reached status (or went past it) takes a repeat of it.
func (s *Store) Note(ctx context.Context, tenantID, id string, status DeliveryStatus, source, detail string) (*Delivery, error) {
	d, err := update(ctx, s, deliveryKey(tenantID, id), func(d *Delivery) error {
		now := s.Now()
		d.History = append(d.History, Transition{Status: status, At: now, Source: source, Detail: detail})
		d.UpdatedAt = now
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	d.TenantID = tenantID
	return d, nil
}

// RecordAttempt appends an attempt to a delivery's history without changing
// its status.
func (s *Store) RecordAttempt(ctx context.Context, tenantID, id string, a Attempt) error {
	_, err := update(ctx, s, deliveryKey(tenantID, id), func(d *Delivery) error {
		d.Attempts = append(d.Attempts, a)
		d.UpdatedAt = s.Now()
		return nil
	}, nil)
	return err
}

// putDeliveries queues the commands that create deliveries in p.
func putDeliveries(ctx context.Context, p redis.Pipeliner, ds []*Delivery) error {
	for _, d := range ds {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		p.Set(ctx, deliveryKey(d.TenantID, d.ID), b, 0)
		p.RPush(ctx, invoiceDeliveriesKey(d.TenantID, d.InvoiceID), d.ID)
	}
	return nil
}
