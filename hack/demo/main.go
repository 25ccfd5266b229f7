// Command demo runs sidequeue end to end on this machine (`make demo`): etcd
// and kube-apiserver from bin/k8s, the CRDs, the manager out of cluster,
// lookupd and two queued as local processes; then the sample Lookup, Topic
// and Channel, and a round trip of messages through them while kubectl shows
// the channel's depth rise and fall.
//
// With CI=true it exits after the round trip: 0 when every message came back
// once, non-zero on any failure. Otherwise it keeps everything running and
// stops it all on Ctrl-C. See docs/guide/demo.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"
)

// errInterrupted is the cause of the demo's context when Ctrl-C or SIGTERM
// arrives.
var errInterrupted = errors.New("interrupted")

func main() {
	execIfWrapper()
	if len(os.Args) == 2 && os.Args[1] == "-clean" {
		os.Exit(clean())
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	guard, err := guardOutput(func() { cancel(errOutputClosed) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	code := run(ctx, cancel)
	cancel(nil)
	guard.flush()
	os.Exit(code)
}

// clean removes the work directories that demos killed with kill -9 left.
func clean() int {
	removed, err := cleanStale()
	for _, dir := range removed {
		fmt.Println("removed", dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo -clean:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, cancel context.CancelCauseFunc) (code int) {
	start := time.Now()
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	if removed, err := cleanStale(); err != nil {
		fmt.Fprintln(os.Stderr, "==> demo:", err)
	} else if len(removed) > 0 {
		fmt.Printf("==> removed %d work directories of demos killed earlier\n", len(removed))
	}
	if err := checkLookupPorts(); err != nil {
		fmt.Fprintln(os.Stderr, "==> demo failed:", err)
		return 1
	}
	go cancelOnSignal(ctx, cancel)

	d, err := newDemo(root, ci, cancel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	defer d.recoverPanic(&code)
	err = d.run(ctx)
	if cause := context.Cause(ctx); err != nil && stopRequested(cause) {
		err = cause // whatever the step was doing when Ctrl-C came
	}
	if err == nil {
		fmt.Printf("==> round trip complete, %.1fs after the demo started\n", time.Since(start).Seconds())
		if !ci {
			d.printHints()
			<-ctx.Done()
			err = context.Cause(ctx)
		}
	}
	return d.finish(err)
}

// stopRequested says whether err is a reason to stop that is no failure:
// a signal, or nobody reading the output any more.
func stopRequested(err error) bool {
	return errors.Is(err, errInterrupted) || errors.Is(err, errOutputClosed)
}

// recoverPanic stops every process and removes the work directory when the
// demo's main goroutine panics. A panic elsewhere kills the process before
// any of this can run; the parent-death signal stops the children then, and
// the next demo removes the directory.
func (d *demo) recoverPanic(code *int) {
	p := recover()
	if p == nil {
		return
	}
	fmt.Fprintf(os.Stderr, "\n==> demo panicked: %v\n%s", p, debug.Stack())
	d.stop()
	d.removeDir()
	*code = 2
}

// cancelOnSignal cancels the demo on the first SIGINT, SIGTERM, SIGHUP (the
// terminal closed) or SIGQUIT: envtest's etcd and kube-apiserver outlive a
// demo that dies without stopping them. Later signals are caught too, so
// that a second Ctrl-C cannot cut the shutdown short and leave processes
// behind; every process gets SIGKILL after a deadline anyway.
func cancelOnSignal(ctx context.Context, cancel context.CancelCauseFunc) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	<-sigs
	cancel(errInterrupted)
	for range sigs {
		fmt.Printf("\n==> still stopping (each process gets SIGKILL %s after SIGTERM)\n", stopGrace)
	}
}

// finish stops everything and reports err; it returns the exit code. The
// work directory goes, except after a failure in an interactive run, where
// its logs are what the user needs next.
func (d *demo) finish(err error) int {
	interrupted := stopRequested(err)
	failed := err != nil && !interrupted
	switch {
	case failed:
		fmt.Fprintf(os.Stderr, "\n==> demo failed: %v\n", err)
		d.printLogTails(os.Stderr, err)
	case interrupted && !d.succeeded:
		fmt.Println("\n==> interrupted before the round trip was done")
	}
	fmt.Println("==> stopping every process")
	d.stop()
	if failed && !d.ci {
		fmt.Fprintf(os.Stderr, "==> logs kept in %s\n", d.dir)
	} else {
		d.removeDir()
	}
	switch {
	case failed, errors.Is(err, errOutputClosed):
		return 1
	case interrupted && !d.succeeded:
		return 130 // as a shell reports a command ended by SIGINT
	}
	return 0
}

// repoRoot is the nearest directory above the working directory holding
// go.mod: `make demo` runs in the repository root, a plain `go run` may not.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; run `make demo` in the repository")
		}
		dir = parent
	}
}
