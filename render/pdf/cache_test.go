package pdf

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goccy/go-json"
)

// countingCache returns a cache of maxEntries whose renders are counted.
// With fake set, it renders a stand-in PDF made of the document's number
// instead of a real one.
func countingCache(t *testing.T, maxEntries int, fake bool) (*Cache, *atomic.Int64) {
	t.Helper()
	c := NewCache(newRenderer(t), maxEntries)
	var renders atomic.Int64
	renderPDF := c.renderFunc
	c.renderFunc = func(doc Document) ([]byte, error) {
		renders.Add(1)
		if fake {
			return []byte("%PDF " + doc.Invoice.Number), nil
		}
		return renderPDF(doc)
	}
	return c, &renders
}

// numbered returns the sample document with its invoice number set, a
// cheap way to make documents of different content.
func numbered(t *testing.T, number string) Document {
	t.Helper()
	doc := sampleDoc(t, 0)
	doc.Invoice.Number = number
	return doc
}

func cacheRender(t *testing.T, c *Cache, doc Document) []byte {
	t.Helper()
	pdf, err := c.Render(doc)
	if err != nil {
		t.Fatal(err)
	}
	return pdf
}

func TestCacheRendersOnce(t *testing.T) {
	t.Parallel()
	c, renders := countingCache(t, 0, false)
	first := cacheRender(t, c, sampleDoc(t, 0))
	second := cacheRender(t, c, sampleDoc(t, 0)) // equal content, another value
	if !bytes.Equal(first, second) {
		t.Error("the same document gave different bytes")
	}
	if !bytes.HasPrefix(first, []byte("%PDF-")) {
		t.Errorf("cached bytes are not a PDF: %q", first[:min(len(first), 16)])
	}
	if n := renders.Load(); n != 1 {
		t.Errorf("renders = %d, want 1", n)
	}
	if c.maxEntries != defaultCacheEntries {
		t.Errorf("maxEntries = %d, want the default %d", c.maxEntries, defaultCacheEntries)
	}
}

// TestKeyJSON checks that the JSON Key hashes is what encoding/json
// writes for documents: with a logo, a credit note's reference, and
// text that JSON escapes.
func TestKeyJSON(t *testing.T) {
	t.Parallel()
	full := sampleDoc(t, 6)
	full.Logo = testLogo(t, 60, 20, "png")
	full.Invoice.Notes = "<b>Tom & Jerry</b> \"quoted\"\n\u2028 ünïcödé \x01"
	credit := creditNoteDoc(t)
	for name, doc := range map[string]Document{"sample": sampleDoc(t, 0), "full": full, "credit note": credit} {
		var got, want bytes.Buffer
		if err := stdjson.NewEncoder(&want).Encode(doc); err != nil {
			t.Fatal(err)
		}
		if err := json.NewEncoder(&got).Encode(doc); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: go-json writes\n%s\nencoding/json\n%s", name, got.Bytes(), want.Bytes())
		}
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	base := Key(sampleDoc(t, 0))
	if len(base) != 64 {
		t.Fatalf("Key = %q, want 64 hex digits", base)
	}
	changes := map[string]func(*Document){
		"line amount":   func(d *Document) { d.Invoice.Lines[0].Amount = "951.00" },
		"customer name": func(d *Document) { d.Invoice.Customer.Name = "Ana Popescu" },
		"status":        func(d *Document) { d.Invoice.Status = "draft" },
		"seller":        func(d *Document) { d.Seller.VATID = "RO1" },
		"bank":          func(d *Document) { d.Bank.IBAN = "" },
		"language":      func(d *Document) { d.Language = "ro" },
		"payment link":  func(d *Document) { d.Invoice.PaymentLink = "https://pay.invoiced.test/other" },
		"logo":          func(d *Document) { d.Logo = []byte("\x89PNG other") },
		"paper":         func(d *Document) { d.Paper = "Letter" },
		"accent":        func(d *Document) { d.Accent = "#000000" },
		"reference":     func(d *Document) { d.Invoice.Reference = "PO-1" },
	}
	for name, change := range changes {
		doc := sampleDoc(t, 0)
		change(&doc)
		if Key(doc) == base {
			t.Errorf("changing the %s keeps the key", name)
		}
	}
	unprinted := map[string]func(*Document){
		"updatedAt": func(d *Document) { d.Invoice.UpdatedAt = time.Now() },
		"id":        func(d *Document) { d.Invoice.ID = "inv_other" },
	}
	for name, change := range unprinted {
		doc := sampleDoc(t, 0)
		change(&doc)
		if Key(doc) != base {
			t.Errorf("changing the unprinted %s changes the key", name)
		}
	}
	doc := sampleDoc(t, 0)
	Key(doc)
	if !doc.Invoice.UpdatedAt.IsZero() || doc.Invoice.ID != "inv_1001" {
		t.Error("Key modified the invoice")
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c, renders := countingCache(t, 2, true)
	a, b, d := numbered(t, "A"), numbered(t, "B"), numbered(t, "C")
	cacheRender(t, c, a)
	cacheRender(t, c, b)
	cacheRender(t, c, a) // hit; B is now the least recently used
	cacheRender(t, c, d) // evicts B
	if n := renders.Load(); n != 3 {
		t.Fatalf("renders = %d, want 3", n)
	}
	if got := c.lru.Len(); got != 2 {
		t.Errorf("entries = %d, want 2", got)
	}
	cacheRender(t, c, a) // still cached
	if n := renders.Load(); n != 3 {
		t.Errorf("renders = %d after A again, want 3", n)
	}
	if got := string(cacheRender(t, c, b)); got != "%PDF B" { // evicted: rendered again
		t.Errorf("B = %q", got)
	}
	if n := renders.Load(); n != 4 {
		t.Errorf("renders = %d after B again, want 4", n)
	}
}

func TestCacheConcurrentMissesRenderOnce(t *testing.T) {
	t.Parallel()
	c := NewCache(newRenderer(t), 4)
	release := make(chan struct{})
	var renders atomic.Int64
	c.renderFunc = func(doc Document) ([]byte, error) {
		renders.Add(1)
		<-release
		return []byte("%PDF " + doc.Invoice.Number), nil
	}
	const callers = 16
	doc := numbered(t, "A")
	key := Key(doc)
	results := make(chan []byte, callers)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			pdf, err := c.Render(doc)
			if err != nil {
				t.Error(err)
			}
			results <- pdf
		})
	}
	waitForInflight(t, c, key, callers-1) // one renders, the others wait
	close(release)
	wg.Wait()
	close(results)
	for pdf := range results {
		if string(pdf) != "%PDF A" {
			t.Errorf("a caller got %q", pdf)
		}
	}
	if n := renders.Load(); n != 1 {
		t.Errorf("renders = %d, want 1", n)
	}
}

