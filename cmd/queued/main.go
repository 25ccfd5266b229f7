// Command queued is the sidequeue queue daemon: nsqd v1.3.0's flags and
// protocols, and nothing acknowledged is lost.
package main

import (
	"fmt"
	"os"
	"runtime"

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
	go d.HandleSignals()
	if err := d.Main(); err != nil {
		fmt.Fprintln(os.Stderr, "queued:", err)
		os.Exit(1)
	}
}
