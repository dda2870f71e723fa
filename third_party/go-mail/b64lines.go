// SPDX-FileCopyrightText: The go-mail Authors
//
// SPDX-License-Identifier: MIT

package mail

import (
	"encoding/base64"
	"io"
	"sync"
)

// base64LineInput is the input of one full line of base64: 57 bytes make
// MaxBodyLength (76) characters, without padding.
const base64LineInput = MaxBodyLength / 4 * 3

// base64BlockLines is how many lines, with their line breaks, base64Lines
// writes at a time: a little under 4 KB.
const base64BlockLines = 52

// base64Lines writes what is written to it in base64, in lines of
// MaxBodyLength characters each ended by SingleNewLine, the last one
// shorter and padded: the bytes that base64.NewEncoder writes through a
// base64LineBreaker. It encodes a whole line of input at a time into a
// block of lines, which it writes to out when full and on Close. Nothing
// is written for no input.
type base64Lines struct {
	out     io.Writer
	pending [base64LineInput]byte // a line's input not yet complete
	n       int                   // bytes in pending
	block   [base64BlockLines * (MaxBodyLength + len(SingleNewLine))]byte
	used    int // bytes in block
	err     error
}

var base64LinesPool = sync.Pool{New: func() any { return new(base64Lines) }}

func getBase64Lines(out io.Writer) *base64Lines {
	l := base64LinesPool.Get().(*base64Lines)
	l.out, l.n, l.used, l.err = out, 0, 0, nil
	return l
}

func putBase64Lines(l *base64Lines) {
	l.out = nil
	base64LinesPool.Put(l)
}

// Write encodes data. It returns the first error of out, after which
// nothing more is written.
func (l *base64Lines) Write(data []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	written := len(data)
	if l.n > 0 {
		k := copy(l.pending[l.n:], data)
		l.n += k
		data = data[k:]
		if l.n < base64LineInput {
			return written, nil
		}
		l.line(l.pending[:])
		l.n = 0
	}
	for len(data) >= base64LineInput {
		l.line(data[:base64LineInput])
		data = data[base64LineInput:]
	}
	l.n = copy(l.pending[:], data)
	if l.err != nil {
		return 0, l.err
	}
	return written, nil
}

// line encodes in, at most a line's input, as one line into the block,
// and writes the block once it has no room for another line.
func (l *base64Lines) line(in []byte) {
	n := base64.StdEncoding.EncodedLen(len(in))
	base64.StdEncoding.Encode(l.block[l.used:l.used+n], in)
	l.used += n
	l.used += copy(l.block[l.used:], SingleNewLine)
	if l.used > len(l.block)-MaxBodyLength-len(SingleNewLine) {
		l.flush()
	}
}

func (l *base64Lines) flush() {
	if l.used > 0 && l.err == nil {
		_, l.err = l.out.Write(l.block[:l.used])
	}
	l.used = 0
}

// Close writes the last, shorter line and what the block holds, and
// returns the first error of out.
func (l *base64Lines) Close() error {
	if l.n > 0 {
		l.line(l.pending[:l.n])
		l.n = 0
	}
	l.flush()
	return l.err
}
