// SPDX-FileCopyrightText: The go-mail Authors
//
// SPDX-License-Identifier: MIT

package mail

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"mime"
	"mime/quotedprintable"
	"testing"
)

// TestWriteBodyStreamed holds writeBody, which encodes straight into the
// part's writer, to the bytes it wrote when it encoded into a buffer of
// its own and copied that: base64 in lines of MaxBodyLength,
// quoted-printable, and 8bit as it is, for bodies around the sizes of a
// line and of the buffer, at the top level (whose bytes it counts) and in
// a part. Each body is also written in pieces of several sizes, which
// base64 takes a line's input (57 bytes) at a time, in blocks of 52 lines.
func TestWriteBodyStreamed(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, 2, 3, 56, 57, 58, 75, 76, 77, 113, 114, 115, 1000, 2963, 2964, 2965, 3071, 3072, 3073, 4095, 4096, 4097, 5928, 12288, 40000}
	for _, size := range sizes {
		body := make([]byte, size)
		for i := range body {
			// Text with line breaks, "=", spaces and bytes beyond ASCII, which
			// quoted-printable each treats its own way.
			const alphabet = "ab= \r\n\xc3\xa9.\t"
			body[i] = alphabet[r.IntN(len(alphabet))]
		}
		for _, enc := range []Encoding{EncodingB64, EncodingQP, NoEncoding} {
			want := encodedAsBefore(t, body, enc)
			writeFunc := func(w io.Writer) (int64, error) {
				n, err := w.Write(body)
				return int64(n), err
			}

			var top bytes.Buffer
			mw := &msgWriter{writer: &top, charset: CharsetUTF8, encoder: mime.QEncoding}
			mw.writeBody(writeFunc, enc)
			if mw.err != nil {
				t.Fatalf("%d bytes, %s: %v", size, enc, mw.err)
			}
			if !bytes.Equal(top.Bytes(), want) {
				t.Errorf("%d bytes, %s: the body differs:\n got %q\nwant %q", size, enc, top.Bytes(), want)
			}
			if mw.bytesWritten != int64(len(want)) {
				t.Errorf("%d bytes, %s: %d bytes counted, want %d", size, enc, mw.bytesWritten, len(want))
			}
			for _, piece := range []int{1, 7, 56, 57, 58, 1000} {
				var pieces bytes.Buffer
				mw = &msgWriter{writer: &pieces, charset: CharsetUTF8, encoder: mime.QEncoding}
				mw.writeBody(func(w io.Writer) (int64, error) {
					var n int64
					for rest := body; len(rest) > 0; {
						k, err := w.Write(rest[:min(piece, len(rest))])
						n += int64(k)
						if err != nil {
							return n, err
						}
						rest = rest[k:]
					}
					return n, nil
				}, enc)
				if mw.err != nil {
					t.Fatalf("%d bytes in pieces of %d, %s: %v", size, piece, enc, mw.err)
				}
				if !bytes.Equal(pieces.Bytes(), want) {
					t.Errorf("%d bytes in pieces of %d, %s: the body differs:\n got %q\nwant %q", size, piece, enc, pieces.Bytes(), want)
				}
			}

			var nested bytes.Buffer
			mw = &msgWriter{writer: &nested, charset: CharsetUTF8, encoder: mime.QEncoding}
			mw.startMP(NewMsg(), MIMEMixed, "boundary")
			mw.newPart(map[string][]string{"Content-Type": {"text/plain"}})
			mw.writeBody(writeFunc, enc)
			mw.stopMP()
			if mw.err != nil {
				t.Fatalf("%d bytes, %s, in a part: %v", size, enc, mw.err)
			}
			if !bytes.Contains(nested.Bytes(), append(append([]byte("\r\n\r\n"), want...), "\r\n--boundary--"...)) {
				t.Errorf("%d bytes, %s: the part does not hold the body:\n%q", size, enc, nested.Bytes())
			}
		}
	}
}

// encodedAsBefore is body encoded as writeBody encoded it into a buffer
// of its own.
func encodedAsBefore(t *testing.T, body []byte, enc Encoding) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch enc {
	case EncodingB64:
		lineBreaker := base64LineBreaker{out: &buf}
		encoder := base64.NewEncoder(base64.StdEncoding, &lineBreaker)
		if _, err := encoder.Write(body); err != nil {
			t.Fatal(err)
		}
		if err := encoder.Close(); err != nil {
			t.Fatal(err)
		}
		if err := lineBreaker.Close(); err != nil {
			t.Fatal(err)
		}
	case EncodingQP:
		encoder := quotedprintable.NewWriter(&buf)
		if _, err := encoder.Write(body); err != nil {
			t.Fatal(err)
		}
		if err := encoder.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		buf.Write(body)
	}
	return buf.Bytes()
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// TestWriteBodyStreamedError checks that an error of the writer reaches
// the msgWriter, whatever the encoding.
func TestWriteBodyStreamedError(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 10000)
	for _, enc := range []Encoding{EncodingB64, EncodingQP, NoEncoding} {
		mw := &msgWriter{writer: errWriter{}, charset: CharsetUTF8, encoder: mime.QEncoding}
		mw.writeBody(func(w io.Writer) (int64, error) {
			n, err := w.Write(body)
			return int64(n), err
		}, enc)
		if mw.err == nil {
			t.Errorf("%s: the writer's error is lost", enc)
		}
	}
}

// TestEncodersMatchStdlib writes random bodies, in random pieces, through
// qpLines and base64Lines and holds them to mime/quotedprintable's Writer
// and to base64.NewEncoder through a base64LineBreaker: runs long enough
// to need soft line breaks, spaces and tabs before line breaks and at the
// end, "=", bytes beyond ASCII, and CR and LF in every order.
func TestEncodersMatchStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"x", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", " ", "\t", "=", "\r", "\n", "\r\n", "\xff", "\xc3\xa9"}
	for range 20000 {
		var body []byte
		for range r.IntN(40) {
			body = append(body, alphabet[r.IntN(len(alphabet))]...)
		}
		for _, enc := range []Encoding{EncodingQP, EncodingB64} {
			want := encodedAsBefore(t, body, enc)
			var got bytes.Buffer
			var w io.WriteCloser
			if enc == EncodingQP {
				w = getQPLines(&got)
			} else {
				w = getBase64Lines(&got)
			}
			for rest := body; len(rest) > 0; {
				n := min(1+r.IntN(90), len(rest))
				if _, err := w.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("%s of %q:\n got %q\nwant %q", enc, body, got.Bytes(), want)
			}
		}
	}
}
