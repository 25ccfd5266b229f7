package queued

import "errors"

// A publish normally waits in the topic's queue until its pump copies it
// to every channel: a hand-off between goroutines per message and, with
// --mem-queue-size=0, a write and a read of the topic's disk queue before
// the channels' own. When the topic holds nothing, that wait orders
// nothing, so the publisher gives each channel its copy itself, as the
// pump would (putBatchFromTopic), and the topic's queue is skipped.
//
// Only when nothing can refuse: a topic that is paused, holds messages,
// has no channel, or a channel without room (its memory queue full and its
// disk budget spent), or a daemon with a failing write anywhere, takes the
// queued path, whose pump retries a channel until it stores. A write that
// fails anyway (the disk itself) answers the publish with the error, and
// a channel written before it keeps its copy: a retried publish may then
// reach that channel twice, which at-least-once delivery allows.

// putDirect gives every channel its copy of ms, of size bytes on disk;
// false if the topic must queue them instead.
func (t *Topic) putDirect(ms []*Message, size int64) (bool, error) {
	if t.ephemeral || !t.started.Load() || t.paused.Load() || t.d.healthState.failingAny.Load() {
		return false, nil
	}
	t.exitMu.RLock()
	defer t.exitMu.RUnlock()
	if t.exiting || t.Depth() != 0 {
		return false, nil
	}
	t.channelsMu.RLock()
	defer t.channelsMu.RUnlock()
	if len(t.channels) == 0 || !t.channelsHaveRoom(len(ms), size) {
		return false, nil
	}
	copyMsgs := false
	for _, c := range t.channels {
		_, err := c.putBatchFromTopic(ms, copyMsgs)
		copyMsgs = true
		if errors.Is(err, errExiting) {
			continue // being deleted: its copy goes with it
		}
		t.d.healthState.report(c, err)
		if err != nil {
			return true, err
		}
	}
	if err := t.syncChannels(); err != nil {
		return true, err
	}
	t.countPublished(ms)
	return true, nil
}

// channelsHaveRoom reports whether every channel would now store n
// messages of size bytes on disk without refusing; channelsMu is held.
func (t *Topic) channelsHaveRoom(n int, size int64) bool {
	for _, c := range t.channels {
		if c.mem.allowed() && cap(c.mem.ch)-len(c.mem.ch) >= n {
			continue
		}
		if !c.backend.HasRoom(size) {
			return false
		}
	}
	return true
}

// syncChannels makes every channel's copy durable before the publish is
// answered, under --sync-every=1, as the pump does before the topic lets
// go of a message (a channel with nothing new to sync returns at once);
// channelsMu is held.
func (t *Topic) syncChannels() error {
	if t.d.opts().SyncEvery != 1 {
		return nil
	}
	for _, c := range t.channels {
		if err := c.backend.Sync(); err != nil {
			t.d.healthState.report(c, err)
			return err
		}
	}
	return nil
}
