// SPDX-FileCopyrightText: The go-mail Authors
//
// SPDX-License-Identifier: MIT

package mail

import (
	"bufio"
	"bytes"
	cryptorand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

const (
	// MaxHeaderLength defines the maximum line length for a mail header.
	//
	// This constant follows the recommendation of RFC 2047, which suggests a maximum length of 76 characters.
	//
	// References:
	//   - https://datatracker.ietf.org/doc/html/rfc2047
	MaxHeaderLength = 76

	// MaxBodyLength defines the maximum line length for the mail body.
	//
	// This constant follows the recommendation of RFC 2047, which suggests a maximum length of 76 characters.
	//
	// References:
	//   - https://datatracker.ietf.org/doc/html/rfc2047
	MaxBodyLength = 76

	// SingleNewLine represents a single newline character sequence ("\r\n").
	//
	// This constant can be used by the msgWriter to issue a carriage return when writing mail content.
	SingleNewLine = "\r\n"

	// DoubleNewLine represents a double newline character sequence ("\r\n\r\n").
	//
	// This constant can be used by the msgWriter to indicate a new segment of the mail when writing mail content.
	DoubleNewLine = "\r\n\r\n"
)

// msgWriter handles the I/O operations for writing to the io.WriteCloser of the SMTP client.
//
// This struct keeps track of the number of bytes written, the character set used, and the depth of the
// current multipart section. It also handles encoding, error tracking, and managing multipart and part
// writers for constructing the email message body.
type msgWriter struct {
	bytesWritten int64
	charset      Charset
	depth        int8
	encoder      mime.WordEncoder
	err          error
	boundaries   [4]string
	partWriter   io.Writer
	writer       io.Writer

	// invoiced: a multipart's boundaries, parts' headers and closing
	// delimiter are written by the msgWriter itself, as multipart.Writer
	// wrote them; boundaries are the open multiparts', and partStarted
	// tells, for each, whether its first part has begun. header and joined are
	// the buffers a header or a part's header is formed in, kept for the
	// message's next; they begin in headerArray and joinedArray, which
	// hold most headers, in the msgWriter's own allocation.
	partStarted [4]bool
	header      []byte
	joined      []byte
	headerArray [256]byte
	joinedArray [128]byte
}

// Write implements the io.Writer interface for msgWriter.
//
// This method writes the provided payload to the underlying writer. It keeps track of the number of bytes
// written and handles any errors encountered during the writing process. If a previous error exists, it
// prevents further writing and returns the error.
//
// Parameters:
//   - payload: A byte slice containing the data to be written.
//
// Returns:
//   - The number of bytes successfully written.
//   - An error if the writing process fails, or if a previous error was encountered.
func (mw *msgWriter) Write(payload []byte) (int, error) {
	if mw.err != nil {
		return 0, fmt.Errorf("failed to write due to previous error: %w", mw.err)
	}

	var n int
	n, mw.err = mw.writer.Write(payload)
	mw.bytesWritten += int64(n)
	return n, mw.err
}

// writeMsg formats the message and writes it to the msgWriter's io.Writer.
//
// This method handles the process of writing the message headers and body content, including handling
// multipart structures (e.g., mixed, related, alternative), PGP types, and attachments/embeds. It sets the
// required headers (e.g., "From", "To", "Cc") and iterates over the message parts, writing them to the
// output writer.
//
// Parameters:
//   - msg: A pointer to the Msg struct containing the message data and headers to be written.
//
// References:
//   - https://datatracker.ietf.org/doc/html/rfc2045 (Multipurpose Internet Mail Extensions - MIME)
//   - https://datatracker.ietf.org/doc/html/rfc5322 (Internet Message Format)
func (mw *msgWriter) writeMsg(msg *Msg) {
	msg.addDefaultHeader()
	msg.checkUserAgent()
	mw.writeGenHeader(msg)
	mw.writePreformattedGenHeader(msg)

	// Set the FROM header (or envelope FROM if FROM is empty)
	hasFrom := true
	from, ok := msg.addrHeader[HeaderFrom]
	if !ok || (len(from) == 0 || from == nil) {
		from, ok = msg.addrHeader[HeaderEnvelopeFrom]
		if !ok || (len(from) == 0 || from == nil) {
			hasFrom = false
		}
	}
	if hasFrom && (len(from) > 0 && from[0] != nil) {
		msg.headerCount += mw.writeHeader(Header(HeaderFrom), from[0].String())
	}

	// Set the rest of the address headers
	for _, to := range []AddrHeader{HeaderTo, HeaderCc, HeaderReplyTo} {
		if addresses, ok := msg.addrHeader[to]; ok {
			var val []string
			for _, addr := range addresses {
				if addr == nil {
					continue
				}
				val = append(val, addr.String())
			}
			msg.headerCount += mw.writeHeader(Header(to), val...)
		}
	}

	if msg.hasSMIME() && !msg.isSMIMEInProgress() {
		boundary, err := randomBoundary()
		if err != nil {
			mw.err = err
			return
		}
		mw.startMP(msg, MIMESMIMESigned, boundary)
		mw.writeString(DoubleNewLine)
	}
	if msg.hasMixed() {
		boundary := mw.getMultipartBoundary(msg, MIMEMixed)
		boundary = mw.startMP(msg, MIMEMixed, boundary)
		msg.multiPartBoundary[MIMEMixed] = boundary
		if mw.depth == 1 {
			mw.writeString(DoubleNewLine)
		}
	}
	if msg.hasRelated() {
		boundary := mw.getMultipartBoundary(msg, MIMERelated)
		boundary = mw.startMP(msg, MIMERelated, boundary)
		msg.multiPartBoundary[MIMERelated] = boundary
		if mw.depth == 1 {
			mw.writeString(DoubleNewLine)
		}
	}
	if msg.hasAlt() {
		boundary := mw.getMultipartBoundary(msg, MIMEAlternative)
		boundary = mw.startMP(msg, MIMEAlternative, boundary)
		msg.multiPartBoundary[MIMEAlternative] = boundary
		if mw.depth == 1 {
			mw.writeString(DoubleNewLine)
		}
	}
	if msg.hasPGPType() {
		switch msg.pgptype {
		case PGPEncrypt:
			mw.startMP(msg, `encrypted; protocol="application/pgp-encrypted"`,
				msg.boundary)
		case PGPSignature:
			mw.startMP(msg, `signed; protocol="application/pgp-signature";`,
				msg.boundary)
		default:
		}
		mw.writeString(DoubleNewLine)
	}

	for _, part := range msg.parts {
		if !part.isDeleted && !part.smime {
			mw.writePart(part, msg.charset)
		}
	}

	if msg.hasAlt() {
		mw.stopMP()
	}

	// Add embeds
	mw.addFiles(msg.embeds, false)
	if msg.hasRelated() {
		mw.stopMP()
	}

	// Add attachments
	mw.addFiles(msg.attachments, true)
	if msg.hasMixed() {
		mw.stopMP()
	}

	if msg.hasSMIME() && !msg.isSMIMEInProgress() {
		for _, part := range msg.parts {
			if part.smime {
				mw.writePart(part, msg.charset)
			}
		}
		mw.stopMP()
	}
}

// writeGenHeader writes out all generic headers to the msgWriter.
//
// This function extracts all generic headers from the provided Msg object, sorts them, and writes them
// to the msgWriter in alphabetical order.
//
// Parameters:
//   - msg: The Msg object containing the headers to be written.
func (mw *msgWriter) writeGenHeader(msg *Msg) {
	keys := make([]string, 0, len(msg.genHeader))
	for key := range msg.genHeader {
		keys = append(keys, string(key))
	}

	sort.Strings(keys)
	for _, key := range keys {
		msg.headerCount += mw.writeHeader(Header(key), msg.genHeader[Header(key)]...)
	}
}

// writePreformattedGenHeader writes out all preformatted generic headers to the msgWriter.
//
// This function iterates over all preformatted generic headers from the provided Msg object and writes
// them to the msgWriter in the format "key: value" followed by a newline.
//
// Parameters:
//   - msg: The Msg object containing the preformatted headers to be written.
func (mw *msgWriter) writePreformattedGenHeader(msg *Msg) {
	for key, val := range msg.preformHeader {
		line := fmt.Sprintf("%s: %s%s", key, val, SingleNewLine)
		mw.writeString(line)
		msg.headerCount += strings.Count(line, SingleNewLine)
	}
}

// startMP writes a multipart beginning.
//
// This function initializes a multipart writer for the msgWriter using the specified MIME type and
// boundary. It sets the Content-Type header to indicate the multipart type and writes the boundary
// information. If a boundary is provided, it is set explicitly; otherwise, a default boundary is
// generated. It also handles writing a new part when nested multipart structures are used.
//
// Parameters:
//   - msg: The message whose multipart headers are being written.
//   - mimeType: The MIME type of the multipart content (e.g., "mixed", "alternative").
//   - boundary: The boundary string separating different parts of the multipart message.
//
// Returns:
//   - The multipart boundary string
//
// References:
//   - https://datatracker.ietf.org/doc/html/rfc2046
func (mw *msgWriter) startMP(msg *Msg, mimeType MIMEType, boundary string) string {
	// invoiced: a boundary given is checked by multipart.Writer's rules, and
	// one not given, or not valid, is made as multipart.Writer makes one,
	// without the Writer, its boundary's buffer and fmt.
	if boundary != "" {
		mw.err = multipart.NewWriter(io.Discard).SetBoundary(boundary)
		if mw.err != nil {
			boundary = ""
		}
	}
	if boundary == "" {
		boundary = randomPartBoundary()
	}

	contentType := "multipart/" + string(mimeType) + ";\r\n boundary=" + boundary
	mw.boundaries[mw.depth] = boundary
	mw.partStarted[mw.depth] = false

	// Do not write Content-Type if the header was already written as part of genHeaders.
	if _, ok := msg.genHeader[HeaderContentType]; !ok {
		if mw.depth == 0 {
			mw.writeString(string(HeaderContentType) + ": " + contentType)
		}
		if mw.depth > 0 {
			b := mw.partDelimiter()
			b = appendField(b, string(HeaderContentType), contentType)
			mw.startPart(b)
		}
	}

	mw.depth++
	return boundary
}

// randomPartBoundary returns a random multipart boundary as
// multipart.Writer makes one: the hex of 30 random bytes.
func randomPartBoundary() string {
	var b [30]byte
	_, _ = cryptorand.Read(b[:]) // never fails, as multipart.Writer assumes
	return hex.EncodeToString(b[:])
}

// stopMP closes the multipart.
//
// This function closes the current multipart writer if there is an active multipart structure.
// It decreases the depth level of multipart nesting.
func (mw *msgWriter) stopMP() {
	if mw.depth > 0 {
		// The closing delimiter, in one write, as multipart.Writer.Close
		// writes it.
		b := append(mw.headerBuffer(), SingleNewLine+"--"...)
		b = append(b, mw.boundaries[mw.depth-1]...)
		b = append(b, "--"+SingleNewLine...)
		mw.header = b
		_, mw.err = mw.Write(b)
		mw.depth--
	}
}

// getMultipartBoundary returns the appropriate multipart boundary for the given MIME type.
//
// If the Msg has a predefined boundary, it is returned. Otherwise, the function checks
// for a MIME type-specific boundary in the Msg's multiPartBoundary map. If no boundary
// is found, an empty string is returned.
//
// Parameters:
//   - msg: A pointer to the Msg containing the boundary and MIME type-specific mappings.
//   - mimetype: The MIMEType for which the boundary is being determined.
//
// Returns:
//   - A string representing the multipart boundary, or an empty string if none is found.
func (mw *msgWriter) getMultipartBoundary(msg *Msg, mimetype MIMEType) string {
	if msg.boundary != "" {
		return msg.boundary
	}
	if msg.multiPartBoundary[mimetype] != "" {
		return msg.multiPartBoundary[mimetype]
	}
	return ""
}

// addFiles adds the attachments/embeds file content to the mail body.
//
// This function iterates through the list of files, setting necessary headers for each file,
// including Content-Type, Content-Transfer-Encoding, Content-Disposition, and Content-ID
// (if the file is an embed). It determines the appropriate MIME type for each file based on
// its extension or the provided ContentType. It writes file headers and file content
// to the mail body using the appropriate encoding.
//
// Parameters:
//   - files: A slice of File objects to be added to the mail body.
//   - isAttachment: A boolean indicating whether the files are attachments (true) or embeds (false).
func (mw *msgWriter) addFiles(files []*File, isAttachment bool) {
	for _, file := range files {
		encoding := EncodingB64
		if _, ok := file.getHeader(HeaderContentType); !ok {
			mimeType := mime.TypeByExtension(filepath.Ext(file.Name))
			if mimeType == "" {
				mimeType = "application/octet-stream"
			}
			if file.ContentType != "" {
				mimeType = string(file.ContentType)
			}
			file.setHeader(HeaderContentType, mimeType+`; name="`+
				mw.encoder.Encode(mw.charset.String(), sanitizeFilename(file.Name))+`"`)
		}

		if _, ok := file.getHeader(HeaderContentTransferEnc); !ok {
			if file.Enc != "" {
				encoding = file.Enc
			}
			file.setHeader(HeaderContentTransferEnc, string(encoding))
		}

		if file.Desc != "" {
			if _, ok := file.getHeader(HeaderContentDescription); !ok {
				file.setHeader(HeaderContentDescription, mw.encoder.Encode(mw.charset.String(), file.Desc))
			}
		}

		if _, ok := file.getHeader(HeaderContentDisposition); !ok {
			disposition := "inline"
			if isAttachment {
				disposition = "attachment"
			}
			file.setHeader(HeaderContentDisposition, disposition+`; filename="`+
				mw.encoder.Encode(mw.charset.String(), sanitizeFilename(file.Name))+`"`)
		}

		if !isAttachment {
			if _, ok := file.getHeader(HeaderContentID); !ok {
				file.setHeader(HeaderContentID, fmt.Sprintf("<%s>", sanitizeFilename(file.Name)))
			}
		}
		if mw.depth == 0 {
			for header, val := range file.Header {
				mw.writeHeader(Header(header), val...)
			}
			mw.writeString(SingleNewLine)
		}
		if mw.depth > 0 {
			mw.newPart(file.Header)
		}

		if mw.err == nil {
			mw.writeBody(file.Writer, encoding)
		}
	}
}

// newPart creates a new MIME multipart io.Writer and sets the partWriter to it.
//
// This function creates a new MIME part using the provided header information and assigns it
// to the partWriter. It interacts with the current multipart writer at the specified depth
// to create the part.
//
// Parameters:
//   - header: A map containing the header fields and their corresponding values for the new part.
func (mw *msgWriter) newPart(header map[string][]string) {
	// invoiced: the part's delimiter and header are written as
	// multipart.Writer.CreatePart wrote them, fields in the order of their
	// names, formed in the msgWriter's buffer where CreatePart sorted a
	// list of the names and formed each field with fmt.Fprintf into a
	// bytes.Buffer of its own.
	var names [8]string
	keys := names[:0]
	for key := range header {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	b := mw.partDelimiter()
	for _, key := range keys {
		for _, value := range header[key] {
			b = appendField(b, key, value)
		}
	}
	mw.startPart(b)
}

// partDelimiter returns the msgWriter's header buffer holding the
// delimiter that begins a part of the current multipart: after a line
// break but for its first part.
func (mw *msgWriter) partDelimiter() []byte {
	b := mw.headerBuffer()
	if mw.partStarted[mw.depth-1] {
		b = append(b, SingleNewLine...)
	}
	b = append(b, "--"...)
	b = append(b, mw.boundaries[mw.depth-1]...)
	return append(b, SingleNewLine...)
}

// headerBuffer returns the msgWriter's header buffer, emptied.
func (mw *msgWriter) headerBuffer() []byte {
	if mw.header == nil {
		mw.header = mw.headerArray[:0]
	}
	return mw.header[:0]
}

// appendField appends the header field "key: value" and its line break.
func appendField(b []byte, key, value string) []byte {
	b = append(b, key...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, SingleNewLine...)
}

// startPart writes header, a part's delimiter and fields, with the empty
// line that ends them, and makes the msgWriter the part's writer, as the
// part multipart.Writer made wrote to it. When the message could not be
// written, the part has no writer and the error is the message's.
func (mw *msgWriter) startPart(header []byte) {
	header = append(header, SingleNewLine...)
	mw.header = header
	if _, err := mw.Write(header); err != nil {
		mw.partWriter, mw.err = nil, err
		return
	}
	mw.partStarted[mw.depth-1] = true
	mw.partWriter = mw
}

// writePart writes the corresponding part to the Msg body.
//
// This function writes a MIME part to the message body, setting the appropriate headers such
// as Content-Type and Content-Transfer-Encoding. It determines the charset for the part,
// either using the part's own charset or a fallback charset if none is specified. If the part
// is at the top level (depth 0), headers are written directly. For nested parts, it creates
// a new MIME part with the provided headers.
//
// Parameters:
//   - part: The Part object containing the data to be written.
//   - charset: The Charset used as a fallback if the part does not specify one.
func (mw *msgWriter) writePart(part *Part, charset Charset) {
	partCharset := part.charset
	if partCharset.String() == "" {
		partCharset = charset
	}

	var contentType string
	if part.smime {
		contentType = part.contentType.String()
	} else {
		contentType = string(part.contentType) + "; charset=" + string(partCharset)
	}
	contentTransferEnc := part.encoding.String()

	if mw.depth == 0 {
		mw.writeHeader(HeaderContentTransferEnc, contentTransferEnc)
		mw.writeHeader(HeaderContentType, contentType)
		mw.writeString(SingleNewLine)
	}
	if mw.depth > 0 {
		// The fields in the order of their names, as newPart writes them.
		b := mw.partDelimiter()
		if part.description != "" {
			b = appendField(b, string(HeaderContentDescription), part.description)
		}
		b = appendField(b, string(HeaderContentTransferEnc), contentTransferEnc)
		b = appendField(b, string(HeaderContentType), contentType)
		mw.startPart(b)
	}
	mw.writeBody(part.writeFunc, part.encoding)
}

// writeString writes a string into the msgWriter's io.Writer interface.
//
// This function writes the given string to the msgWriter's underlying writer. It checks for
// existing errors before performing the write operation. It also tracks the number of bytes
// written and updates the bytesWritten field accordingly.
//
// Parameters:
//   - s: The string to be written.
func (mw *msgWriter) writeString(s string) {
	if mw.err != nil {
		return
	}
	var n int
	n, mw.err = io.WriteString(mw.writer, s)
	mw.bytesWritten += int64(n)
}

// writeBytes writes b as writeString writes a string.
func (mw *msgWriter) writeBytes(b []byte) {
	if mw.err != nil {
		return
	}
	var n int
	n, mw.err = mw.writer.Write(b)
	mw.bytesWritten += int64(n)
}

// writeHeader writes a header into the msgWriter's io.Writer.
//
// This function writes a header key and its associated values to the msgWriter. It ensures
// proper formatting of long headers by inserting line breaks as needed. The header values
// are joined and split into words to ensure compliance with the maximum header length
// (MaxHeaderLength). After processing the header, it is written to the underlying writer.
//
// Parameters:
//   - key: The Header key to be written.
//   - values: A variadic parameter representing the values associated with the header.
func (mw *msgWriter) writeHeader(key Header, values ...string) int {
	// invoiced: the header is folded in the msgWriter's buffers, a word of
	// the joined values at a time, where a strings.Builder, Join, Split and
	// ReplaceAll each made a string of it. The bytes and lines are the same.
	if len(values) == 0 {
		return 1 // a header without values is not written
	}
	if mw.joined == nil {
		mw.joined = mw.joinedArray[:0]
	}
	joined := mw.joined[:0]
	for i, value := range values {
		if i > 0 {
			joined = append(joined, ", "...)
		}
		joined = append(joined, value...)
	}
	mw.joined = joined

	charLength := MaxHeaderLength - 2 - len(key) - 2
	b := append(mw.headerBuffer(), key...)
	b = append(b, ": "...)
	for rest, last := joined, false; !last; {
		word := rest
		if i := bytes.IndexByte(rest, ' '); i >= 0 {
			word, rest = rest[:i], rest[i+1:]
		} else {
			last = true
		}
		if charLength-len(word) <= 1 {
			b = append(b, SingleNewLine+" "...)
			charLength = MaxHeaderLength - 3
		}
		b = append(b, word...)
		if !last {
			b = append(b, ' ')
			charLength--
		}
		charLength -= len(word)
	}
	b = dropSpacesBeforeLineBreaks(b)
	lines := bytes.Count(b, []byte(SingleNewLine)) + 1
	b = append(b, SingleNewLine...)
	mw.header = b
	mw.writeBytes(b)
	return lines
}

// dropSpacesBeforeLineBreaks removes, in place, the space of each " \r\n"
// in b, left to right, as strings.ReplaceAll(b, " \r\n", "\r\n") does.
func dropSpacesBeforeLineBreaks(b []byte) []byte {
	const spaced = " " + SingleNewLine
	i := bytes.Index(b, []byte(spaced))
	if i < 0 {
		return b
	}
	out := b[:i]
	for rest := b[i:]; ; {
		rest = rest[1:] // the space
		j := bytes.Index(rest[len(SingleNewLine):], []byte(spaced))
		if j < 0 {
			return append(out, rest...)
		}
		out = append(out, rest[:len(SingleNewLine)+j]...)
		rest = rest[len(SingleNewLine)+j:]
	}
}

// writeBody writes an io.Reader into an io.Writer using the provided Encoding.
//
// This function writes data from an io.Reader to the underlying writer using a specified
// encoding (quoted-printable, base64, or no encoding). It handles encoding of the content
// and manages writing the encoded data to the appropriate writer, depending on the depth
// (whether the data is part of a multipart structure or not). It also tracks the number
// of bytes written and manages any errors encountered during the process.
//
// Parameters:
//   - writeFunc: A function that writes the body content to the given io.Writer.
//   - encoding: The encoding type to use when writing the content (e.g., base64, quoted-printable).
func (mw *msgWriter) writeBody(writeFunc func(io.Writer) (int64, error), encoding Encoding) {
	var writer io.Writer
	var encodedWriter io.WriteCloser
	var err error
	if mw.depth == 0 {
		writer = mw.writer
	}
	if mw.depth > 0 {
		writer = mw.partWriter
	}
	if writer == nil {
		return
	}
	// invoiced: the body is encoded through a small buffer straight into the
	// part's writer, where it was encoded into a bytes.Buffer of its own, which
	// grew by doubling (twice the encoded size allocated and cleared), and then
	// copied into the part. The bytes written are the same.
	counter := &countingWriter{writer: writer}
	switch encoding {
	case EncodingQP:
		// invoiced: quoted-printable and base64 are encoded straight into a
		// block of whole lines, written to the part when full, where the
		// encoders wrote a line, or a line and its line break, at a time
		// into the buffer. The bytes are the same.
		lines := getQPLines(counter)
		defer putQPLines(lines)
		encodedWriter = lines
	case EncodingB64:
		lines := getBase64Lines(counter)
		defer putBase64Lines(lines)
		encodedWriter = lines
	case NoEncoding:
		buffered := bufio.NewWriterSize(counter, bodyBufferSize)
		_, err = writeFunc(buffered)
		if err != nil {
			mw.err = fmt.Errorf("bodyWriter function: %w", err)
		}
		err = buffered.Flush()
		if err != nil && mw.err == nil {
			mw.err = fmt.Errorf("bodyWriter io.Copy: %w", err)
		}
		if mw.depth == 0 {
			mw.bytesWritten += counter.written
		}
		return
	default:
		encodedWriter = quotedprintable.NewWriter(writer)
	}

	_, err = writeFunc(encodedWriter)
	if err != nil {
		mw.err = fmt.Errorf("bodyWriter function: %w", err)
	}
	err = encodedWriter.Close()
	if err != nil && mw.err == nil {
		mw.err = fmt.Errorf("bodyWriter close encoded writer: %w", err)
	}

	// Since the part writer counts what goes through it, the bytes are only
	// added here at the top level
	if mw.depth == 0 {
		mw.bytesWritten += counter.written
	}
}

// bodyBufferSize is the size of the buffer an 8bit body is written through.
const bodyBufferSize = 4096

// countingWriter counts the bytes written through it.
type countingWriter struct {
	writer  io.Writer
	written int64
}

// Write writes payload to the underlying writer and counts the bytes written.
func (c *countingWriter) Write(payload []byte) (int, error) {
	n, err := c.writer.Write(payload)
	c.written += int64(n)
	return n, err
}

// sanitizeFilename sanitizes a given filename string by replacing specific unwanted characters with
// an underscore ('_').
//
// This method replaces any control character and any special character that is problematic for
// MIME headers and file systems with an underscore ('_') character.
//
// The following characters are replaced
// - Any control character (US-ASCII < 32)
// - ", /, :, <, >, ?, \, |, [DEL]
//
// Parameters:
//   - input: A string of a filename that is supposed to be sanitized
//
// Returns:
//   - A string representing the sanitized version of the filename
func sanitizeFilename(input string) string {
	// invoiced: a name with nothing to replace is returned as it is, where
	// it was copied.
	if !strings.ContainsFunc(input, func(r rune) bool { return r < 128 && unsafeInFilename(byte(r)) }) {
		return input
	}
	var sanitized strings.Builder
	for i := 0; i < len(input); i++ {
		// We do not allow control characters in file names.
		if unsafeInFilename(input[i]) {
			sanitized.WriteRune('_')
			continue
		}
		sanitized.WriteByte(input[i])
	}
	return sanitized.String()
}

// unsafeInFilename reports whether sanitizeFilename replaces the byte c.
func unsafeInFilename(c byte) bool {
	return c < 32 || c == 34 || c == 47 || c == 58 || c == 60 || c == 62 || c == 63 || c == 92 ||
		c == 124 || c == 127
}
