package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/invoice"
)

// invoicesKey indexes a tenant's invoices by creation time (Unix
// milliseconds), for listing them newest first.
func invoicesKey(tenantID string) string { return tenantKey(tenantID, "invoices") }

// invoicesIndexedKey marks a tenant whose invoices are all in invoicesKey:
// every tenant created since the index exists, and older ones once the
// index has been built from their keys (see indexInvoices).
func invoicesIndexedKey(tenantID string) string { return tenantKey(tenantID, "invoices-indexed") }

// InvoiceQuery selects a page of a tenant's invoices, newest first.
type InvoiceQuery struct {
	// Status keeps only invoices in that status; empty keeps all.
	Status invoice.Status
	// CustomerEmail keeps only invoices whose customer has this email
	// address, compared without regard to case; empty keeps all.
	CustomerEmail string
	// CustomerID keeps only invoices whose customer has this external id,
	// compared exactly; empty keeps all.
	CustomerID string
	// Limit is the most invoices a page holds. Defaults to 20.
	Limit int
	// After is the cursor of the page before (InvoicePage.NextCursor): the
	// page starts after that invoice. Empty starts at the newest.
	After string
}

// maxListScan bounds how many invoices one page looks at per invoice it
// may return, so a filter that matches few costs a bounded amount: the
// page may then hold fewer than Limit, with a cursor to go on from.
const maxListScan = 10

// InvoicePage is one page of invoices, newest first.
type InvoicePage struct {
	Invoices []*invoice.Invoice
	// NextCursor continues the listing (InvoiceQuery.After); empty when
	// there is nothing after this page.
	NextCursor string
}

// ErrBadCursor is returned by ListInvoices for a cursor that names no
// invoice of the tenant.
var ErrBadCursor = errors.New("cursor names no invoice")

// ListInvoices returns a page of tenant's invoices, newest first. The
// invoices of a status, of a customer email and of a customer id each
// have an index kept with the writes, so a page reads one sorted set from
// its first match on and costs O(log n + page) however many invoices the
// tenant has. A customer filter with a second filter (a status, or the
// other customer filter) reads the customer's index and checks the other
// on each invoice, looking at up to maxListScan times Limit invoices: a
// customer's invoices are few beside the tenant's. An invoice whose key is gone (it
// expired) is passed over and taken out of the index that named it.
func (s *Store) ListInvoices(ctx context.Context, tenantID string, q InvoiceQuery) (*InvoicePage, error) {
	if q.Limit <= 0 {
		q.Limit = 20
	}
	if err := s.indexInvoices(ctx, tenantID); err != nil {
		return nil, err
	}
	customer := customerIDRef(q.CustomerID)
	if customer == "" {
		customer = customerEmailRef(q.CustomerEmail)
	}
	if q.Status != "" || customer != "" {
		if err := s.indexInvoiceFilters(ctx, tenantID); err != nil {
			return nil, err
		}
	}
	maxScore := "+inf"
	var afterScore float64
	if q.After != "" {
		// Every index scores an invoice alike, so the cursor's place is
		// read from the one that holds every invoice.
		sc, err := s.rdb.ZScore(ctx, invoicesKey(tenantID), q.After).Result()
		if errors.Is(err, redis.Nil) {
			return nil, ErrBadCursor
		}
		if err != nil {
			return nil, fmt.Errorf("list invoices: %w", err)
		}
		afterScore, maxScore = sc, fmt.Sprint(int64(sc))
	}
	key := invoiceIndexKey(tenantID, q.Status, "")
	// The index holds just the matches but for an invoice left behind by
	// an index build racing a change: one more than a page is enough.
	batch := int64(q.Limit + 1)
	if customer != "" {
		key = invoiceIndexKey(tenantID, "", customer)
		if q.Status != "" || (q.CustomerID != "" && q.CustomerEmail != "") {
			// A second filter is checked on each of the customer's
			// invoices.
			batch = int64(min(max(q.Limit*2, 50), 500))
		}
	}
	page := &InvoicePage{Invoices: []*invoice.Invoice{}}
	var gone []string
	defer func() { s.dropGoneInvoices(ctx, tenantID, key, gone) }()
	budget := q.Limit * maxListScan
	var last string
	for offset := int64(0); budget > 0; offset += batch {
		zs, err := s.rdb.ZRevRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{Max: maxScore, Min: "-inf", Offset: offset, Count: batch}).Result()
		if err != nil {
			return nil, fmt.Errorf("list invoices: %w", err)
		}
		var ids []string
		for _, z := range zs {
			id := z.Member.(string)
			// Invoices created in the cursor's millisecond come in
			// descending id order; those up to the cursor were on
			// earlier pages.
			if q.After != "" && z.Score == afterScore && id >= q.After {
				continue
			}
			ids = append(ids, id)
		}
		invs, err := s.invoices(ctx, tenantID, ids)
		if err != nil {
			return nil, err
		}
		for i, inv := range invs {
			if budget == 0 {
				page.NextCursor = last
				return page, nil
			}
			budget--
			last = ids[i]
			if inv == nil {
				gone = append(gone, ids[i])
				continue
			}
			if !q.matches(inv) {
				continue
			}
			if len(page.Invoices) == q.Limit {
				// One more matches: there is a next page.
				page.NextCursor = page.Invoices[q.Limit-1].ID
				return page, nil
			}
			page.Invoices = append(page.Invoices, inv)
		}
		if int64(len(zs)) < batch {
			return page, nil // the end of the index
		}
	}
	page.NextCursor = last
	return page, nil
}

