// Package static builds payment links from a URL template, for tenants
// whose payment page lives elsewhere: a bank's pay-by-link page, a shop,
// a form. Nothing is called; a link is the template with the invoice's
// values in it, and it does not expire.
package static

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unsafe"

	"github.com/invoiced/invoiced/money"
	"github.com/invoiced/invoiced/providers"
)

// The placeholders a template may use.
const (
	// PlaceholderInvoiceID is the invoice's id, e.g. "inv_1001".
	PlaceholderInvoiceID = "{invoiceId}"
	// PlaceholderNumber is the invoice number, e.g. "INV-1001".
	PlaceholderNumber = "{number}"
	// PlaceholderAmount is the amount due in major units with the
	// currency's ISO 4217 digits, e.g. "1130.50" (EUR), "5000" (JPY),
	// "1.250" (BHD).
	PlaceholderAmount = "{amount}"
	// PlaceholderCurrency is the ISO 4217 code, e.g. "EUR".
	PlaceholderCurrency = "{currency}"
	// PlaceholderTenantID is the tenant's id.
	PlaceholderTenantID = "{tenantId}"
)

var placeholders = [...]string{
	PlaceholderInvoiceID, PlaceholderNumber, PlaceholderAmount, PlaceholderCurrency, PlaceholderTenantID,
}

// sample is what New substitutes to check that a template makes a URL,
// by the placeholders' index.
var sample = [len(placeholders)]string{"inv_sample", "INV-0001", "1130.50", "EUR", "ten_sample"}

// Config configures a Linker.
type Config struct {
	// Template is the payment link with placeholders, e.g.
	// "https://pay.acme.test/invoices/{invoiceId}?amount={amount}&currency={currency}".
	// Required. It must use at least one placeholder, and only those
	// listed above, spelled exactly; with sample values put in, it must
	// be an absolute http or https URL without credentials.
	Template string
}

// Linker builds payment links from one template. It is safe for
// concurrent use.
type Linker struct {
	// parts is the template split into literal text and placeholders.
	parts []string
	// slots holds, for each part, the placeholder's index, or -1 for
	// literal text.
	slots []int8
	// size is the length of the template's literal text.
	size int
}

// New returns a Linker for cfg. It rejects an empty Template, one without
// placeholders, one with a brace that does not open or close a known
// placeholder (so "{invoiceID}" or "{number" are caught), and one that is
// not an absolute http(s) URL without credentials once sample values are
// put in.
func New(cfg Config) (*Linker, error) {
	if cfg.Template == "" {
		return nil, errors.New("static: Template is required")
	}
	parts, err := split(cfg.Template)
	if err != nil {
		return nil, fmt.Errorf("static: Template %q: %w", cfg.Template, err)
	}
	l := &Linker{parts: parts, slots: make([]int8, len(parts))}
	for i, p := range parts {
		l.slots[i] = int8(slices.Index(placeholders[:], p))
		if l.slots[i] < 0 {
			l.size += len(p)
		}
	}
	if !slices.ContainsFunc(l.slots, func(slot int8) bool { return slot >= 0 }) {
		return nil, fmt.Errorf("static: Template %q uses none of %s, so every invoice would get the same link",
			cfg.Template, strings.Join(placeholders[:], ", "))
	}
	if _, err := checkURL(l.expand(&sample)); err != nil {
		return nil, fmt.Errorf("static: Template %q: %w", cfg.Template, err)
	}
	return l, nil
}

// split cuts a template into literal text and placeholders.
func split(tmpl string) ([]string, error) {
	parts := make([]string, 0, 2*strings.Count(tmpl, "{")+1)
	for rest := tmpl; rest != ""; {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			parts = append(parts, rest)
			break
		}
		if open > 0 {
			parts = append(parts, rest[:open])
			rest = rest[open:]
		}
		if rest[0] == '}' {
			return nil, errors.New(`"}" closes no placeholder`)
		}
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return nil, fmt.Errorf("%q is not closed", rest)
		}
		name := rest[:end+1]
		if !isPlaceholder(name) {
			return nil, fmt.Errorf("%s is not one of %s", name, strings.Join(placeholders[:], ", "))
		}
		parts = append(parts, name)
		rest = rest[end+1:]
	}
	return parts, nil
}

func isPlaceholder(s string) bool { return slices.Contains(placeholders[:], s) }

// checkURL parses a built link and checks it is one a payer can open.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("makes %q, which is not a URL: %w", raw, err)
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, fmt.Errorf("makes %q, which is not an absolute http or https URL", raw)
	case u.User != nil:
		return nil, fmt.Errorf("makes %q, which carries credentials", raw)
	}
	return u, nil
}

// expand puts values, by the placeholders' index, into the template, each
// escaped. Room for a value escaped three bytes a byte is made at once.
func (l *Linker) expand(values *[len(placeholders)]string) string {
	n := l.size
	for _, slot := range l.slots {
		if slot >= 0 {
			n += 3 * len(values[slot])
		}
	}
	b := make([]byte, 0, n)
	for i, p := range l.parts {
		if slot := l.slots[i]; slot >= 0 {
			b = appendEscaped(b, values[slot])
		} else {
			b = append(b, p...)
		}
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// appendEscaped appends s percent-encoding every byte but letters, digits
// and "-._~", so a value reads back the same in a path segment or a query
// parameter: a space is %20, never "+"; "/", "&", "=", "?" and "#" are
// escaped. It is url.QueryEscape with a space as %20.
func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b = append(b, c)
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}

// CreatePaymentLink returns the template with r's values in it. The link
// has no ID and no expiry. A request without a TenantID, InvoiceID or
// Number, with an amount that is not positive or a currency that is not
// an upper-case ISO 4217 code, or whose values make a link that is not an
// http(s) URL (a template that puts a value in the host) is refused as
// permanent with the code "invalid_request". A ctx that is already done
// gives a transient error.
func (l *Linker) CreatePaymentLink(ctx context.Context, r *providers.PaymentRequest) (*providers.PaymentLink, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	var values [len(placeholders)]string
	if err := fill(&values, r); err != nil {
		return nil, providers.Permanent("invalid_request", fmt.Errorf("static: %w", err))
	}
	link := l.expand(&values)
	if _, err := checkURL(link); err != nil {
		return nil, providers.Permanent("invalid_request", fmt.Errorf("static: invoice %s: the template %w", r.InvoiceID, err))
	}
	return &providers.PaymentLink{URL: link}, nil
}

// fill puts r's values in v by the placeholders' index.
func fill(v *[len(placeholders)]string, r *providers.PaymentRequest) error {
	switch {
	case r == nil:
		return errors.New("no payment request")
	case r.TenantID == "" || r.InvoiceID == "":
		return errors.New("the payment request needs a TenantID and an InvoiceID")
	case r.Number == "":
		return fmt.Errorf("invoice %s has no number", r.InvoiceID)
	case r.Amount <= 0:
		return fmt.Errorf("amount %d must be positive", r.Amount)
	}
	cur, err := money.ParseCurrency(r.Currency)
	if err != nil {
		return err
	}
	*v = [len(placeholders)]string{r.InvoiceID, r.Number, money.Format(r.Amount, cur.Digits), cur.Code, r.TenantID}
	return nil
}
