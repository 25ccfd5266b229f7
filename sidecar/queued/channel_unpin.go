package queued

import (
	"cmp"
	"slices"
	"time"
)

// A message read from a channel's disk queue holds the queue's saved read
// position until it is done (ledger.go). For a message deferred far ahead
// (a DPUB or a REQ of an hour) that would keep every segment after it on
// disk, and make a crash deliver again every message finished after it.
// So once enough messages behind such a message are done, the channel
// writes its long-deferred messages to the tail of its disk queue again,
// with their due times, and lets go of them in memory: their old places
// are done with, the position moves on, and the disk reader brings them
// back as deferred messages when it reaches them. A crash in between
// finds them at the tail, still deferred. So a crash delivers again at
// most unpinAfterDone-1 messages finished after a long-deferred one, and
// the 63 the ledger may not have committed before it.
const (
	// unpinDueBeyond is how far ahead a message must be due to be
	// written again: one due sooner is let go of soon anyway.
	unpinDueBeyond = 30 * time.Second
	// unpinAfterDone is how many messages must be done behind it first;
	// at least twice the deferred ones too, so that writing them again
	// costs at most half a write per message done.
	unpinAfterDone = 256
)

// unpinLongDeferred writes the long-deferred messages to the tail of the
// disk queue when one of them holds the position back and enough is done
// behind it. The queue scan calls it.
func (c *Channel) unpinLongDeferred(now int64) {
	oldest, done := c.ledger.oldest()
	if oldest == nil || done < max(unpinAfterDone, 2*uint64(c.deferredCount())) {
		return
	}
	c.exitMu.RLock()
	defer c.exitMu.RUnlock()
	if c.exiting { // the exit writes the deferred messages itself
		return
	}
	msgs := c.takeLongDeferred(oldest, now+int64(unpinDueBeyond))
	if len(msgs) == 0 {
		return
	}
	defer c.moving.Add(-int64(len(msgs)))
	n, err := putBatch(c.backend.AppendBatch, msgs, func(m *Message) int64 { return m.pri })
	for _, m := range msgs[:n] {
		c.resolve(m)
	}
	for _, m := range msgs[n:] { // still where they were read: they keep holding it
		c.startDeferred(m, m.pri)
	}
	if err != nil {
		c.d.log.Logf("WARN", "%s: writing %d long-deferred messages to the tail, kept where they are: %v", c, len(msgs)-n, err)
	}
}

// takeLongDeferred takes every deferred message read from disk and due
// after dueAfter, in due order, counting them in moving; none unless
// oldest is one of them.
func (c *Channel) takeLongDeferred(oldest *Message, dueAfter int64) []*Message {
	c.deferredMu.Lock()
	defer c.deferredMu.Unlock()
	if c.deferred[oldest.ID] != oldest || oldest.pri <= dueAfter {
		return nil
	}
	var msgs []*Message
	for id, m := range c.deferred {
		if m.diskSeq != 0 && m.pri > dueAfter {
			msgs = append(msgs, m)
			delete(c.deferred, id)
			c.deferredPQ.remove(m.index)
		}
	}
	c.moving.Add(int64(len(msgs)))
	slices.SortFunc(msgs, func(a, b *Message) int { return cmp.Compare(a.pri, b.pri) })
	return msgs
}
