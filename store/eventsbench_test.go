package store

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// BenchmarkEventsWithChange measures the store's part of one send as the
// worker records it: a draft finalized, with its invoice.finalized, and
// the send's only delivery claimed and recorded sent, with its
// invoice.sent. "in-the-write" records each event in the compare-and-write
// of its change (FinalizeWith, RecordSent); "apart" records it after the
// change with a script of its own (RecordEvents), as the worker did
// before. Each op first saves the draft and creates the send, the same
// for both. Reported: round trips per op, and redis-server's CPU per op
// (INFO cpu: the whole process, reading and parsing commands included).
// Run with -count: the two alternate, each on its own redis-server.
func BenchmarkEventsWithChange(b *testing.B) {
	for _, apart := range []bool{true, false} {
		name := "in-the-write"
		if apart {
			name = "apart"
		}
		b.Run(name, func(b *testing.B) {
			s, ctx, c := setupCounted(b)
			if err := recordSendOp(ctx, s, "warm", apart); err != nil {
				b.Fatal(err)
			}
			trips, cpu := c.Trips.Load(), redistest.ServerCPU(b, s.rdb)
			ops := 0
			for b.Loop() {
				if err := recordSendOp(ctx, s, strconv.Itoa(ops), apart); err != nil {
					b.Fatal(err)
				}
				ops++
			}
			b.ReportMetric(float64(c.Trips.Load()-trips)/float64(ops), "round-trips/op")
			b.ReportMetric(float64((redistest.ServerCPU(b, s.rdb)-cpu).Microseconds())/float64(ops), "redis-cpu-µs/op")
		})
	}
}

// recordSendOp is one op of BenchmarkEventsWithChange, for invoice
// inv_<n> and send snd_<n> of tenant ten_a.
func recordSendOp(ctx context.Context, s *Store, n string, apart bool) error {
	const ten = "ten_a"
	inv := draft("inv_" + n)
	if _, err := s.SaveDraft(ctx, inv, time.Hour); err != nil {
		return err
	}
	send := &Send{ID: "snd_" + n, TenantID: ten, InvoiceID: inv.ID, Channels: []Channel{ChannelEmail}, Email: "a@b.co"}
	if _, _, err := s.CreateSend(ctx, send); err != nil {
		return err
	}
	id := send.DeliveryIDs[0]
	if apart {
		finalized, changed, err := s.Finalize(ctx, ten, inv.ID, "send")
		if err != nil || !changed {
			return fmt.Errorf("finalize: %v, %w", changed, err)
		}
		if _, err := s.RecordEvents(ctx, ten, inv.ID, []string{EventInvoiceFinalized}, FinalizedEventData(finalized)); err != nil {
			return err
		}
	} else if _, _, _, err := s.FinalizeWith(ctx, ten, inv.ID, "send", nil); err != nil {
		return err
	}
	if _, _, err := s.ClaimSend(ctx, ten, id, "clm_"+n, "smtp", time.Minute); err != nil {
		return err
	}
	index := func(p redis.Pipeliner) { p.Set(ctx, providerMessageKey("smtp", "msg-"+n), ten+"/"+id, EventTTL) }
	if !apart {
		_, _, err := s.RecordSent(ctx, ten, id, "smtp", "msg-"+n, send, nil)
		return err
	}
	m, err := s.transition(ctx, ten, id, DeliverySent, "worker", "accepted by smtp", nil, index, false, nil)
	if err != nil {
		return err
	}
	data, complete, err := s.SendSentEventData(ctx, send, m.Delivery)
	if err != nil || !complete {
		return fmt.Errorf("invoice.sent: %v, %w", complete, err)
	}
	_, err = s.RecordEvents(ctx, ten, send.ID, []string{EventInvoiceSent}, data)
	return err
}
