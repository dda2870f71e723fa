package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/invoice"
)

// benchCustomers is how many customers the invoices of BenchmarkQueryPage
// are spread over: each has a hundredth of them, so a customer's
// listing grows with the tenant.
const benchCustomers = 100

// BenchmarkQueryPage measures one page (limit 20, newest first) of each
// listing an operator asks for, on one tenant with 10,000 and on one with
// 100,000 invoices and as many deliveries, each on its own real
// redis-server: the time per page, the Redis commands it sends (cmds/op)
// and the time redis-server spends executing them (redis-µs/op). Both
// tenants are filled first and each query is measured on one and then
// the other, so that the two see the same load on a shared machine. The
// listing of all invoices is the baseline. Read each query's 100k ÷ 10k
// ratio: about 1 means a page costs O(page), whatever the tenant holds.
func BenchmarkQueryPage(b *testing.B) {
	sizes := []int{10_000, 100_000}
	tenants := make([]*benchTenant, len(sizes))
	for i, n := range sizes {
		tenants[i] = newBenchTenant(b, n)
	}
	for _, q := range benchQueries {
		for _, bt := range tenants {
			b.Run(fmt.Sprintf("%s/invoices=%d", q.name, bt.n), func(b *testing.B) {
				// The tenant is new, so its indexes were kept from the
				// first write and nothing is built here.
				if got, err := q.page(bt.s, bt.tenantID); err != nil || got != 20 {
					b.Fatalf("a page of %d, %v; want 20", got, err)
				}
				usecBefore := commandUsec(b, bt.rdb)
				before := bt.counter.Commands.Load()
				pages := 0
				for b.Loop() {
					if _, err := q.page(bt.s, bt.tenantID); err != nil {
						b.Fatal(err)
					}
					pages++
				}
				cmds := bt.counter.Commands.Load() - before
				usec := commandUsec(b, bt.rdb) - usecBefore
				b.ReportMetric(float64(cmds)/float64(pages), "cmds/op")
				b.ReportMetric(float64(usec)/float64(pages), "redis-µs/op")
			})
		}
	}
}

// benchQueries are the pages BenchmarkQueryPage measures; each returns
// how many it listed.
var benchQueries = []struct {
	name string
	page func(s *Store, tenantID string) (int, error)
}{
	{"invoices", func(s *Store, tenantID string) (int, error) {
		p, err := s.ListInvoices(context.Background(), tenantID, InvoiceQuery{Limit: 20})
		return len(p.Invoices), err
	}},
	{"invoices-by-email", func(s *Store, tenantID string) (int, error) {
		p, err := s.ListInvoices(context.Background(), tenantID, InvoiceQuery{Limit: 20, CustomerEmail: "customer7@example.com"})
		return len(p.Invoices), err
	}},
	{"invoices-by-customer-id", func(s *Store, tenantID string) (int, error) {
		p, err := s.ListInvoices(context.Background(), tenantID, InvoiceQuery{Limit: 20, CustomerID: "cus_42"})
		return len(p.Invoices), err
	}},
	{"invoices-paid", func(s *Store, tenantID string) (int, error) {
		p, err := s.ListInvoices(context.Background(), tenantID, InvoiceQuery{Limit: 20, Status: invoice.StatusPaid})
		return len(p.Invoices), err
	}},
	{"deliveries-failed", func(s *Store, tenantID string) (int, error) {
		ds, _, err := s.QueryDeliveries(context.Background(), tenantID, DeliveryQuery{Limit: 20, Status: DeliveryFailed})
		return len(ds), err
	}},
	{"deliveries-sms-sent", func(s *Store, tenantID string) (int, error) {
		ds, _, err := s.QueryDeliveries(context.Background(), tenantID, DeliveryQuery{Limit: 20, Status: DeliverySent, Channel: ChannelSMS})
		return len(ds), err
	}},
}

// benchTenant is a tenant of n invoices on a redis-server of its own.
type benchTenant struct {
	n        int
	s        *Store
	rdb      *redis.Client
	counter  *redistest.Counter
	tenantID string
}

func newBenchTenant(b *testing.B, n int) *benchTenant {
	b.Helper()
	srv := redistest.Start(b)
	bt := &benchTenant{n: n, rdb: srv.Client(b), counter: new(redistest.Counter)}
	bt.rdb.AddHook(bt.counter)
	var err error
	if bt.s, err = New(bt.rdb, Config{SecretKey: make([]byte, 32)}); err != nil {
		b.Fatal(err)
	}
	ten, _, err := bt.s.CreateTenant(context.Background(), "Bench SRL")
	if err != nil {
		b.Fatal(err)
	}
	bt.tenantID = ten.ID
	start := time.Now()
	fillTenant(b, bt.s, ten.ID, n)
	b.Logf("filled %d invoices and %d deliveries in %s", n, n, time.Since(start).Round(time.Millisecond))
	reportIndexMemory(b, bt.rdb, ten.ID)
	// Redis grows its tables by rehashing a step at a time as keys are
	// looked up; warm up so that the first query measured does not pay
	// for the fill's.
	for range 300 {
		for _, q := range benchQueries {
			if _, err := q.page(bt.s, ten.ID); err != nil {
				b.Fatal(err)
			}
		}
	}
	return bt
}

