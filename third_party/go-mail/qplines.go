// SPDX-FileCopyrightText: The go-mail Authors
//
// SPDX-License-Identifier: MIT

package mail

import (
	"io"
	"sync"
)

// qpLineMax is the longest line quoted-printable writes, soft line break
// ("=") included and line break excluded.
const qpLineMax = 76

// qpLiteral tells the bytes quoted-printable writes as they are within a
// line: printable ASCII but "=", space and tab.
var qpLiteral = func() (t [256]bool) {
	for b := '!'; b <= '~'; b++ {
		t[b] = b != '='
	}
	t[' '], t['\t'] = true, true
	return t
}()

// qpLines writes what is written to it in quoted-printable, byte for byte
// as mime/quotedprintable's Writer (not in Binary mode) writes it, quirks
// included: a CR followed by LF, or by bytes that are encoded and then LF,
// is one line break. It fills a block of lines, which it writes to out
// when it has no room for another line and on Close, where the Writer
// wrote each line on its own, and it copies each run of bytes written as
// they are at once, where the Writer went a byte at a time.
type qpLines struct {
	out   io.Writer
	block [4096]byte
	used  int  // bytes in block
	start int  // where the line being written starts in block
	cr    bool // the last line break was a CR
	err   error
}

var qpLinesPool = sync.Pool{New: func() any { return new(qpLines) }}

func getQPLines(out io.Writer) *qpLines {
	q := qpLinesPool.Get().(*qpLines)
	q.out, q.used, q.start, q.cr, q.err = out, 0, 0, false, nil
	return q
}

func putQPLines(q *qpLines) {
	q.out = nil
	qpLinesPool.Put(q)
}

// Write encodes data. It returns the first error of out, after which
// nothing more is written.
func (q *qpLines) Write(data []byte) (int, error) {
	if q.err != nil {
		return 0, q.err
	}
	for p := data; len(p) > 0; {
		switch b := p[0]; {
		case qpLiteral[b]:
			n := 1
			for n < len(p) && qpLiteral[p[n]] {
				n++
			}
			q.literal(p[:n])
			p = p[n:]
			q.cr = false
		case b == '\r' || b == '\n':
			p = p[1:]
			if q.cr && b == '\n' {
				q.cr = false
				continue
			}
			q.cr = b == '\r'
			q.encodeLastSpace()
			q.lineBreak()
		default:
			q.encode(b)
			p = p[1:]
		}
	}
	if q.err != nil {
		return 0, q.err
	}
	return len(data), nil
}

// literal appends run, bytes written as they are, breaking lines before
// they reach qpLineMax.
func (q *qpLines) literal(run []byte) {
	for len(run) > 0 {
		if q.used-q.start == qpLineMax-1 {
			q.softLineBreak()
		}
		n := copy(q.block[q.used:q.start+qpLineMax-1], run)
		q.used += n
		run = run[n:]
	}
}

// encode appends b as "=XX", on a new line when it does not fit.
func (q *qpLines) encode(b byte) {
	if qpLineMax-1-(q.used-q.start) < 3 {
		q.softLineBreak()
	}
	const upperhex = "0123456789ABCDEF"
	q.block[q.used] = '='
	q.block[q.used+1] = upperhex[b>>4]
	q.block[q.used+2] = upperhex[b&0x0f]
	q.used += 3
}

// encodeLastSpace encodes a space or tab that ends the line, which a
// reader would drop.
func (q *qpLines) encodeLastSpace() {
	if q.used == q.start {
		return
	}
	if b := q.block[q.used-1]; b == ' ' || b == '\t' {
		q.used--
		q.encode(b)
	}
}

func (q *qpLines) softLineBreak() {
	q.block[q.used] = '='
	q.used++
	q.lineBreak()
}

// lineBreak ends the line, and writes the block when another line might
// not fit.
func (q *qpLines) lineBreak() {
	q.block[q.used] = '\r'
	q.block[q.used+1] = '\n'
	q.used += 2
	if len(q.block)-q.used < qpLineMax+len(SingleNewLine) {
		q.flush()
	}
	q.start = q.used
}

func (q *qpLines) flush() {
	if q.used > 0 && q.err == nil {
		_, q.err = q.out.Write(q.block[:q.used])
	}
	q.used = 0
}

// Close encodes a space or tab that ends the last line, writes what the
// block holds, and returns the first error of out.
func (q *qpLines) Close() error {
	q.encodeLastSpace()
	q.flush()
	q.start = 0
	return q.err
}
