// Command queued is the sidequeue queue daemon: nsqd v1.3.0's flags and
// protocols, and nothing acknowledged is lost.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"

	"github.com/sidequeue/sidequeue/internal/version"
	"github.com/sidequeue/sidequeue/sidecar/queued"
)

func main() {
	opts, showVersion, err := queued.ParseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return // the usage is printed; -h is no failure, as with nsqd
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "queued:", err)
		os.Exit(2)
	}
	if showVersion {
		// nsqd's format, with the product version; clients see
		// queued.Version (nsqd's) on /info and in IDENTIFY.
		fmt.Printf("queued v%s (built w/%s)\n", version.Version, runtime.Version())
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