// commandUsec returns the microseconds redis-server has spent executing
// commands (INFO commandstats), INFO itself left out: the server's share
// of a query, which other processes on the machine disturb less than the
// wall time.
func commandUsec(b *testing.B, rdb *redis.Client) int64 {
	b.Helper()
	var total int64
	for name, usec := range commandStat(b, rdb, "usec") {
		if name != "info" {
			total += usec
		}
	}
	return total
}

// commandStat returns one field (calls, usec) of INFO commandstats for
// each command Redis has run, those run by scripts included, by
// lower-case name.
func commandStat(tb testing.TB, rdb redis.Cmdable, field string) map[string]int64 {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]int64{}
	for _, line := range strings.Split(info, "\r\n") {
		name, stats, ok := strings.Cut(line, ":")
		name, found := strings.CutPrefix(name, "cmdstat_")
		if !ok || !found {
			continue
		}
		for _, f := range strings.Split(stats, ",") {
			if v, ok := strings.CutPrefix(f, field+"="); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					tb.Fatalf("commandstats line %q: %v", line, err)
				}
				out[name] = n
			}
		}
	}
	return out
}

// fillTenant stores n invoices of benchCustomers customers, one
// millisecond apart, each with one delivery, through the store's own
// write commands (indexInvoice, putDeliveries) pipelined in batches by
// several writers at once.
// Every twentieth invoice is paid, a quarter of the deliveries are SMS,
// every twentieth failed and the rest sent.
func fillTenant(b *testing.B, s *Store, tenantID string, n int) {
	b.Helper()
	ctx := context.Background()
	const batch, writers = 1000, 4
	from := make(chan int)
	errs := make(chan error, writers)
	for range writers {
		go func() {
			var err error
			for from := range from {
				if err == nil {
					err = fillBatch(ctx, s, tenantID, from, min(from+batch, n))
				}
			}
			errs <- err
		}()
	}
	for i := 0; i < n; i += batch {
		from <- i
	}
	close(from)
	for range writers {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}

// fillBatch writes the invoices from to to of fillTenant, and their
// deliveries, in one pipeline.
func fillBatch(ctx context.Context, s *Store, tenantID string, from, to int) error {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := from; i < to; i++ {
			at := base.Add(time.Duration(i) * time.Millisecond)
			c := i % benchCustomers
			inv := &invoice.Invoice{
				ID: "inv_" + strconv.Itoa(i), TenantID: tenantID, Type: invoice.TypeInvoice,
				Number: "INV-" + strconv.Itoa(i), Status: invoice.StatusOpen, Currency: "EUR", IssueDate: "2026-01-01",
				Customer: invoice.Customer{
					ExternalID: "cus_" + strconv.Itoa(c), Name: "Customer " + strconv.Itoa(c),
					// Stored in mixed case; looked up in lower case.
					Email:   "Customer" + strconv.Itoa(c) + "@Example.com",
					Address: invoice.Address{Line1: "Str. Lalelelor 5", City: "Cluj-Napoca", Country: "RO"},
				},
				Lines:    []invoice.Line{{Description: "Consulting", Quantity: "10", Unit: "h", UnitPrice: "95.00", TaxRate: "19"}},
				Subtotal: "950.00", TaxTotal: "180.50", Total: "1130.50", AmountDue: "1130.50",
				CreatedAt: at, UpdatedAt: at, FinalizedAt: &at, FinalizedBy: "api",
			}
			if i%20 == 0 {
				inv.Status, inv.PaidAt, inv.PaidBy = invoice.StatusPaid, &at, "api"
			}
			raw, err := json.Marshal(inv)
			if err != nil {
				return err
			}
			p.Set(ctx, invoiceKey(tenantID, inv.ID), raw, 0)
			indexInvoice(ctx, p, tenantID, inv, nil)

			d := &Delivery{
				ID: "dlv_" + strconv.Itoa(i), TenantID: tenantID, InvoiceID: inv.ID, SendID: "snd_" + strconv.Itoa(i),
				Channel: ChannelEmail, To: strings.ToLower(inv.Customer.Email), Status: DeliverySent,
				Provider: "outbox", CreatedAt: at, UpdatedAt: at, SentAt: &at,
				History: []Transition{{Status: DeliveryQueued, At: at, Source: "api"}, {Status: DeliverySent, At: at, Source: "worker"}},
			}
			if i%4 == 0 {
				d.Channel, d.To = ChannelSMS, "+40712345678"
			}
			if i%20 == 1 {
				d.Status, d.SentAt, d.Error = DeliveryFailed, nil, "mailbox unavailable"
				d.History[1] = Transition{Status: DeliveryFailed, At: at, Source: "worker"}
			}
			if err := putDeliveries(ctx, p, []*Delivery{d}, at); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// reportIndexMemory logs what the invoice indexes by status and customer
// take of the memory the tenant's data uses.
func reportIndexMemory(b *testing.B, rdb *redis.Client, tenantID string) {
	b.Helper()
	ctx := context.Background()
	var keys []string
	iter := rdb.Scan(ctx, 0, tenantKey(tenantID, "invoices-by")+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		b.Fatal(err)
	}
	var index int64
	for _, k := range keys {
		n, err := rdb.MemoryUsage(ctx, k, 0).Result()
		if err != nil {
			b.Fatal(err)
		}
		index += n
	}
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	var used int64
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			used, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	b.Logf("the %d indexes by status and customer: %.1f MB of %.1f MB used (%.0f%%)",
		len(keys), float64(index)/1e6, float64(used)/1e6, 100*float64(index)/float64(used))
}
