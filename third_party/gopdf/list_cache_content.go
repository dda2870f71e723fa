package gopdf

import (
	"io"
	"sync"
)

type listCacheContent struct {
	caches []ICacheContent
	// texts holds the text items appendContentText makes, allocated
	// textsPerAlloc at a time; caches points into it.
	texts []cacheContentText
	// The page's rules, colours, line widths and rectangles, which
	// caches points into.
	lines      itemChunk[cacheContentLine]
	colors     itemChunk[cacheContentColorRGB]
	lineWidths itemChunk[cacheContentLineWidth]
	rects      itemChunk[cacheContentRectangle]
}

// itemChunk hands out items of one kind from arrays it allocates a few
// at a time, 4 and then twice as many as the last up to 32, where an
// invoice's page allocated each of its few dozen rules and colours.
type itemChunk[T any] struct {
	free []T
}

// next returns a new zero item.
func (c *itemChunk[T]) next() *T {
	if len(c.free) == cap(c.free) {
		c.free = make([]T, 0, min(max(2*cap(c.free), 4), 32))
	}
	c.free = c.free[:len(c.free)+1]
	return &c.free[len(c.free)-1]
}

// textsPerAlloc is how many text items are allocated at once: a page of
// an invoice has a few dozen to a few hundred.
const textsPerAlloc = 32

func (l *listCacheContent) last() ICacheContent {
	max := len(l.caches)
	if max > 0 {
		return l.caches[max-1]
	}
	return nil
}

func (l *listCacheContent) append(cache ICacheContent) {
	l.grow()
	l.caches = append(l.caches, cache)
}

// grow makes room for a page's items at once, where appending them one
// by one from none would copy the list half a dozen times: a list a
// released page handed back, or a new one.
func (l *listCacheContent) grow() {
	if l.caches == nil {
		if c, ok := contentLists.Get().(*[]ICacheContent); ok {
			l.caches = *c
		} else {
			l.caches = make([]ICacheContent, 0, 128)
		}
	}
}

// contentLists holds the item lists of released pages, emptied.
var contentLists sync.Pool

// maxKeptItems is the longest list of items release keeps for another
// page: a page of an invoice has a few hundred.
const maxKeptItems = 1024

// release hands the page's list of items to the next page to use.
func (l *listCacheContent) release() {
	c := l.caches
	l.caches = nil
	l.lines, l.colors, l.lineWidths, l.rects = itemChunk[cacheContentLine]{}, itemChunk[cacheContentColorRGB]{}, itemChunk[cacheContentLineWidth]{}, itemChunk[cacheContentRectangle]{}
	if c == nil || cap(c) > maxKeptItems {
		return
	}
	clear(c)
	c = c[:0]
	contentLists.Put(&c)
}

// appendContentText adds text to the last text item where cache is the
// same as it but for the text, and otherwise a copy of cache as a new
// item. cache is not kept.
func (l *listCacheContent) appendContentText(cache *cacheContentText, text string) (float64, float64, error) {

	x := cache.x
	y := cache.y

	mustMakeNewCache := true
	var cacheFont *cacheContentText
	var ok bool
	last := l.last()
	if cacheFont, ok = last.(*cacheContentText); ok {
		if cacheFont != nil {
			if cacheFont.isSame(cache) {
				mustMakeNewCache = false
			}
		}
	}

	if mustMakeNewCache { //make new cell
		if len(l.texts) == cap(l.texts) {
			l.texts = make([]cacheContentText, 0, textsPerAlloc)
		}
		l.texts = append(l.texts, *cache)
		cacheFont = &l.texts[len(l.texts)-1]
		l.grow()
		l.caches = append(l.caches, cacheFont)
	}

	//start add text
	cacheFont.text += text

	//re-create content
	textWidthPdfUnit, textHeightPdfUnit, err := cacheFont.createContent()
	if err != nil {
		return x, y, err
	}

	if cacheFont.cellOpt.Float == 0 || cacheFont.cellOpt.Float&Right == Right || cacheFont.contentType == ContentTypeText {
		x = cacheFont.x + textWidthPdfUnit
	}
	if cacheFont.cellOpt.Float&Bottom == Bottom {
		y = cacheFont.y + textHeightPdfUnit
	}

	return x, y, nil
}

func (l *listCacheContent) write(w io.Writer, protection *PDFProtection) error {
	sw := scratchWriters.Get().(*scratchWriter)
	defer sw.release()
	sw.Writer = w
	for _, cache := range l.caches {
		if err := cache.write(sw, protection); err != nil {
			return err
		}
		sw.wrote(cache)
	}
	return nil
}

// scratchWriters keeps the scratch writers of content streams written,
// with their buffers, for the next stream.
var scratchWriters = sync.Pool{New: func() any { return &scratchWriter{scratch: make([]byte, 0, 1024)} }}

// maxKeptScratch is the largest scratch buffer release keeps: an item
// formats a few dozen bytes, a long text a few hundred.
const maxKeptScratch = 16 << 10

// release forgets the stream sw wrote and hands sw to the next.
func (sw *scratchWriter) release() {
	sw.Writer, sw.textColor, sw.spaced = nil, nil, false
	sw.textFont = sw.textFont[:0]
	if cap(sw.scratch) > maxKeptScratch {
		sw.scratch = make([]byte, 0, 1024)
	}
	scratchWriters.Put(sw)
}
