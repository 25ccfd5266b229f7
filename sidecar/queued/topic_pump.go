package queued

import (
	"errors"
	"time"
)

// PutMessage publishes one message.
func (t *Topic) PutMessage(m *Message) error {
	t.exitMu.RLock()
	defer t.exitMu.RUnlock()
	if t.exiting {
		return errExiting
	}
	if err := t.put(m); err != nil {
		return err
	}
	t.messageCount.Add(1)
	t.messageBytes.Add(uint64(len(m.Body)))
	return nil
}

// PutMessages publishes a batch (MPUB); it stops at the first failure.
func (t *Topic) PutMessages(ms []*Message) error {
	t.exitMu.RLock()
	defer t.exitMu.RUnlock()
	if t.exiting {
		return errExiting
	}
	var bytes uint64
	for i, m := range ms {
		if err := t.put(m); err != nil {
			t.messageCount.Add(uint64(i))
			t.messageBytes.Add(bytes)
			return err
		}
		bytes += uint64(len(m.Body))
	}
	t.messageCount.Add(uint64(len(ms)))
	t.messageBytes.Add(bytes)
	return nil
}

func (t *Topic) put(m *Message) error {
	if cap(t.memoryMsgs) > 0 || t.ephemeral {
		select {
		case t.memoryMsgs <- m:
			return nil
		default:
		}
	}
	return writeToBackend(t.backend, m, m.deferUntil)
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
	for {
		var mem chan *Message
		var disk chan diskMessage
		if len(chans) > 0 && !t.paused.Load() {
			mem, disk = t.memoryMsgs, t.fromDisk.out
		}
		select {
		case m := <-mem:
			t.deliver(chans, m)
		case dm := <-disk:
			t.deliverFromDisk(chans, dm)
		case <-t.channelsChanged:
			chans = t.sortedChannels()
		case <-t.pauseChanged:
		case <-t.exit:
			return
		}
	}
}

// deliverFromDisk delivers a message read from the topic's disk queue and
// whatever else is ready there (up to a batch), makes the channels' copies
// durable with one fsync each, and only then lets the topic's disk queue
// forget them: a crash in between delivers them again rather than never.
func (t *Topic) deliverFromDisk(chans []*Channel, dm diskMessage) {
	const batch = 256
	for n := 1; ; n++ {
		dm.msg.deferUntil = dm.dueAt
		t.deliver(chans, dm.msg)
		if n == batch {
			break
		}
		next, ok := t.tryReceive()
		if !ok {
			break
		}
		dm = next
	}
	if t.d.opts().SyncEvery == 1 {
		for _, c := range chans {
			if err := c.backend.Sync(); err != nil {
				t.d.logf("ERROR", "TOPIC(%s): fsync of channel %s failed, keeping messages in the topic: %v", t.name, c.name, err)
				return
			}
		}
	}
	t.backend.Commit(dm.end)
}

func (t *Topic) tryReceive() (diskMessage, bool) {
	select {
	case dm := <-t.fromDisk.out:
		return dm, true
	default:
		return diskMessage{}, false
	}
}

// deliver copies m to every channel: deferred ones wait in the channel
// (on its disk, with their due time, when --mem-queue-size is 0, so that a
// crash keeps them).
func (t *Topic) deliver(chans []*Channel, m *Message) {
	now := time.Now().UnixNano()
	deferred := m.deferUntil > now
	for i, c := range chans {
		cm := m
		if i > 0 { // each channel owns its copy's bookkeeping; the body is shared
			cm = &Message{ID: m.ID, Body: m.Body, Timestamp: m.Timestamp}
		}
		var err error
		switch {
		case deferred && (cap(c.memoryMsgs) > 0 || c.ephemeral):
			c.PutMessageDeferred(cm, time.Duration(m.deferUntil-now))
		case deferred:
			err = c.putFromTopic(cm, m.deferUntil)
		default:
			err = c.putFromTopic(cm, 0)
		}
		if err != nil && !errors.Is(err, errExiting) {
			t.d.logf("ERROR", "TOPIC(%s): failed to put msg(%s) to channel(%s): %v", t.name, m.ID, c.name, err)
		}
	}
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
