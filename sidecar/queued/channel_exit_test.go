package queued

import (
	"fmt"
	"testing"
	"time"
)

// An exit racing the scan loop's requeue of deferred messages coming due
// keeps every one: the requeue used to take a message out of the deferred
// queue, find the channel exiting and drop it, losing a publish that was
// acknowledged (seen as a rare loss in the memory presets of the
// disk-pressure test, whose drains end by exiting).
func TestExitWhileDeferredMessagesComeDueKeepsThem(t *testing.T) {
	t.Parallel()
	dataPath := t.TempDir()
	opts := func(o *Options) { o.DataPath, o.QueueScanInterval = dataPath, time.Millisecond }
	const rounds, perRound = 60, 200
	for round := range rounds {
		d := startDaemon(t, opts)
		subscribe(t, d, "t", "c").Close()
		pub := dial(t, d)
		for i := range perRound {
			pub.cmd(fmt.Sprintf("DPUB t %d", i%8), []byte(fmt.Sprintf("r%d-%d", round, i)))
			pub.expectOK()
		}
		d.Exit()
	}
	d := startDaemon(t, opts)
	waitFor(t, fmt.Sprintf("all %d messages held after the restarts, no more, no fewer", rounds*perRound),
		func() bool { return d.backlog() == rounds*perRound })
}
