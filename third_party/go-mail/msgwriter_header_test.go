// SPDX-FileCopyrightText: The go-mail Authors
//
// SPDX-License-Identifier: MIT

package mail

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
)

// TestWriteHeaderAsBefore holds writeHeader, which folds a header into a
// buffer of the msgWriter's own, to the bytes and line count of the
// strings.Builder, Join, Split and ReplaceAll it folded with before: for
// random values of words of every length, empty words (runs of spaces),
// several values, none, and values that hold " \r\n" themselves.
func TestWriteHeaderAsBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	word := func() string {
		const alphabet = "abcdefghij <>@.,=?\"\r\n"
		n := r.IntN(12)
		if r.IntN(8) == 0 {
			n = 60 + r.IntN(40) // longer than a line
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	keys := []Header{HeaderSubject, HeaderContentType, "X-Invoice-Reference", Header(strings.Repeat("X", 70))}
	for i := range 3000 {
		key := keys[r.IntN(len(keys))]
		values := make([]string, r.IntN(4))
		for j := range values {
			words := make([]string, r.IntN(14))
			for k := range words {
				words[k] = word()
			}
			values[j] = strings.Join(words, " ")
		}
		var got, want bytes.Buffer
		mw := &msgWriter{writer: &got}
		lines := mw.writeHeader(key, values...)
		wantLines := writeHeaderAsBefore(&want, key, values...)
		if mw.err != nil {
			t.Fatal(mw.err)
		}
		if got.String() != want.String() || lines != wantLines || mw.bytesWritten != int64(want.Len()) {
			t.Fatalf("%d: %s: %q: got %q (%d lines, %d bytes counted), want %q (%d lines)",
				i, key, values, got.String(), lines, mw.bytesWritten, want.String(), wantLines)
		}
	}
}

// writeHeaderAsBefore is writeHeader as go-mail wrote it, the reference
// of TestWriteHeaderAsBefore.
func writeHeaderAsBefore(w *bytes.Buffer, key Header, values ...string) int {
	lines := 0
	buffer := strings.Builder{}
	charLength := MaxHeaderLength - 2
	buffer.WriteString(string(key))
	charLength -= len(key)
	if len(values) == 0 {
		buffer.WriteString(":\r\n")
		return lines + 1
	}
	buffer.WriteString(": ")
	charLength -= 2

	fullValueStr := strings.Join(values, ", ")
	words := strings.Split(fullValueStr, " ")
	for i, val := range words {
		if charLength-len(val) <= 1 {
			buffer.WriteString(fmt.Sprintf("%s ", SingleNewLine))
			charLength = MaxHeaderLength - 3
		}
		buffer.WriteString(val)
		if i < len(words)-1 {
			buffer.WriteString(" ")
			charLength -= 1
		}
		charLength -= len(val)
	}

	bufferString := buffer.String()
	bufferString = strings.ReplaceAll(bufferString, fmt.Sprintf(" %s", SingleNewLine),
		SingleNewLine)
	w.WriteString(bufferString)
	w.WriteString("\r\n")

	lines += strings.Count(bufferString, SingleNewLine) + 1
	return lines
}

// TestPartsAsMultipart holds the parts msgWriter starts itself to the
// bytes mime/multipart's Writer wrote for them: the first part's
// delimiter without a line break before it, the others' with one, each
// header's fields in the order of their names, a multipart nested in a
// part, and each multipart's closing delimiter.
func TestPartsAsMultipart(t *testing.T) {
	var got bytes.Buffer
	mw := &msgWriter{writer: &got, charset: CharsetUTF8, encoder: mime.QEncoding}
	msg := NewMsg()
	mw.startMP(msg, MIMEMixed, "outer")
	mw.startMP(msg, MIMEAlternative, "inner")
	mw.writePart(&Part{contentType: TypeTextPlain, encoding: NoEncoding, description: "the text",
		writeFunc: writeBytes("text")}, CharsetUTF8)
	mw.writePart(&Part{contentType: TypeTextHTML, charset: CharsetISO88591, encoding: NoEncoding,
		writeFunc: writeBytes("<p>html</p>")}, CharsetUTF8)
	mw.stopMP()
	mw.newPart(map[string][]string{"X-Z": {"last"}, "Content-Type": {"application/pdf"}, "A": {"1", "2"}})
	mw.writeBody(writeBytes("%PDF"), NoEncoding)
	mw.newPart(map[string][]string{})
	mw.writeBody(writeBytes("empty header"), NoEncoding)
	mw.stopMP()
	if mw.err != nil {
		t.Fatal(mw.err)
	}

	var want bytes.Buffer
	outer := multipart.NewWriter(&want)
	_ = outer.SetBoundary("outer")
	want.WriteString("Content-Type: multipart/mixed;\r\n boundary=outer")
	inner := multipart.NewWriter(&want)
	_ = inner.SetBoundary("inner")
	_, _ = outer.CreatePart(textproto.MIMEHeader{"Content-Type": {"multipart/alternative;\r\n boundary=inner"}})
	p, _ := inner.CreatePart(textproto.MIMEHeader{"Content-Description": {"the text"},
		"Content-Transfer-Encoding": {"8bit"}, "Content-Type": {"text/plain; charset=UTF-8"}})
	_, _ = p.Write([]byte("text"))
	p, _ = inner.CreatePart(textproto.MIMEHeader{"Content-Transfer-Encoding": {"8bit"},
		"Content-Type": {"text/html; charset=ISO-8859-1"}})
	_, _ = p.Write([]byte("<p>html</p>"))
	_ = inner.Close()
	p, _ = outer.CreatePart(textproto.MIMEHeader{"X-Z": {"last"}, "Content-Type": {"application/pdf"}, "A": {"1", "2"}})
	_, _ = p.Write([]byte("%PDF"))
	p, _ = outer.CreatePart(textproto.MIMEHeader{})
	_, _ = p.Write([]byte("empty header"))
	_ = outer.Close()

	if got.String() != want.String() {
		t.Errorf("the parts differ:\n got %q\nwant %q", got.String(), want.String())
	}
	if mw.bytesWritten != int64(want.Len()) {
		t.Errorf("%d bytes counted, %d written", mw.bytesWritten, want.Len())
	}
}

// writeBytes is a body writer of s.
func writeBytes(s string) func(w io.Writer) (int64, error) {
	return func(w io.Writer) (int64, error) {
		n, err := w.Write([]byte(s))
		return int64(n), err
	}
}

// TestPartAfterError keeps a part from starting once the message could
// not be written: the error stays the message's, and the part has no
// writer.
func TestPartAfterError(t *testing.T) {
	mw := &msgWriter{writer: errWriter{}, charset: CharsetUTF8, encoder: mime.QEncoding}
	mw.startMP(NewMsg(), MIMEMixed, "b")
	mw.newPart(map[string][]string{"Content-Type": {"text/plain"}})
	if mw.err == nil || mw.partWriter != nil {
		t.Fatalf("err %v, part writer %v", mw.err, mw.partWriter)
	}
}

// TestBoundaries makes a multipart's boundary as multipart.Writer made
// it: random, the hex of 30 bytes, when none is given or the one given
// breaks its rules, which is the message's error; a valid one as given.
func TestBoundaries(t *testing.T) {
	var buf bytes.Buffer
	mw := &msgWriter{writer: &buf, charset: CharsetUTF8, encoder: mime.QEncoding}
	first := mw.startMP(NewMsg(), MIMEMixed, "")
	second := mw.startMP(NewMsg(), MIMEAlternative, "")
	if mw.err != nil {
		t.Fatal(mw.err)
	}
	for _, b := range []string{first, second} {
		if len(b) != 60 || strings.Trim(b, "0123456789abcdef") != "" {
			t.Errorf("boundary %q is not the hex of 30 bytes", b)
		}
	}
	if first == second {
		t.Errorf("two multiparts share the boundary %q", first)
	}

	mw = &msgWriter{writer: &buf, charset: CharsetUTF8, encoder: mime.QEncoding}
	if b := mw.startMP(NewMsg(), MIMEMixed, "given-one"); b != "given-one" || mw.err != nil {
		t.Errorf("boundary %q, error %v, want given-one", b, mw.err)
	}
	mw = &msgWriter{writer: &buf, charset: CharsetUTF8, encoder: mime.QEncoding}
	if b := mw.startMP(NewMsg(), MIMEMixed, strings.Repeat("x", 71)); mw.err == nil || len(b) != 60 {
		t.Errorf("a boundary of 71 characters: boundary %q, error %v, want a random one and an error", b, mw.err)
	}
}
