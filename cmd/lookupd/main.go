// Command lookupd is the sidequeue lookup daemon: nsqlookupd v1.3.0's
// flags, TCP protocol and HTTP API.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sidequeue/sidequeue/internal/cli"
	"github.com/sidequeue/sidequeue/internal/flagconfig"
	"github.com/sidequeue/sidequeue/internal/logging"
	"github.com/sidequeue/sidequeue/lookup"
)

// about is the first line of --help: what the binary is.
const about = "lookupd is sidequeue's lookup daemon: nsqlookupd v1.3.0's protocols and flags, telling consumers which queue daemons hold a topic."

func main() {
	opts, showVersion, err := parseFlags(os.Args[1:])
	if err != nil {
		cli.Exit("lookupd", err, usage)
	}
	if showVersion {
		cli.PrintVersion(os.Stdout)
		return
	}
	l, err := lookup.New(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lookupd:", err)
		os.Exit(1)
	}
	l.HandleSignals()
	if err := l.Main(); err != nil {
		fmt.Fprintln(os.Stderr, "lookupd:", err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fs, _, _ := defineFlags(lookup.NewOptions())
	cli.Usage(w, about, fs)
}

// parseFlags takes nsqlookupd's flags, so existing command lines and
// manifests work unchanged.
func parseFlags(args []string) (*lookup.Options, bool, error) {
	o := lookup.NewOptions()
	fs, version, config := defineFlags(o)
	if err := fs.Parse(args); err != nil {
		return nil, false, err
	}
	if fs.NArg() > 0 {
		return nil, false, fmt.Errorf("unexpected argument %q: every option is a --flag", fs.Arg(0))
	}
	if *config != "" {
		unknown, err := flagconfig.Apply(fs, *config, nil)
		if err != nil {
			return nil, false, err
		}
		for _, key := range unknown {
			fmt.Fprintf(os.Stderr, "lookupd: ignoring %q in --config %s: no such option\n", key, *config)
		}
	}
	if _, err := logging.ParseLevel(o.LogLevel); err != nil {
		return nil, false, err
	}
	return o, *version, nil
}

// defineFlags defines lookupd's flags on a new, silent flag set, with o's
// fields as their values; it returns --version and --config too.
func defineFlags(o *lookup.Options) (*flag.FlagSet, *bool, *string) {
	fs := cli.NewFlagSet("lookupd")
	version := fs.Bool("version", false, "print version string")
	config := fs.String("config", "", "path to config file (TOML, nsqlookupd's keys; flags win over it)")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "set log verbosity: debug, info, warn, error, or fatal")
	fs.StringVar(&o.LogPrefix, "log-prefix", o.LogPrefix, "log message prefix")
	fs.Bool("verbose", false, "[deprecated] has no effect, use --log-level")
	fs.StringVar(&o.TCPAddress, "tcp-address", o.TCPAddress, "<addr>:<port> to listen on for TCP clients")
	fs.StringVar(&o.HTTPAddress, "http-address", o.HTTPAddress, "<addr>:<port> to listen on for HTTP clients")
	fs.StringVar(&o.BroadcastAddress, "broadcast-address", o.BroadcastAddress, "address of this lookupd node, (default to the OS hostname)")
	fs.DurationVar(&o.InactiveProducerTimeout, "inactive-producer-timeout", o.InactiveProducerTimeout, "duration of time a producer will remain in the active list since its last ping")
	fs.DurationVar(&o.TombstoneLifetime, "tombstone-lifetime", o.TombstoneLifetime, "duration of time a producer will remain tombstoned if registration remains")
	return fs, version, config
}
