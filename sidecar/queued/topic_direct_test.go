package queued

import (
	"fmt"
	"testing"
)

// With --mem-queue-size=0, a topic that holds nothing writes a publish
// once per channel and not also to its own disk queue; paused, it keeps
// publishes on its own disk, and unpaused, hands them on and goes back to
// writing the channels directly. Every message arrives once.
func TestTopicWithNothingQueuedWritesOnlyItsChannels(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, func(o *Options) { o.MemQueueSize = 0 })
	httpPost(t, d, "/topic/create?topic=t", nil).expect(t, 200, "")
	httpPost(t, d, "/channel/create?topic=t&channel=c", nil).expect(t, 200, "")
	topic, _ := d.GetExistingTopic("t")
	c, _ := topic.GetExistingChannel("c")
	publish := func(from, to int) {
		for i := from; i < to; i++ {
			httpPost(t, d, "/pub?topic=t", fmt.Appendf(nil, "%03d", i)).expect(t, 200, "OK")
		}
	}
	publish(0, 50)
	if got, want := backendStats(topic.backend).DiskBytes, int64(0); got != want {
		t.Fatalf("the topic's disk queue holds %d bytes after 50 publishes to its channel, want %d", got, want)
	}
	if c.Depth() != 50 {
		t.Fatalf("channel depth %d, want 50", c.Depth())
	}
	httpPost(t, d, "/topic/pause?topic=t", nil).expect(t, 200, "")
	publish(50, 60)
	if topic.Depth() != 10 || backendStats(topic.backend).DiskBytes == 0 {
		t.Fatalf("paused: topic depth %d on %d bytes of disk, want 10 on its own disk", topic.Depth(), backendStats(topic.backend).DiskBytes)
	}
	httpPost(t, d, "/topic/unpause?topic=t", nil).expect(t, 200, "")
	waitFor(t, "the paused publishes in the channel", func() bool { return topic.Depth() == 0 && c.Depth() == 60 })
	publish(60, 70)

	sub := subscribe(t, d, "t", "c")
	sub.cmd("RDY 100")
	seen := map[string]bool{}
	for range 70 {
		m := sub.message()
		if seen[m.body] {
			t.Fatalf("message %s delivered twice", m.body)
		}
		seen[m.body] = true
		sub.cmd("FIN " + m.id)
	}
}
