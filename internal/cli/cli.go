// Package cli is how every sidequeue binary answers --help, --version and
// a flag it does not know, so that the three behave alike: help on stdout
// with exit 0, the version as "sidequeue <version> (<commit>)", and a bad
// flag as its error plus one line pointing to --help, exit 2. Parsing
// itself stays silent (the injection webhook parses queued's flags and
// must print nothing), so the printing is done here, by the mains.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/sidequeue/sidequeue/internal/version"
)

// ExitUsage is the exit status of a command line that cannot be used, as
// the flag package and most Unix tools have it.
const ExitUsage = 2

// Usage writes a binary's help: the sentence saying what it is, how it is
// invoked, and its flags.
func Usage(w io.Writer, about string, fs *flag.FlagSet) {
	fmt.Fprintf(w, "%s\n\nUsage: %s [flags]\n\nFlags:\n", about, fs.Name())
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// NewFlagSet is a flag set that prints nothing while parsing: errors are
// returned, and Usage or Fail say what is needed.
func NewFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// Report answers a failed parse: for -h/--help the usage on stdout and
// status 0; otherwise the error and a pointer to --help on stderr, and
// ExitUsage.
func Report(stdout, stderr io.Writer, name string, err error, usage func(io.Writer)) int {
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for the list of flags.\n", name, err, name)
	return ExitUsage
}

// Exit is Report on the process's own stdout and stderr, then exits.
func Exit(name string, err error, usage func(io.Writer)) {
	os.Exit(Report(os.Stdout, os.Stderr, name, err, usage))
}

// PrintVersion is --version.
func PrintVersion(w io.Writer) { fmt.Fprintln(w, version.String()) }

// SignalName is how the daemons' shutdown lines name the signal that
// stopped them: "SIGTERM" rather than Go's "terminated".
func SignalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}
