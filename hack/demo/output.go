package main

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// errOutputClosed is the cause of the demo's context when its stdout or
// stderr stops taking writes: `make demo | tee demo.log` after tee died
// (Ctrl-C reaches tee too), or a reader that went away.
var errOutputClosed = errors.New("output closed")

// outputGuard stands between the demo's prints and its real stdout and
// stderr. Go kills a program that writes to a closed pipe on fd 1 or 2 with
// SIGPIPE, before any deferred function runs, which left etcd,
// kube-apiserver and the work directory behind. So SIGPIPE is ignored (the
// write returns EPIPE instead), and every print goes through a pipe of the
// demo's own: a copier notices the first failed write, asks the demo to
// shut down, and from then on discards, so that the shutdown's own prints
// neither block nor fail.
type outputGuard struct {
	writers []*os.File // what os.Stdout and os.Stderr are now
	wg      sync.WaitGroup
}

// guardOutput replaces os.Stdout and os.Stderr; closed is called (once per
// stream) when the real one fails.
func guardOutput(closed func()) (*outputGuard, error) {
	signal.Ignore(syscall.SIGPIPE)
	g := &outputGuard{}
	for _, std := range []**os.File{&os.Stdout, &os.Stderr} {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		real := *std
		*std = w
		g.writers = append(g.writers, w)
		g.wg.Go(func() { copyUntilBroken(real, r, closed) })
	}
	return g, nil
}

func copyUntilBroken(dst io.Writer, src *os.File, closed func()) {
	defer src.Close()
	if _, err := io.Copy(dst, src); err != nil {
		closed()
		_, _ = io.Copy(io.Discard, src) // drain: the demo keeps printing while it stops
	}
}

// flush waits until everything printed has reached the real outputs (or
// been discarded); nothing may be printed after it.
func (g *outputGuard) flush() {
	for _, w := range g.writers {
		w.Close()
	}
	g.wg.Wait()
}
