// Command queued is the sidequeue queue daemon: nsqd v1.3.0's flags and
// protocols, and nothing acknowledged is lost.
package main

import (
	"fmt"
	"os"

	"github.com/sidequeue/sidequeue/internal/cli"
	"github.com/sidequeue/sidequeue/sidecar/queued"
)

func main() {
	opts, showVersion, err := queued.ParseFlags(os.Args[1:])
	if err != nil {
		cli.Exit("queued", err, queued.Usage)
	}
	if showVersion {
		// The product's version; clients see nsqd's (queued.Version) on
		// /info and in IDENTIFY.
		cli.PrintVersion(os.Stdout)
		return
	}
	d, err := queued.New(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "queued:", err)
		os.Exit(1)
	}
	d.HandleSignals()
	if err := d.Main(); err != nil {
		fmt.Fprintln(os.Stderr, "queued:", err)
		os.Exit(1)
	}
}
