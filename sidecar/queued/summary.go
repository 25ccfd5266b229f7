package queued

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"sync"

	"github.com/sidequeue/sidequeue/internal/termination"
)

// The termination summary is how a daemon that goes tells Kubernetes, and
// through it the operator, what it left behind: one line of JSON in
// --termination-log, which the kubelet turns into the container's
// state.terminated.message. It is written when a drain begins (drained
// false, with the depth then), again while the drain goes on and the depth
// changes (every DrainSummaryInterval), and a last time when the daemon
// stops. So a sidecar SIGKILLed mid-drain, its grace period spent, still
// says what it held, near enough: the depth can only have shrunk since,
// publishes being refused.

// summaryState keeps the summaries in order: the drain loop's refresh and a
// signal's final summary may race, and nothing may overwrite the last one.
type summaryState struct {
	d       *Daemon
	mu      sync.Mutex
	final   bool // the last summary is written (or was tried)
	written bool
	last    termination.Summary
}

const defaultTerminationLog = "/dev/termination-log"

// write writes the summary for depth, the last one if final; an
// unchanged summary is not written again. A failure is logged, never
// fatal: the summary only reports, and a missing one makes the operator
// assume a backlog, the safe side.
func (st *summaryState) write(depth int64, final bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.final {
		return
	}
	st.final = final
	s := termination.Summary{Drained: final && depth == 0, Depth: depth}
	if st.written && s == st.last {
		return
	}
	path := terminationLogPath(st.d.opts())
	if path == "" {
		return
	}
	line := s.Line()
	if err := writeInPlace(path, line); err != nil {
		st.d.log.Logf("ERROR", "writing the termination summary %s to %s: %v", bytes.TrimSpace(line), path, err)
		return
	}
	st.written, st.last = true, s
}

// terminationLogPath is --termination-log, or /dev/termination-log when it
// exists (a container in Kubernetes), or "" for none.
func terminationLogPath(o *Options) string {
	if path := o.TerminationLog; path != "" {
		return path
	}
	if _, err := os.Stat(defaultTerminationLog); errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	return defaultTerminationLog
}

// writeInPlace makes line the file's content, in place: the termination
// log is a file the kubelet bind-mounts into the container, which a rename
// cannot replace. The line goes over the old one before the file is cut to
// its length, so the first line is always a whole summary, old or new, even
// if the process is killed between the two; the fsync keeps it through the
// loss of the machine, not only a SIGKILL (which the page cache survives).
// Anything but a regular file (--termination-log=/dev/stdout) just gets the
// line.
func writeInPlace(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	err = writeOver(f, line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func writeOver(f *os.File, line []byte) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		_, err := f.Write(line)
		return err
	}
	if _, err := f.WriteAt(line, 0); err != nil {
		return err
	}
	if err := f.Truncate(int64(len(line))); err != nil {
		return err
	}
	return f.Sync()
}
