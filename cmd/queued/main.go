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
	go handleSignals(d, opts)
	if err := d.Main(); err != nil {
		fmt.Fprintln(os.Stderr, "queued:", err)
		os.Exit(1)
	}
}

// handleSignals drains on SIGTERM, so a pod's backlog is consumed before it
// goes; SIGINT, or a second SIGTERM, exits at once, keeping the backlog on
// disk. Either way the summary goes to the termination log, and a drain
// that ends with a backlog exits 1.
func handleSignals(d *queued.Daemon, opts *queued.Options) {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	draining := false
	for sig := range signals {
		if sig == syscall.SIGTERM && !draining {
			draining = true
			d.StartDrain(opts.DrainTimeout)
			continue
		}
		d.Stop()
		return
	}
}
