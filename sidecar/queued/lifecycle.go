package queued

import (
	"fmt"

	"github.com/sidequeue/sidequeue/internal/version"
)

// The start-up and shutdown lines are what a person running queued sees
// first and last, as nsqd prints "TCP: listening on ...": which version,
// where it listens and keeps its data, and why it stopped.

// logStart writes the start-up lines; Main calls it once the listeners
// are bound and the data path loaded.
func (d *Daemon) logStart() {
	o := d.opts()
	d.logf("INFO", "%s, nsqd protocol v%s, node ID %d", version.String(), Version, o.NodeID)
	d.topicsMu.RLock()
	topics := len(d.topics)
	d.topicsMu.RUnlock()
	d.logf("INFO", "data path %s: %d topics loaded, %d messages held", o.DataPath, topics, d.backlog())
	d.logf("INFO", "TCP: listening on %s", d.TCPAddr())
	d.logf("INFO", "HTTP: listening on %s", d.HTTPAddr())
	if o.DrainOnly {
		d.logf("INFO", "--drain-only: serving the backlog to consumers; exiting once it is empty")
	}
}

// stopBecause records why the daemon is stopping; the first reason given
// is the one the shutdown line reports.
func (d *Daemon) stopBecause(format string, args ...any) {
	reason := fmt.Sprintf(format, args...)
	d.reason.CompareAndSwap(nil, &reason)
}

// stopReason is the recorded reason; a daemon embedded in a program that
// calls Exit itself was given none.
func (d *Daemon) stopReason() string {
	if r := d.reason.Load(); r != nil {
		return *r
	}
	return "Exit called"
}
