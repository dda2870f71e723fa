// Package store keeps invoiced's state in Redis: tenants, settings,
// invoices, sends, deliveries with their status history, and idempotency
// records. Every key of a tenant's data carries the tenant id as a hash tag
// ("ivd:{ten_…}:…") so a Redis Cluster keeps one tenant's keys in one slot
// and multi-key transactions stay legal there.
package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Errors returned by the store.
var (
	// ErrNotFound is returned for an object that does not exist, or that
	// belongs to another tenant (which is the same thing to the caller).
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a change is not allowed in the object's
	// current state.
	ErrConflict = errors.New("conflict")
)

// Config configures a Store.
type Config struct {
	// SecretKey encrypts secrets (SMTP passwords, provider tokens) at rest.
	// It must be 32 bytes.
	SecretKey []byte
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// RequireDurable makes Ready fail (ErrNotDurable) while Redis does not
	// fsync every write before it answers (CheckDurable).
	RequireDurable bool
}

// Store is the Redis-backed state of invoiced. It is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	sealer *sealer
	// macKey keys hashes of short secrets (verification codes), derived
	// from the secret key.
	macKey []byte
	// macs lend the HMACs of signed tokens, keyed by macKey (appendMAC).
	macs    sync.Pool
	limiter *redis_rate.Limiter
	now     func() time.Time
	// requireDurable is Config.RequireDurable.
	requireDurable bool
	// settings are the tenants' settings last decoded.
	settings settingsCache
	// seen are the records last read or written.
	seen seenRecords
	// decoded are the records StartJob decoded, for BeginSend.
	decoded decodedRecords
	// tokens are the tenant ids of the API tokens last looked up, by
	// token key (see TenantByToken).
	tokens lastSeen[string]
}

// New returns a Store on rdb.
func New(rdb redis.UniversalClient, cfg Config) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("store: nil redis client")
	}
	sl, err := newSealer(cfg.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	mac := sha256.Sum256(append([]byte("invoiced store mac key\x00"), cfg.SecretKey...))
	return &Store{rdb: rdb, sealer: sl, macKey: mac[:], limiter: redis_rate.NewLimiter(rdb), now: now, requireDurable: cfg.RequireDurable}, nil
}

// Ping checks that Redis answers; on a Redis Cluster, that the cluster
// serves all its slots (see pingCluster).
func (s *Store) Ping(ctx context.Context) error {
	if c, ok := s.rdb.(*redis.ClusterClient); ok {
		return pingCluster(ctx, c)
	}
	return s.rdb.Ping(ctx).Err()
}

// Now returns the store's clock reading, truncated to milliseconds.
func (s *Store) Now() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

const keyPrefix = "ivd:"

// tenantKey builds a key inside tenant's hash slot: its parts joined by
// colons, in one allocation.
func tenantKey(tenantID string, parts ...string) string {
	n := len(keyPrefix) + len("{}:") + len(tenantID)
	for _, p := range parts {
		n += len(p) + 1
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(keyPrefix)
	b.WriteByte('{')
	b.WriteString(tenantID)
	b.WriteString("}:")
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(p)
	}
	return b.String()
}

// NewID returns a random id with the given prefix, e.g. "dlv_k3j…".
func NewID(prefix string) string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	// 10 bytes are 16 characters of base32 exactly, with no padding.
	var enc [16]byte
	base32.StdEncoding.Encode(enc[:], b[:])
	for i, c := range enc {
		if c >= 'A' && c <= 'Z' {
			enc[i] = c + ('a' - 'A')
		}
	}
	return prefix + "_" + string(enc[:])
}

