//go:build !dev

package main

import (
	"context"
	"errors"
	"io"
)

// errNoDev is what the production binary answers to `invoiced dev`.
var errNoDev = errors.New("dev is not in this binary, which is built for production without the embedded Redis;\n" +
	"  run `make run` in the repository, or build one with `go build -tags dev ./cmd/invoiced`")

// runDev refuses: `invoiced dev` and its embedded Redis are left out of
// the production binary (see dev.go).
func runDev(context.Context, io.Writer) error { return errNoDev }
