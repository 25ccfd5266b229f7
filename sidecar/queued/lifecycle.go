package queued

import (
	"github.com/sidequeue/sidequeue/internal/version"
)

// The start-up and shutdown lines are what a person running queued sees
// first and last, as nsqd prints "TCP: listening on ...": which version,
// where it listens and keeps its data, and why it stopped.

// logStart writes the start-up lines; Main calls it once the listeners
// are bound and the data path loaded.
func (d *Daemon) logStart() {
	o := d.opts()
	d.log.Logf("INFO", "%s, nsqd protocol v%s, node ID %d", version.String(), Version, o.NodeID)
	d.topicsMu.RLock()
	topics := len(d.topics)
	d.topicsMu.RUnlock()
	d.log.Logf("INFO", "data path %s: %d topics loaded, %d messages held", o.DataPath, topics, d.backlog())
	d.log.Logf("INFO", "TCP: listening on %s", d.TCPAddr())
	d.log.Logf("INFO", "HTTP: listening on %s", d.HTTPAddr())
	if a := d.HTTPSAddr(); a != nil {
		d.log.Logf("INFO", "HTTPS: listening on %s", a)
	}
	if o.DrainOnly {
		d.log.Logf("INFO", "--drain-only: serving the backlog to consumers; exiting once it is empty")
	}
}
