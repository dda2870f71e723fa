// Copyright (c) 2019 Klaus Post. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build (amd64 || arm64 || ppc64le || riscv64) && !nounsafe && !purego

package s2dict

import "unsafe"

// load32 and load64 read, as s2 reads on 64-bit little-endian machines,
// without a bounds check: encodeBlock reads within src, and within dict
// and the 16 bytes of room MakeDict leaves after it. Built with the tag
// purego, they check (load_safe.go), as the fuzz test may run them.

func load32(b []byte, i int) uint32 {
	return *(*uint32)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))
}

func load64(b []byte, i int) uint64 {
	return *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))
}