func TestCacheDoesNotKeepErrors(t *testing.T) {
	t.Parallel()
	c := NewCache(newRenderer(t), 4)
	fail := errors.New("boom")
	calls := 0
	c.renderFunc = func(Document) ([]byte, error) {
		calls++
		if calls == 1 {
			return nil, fail
		}
		return []byte("%PDF"), nil
	}
	doc := numbered(t, "A")
	if _, err := c.Render(doc); !errors.Is(err, fail) {
		t.Fatalf("first Render = %v, want %v", err, fail)
	}
	if pdf := cacheRender(t, c, doc); string(pdf) != "%PDF" || calls != 2 {
		t.Errorf("second Render = %q after %d renders, want a fresh render", pdf, calls)
	}
}

func TestCachePanicReleasesWaiters(t *testing.T) {
	t.Parallel()
	c := NewCache(newRenderer(t), 4)
	release := make(chan struct{})
	c.renderFunc = func(Document) ([]byte, error) {
		<-release
		panic("render bug")
	}
	doc := numbered(t, "A")
	key := Key(doc)
	recovered := make(chan any)
	go func() {
		defer func() { recovered <- recover() }()
		c.Render(doc)
	}()
	waiterErr := make(chan error)
	waitForInflight(t, c, key, 0)
	go func() {
		_, err := c.Render(doc)
		waiterErr <- err
	}()
	waitForInflight(t, c, key, 1)
	close(release)
	if r := <-recovered; r == nil {
		t.Error("the panic did not reach the rendering caller")
	}
	if err := <-waiterErr; !errors.Is(err, errRenderPanicked) {
		t.Errorf("the waiting caller got %v, want errRenderPanicked", err)
	}
	c.renderFunc = func(Document) ([]byte, error) { return []byte("%PDF"), nil }
	if pdf := cacheRender(t, c, doc); string(pdf) != "%PDF" {
		t.Errorf("Render after a panic = %q", pdf)
	}
}

// waitForInflight waits until a render for key is in progress with
// waiters callers waiting for it.
func waitForInflight(t *testing.T, c *Cache, key string, waiters int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		c.mu.Lock()
		call := c.inflight[key]
		ok := call != nil && call.waiters == waiters
		c.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no render of %s with %d waiters", key, waiters)
		}
		time.Sleep(time.Millisecond)
	}
}
