//go:build !linux

package loadtest

import "syscall"

// childAttr is empty where the parent's death cannot be passed on.
func childAttr() *syscall.SysProcAttr { return nil }
