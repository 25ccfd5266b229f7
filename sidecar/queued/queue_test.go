package queued

import "testing"

// Empty drops the message the disk reader has read ahead and holds, not
// only what the memory and disk queues hold: it used to survive an Empty
// and be delivered after it.
func TestEmptyDropsTheMessageTheDiskReaderHolds(t *testing.T) {
	t.Parallel()
	diskOnly := func(o *Options) { o.MemQueueSize = 0 }
	cases := []struct {
		name    string
		prepare func(d *Daemon) *queue // publishes "old" messages; returns the queue to empty
		empty   func(d *Daemon) error
	}{
		{"topic", func(d *Daemon) *queue {
			publishOld(t, d) // no channel yet: the topic holds them
			topic, _ := d.GetExistingTopic("t")
			return &topic.queue
		}, func(d *Daemon) error {
			topic, _ := d.GetExistingTopic("t")
			return topic.Empty()
		}},
		{"channel", func(d *Daemon) *queue {
			subscribe(t, d, "t", "c").Close() // no consumer left: the channel holds them
			publishOld(t, d)
			return &existingChannel(t, d).queue
		}, func(d *Daemon) error { return existingChannel(t, d).Empty() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := startDaemon(t, diskOnly)
			q := tc.prepare(d)
			waitFor(t, "the disk reader to hold one of the 3 messages", func() bool {
				return q.fromDisk.holding.Load() == 1 && q.Depth() == 3
			})
			if err := tc.empty(d); err != nil {
				t.Fatalf("Empty: %v", err)
			}
			if n := q.Depth(); n != 0 {
				t.Fatalf("depth %d after Empty, want 0", n)
			}
			sub := subscribe(t, d, "t", "c")
			sub.cmd("RDY 10")
			pub := dial(t, d)
			pub.cmd("PUB t", []byte("new"))
			pub.expectOK()
			if m := sub.message(); m.body != "new" {
				t.Fatalf("got %q after Empty, want the message published after it", m.body)
			}
		})
	}
}

func publishOld(t *testing.T, d *Daemon) {
	pub := dial(t, d)
	for range 3 {
		pub.cmd("PUB t", []byte("old"))
		pub.expectOK()
	}
	pub.Close()
}

func existingChannel(t *testing.T, d *Daemon) *Channel {
	topic, err := d.GetExistingTopic("t")
	if err != nil {
		t.Fatal(err)
	}
	c, err := topic.GetExistingChannel("c")
	if err != nil {
		t.Fatal(err)
	}
	return c
}