// getJSON loads key into v; a missing key is ErrNotFound.
func getJSON(ctx context.Context, c redis.Cmdable, key string, v any) error {
	b, err := c.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	if err := decodeRecord(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

// maxTxRetries bounds optimistic-locking retries under contention.
const maxTxRetries = 50

// watch runs txf in a WATCH transaction on keys, again while another
// client changed a key first, at most maxTxRetries times; what names the
// work in the error when it never gets through.
func (s *Store) watch(ctx context.Context, txf func(*redis.Tx) error, what string, keys ...string) error {
	for range maxTxRetries {
		err := s.rdb.Watch(ctx, txf, keys...)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return fmt.Errorf("%s: too much contention", what)
}

// errUnchanged, returned by an update's fn, leaves the object as it is.
var errUnchanged = errors.New("nothing to change")

// update loads the JSON object at key into v, calls fn, and writes v back,
// atomically: the write happens only if key still holds what was read
// (compared by casScript in the same step as the write), otherwise the
// whole read-modify-write runs again on what key holds now. fn returning
// an error aborts without writing. extra, if set, queues more commands to
// run in the same step; their replies are not read, and their first
// argument is their key, in key's hash slot.
//
// A read-modify-write takes two round trips: the GET, and the script that
// compares and writes (WATCH, GET, MULTI…EXEC and UNWATCH took four); one,
// the script, when it starts from the record as this store last read or
// wrote it (seenRecords), which it takes decoded when it was kept so
// (decodedRecords).
func update[T any](ctx context.Context, s *Store, key string, fn func(v *T) error, extra func(p redis.Pipeliner, v *T)) (*T, error) {
	v, _, err := updateWith(ctx, s, key, fn, also[T]{extra: extra})
	return v, err
}

// also is what an update does besides writing the object (see updateWith).
type also[T any] struct {
	// extra queues commands to run in the same step as the write (see
	// update).
	extra func(p redis.Pipeliner, v *T)
	// beside queues commands sent in the same round trip as the
	// compare-and-write, after it, but outside it: they run whether or
	// not it writes (and again when the update runs again), so they must
	// be harmless then, and they may name keys of any hash slot. Their
	// replies are not read; the caller keeps their Cmds to look.
	beside func(p redis.Pipeliner)
	// events returns the events of the change fn made to v, recorded in
	// the same step as the write, as RecordEvents records them; none
	// when it returns nil.
	events func(v *T) *eventBatch
}

// updateWith is update, doing what a asks besides; it returns the ids of
// the events recorded with the write whose fan-out is pending (see
// RecordEvents).
func updateWith[T any](ctx context.Context, s *Store, key string, fn func(v *T) error, a also[T]) (*T, []string, error) {
	old, seen := s.seen.get(key)
	if !seen {
		var err error
		if old, err = s.getRaw(ctx, key); err != nil {
			return nil, nil, err
		}
	}
	for range maxTxRetries {
		v := new(T)
		if !takeDecoded(s, key, old, v) {
			if err := decodeRecord(old, v); err != nil {
				s.seen.drop(key)
				return nil, nil, fmt.Errorf("decode %s: %w", key, err)
			}
		}
		if err := fn(v); err != nil {
			if seen {
				// fn decided on what this store saw last: that stands
				// only if key still holds it.
				now, gerr := s.getRaw(ctx, key)
				if gerr != nil {
					s.seen.drop(key)
					return nil, nil, gerr
				}
				seen = false
				if !bytes.Equal(now, old) {
					old = now
					continue
				}
			}
			s.seen.put(key, old)
			return nil, nil, err
		}
		b, err := encodeRecord(v)
		if err != nil {
			return nil, nil, err
		}
		var evs *eventBatch
		if a.events != nil {
			evs = a.events(v)
		}
		res, err := s.compareAndWrite(ctx, key, old, func(p redis.Pipeliner) error {
			p.Set(ctx, key, b, redis.KeepTTL)
			if a.extra != nil {
				a.extra(p, v)
			}
			return nil
		}, casOptions{beside: a.beside, events: evs})
		switch {
		case err != nil:
			s.seen.drop(key)
			return nil, nil, fmt.Errorf("update %s: %w", key, err)
		case res.written:
			s.seen.put(key, b)
			return v, res.fanout, nil
		case res.now == nil:
			s.seen.drop(key)
			return nil, nil, ErrNotFound
		}
		old, seen = res.now, false
	}
	s.seen.drop(key)
	return nil, nil, fmt.Errorf("update %s: too much contention", key)
}

// getRaw returns the stored bytes at key; a missing key is ErrNotFound.
func (s *Store) getRaw(ctx context.Context, key string) ([]byte, error) {
	b, err := s.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return b, nil
}

// getRecord loads the record at key into v, as getJSON does, and keeps
// its bytes for an update of it that may follow (see seenRecords).
func (s *Store) getRecord(ctx context.Context, key string, v any) error {
	b, err := s.getRaw(ctx, key)
	if err != nil {
		return err
	}
	if err := decodeRecord(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	s.seen.put(key, b)
	return nil
}

// lastSeenMax bounds a lastSeen; past it, it starts empty again.
const lastSeenMax = 4096

// lastSeen keeps what this store last saw of a few thousand keys, for
// reads to start from; what is kept is always checked against Redis in
// the round trip that uses it.
type lastSeen[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

func (c *lastSeen[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

func (c *lastSeen[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= lastSeenMax {
		c.m = make(map[string]V)
	}
	c.m[key] = v
}

// take returns what is kept of key, which is then no longer kept.
func (c *lastSeen[V]) take(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	delete(c.m, key)
	return v, ok
}

func (c *lastSeen[V]) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// seenRecords keeps the stored bytes of the records this store last read
// or wrote, by key, for an update to start from without reading the
// record again: the compare of compareAndWrite finds them stale if
// another writer changed the record since, and the update then runs
// again on what it holds now. A read made to decide against writing is
// checked the same way (see update).
type seenRecords = lastSeen[[]byte]

// eventBatch is events of one tenant, made at a time, to record in the
// same step as a change.
type eventBatch struct {
	tenantID string
	at       time.Time
	events   []Event
}

// casOptions are what a compareAndWrite does besides its commands.
type casOptions struct {
	// beside queues commands sent in the same round trip after the
	// compare-and-write, outside it (see also.beside).
	beside func(p redis.Pipeliner)
	// events are recorded in the same step as the write.
	events *eventBatch
	// take, when set, takes emails from a tenant's hourly budget in the
	// same step, before the write: if they do not fit, nothing is taken
	// or written (casResult.refused).
	take *emailTakeArgs
}

// casResult is what compareAndWrite did: whether it wrote; if not, what
// the key holds now (nil when it does not exist), or the refused take of
// emails; if so, the ids of the events it recorded whose fan-out is
// pending (see RecordEvents).
type casResult struct {
	written bool
	now     []byte
	refused *EmailTake
	fanout  []string
}

// compareAndWrite runs the commands that write queues, with what o asks
// besides, in one step, if key holds old (nil: if key does not exist).
// Otherwise it writes nothing and returns what key holds now.
func (s *Store) compareAndWrite(ctx context.Context, key string, old []byte, write func(p redis.Pipeliner) error, o casOptions) (casResult, error) {
	p := s.rdb.Pipeline()
	defer p.Discard()
	if err := write(p); err != nil {
		return casResult{}, err
	}
	keys, args := casArgs(key, old, o.take, p.Cmds())
	keys, args, err := withEvents(keys, args, o.events)
	if err != nil {
		return casResult{}, err
	}
	res, err := s.runBeside(ctx, casScript, keys, args, o.beside)
	if err != nil {
		return casResult{}, err
	}
	switch r := res.(type) {
	case int64:
		return casResult{written: r == 1}, nil
	case string:
		return casResult{now: []byte(r)}, nil
	case []any:
		if _, refused := r[0].(int64); refused {
			took, err := emailTake(o.take.tenantID, r)
			return casResult{refused: &took}, err
		}
		out := casResult{written: true, fanout: make([]string, 0, len(r))}
		for _, id := range r {
			if id, ok := id.(string); ok {
				out.fanout = append(out.fanout, id)
			}
		}
		return out, nil
	}
	return casResult{}, fmt.Errorf("compare and write %s: unexpected reply %T", key, res)
}

// compareAndWriteAll is compareAndWrite comparing every one of keys with
// what olds holds at the same index (nil: the key does not exist), and
// writing only if all of them hold it; otherwise it writes nothing and
// returns what each holds now (nil for one that does not exist), in the
// order of keys. o.take is not supported.
func (s *Store) compareAndWriteAll(ctx context.Context, keys []string, olds [][]byte, write func(p redis.Pipeliner) error, o casOptions) (casResult, [][]byte, error) {
	p := s.rdb.Pipeline()
	defer p.Discard()
	if err := write(p); err != nil {
		return casResult{}, nil, err
	}
	args := make([]any, 0, 1+len(olds))
	args = append(args, len(keys))
	for _, b := range olds {
		args = append(args, b)
	}
	allKeys, args := commandArgs(slices.Clone(keys), args, nil, p.Cmds())
	allKeys, args, err := withEvents(allKeys, args, o.events)
	if err != nil {
		return casResult{}, nil, err
	}
	res, err := s.runBeside(ctx, casAllScript, allKeys, args, o.beside)
	if err != nil {
		return casResult{}, nil, err
	}
	switch r := res.(type) {
	case int64:
		return casResult{written: r == 1}, nil, nil
	case []any:
		if len(r) == 1+len(keys) {
			if _, stale := r[0].(int64); stale {
				now := make([][]byte, len(keys))
				for i, v := range r[1:] {
					if str, ok := v.(string); ok {
						now[i] = replyBytes(str)
					}
				}
				return casResult{}, now, nil
			}
		}
		out := casResult{written: true, fanout: make([]string, 0, len(r))}
		for _, id := range r {
			if id, ok := id.(string); ok {
				out.fanout = append(out.fanout, id)
			}
		}
		return out, nil, nil
	}
	return casResult{}, nil, fmt.Errorf("compare and write %s: unexpected reply %T", keys[0], res)
}

// runBeside runs script on keys and args, and the commands beside queues
// after it, in one pipeline; the script by its hash, and by its text when
// Redis does not know it yet (a pipeline cannot fall back within itself
// as Script.Run does). It returns the script's reply. Without beside it
// is script.Run.
func (s *Store) runBeside(ctx context.Context, script *redis.Script, keys []string, args []any, beside func(p redis.Pipeliner)) (any, error) {
	if beside == nil {
		return script.Run(ctx, s.rdb, keys, args...).Result()
	}
	p := s.rdb.Pipeline()
	res := script.EvalSha(ctx, p, keys, args...)
	beside(p)
	_, _ = p.Exec(ctx)
	if err := res.Err(); err == nil || !redis.HasErrorPrefix(err, "NOSCRIPT") {
		return res.Result()
	}
	p = s.rdb.Pipeline()
	res = script.Eval(ctx, p, keys, args...)
	beside(p)
	_, _ = p.Exec(ctx)
	return res.Result()
}

// casScript runs a list of commands if KEYS[1] holds ARGV[1] (an empty
// ARGV[1]: if KEYS[1] does not exist; no stored record is empty), and
// returns what runCommands returns. Otherwise it changes nothing and
// returns what KEYS[1] holds, or 0 if it does not exist. KEYS lists every
// key the script writes, for a Redis Cluster to route it and check they
// share a slot.
var casScript = redis.NewScript(runCommandsLua + `
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then
	return cur or 0
end
return runCommands(2)`)

// casAllScript is casScript comparing several keys: KEYS[1] to KEYS[n],
// n being ARGV[1], with ARGV[2] to ARGV[n + 1]. If any of them holds
// something else, it changes nothing and returns 0 followed by what each
// holds now (0 for one that does not exist). The commands start at
// ARGV[n + 2].
var casAllScript = redis.NewScript(runCommandsLua + `
local n = tonumber(ARGV[1])
local now = {0}
local same = true
for j = 1, n do
	local cur = redis.call('GET', KEYS[j])
	now[j + 1] = cur or 0
	if (cur or '') ~= ARGV[j + 1] then
		same = false
	end
end
if not same then
	return now
end
return runCommands(n + 2)`)

// runCommandsLua defines runCommands(i), which runs the list of commands
// laid out in ARGV from i (casArgs), and returns 1. Each command is its
// number of arguments followed by them, its first (its key) as its index
// in KEYS: a key crosses to Redis and into Lua once however many commands
// name it.
//
// Two numbers mark more than a command. -1, first, takes emails from an
// hourly budget before anything is written (takeEmails; its key's index
// in KEYS, limit, period and emails follow): if they do not fit, nothing
// is written and
// runCommands returns takeEmails's refusal. 0, last, ends the commands and
// starts events to record with them (recordEvents); runCommands then
// returns the ids of those whose fan-out is pending instead of 1, when
// there are any.
const runCommandsLua = takeEmailsLua + recordEventsLua + `
local function runCommands(i)
	while i <= #ARGV do
		local n = tonumber(ARGV[i])
		if n == 0 then
			local pending = recordEvents(i + 1)
			if #pending > 0 then
				return pending
			end
			return 1
		elseif n < 0 then
			local took = takeEmails(KEYS[tonumber(ARGV[i + 1])], nil, ARGV[i + 2], ARGV[i + 3], ARGV[i + 4])
			if took[1] == 0 then
				return took
			end
			i = i + 5
		else
			redis.call(ARGV[i + 1], KEYS[tonumber(ARGV[i + 2])], unpack(ARGV, i + 3, i + n))
			i = i + n + 1
		end
	end
	return 1
end
`

// withEvents adds evs, when there are any, to the keys and args of a
// compare-and-write (see runCommandsLua).
func withEvents(keys []string, args []any, evs *eventBatch) ([]string, []any, error) {
	if evs == nil || len(evs.events) == 0 {
		return keys, args, nil
	}
	evKeys, evArgs, err := eventArgs(evs.tenantID, evs.events, evs.at, len(keys))
	if err != nil {
		return nil, nil, err
	}
	return append(keys, evKeys...), append(append(args, 0), evArgs...), nil
}

// casArgs lays out cmds for casScript, to run if key holds old, after
// take when it is set: key first, then the first argument of each command
// (its key) once, which the command names by its index.
func casArgs(key string, old []byte, take *emailTakeArgs, cmds []redis.Cmder) (keys []string, args []any) {
	return commandArgs([]string{key}, []any{old}, take, cmds)
}

// commandArgs appends cmds, after take when it is set, to keys and args
// as runCommandsLua reads them: the first argument of each command (its
// key) once to keys, and to args its index there (from 1, as in Lua).
// Every command in cmds names a key first, as every write does.
func commandArgs(keys []string, args []any, take *emailTakeArgs, cmds []redis.Cmder) ([]string, []any) {
	n := 5 // take's
	for _, c := range cmds {
		n += 1 + len(c.Args())
	}
	args = slices.Grow(args, n)
	if take != nil {
		var i int
		keys, i = keyIndex(keys, emailBudgetKey(take.tenantID))
		args = append(args, -1, i, take.perHour, time.Hour.Seconds(), take.n)
	}
	for _, c := range cmds {
		a := c.Args()
		args = append(args, len(a), a[0])
		if len(a) > 1 {
			k, ok := a[1].(string)
			if !ok {
				k = fmt.Sprint(a[1])
			}
			var i int
			keys, i = keyIndex(keys, k)
			args = append(args, i)
			args = append(args, a[2:]...)
		}
	}
	return keys, args
}

// keyIndex returns keys with k, added at the end unless it is there
// already, and k's index in it from 1, as Lua counts.
func keyIndex(keys []string, k string) ([]string, int) {
	if i := slices.Index(keys, k); i >= 0 {
		return keys, i + 1
	}
	return append(keys, k), len(keys) + 1
}
