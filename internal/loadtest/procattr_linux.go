package loadtest

import "syscall"

// childAttr makes a started process die with the run, should the run be
// killed before it can stop it.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
