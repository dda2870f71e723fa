package pdf

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/goccy/go-json"
)

// defaultCacheEntries is the Cache size when NewCache is given none.
const defaultCacheEntries = 256

// errRenderPanicked is what callers waiting on a render see when that
// render panicked; the panic itself goes up the goroutine that rendered.
var errRenderPanicked = errors.New("pdf: render panicked")

// Cache remembers rendered PDFs by the content of their documents (see
// Key), so an invoice that has not changed is rendered once however often
// it is downloaded or sent. It holds at most a fixed number of PDFs and
// drops the least recently used first. Concurrent requests for a document
// that is not cached yet share one render. Errors are not cached. A Cache
// is safe for concurrent use.
type Cache struct {
	renderFunc func(Document) ([]byte, error)
	// check is the renderer's CheckGlyphs, when it has one.
	check      func(Document) error
	maxEntries int

	mu sync.Mutex
	// lru holds *cacheEntry values, most recently used at the front.
	lru      *list.List
	entries  map[string]*list.Element
	inflight map[string]*renderCall
}

type cacheEntry struct {
	key string
	pdf []byte
}

// renderCall is a render in progress that other callers wait for.
type renderCall struct {
	done chan struct{}
	pdf  []byte
	err  error
	// waiters counts the callers waiting on done.
	waiters int
}

// DocumentRenderer renders one document; *Renderer is one. A caller may
// wrap it (to time renders, say) before handing it to NewCache, which
// calls it only for documents it has not cached.
type DocumentRenderer interface {
	Render(doc Document) ([]byte, error)
}

// NewCache returns a Cache that renders with r and keeps up to maxEntries
// PDFs. maxEntries <= 0 defaults to 256.
func NewCache(r DocumentRenderer, maxEntries int) *Cache {
	if maxEntries <= 0 {
		maxEntries = defaultCacheEntries
	}
	var check func(Document) error
	if gc, ok := r.(GlyphChecker); ok {
		check = gc.CheckGlyphs
	}
	return &Cache{
		renderFunc: r.Render,
		check:      check,
		maxEntries: maxEntries,
		lru:        list.New(),
		entries:    map[string]*list.Element{},
		inflight:   map[string]*renderCall{},
	}
}

// GlyphChecker is a renderer that can tell, without rendering, whether it
// can draw every character of a document: *Renderer is one.
type GlyphChecker interface {
	CheckGlyphs(doc Document) error
}

// CheckGlyphs returns the renderer's *GlyphError for doc's characters that
// no font can draw, as Render would fail with; nil when the renderer
// cannot tell.
func (c *Cache) CheckGlyphs(doc Document) error {
	if c.check == nil {
		return nil
	}
	return c.check(doc)
}

// Render returns the PDF for doc, rendering it only when no PDF for the
// same content is cached or being rendered. The returned slice is shared
// with other callers and must not be modified.
func (c *Cache) Render(doc Document) ([]byte, error) {
	key := Key(doc)
	if key == "" {
		return c.renderFunc(doc)
	}
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		c.lru.MoveToFront(el)
		pdf := el.Value.(*cacheEntry).pdf
		c.mu.Unlock()
		return pdf, nil
	}
	if call, ok := c.inflight[key]; ok {
		call.waiters++
		c.mu.Unlock()
		<-call.done
		return call.pdf, call.err
	}
	call := &renderCall{done: make(chan struct{})}
	c.inflight[key] = call
	c.mu.Unlock()

	c.render(key, doc, call)
	return call.pdf, call.err
}

// render runs call, then caches its PDF and releases the waiters, even
// when the render panics.
func (c *Cache) render(key string, doc Document, call *renderCall) {
	defer func() {
		c.mu.Lock()
		delete(c.inflight, key)
		if call.err == nil {
			c.add(key, call.pdf)
		}
		c.mu.Unlock()
		close(call.done)
	}()
	call.err = errRenderPanicked
	call.pdf, call.err = c.renderFunc(doc)
}

// add stores pdf under key and evicts the least recently used PDFs beyond
// the limit. c.mu must be held.
func (c *Cache) add(key string, pdf []byte) {
	c.entries[key] = c.lru.PushFront(&cacheEntry{key: key, pdf: pdf})
	for c.lru.Len() > c.maxEntries {
		oldest := c.lru.Back()
		c.lru.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry).key)
	}
}

// Key returns the hex SHA-256 of doc's content: its JSON, as
// github.com/goccy/go-json writes it in about half encoding/json's time
// (the same bytes, TestKeyJSON), which is canonical here (struct fields encode in a fixed order and a Document
// holds no maps), followed by the logo's bytes. The invoice's bookkeeping
// fields that the PDF does not print (ID, AutoAdvance, the timestamps,
// FinalizedBy) are left out, so touching them does not cost a render; a
// field that starts being printed must come off this list. Key returns ""
// for a document that cannot be encoded, and Cache renders such a
// document without caching it.
func Key(doc Document) string {
	if doc.Invoice != nil {
		inv := *doc.Invoice
		inv.ID, inv.AutoAdvance, inv.FinalizedBy = "", false, ""
		inv.CreatedAt, inv.UpdatedAt = time.Time{}, time.Time{}
		inv.FinalizeAt, inv.FinalizedAt = nil, nil
		doc.Invoice = &inv
	}
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(doc); err != nil {
		return ""
	}
	// The JSON ends with a newline, so the logo cannot run into it.
	h.Write(doc.Logo)
	return hex.EncodeToString(h.Sum(nil))
}
