package gopdf

import (
	"github.com/klauspost/compress/zlib"
	"io"
	"sync"
)

// zlibPools keeps zlib writers for reuse, one pool per compression level
// (zlib.HuffmanOnly through zlib.BestCompression). A writer holds about
// a megabyte of tables; making and zeroing a fresh one for every stream
// of every document cost more than compressing the stream itself.
var zlibPools [zlib.BestCompression - zlib.HuffmanOnly + 1]sync.Pool

// getZlibWriter returns a zlib writer at level writing to w, reused
// where one is pooled. Hand it back with putZlibWriter after Close.
func getZlibWriter(w io.Writer, level int) (*zlib.Writer, error) {
	if level == zlib.DefaultCompression {
		level = 6
	}
	if level < zlib.HuffmanOnly || level > zlib.BestCompression {
		return zlib.NewWriterLevel(w, level) // reports the bad level
	}
	if zw, ok := zlibPools[level-zlib.HuffmanOnly].Get().(*zlib.Writer); ok {
		zw.Reset(w)
		return zw, nil
	}
	return zlib.NewWriterLevel(w, level)
}

// putZlibWriter pools zw, written at level and closed, for reuse.
func putZlibWriter(zw *zlib.Writer, level int) {
	if level == zlib.DefaultCompression {
		level = 6
	}
	if level < zlib.HuffmanOnly || level > zlib.BestCompression {
		return
	}
	zw.Reset(io.Discard)
	zlibPools[level-zlib.HuffmanOnly].Put(zw)
}
