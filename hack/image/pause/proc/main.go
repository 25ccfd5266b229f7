// Command proc is the process of the dev cluster's pause image (see
// ../main.go): it holds a pod sandbox's namespaces, reaps the zombies a
// shared process namespace leaves it as PID 1, and exits on SIGINT or
// SIGTERM, as Kubernetes' pause.c does.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
