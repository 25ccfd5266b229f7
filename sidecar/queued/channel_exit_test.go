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

// TOUCH extends a message's timeout, but never beyond --max-msg-timeout
// after its delivery, as in nsqd.
func TestTouchStopsAtMaxMsgTimeout(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, func(o *Options) { o.MaxMsgTimeout = time.Minute })
	topic, err := d.GetTopic("t")
	if err != nil {
		t.Fatal(err)
	}
	c, err := topic.GetChannel("c")
	if err != nil {
		t.Fatal(err)
	}
	m := newMessage(d.ids.next(), []byte("m"))
	if err := c.StartInFlight(m, 1, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.TouchMessage(1, m.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	if due := time.Unix(0, m.pri).Sub(time.Unix(0, m.deliveredAt)); due != time.Minute {
		t.Fatalf("after TOUCH for an hour the message is due %v after delivery, want the 1m0s maximum", due)
	}
	if err := c.TouchMessage(1, m.ID, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if due := time.Unix(0, m.pri).Sub(time.Unix(0, m.deliveredAt)); due >= time.Minute || due < 2*time.Second {
		t.Fatalf("after TOUCH for 2s the message is due %v after delivery, want about 2s", due)
	}
}
