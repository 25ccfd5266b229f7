package main

import "syscall"

// childAttr puts each child in a process group of its own, so that Ctrl-C
// reaches only the demo, which then stops the children in order; and kills
// the child should the demo die without stopping it (kill -9, a crash).
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
