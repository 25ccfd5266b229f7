// Command queued is the sidequeue queue daemon: nsqd v1.3.0's flags and
// protocols, and nothing acknowledged is lost.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/sidequeue/sidequeue/sidecar/queued"
)

func main() {
	opts, showVersion, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "queued:", err)
		os.Exit(2)
	}
	if showVersion {
		fmt.Printf("queued v%s (built w/%s)\n", queued.Version, runtime.Version())
		return
	}
	d, err := queued.New(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "queued:", err)
		os.Exit(1)
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		d.Exit()
	}()
	if err := d.Main(); err != nil {
		fmt.Fprintln(os.Stderr, "queued:", err)
		os.Exit(1)
	}
}
