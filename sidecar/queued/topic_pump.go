package queued

import (
	"errors"

	"github.com/sidequeue/sidequeue/sidecar/diskqueue"
)

// PutMessage publishes one message.
func (t *Topic) PutMessage(m *Message) error { return t.PutMessages([]*Message{m}) }

// PutMessages publishes a batch (MPUB): what fits in memory goes there, the
// rest to disk in one write. On an error some of the batch may be stored,
// as with nsqd.
func (t *Topic) PutMessages(ms []*Message) error {
	t.exitMu.RLock()
	defer t.exitMu.RUnlock()
	if t.exiting {
		return errExiting
	}
	rest := ms
	for len(rest) > 0 && offer(t.memoryMsgs, t.ephemeral, rest[0]) {
		rest = rest[1:]
	}
	if len(rest) > 0 {
		if err := putBatch(t.backend.PutBatch, rest, func(m *Message) int64 { return m.deferUntil }); err != nil {
			return err
		}
	}
	var bytes uint64
	for _, m := range ms {
		bytes += uint64(len(m.Body))
	}
	t.messageCount.Add(uint64(len(ms)))
	t.messageBytes.Add(bytes)
	return nil
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
			mem, disk = t.memoryMsgs, t.fromDisk.out
		}
		select {
		case m := <-mem:
			b.add(m)
		case dm := <-disk:
			b.addFromDisk(dm)
		case <-t.channelsChanged:
			chans = t.sortedChannels()
			continue
		case <-t.pauseChanged:
			continue
		case <-t.exit:
			return
		}
		t.fillBatch(&b)
		t.deliverBatch(chans, &b)
		b.reset()
	}
}

const pumpBatchSize = 256

// pumpBatch is what the pump moves at once: messages, and for those read
// from the topic's disk queue, where the last one ended.
type pumpBatch struct {
	msgs     []*Message
	fromDisk bool
	diskEnd  diskqueue.Position
}

func (b *pumpBatch) add(m *Message) { b.msgs = append(b.msgs, m) }

func (b *pumpBatch) addFromDisk(dm diskMessage) {
	dm.msg.deferUntil = dm.dueAt
	b.msgs = append(b.msgs, dm.msg)
	b.fromDisk, b.diskEnd = true, dm.end
}

func (b *pumpBatch) reset() {
	clear(b.msgs)
	b.msgs, b.fromDisk = b.msgs[:0], false
}

// fillBatch adds whatever else is ready, without waiting.
func (t *Topic) fillBatch(b *pumpBatch) {
	for len(b.msgs) < pumpBatchSize {
		select {
		case m := <-t.memoryMsgs:
			b.add(m)
		case dm := <-t.fromDisk.out:
			b.addFromDisk(dm)
		default:
			return
		}
	}
}

// deliverBatch copies a batch to every channel. Messages read from the
// topic's disk queue are released from it only once every channel's copy is
// written and, under --sync-every=1, fsynced (one fsync per channel per
// batch): a crash in between delivers them again rather than never.
func (t *Topic) deliverBatch(chans []*Channel, b *pumpBatch) {
	for i, c := range chans {
		if err := c.putBatchFromTopic(b.msgs, i > 0); err != nil && !errors.Is(err, errExiting) {
			t.d.logf("ERROR", "TOPIC(%s): failed to put %d messages to channel(%s): %v", t.name, len(b.msgs), c.name, err)
		}
	}
	if !b.fromDisk {
		return
	}
	if t.d.opts().SyncEvery == 1 {
		for _, c := range chans {
			if err := c.backend.Sync(); err != nil {
				t.d.logf("ERROR", "TOPIC(%s): fsync of channel %s failed, keeping messages in the topic: %v", t.name, c.name, err)
				return
			}
		}
	}
	t.backend.Commit(b.diskEnd)
}

// Empty drops the messages waiting in the topic (not in its channels).
func (t *Topic) Empty() error {
	for len(t.memoryMsgs) > 0 {
		<-t.memoryMsgs
	}
	return t.backend.Empty()
}

// Delete removes the topic, its channels and all their messages.
func (t *Topic) Delete() error { return t.exitTopic(true) }

// Close stops the topic and keeps every message on disk for the next start.
func (t *Topic) Close() error { return t.exitTopic(false) }

func (t *Topic) exitTopic(deleted bool) error {
	t.exitMu.Lock()
	if t.exiting {
		t.exitMu.Unlock()
		return errExiting
	}
	t.exiting = true
	t.exitMu.Unlock()

	close(t.exit)
	<-t.pumpDone
	held := t.fromDisk.stop()
	var errs []error
	for _, c := range t.sortedChannels() {
		if deleted {
			errs = append(errs, c.Delete())
			t.d.channelDeleted(t, c)
		} else {
			errs = append(errs, c.Close())
		}
	}
	if deleted {
		t.channelsMu.Lock()
		t.channels = map[string]*Channel{}
		t.channelsMu.Unlock()
		return errors.Join(append(errs, t.backend.Delete())...)
	}
	if held != nil {
		errs = append(errs, writeToBackend(t.backend, held.msg, held.dueAt))
	}
	for len(t.memoryMsgs) > 0 {
		m := <-t.memoryMsgs
		errs = append(errs, writeToBackend(t.backend, m, m.deferUntil))
	}
	return errors.Join(append(errs, t.backend.Close())...)
}
