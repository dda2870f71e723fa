package providers

// Attachment is a file attached to an email.
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// Email is one message to send. The worker fills it; providers only deliver.
type Email struct {
	// MessageID is the RFC 5322 Message-ID without angle brackets. It is
	// deterministic per delivery so a receiver (and the outbox) can drop a
	// duplicate sent by a retry after a crash.
	MessageID string
	FromEmail string
	FromName  string
	ReplyTo   string
	To        []string
	Cc        []string
	// Bcc recipients get the message but never appear in its headers.
	Bcc         []string
	Subject     string
	Text        string
	HTML        string
	Attachments []Attachment
	// Headers are extra headers, e.g. X-Invoiced-Delivery.
	Headers map[string]string
}

// SMS is one text message to send.
type SMS struct {
	// ID is the delivery's id; the outbox names its file after it.
	ID   string
	From string
	To   string
	Body string
}