// matches reports whether inv passes every filter of q.
func (q InvoiceQuery) matches(inv *invoice.Invoice) bool {
	return (q.Status == "" || inv.Status == q.Status) &&
		(q.CustomerEmail == "" || strings.EqualFold(inv.Customer.Email, q.CustomerEmail)) &&
		(q.CustomerID == "" || inv.Customer.ExternalID == q.CustomerID)
}

// dropGoneInvoicesScript takes out of the index KEYS[1] each invoice id
// ARGV[i] whose key KEYS[i+1] does not exist, checked in the script so an
// invoice saved again meanwhile keeps its place.
var dropGoneInvoicesScript = redis.NewScript(`
for i, id in ipairs(ARGV) do
  if redis.call('EXISTS', KEYS[i + 1]) == 0 then
    redis.call('ZREM', KEYS[1], id)
  end
end
return 0
`)

// dropGoneInvoices takes the ids of invoices that are gone out of the
// index key. It is tidying: a failure (Redis out of memory refuses the
// script) leaves them for the next listing that meets them.
func (s *Store) dropGoneInvoices(ctx context.Context, tenantID, key string, ids []string) {
	if len(ids) == 0 {
		return
	}
	keys := []string{key}
	for _, id := range ids {
		keys = append(keys, invoiceKey(tenantID, id))
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	_ = dropGoneInvoicesScript.Run(ctx, s.rdb, keys, args...).Err()
}

// invoiceIndexKeys returns the keys of every index that holds inv.
func invoiceIndexKeys(tenantID string, inv *invoice.Invoice) []string {
	customers := []string{""}
	for _, c := range []string{customerEmailRef(inv.Customer.Email), customerIDRef(inv.Customer.ExternalID)} {
		if c != "" {
			customers = append(customers, c)
		}
	}
	keys := make([]string, 0, len(customers)+1)
	for _, c := range customers {
		keys = append(keys, invoiceIndexKey(tenantID, "", c))
	}
	return append(keys, invoiceIndexKey(tenantID, inv.Status, ""))
}

// indexInvoice queues in p the commands that put inv in its indexes,
// scored by its creation time. old, when set, is inv as stored before the
// change: inv leaves the indexes of old's status and customer it no
// longer has, and is not added again to those it keeps when its creation
// time, and so its score there, is old's: it is in them already, as every
// write of an invoice indexes it, and a tenant's indexes built later
// (indexInvoices, indexInvoiceFilters) read it from its key.
func indexInvoice(ctx context.Context, p redis.Pipeliner, tenantID string, inv, old *invoice.Invoice) {
	keys := invoiceIndexKeys(tenantID, inv)
	var kept []string
	if old != nil {
		for _, k := range invoiceIndexKeys(tenantID, old) {
			if !slices.Contains(keys, k) {
				p.ZRem(ctx, k, inv.ID)
			} else if old.CreatedAt.Equal(inv.CreatedAt) {
				kept = append(kept, k)
			}
		}
	}
	z := redis.Z{Score: float64(inv.CreatedAt.UnixMilli()), Member: inv.ID}
	for _, k := range keys {
		if !slices.Contains(kept, k) {
			p.ZAdd(ctx, k, z)
		}
	}
}

// invoices reads ids with one MGET; an invoice that is gone is nil.
func (s *Store) invoices(ctx context.Context, tenantID string, ids []string) ([]*invoice.Invoice, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = invoiceKey(tenantID, id)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("list invoices: %w", err)
	}
	out := make([]*invoice.Invoice, len(ids))
	for i, v := range vals {
		raw, ok := v.(string)
		if !ok {
			continue
		}
		inv := new(invoice.Invoice)
		if err := decodeRecord([]byte(raw), inv); err != nil {
			return nil, fmt.Errorf("decode invoice %s: %w", ids[i], err)
		}
		inv.TenantID = tenantID
		out[i] = inv
	}
	return out, nil
}

// indexInvoices builds the invoice index of a tenant created before it
// existed, once, from the tenant's invoice keys (see buildOnce). Invoices
// saved meanwhile index themselves, so the two never disagree.
func (s *Store) indexInvoices(ctx context.Context, tenantID string) error {
	return s.buildOnce(ctx, tenantID, invoicesIndexedKey(tenantID), func() error {
		return s.storedInvoices(ctx, tenantID, func(invs []*invoice.Invoice) error {
			var zs []redis.Z
			for _, inv := range invs {
				zs = append(zs, redis.Z{Score: float64(inv.CreatedAt.UnixMilli()), Member: inv.ID})
			}
			return s.rdb.ZAddNX(ctx, invoicesKey(tenantID), zs...).Err()
		})
	})
}

