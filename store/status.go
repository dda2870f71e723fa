package store

// DeliveryStatus is where one delivery (one channel to one recipient of one
// send) stands. It moves forward only:
// scheduled → queued → sent → delivered → opened → clicked, or ends bounced
// or failed; canceled is reached only from scheduled.
type DeliveryStatus string

// The delivery statuses.
const (
	DeliveryScheduled DeliveryStatus = "scheduled"
	DeliveryQueued    DeliveryStatus = "queued"
	DeliverySent      DeliveryStatus = "sent"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryOpened    DeliveryStatus = "opened"
	DeliveryClicked   DeliveryStatus = "clicked"
	DeliveryBounced   DeliveryStatus = "bounced"
	DeliveryFailed    DeliveryStatus = "failed"
	DeliveryCanceled  DeliveryStatus = "canceled"
)

// progress orders the statuses on the forward path.
var progress = map[DeliveryStatus]int{
	DeliveryScheduled: 1,
	DeliveryQueued:    2,
	DeliverySent:      3,
	DeliveryDelivered: 4,
	DeliveryOpened:    5,
	DeliveryClicked:   6,
}

// Valid reports whether s is a known status.
func (s DeliveryStatus) Valid() bool {
	_, onPath := progress[s]
	return onPath || s.Terminal()
}

// Terminal reports whether nothing can follow s.
func (s DeliveryStatus) Terminal() bool {
	return s == DeliveryBounced || s == DeliveryFailed || s == DeliveryCanceled
}

// CanTransition reports whether a delivery in status from may move to to.
// Moves go forward along the path (skipping is allowed, since provider
// events arrive late or out of order); bounced and failed end any
// non-terminal delivery; canceled ends only a scheduled one. Staying in the
// same status is not a transition: callers treat it as a duplicate.
func CanTransition(from, to DeliveryStatus) bool {
	if from.Terminal() || !to.Valid() || from == to {
		return false
	}
	switch to {
	case DeliveryCanceled:
		return from == DeliveryScheduled
	case DeliveryBounced, DeliveryFailed:
		return true
	}
	return progress[to] > progress[from]
}
