package queued

import (
	"errors"
	"time"

	"github.com/sidequeue/sidequeue/sidecar/diskqueue"
)

// PutMessage publishes one message.
func (t *Topic) PutMessage(m *Message) error { return t.PutMessages([]*Message{m}) }

// PutMessages publishes a batch (MPUB): what fits in memory goes there, the
// rest to disk in one write. On an error some of the batch may be stored,
// as with nsqd.
func (t *Topic) PutMessages(ms []*Message) error {
	size := diskSize(ms)
	// Before exitMu: the check reads every topic, and Exit closes topics
	// holding the daemon's topic lock.
	if !t.ephemeral && cap(t.mem.ch)-len(t.mem.ch) < len(ms) {
		if err := t.roomForCopies(size); err != nil {
			t.d.healthState.report(t, err)
			return err
		}
	}
	if direct, err := t.putDirect(ms, size); direct {
		return err
	}
	t.exitMu.RLock()
	defer t.exitMu.RUnlock()
	if t.exiting {
		return errExiting
	}
	rest := ms
	for len(rest) > 0 && t.mem.offer(rest[0]) {
		rest = rest[1:]
	}
	if len(rest) > 0 {
		_, err := putBatch(t.backend.PutBatch, rest, func(m *Message) int64 { return m.deferUntil })
		t.d.healthState.report(t, err)
		if err != nil {
			return err
		}
	}
	t.countPublished(ms)
	return nil
}

func (t *Topic) countPublished(ms []*Message) {
	var bytes uint64
	for _, m := range ms {
		bytes += uint64(len(m.Body))
	}
	t.messageCount.Add(uint64(len(ms)))
	t.messageBytes.Add(bytes)
}

// messagePump copies each message to every channel. Without channels, or
// while paused, messages wait in the topic.
func (t *Topic) messagePump() {
	defer close(t.pumpDone)
	select {
	case <-t.start:
	case <-t.exit:
		return
	}
	chans := t.sortedChannels()
	var b pumpBatch
	for {
		var mem chan *Message
		var disk chan diskMessage
		if len(chans) > 0 && !t.paused.Load() {
			mem, disk = t.mem.ch, t.fromDisk.out
		}
		select {
		case m := <-mem:
			t.addToBatch(&b, m)
		case dm := <-disk:
			t.addToBatchFromDisk(&b, dm)
		case <-t.channelsChanged:
			chans = t.sortedChannels()
			continue
		case <-t.pauseChanged:
			continue
		case <-t.exit:
			return
		}
		t.fillBatch(&b)
		if !t.deliverBatch(chans, &b) {
			t.unsent = b.fromMemory
			return
		}
		b.reset()
	}
}

const pumpBatchSize = 256

// pumpBatch is what the pump moves at once: messages, those of them that
// came from memory (only memory holds them), and for those read from the
// topic's disk queue, where the last one ended.
type pumpBatch struct {
	msgs       []*Message
	fromMemory []*Message
	fromDisk   bool
	diskEnd    diskqueue.Position
}

func (b *pumpBatch) add(m *Message) {
	b.msgs = append(b.msgs, m)
	b.fromMemory = append(b.fromMemory, m)
}

func (b *pumpBatch) addFromDisk(dm diskMessage) {
	dm.msg.deferUntil = dm.dueAt
	b.msgs = append(b.msgs, dm.msg)
	b.fromDisk, b.diskEnd = true, dm.end
}

func (b *pumpBatch) reset() {
	clear(b.msgs)
	clear(b.fromMemory)
	b.msgs, b.fromMemory, b.fromDisk = b.msgs[:0], b.fromMemory[:0], false
}

// addToBatch and addToBatchFromDisk count a message in the pump before its
// queue stops counting it (memqueue.go).
func (t *Topic) addToBatch(b *pumpBatch, m *Message) {
	t.inPump.Add(1)
	t.mem.taken()
	b.add(m)
}

func (t *Topic) addToBatchFromDisk(b *pumpBatch, dm diskMessage) {
	t.inPump.Add(1)
	t.fromDisk.taken()
	b.addFromDisk(dm)
}

// fillBatch adds whatever else is ready, without waiting.
func (t *Topic) fillBatch(b *pumpBatch) {
	for len(b.msgs) < pumpBatchSize {
		select {
		case m := <-t.mem.ch:
			t.addToBatch(b, m)
		case dm := <-t.fromDisk.out:
			t.addToBatchFromDisk(b, dm)
		default:
			return
		}
	}
}

// deliverBatch copies a batch to every channel. Messages read from the
// topic's disk queue are released from it only once every channel's copy is
// written and, under --sync-every=1, fsynced (one fsync per channel per
// batch): a crash in between delivers them again rather than never. It
// returns false if the topic began exiting before every channel had its
// copy; the batch then stays the topic's.
func (t *Topic) deliverBatch(chans []*Channel, b *pumpBatch) bool {
	for i, c := range chans {
		if !t.putToChannel(c, b.msgs, i > 0) {
			return false
		}
	}
	t.inPump.Add(-int64(len(b.msgs)))
	if !b.fromDisk {
		return true
	}
	if t.d.opts().SyncEvery == 1 {
		for _, c := range chans {
			if err := c.backend.Sync(); err != nil {
				t.d.log.Logf("ERROR", "TOPIC(%s): fsync of channel %s failed, keeping messages in the topic: %v", t.name, c.name, err)
				t.d.healthState.report(c, err)
				return true
			}
		}
	}
	t.backend.Commit(b.diskEnd)
	return true
}

// Retries of a channel that cannot store, from first to longest wait.
const (
	channelRetryMin = 10 * time.Millisecond
	channelRetryMax = time.Second
)

// putToChannel gives c its copy of msgs. A channel that cannot store them
// (its budget or the disk is full) is tried again, with backoff, until it
// can, or it is emptied or deleted: meanwhile the topic keeps the messages,
// and publishes queue up in the topic until it refuses them. False if the
// topic began exiting first.
func (t *Topic) putToChannel(c *Channel, msgs []*Message, copyMsgs bool) bool {
	emptied := c.emptied.Load()
	wait := channelRetryMin
	for tries := 0; ; tries++ {
		rest, err := c.putBatchFromTopic(msgs, copyMsgs)
		if errors.Is(err, errExiting) {
			return true // deleted: its copy goes with it
		}
		t.d.healthState.report(c, err)
		if err == nil {
			if tries > 0 {
				t.d.log.Logf("INFO", "TOPIC(%s): channel(%s) stores again", t.name, c.name)
			}
			return true
		}
		if tries == 0 {
			t.d.log.Logf("ERROR", "TOPIC(%s): channel(%s) cannot store %d messages; the topic keeps them and retries: %v",
				t.name, c.name, len(rest), err)
		}
		msgs, copyMsgs = rest, false
		select {
		case <-t.exit:
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, channelRetryMax)
		if c.emptied.Load() != emptied {
			return true
		}
	}
}