// indexInvoiceFilters builds, once, the indexes by status and customer of
// a tenant whose invoices predate them (see buildOnce). An invoice that
// changes while this runs may be left in an index it has left as well;
// ListInvoices checks each invoice against its filters, so it is only
// passed over there.
func (s *Store) indexInvoiceFilters(ctx context.Context, tenantID string) error {
	return s.buildOnce(ctx, tenantID, invoiceFiltersIndexedKey(tenantID), func() error {
		return s.storedInvoices(ctx, tenantID, func(invs []*invoice.Invoice) error {
			_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, inv := range invs {
					indexInvoice(ctx, p, tenantID, inv, nil)
				}
				return nil
			})
			return err
		})
	})
}

// storedInvoices calls fn with every invoice of the tenant, 500 at a time,
// read from a scan of its keys: for building an index once.
func (s *Store) storedInvoices(ctx context.Context, tenantID string, fn func([]*invoice.Invoice) error) error {
	ids, err := s.scanIDs(ctx, tenantID, invoiceKey(tenantID, ""))
	if err != nil {
		return err
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		invs, err := s.invoices(ctx, tenantID, chunk)
		if err != nil {
			return err
		}
		invs = slices.DeleteFunc(invs, func(inv *invoice.Invoice) bool { return inv == nil })
		if len(invs) == 0 {
			continue
		}
		if err := fn(invs); err != nil {
			return err
		}
	}
	return nil
}

// buildOnce runs build unless marker is set, then sets it: the one-time
// building of an index for a tenant whose data predates it. Tenants
// created since have every marker from the start (CreateTenant).
func (s *Store) buildOnce(ctx context.Context, tenantID, marker string, build func() error) error {
	n, err := s.rdb.Exists(ctx, marker).Result()
	if err == nil && n == 0 {
		if err = build(); err == nil {
			err = s.rdb.Set(ctx, marker, "1", 0).Err()
		}
	}
	if err != nil {
		return fmt.Errorf("build index %s: %w", marker, err)
	}
	return nil
}

// scanIDs returns the ids of tenant's keys prefix+id, from a SCAN of the
// one node that holds the tenant's slot; a key further below (an invoice's
// delivery list, "…:inv:ID:dlv") is not taken.
func (s *Store) scanIDs(ctx context.Context, tenantID, prefix string) ([]string, error) {
	var node redis.Cmdable = s.rdb
	if c, ok := s.rdb.(*redis.ClusterClient); ok {
		var err error
		if node, err = c.MasterForKey(ctx, prefix); err != nil {
			return nil, err
		}
	}
	iter := node.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var ids []string
	for iter.Next(ctx) {
		if id := strings.TrimPrefix(iter.Val(), prefix); id != "" && !strings.Contains(id, ":") {
			ids = append(ids, id)
		}
	}
	return ids, iter.Err()
}

// invoiceIndexKey is the index of the invoices with status and customer
// (a customerEmailRef or customerIDRef), either of which may be empty for
// "any"; with neither it is invoicesKey.
func invoiceIndexKey(tenantID string, status invoice.Status, customer string) string {
	if status == "" && customer == "" {
		return invoicesKey(tenantID)
	}
	return tenantKey(tenantID, "invoices-by", string(status), customer)
}

// invoiceFiltersIndexedKey marks a tenant whose invoices are all in the
// indexes by status and customer (see indexInvoiceFilters).
func invoiceFiltersIndexedKey(tenantID string) string {
	return tenantKey(tenantID, "invoices-by-indexed")
}

// customerEmailRef names a customer by email address in an index key:
// the lower-cased address, hashed, so that key names have a fixed length
// and carry no address.
func customerEmailRef(email string) string {
	if email == "" {
		return ""
	}
	return keyRef("email:", email, true)
}

// customerIDRef names a customer by external id in an index key, hashed
// like customerEmailRef.
func customerIDRef(id string) string {
	if id == "" {
		return ""
	}
	return keyRef("id:", id, false)
}

// keyRef returns prefix and the first 16 bytes of the SHA-256 of s, lower
// case if lower, in hex. An ASCII s of up to 256 bytes is lower-cased and
// hashed on the stack, the ref's string the one allocation.
func keyRef(prefix, s string, lower bool) string {
	var buf [256]byte
	var b []byte
	switch {
	case len(s) > len(buf) || lower && !isASCII(s):
		if lower {
			s = strings.ToLower(s)
		}
		b = []byte(s)
	default:
		b = append(buf[:0], s...)
		if lower {
			for i, c := range b {
				if 'A' <= c && c <= 'Z' {
					b[i] = c + 'a' - 'A'
				}
			}
		}
	}
	sum := sha256.Sum256(b)
	var ref [8 + 2*16]byte
	n := copy(ref[:], prefix)
	n += hex.Encode(ref[n:], sum[:16])
	return string(ref[:n])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
