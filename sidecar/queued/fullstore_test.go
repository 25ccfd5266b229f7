package queued

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// smallDisk is the disk preset on a small budget: every message on disk,
// each topic and channel allowed 300 kB, segments of 50 kB.
func smallDisk(o *Options) {
	o.MemQueueSize, o.MaxDiskBytes, o.MaxBytesPerFile = 0, 300_000, 50_000
	o.SyncTimeout = 20 * time.Millisecond
}

// publishUntilRefused PUBs up to n bodies of size bytes, one at a time,
// and returns those answered OK; it stops at the first refusal.
func publishUntilRefused(t *testing.T, d *Daemon, topic string, n, size int) map[string]bool {
	t.Helper()
	acked := map[string]bool{}
	c := dial(t, d)
	pad := strings.Repeat("x", size)
	for i := range n {
		body := fmt.Sprintf("%06d%s", i, pad)[:size]
		c.cmd("PUB "+topic, []byte(body))
		ft, data := c.frame()
		if ft != protocol.FrameTypeResponse {
			if !strings.HasPrefix(string(data), "E_PUB_FAILED") {
				t.Fatalf("PUB %d: %q", i, data)
			}
			return acked
		}
		acked[body] = true
	}
	return acked
}

// consumeAll finishes messages until every body in want has come.
func consumeAll(t *testing.T, c *conn, want map[string]bool) {
	t.Helper()
	left := len(want)
	seen := map[string]bool{}
	for left > 0 {
		m := c.message()
		if want[m.body] && !seen[m.body] {
			seen[m.body] = true
			left--
		}
		c.cmd("FIN " + m.id)
	}
}

// A channel that cannot store its copy (its budget is spent, no consumer)
// no longer loses it: the topic keeps the message and retries, publishes
// are refused once the topic is full too, the daemon reports itself
// unhealthy meanwhile, and every publish answered OK reaches the channel.
func TestChannelThatCannotStoreKeepsTheTopicsMessages(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, smallDisk)
	subscribe(t, d, "bud", "c").Close()
	acked := publishUntilRefused(t, d, "bud", 4000, 200)
	if len(acked) == 4000 {
		t.Fatal("4000 publishes of 200 bytes fit in two 300 kB budgets")
	}
	ping := httpGet(t, d, "/ping")
	if ping.code != 500 || !strings.HasPrefix(ping.body, "NOK - ") || !strings.Contains(ping.body, "budget") {
		t.Fatalf("/ping while publishes are refused: %d %q, want 500 NOK naming the budget", ping.code, ping.body)
	}
	if r := httpPost(t, d, "/pub?topic=bud", []byte(strings.Repeat("x", 200))); r.code != 503 ||
		!strings.Contains(r.body, "EXITING: ") || !strings.Contains(r.body, "budget") {
		t.Fatalf("HTTP /pub to a full topic: %d %q, want 503 EXITING naming the budget", r.code, r.body)
	}
	if h := getJSON(t, d, "/stats?format=json")["health"]; h != ping.body {
		t.Fatalf("/stats health %q, want what /ping says", h)
	}
	t.Logf("%d of 4000 publishes acknowledged before the first refusal; /ping said %q", len(acked), ping.body)

	sub := subscribe(t, d, "bud", "c")
	sub.cmd("RDY 200")
	consumeAll(t, sub, acked)
	// As nsqd: healthy again at the next write that succeeds.
	publishN(t, d, "bud", 1)
	if r := httpGet(t, d, "/ping"); r.code != 200 || r.body != "OK" {
		t.Fatalf("/ping after a publish succeeded: %d %q", r.code, r.body)
	}
}

// A message whose timeout passes while its channel's disk is full is kept
// (deferred and retried) and delivered again once there is room: it used to
// vanish, with depth, in-flight and the drain summary all saying 0.
func TestTimedOutMessageKeptWhenItsRequeueCannotStore(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, func(o *Options) {
		smallDisk(o)
		o.MsgTimeout = 100 * time.Millisecond
	})
	subscribe(t, d, "full", "c").Close()
	acked := publishUntilRefused(t, d, "full", 4000, 200)

	held := subscribe(t, d, "full", "c")
	held.cmd("RDY 1")
	first := held.message()
	held.cmd("RDY 0")
	c, _ := d.topics["full"].GetExistingChannel("c")
	waitFor(t, "the timed-out message to be kept for a retry", func() bool {
		return c.timeoutCount.Load() == 1 && c.inFlightCount() == 0 && c.deferredCount() == 1
	})
	if n := d.backlog(); n < int64(len(acked)) {
		t.Fatalf("backlog %d while %d acknowledged messages are unconsumed", n, len(acked))
	}

	sub := dial(t, d)
	sub.identify(map[string]any{"msg_timeout": 60_000}) // this one is not slow
	sub.cmd("SUB full c")
	sub.expectOK()
	sub.cmd("RDY 200")
	consumeAll(t, sub, acked)
	if !acked[first.body] {
		t.Fatalf("the held message %q was not one of those acknowledged", first.body[:6])
	}
}
