package store

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/redistest"
)

// BenchmarkSendStart measures the store's part of one send as a send task
// makes it, from the job's read to the delivery recorded sent:
// "step-by-step" starts the send, finalizes the draft, reads the
// suppression list and claims the delivery one round trip each
// (StartSend, FinalizeWith, Suppressed, ClaimSend), as the worker did
// before; "one-step" does all four in one round trip (BeginSend). Both
// then record the delivery sent (RecordSent). Each op first saves the
// draft and creates the send, the same for both. Reported: round trips
// and scripts per op, redis-server's CPU per op (INFO cpu) and this
// process's (the client's, getrusage), both whole processes. Run with
// -count: the two alternate, each on its own redis-server.
func BenchmarkSendStart(b *testing.B) {
	for _, oneStep := range []bool{false, true} {
		name := "step-by-step"
		if oneStep {
			name = "one-step"
		}
		b.Run(name, func(b *testing.B) {
			s, ctx, c := setupCounted(b)
			if err := sendStartOp(ctx, s, "warm", oneStep); err != nil {
				b.Fatal(err)
			}
			trips, scriptCalls := c.Trips.Load(), scriptsRun(b, s)
			cpu, own := redistest.ServerCPU(b, s.rdb), redistest.ProcessCPU(b)
			ops := 0
			for b.Loop() {
				if err := sendStartOp(ctx, s, strconv.Itoa(ops), oneStep); err != nil {
					b.Fatal(err)
				}
				ops++
			}
			b.ReportMetric(float64(c.Trips.Load()-trips)/float64(ops), "round-trips/op")
			b.ReportMetric(float64(scriptsRun(b, s)-scriptCalls)/float64(ops), "scripts/op")
			b.ReportMetric(float64((redistest.ServerCPU(b, s.rdb)-cpu).Microseconds())/float64(ops), "redis-cpu-µs/op")
			b.ReportMetric(float64((redistest.ProcessCPU(b)-own).Microseconds())/float64(ops), "client-cpu-µs/op")
		})
	}
}

// sendStartOp is one op of BenchmarkSendStart, for invoice inv_<n> and
// send snd_<n> of tenant ten_a.
func sendStartOp(ctx context.Context, s *Store, n string, oneStep bool) error {
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
	if _, _, _, _, err := s.StartJob(ctx, ten, send.ID, inv.ID, send.DeliveryIDs); err != nil {
		return err
	}
	token := "clm_" + n
	if oneStep {
		b, err := s.BeginSend(ctx, SendStart{TenantID: ten, SendID: send.ID, DeliveryID: id, Token: token, Provider: "smtp",
			TTL: time.Minute, Recipients: []string{send.Email}})
		if err != nil || !b.Begun || b.Suppression.Err != nil {
			return errors.New("not begun")
		}
		send = b.Send
	} else {
		started, err := s.StartSend(ctx, ten, send.ID)
		if err != nil {
			return err
		}
		send = started
		if _, _, _, err := s.FinalizeWith(ctx, ten, inv.ID, "send", nil); err != nil {
			return err
		}
		if _, _, err := s.Suppressed(ctx, ten, "a@b.co"); err != nil {
			return err
		}
		if _, _, err := s.ClaimSend(ctx, ten, id, token, "smtp", time.Minute); err != nil {
			return err
		}
	}
	_, _, err := s.RecordSent(ctx, ten, id, "smtp", "msg-"+n, send, nil)
	return err
}

// scriptsRun returns how many scripts Redis has run (EVALSHA and EVAL).
func scriptsRun(tb testing.TB, s *Store) int64 {
	calls := commandStat(tb, s.rdb, "calls")
	return calls["evalsha"] + calls["eval"]
}
