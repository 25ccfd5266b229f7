package queued

import (
	"math/rand/v2"
	"time"
)

// startDelivery puts m, just received from the memory queue or the disk
// reader, in flight to a client; false if it is not to be sent: sampled
// out, or a second copy of one in flight. Either way m is counted where it
// went before its queue stops counting it (memqueue.go).
func (c *Channel) startDelivery(m *Message, fromDisk bool, clientID int64, timeout time.Duration, sampleRate int32) bool {
	defer c.taken(fromDisk)
	if sampleRate > 0 && rand.Int32N(100) > sampleRate {
		c.resolve(m) // sampled out is done with, as in nsqd: it must not pin the channel's position
		return false
	}
	// Counted before the message is in flight, where an exiting channel
	// may write it to disk at any moment.
	m.Attempts++
	if err := c.StartInFlight(m, clientID, timeout); err != nil {
		// The same message twice: a crash made the topic deliver it
		// again. One copy in flight is enough.
		c.resolve(m)
		return false
	}
	return true
}

func (c *Channel) taken(fromDisk bool) {
	if fromDisk {
		c.fromDisk.taken()
	} else {
		c.mem.taken()
	}
}

// StartInFlight records m as delivered to a client, due back by timeout.
func (c *Channel) StartInFlight(m *Message, clientID int64, timeout time.Duration) error {
	now := time.Now()
	m.clientID = clientID
	m.deliveredAt = now.UnixNano()
	m.pri = now.Add(timeout).UnixNano()
	c.inFlightMu.Lock()
	defer c.inFlightMu.Unlock()
	if _, ok := c.inFlight[m.ID]; ok {
		return errAlreadyExist
	}
	c.inFlight[m.ID] = m
	c.inFlightPQ.push(m)
	return nil
}

// takeInFlight removes a client's in-flight message.
func (c *Channel) takeInFlight(clientID int64, id MessageID) (*Message, error) {
	c.inFlightMu.Lock()
	defer c.inFlightMu.Unlock()
	m, ok := c.inFlight[id]
	if !ok {
		return nil, errNotInFlight
	}
	if m.clientID != clientID {
		return nil, errNotYourMsg
	}
	c.moving.Add(1) // until the caller puts it elsewhere
	delete(c.inFlight, id)
	if m.index >= 0 {
		c.inFlightPQ.remove(m.index)
	}
	return m, nil
}

// FinishMessage marks a message processed (FIN).
func (c *Channel) FinishMessage(clientID int64, id MessageID) error {
	m, err := c.takeInFlight(clientID, id)
	if err != nil {
		return err
	}
	if c.latency != nil {
		c.latency.insert(m.Timestamp)
	}
	c.resolve(m)
	c.moving.Add(-1)
	return nil
}

// RequeueMessage puts an in-flight message back (REQ), now or after delay.
// It holds exitMu throughout, so that an exit never finds the message in
// none of the queues it writes to disk: the requeue is done before the exit
// begins, or the message stays in flight and the exit writes it.
func (c *Channel) RequeueMessage(clientID int64, id MessageID, delay time.Duration) error {
	c.exitMu.RLock()
	defer c.exitMu.RUnlock()
	if c.exiting {
		return errExiting
	}
	m, err := c.takeInFlight(clientID, id)
	if err != nil {
		return err
	}
	defer c.moving.Add(-1)
	c.requeueCount.Add(1)
	if delay == 0 {
		c.requeueLocked(m)
		return nil
	}
	c.startDeferred(m, time.Now().Add(delay).UnixNano())
	return nil
}

// TouchMessage resets an in-flight message's timeout, never beyond
// --max-msg-timeout after its delivery.
func (c *Channel) TouchMessage(clientID int64, id MessageID, timeout time.Duration) error {
	c.inFlightMu.Lock()
	defer c.inFlightMu.Unlock()
	m, ok := c.inFlight[id]
	if !ok {
		return errNotInFlight
	}
	if m.clientID != clientID {
		return errNotYourMsg
	}
	deadline := time.Now().Add(timeout).UnixNano()
	m.pri = min(deadline, m.deliveredAt+int64(c.d.opts().MaxMsgTimeout))
	c.inFlightPQ.fix(m)
	return nil
}

// requeueRetry is how long a message that could not be queued again (the
// disk is full) waits in the deferred queue before the next try.
const requeueRetry = 250 * time.Millisecond

// requeueLocked makes m deliverable again; the caller holds exitMu and
// the channel is not exiting. If m cannot be stored, it is handed to a
// consumer waiting right now, or else kept, deferred for a moment and tried
// again: never dropped, and depth and the drain summary count it
// meanwhile. The hand-over matters: the channel's read position cannot
// pass m until it is finished, so on a full disk, finishing m may be what
// frees the space to store anything.
func (c *Channel) requeueLocked(m *Message) {
	err := c.put(m)
	c.d.healthState.report(c, err)
	if err == nil {
		return
	}
	if !c.mem.handOff(m) { // else still on disk where it was read, if it came from there
		c.startDeferred(m, time.Now().Add(requeueRetry).UnixNano())
	}
}

// requeueNext requeues the message pop takes (nil: none is due; else it
// counts m in moving), both under
// exitMu, as RequeueMessage does; false when there was none, or the
// channel is exiting (its exit writes what is in flight and deferred).
func (c *Channel) requeueNext(pop func() *Message) bool {
	c.exitMu.RLock()
	defer c.exitMu.RUnlock()
	if c.exiting {
		return false
	}
	m := pop()
	if m == nil {
		return false
	}
	c.requeueLocked(m)
	c.moving.Add(-1)
	return true
}

func (c *Channel) startDeferred(m *Message, dueAt int64) {
	m.pri = dueAt
	c.deferredMu.Lock()
	_, dup := c.deferred[m.ID]
	if !dup {
		c.deferred[m.ID] = m
		c.deferredPQ.push(m)
	}
	c.deferredMu.Unlock()
	if dup {
		c.resolve(m) // a second copy (a crash delivered it again): done, lest it pin the position
	}
}

// processInFlight requeues messages whose timeout has passed.
func (c *Channel) processInFlight(now int64) {
	for c.requeueNext(func() *Message { return c.popTimedOut(now) }) {
	}
}

// popTimedOut takes the next in-flight message whose timeout has passed,
// counting the timeout, or returns nil.
func (c *Channel) popTimedOut(now int64) *Message {
	c.inFlightMu.Lock()
	m := c.inFlightPQ.popDue(now)
	if m != nil {
		c.moving.Add(1)
		delete(c.inFlight, m.ID)
	}
	c.inFlightMu.Unlock()
	if m == nil {
		return nil
	}
	c.timeoutCount.Add(1)
	c.clientsMu.RLock()
	cl := c.clients[m.clientID]
	c.clientsMu.RUnlock()
	if cl != nil {
		cl.timedOutMessage()
	}
	return m
}

// processDeferred makes due deferred messages deliverable.
func (c *Channel) processDeferred(now int64) {
	for c.requeueNext(func() *Message {
		c.deferredMu.Lock()
		defer c.deferredMu.Unlock()
		m := c.deferredPQ.popDue(now)
		if m != nil {
			c.moving.Add(1)
			delete(c.deferred, m.ID)
		}
		return m
	}) {
	}
}

// held counts every message the channel holds: queued, in flight, deferred
// and moving between them. A message moves out of the in-flight and
// deferred sets under their locks, into moving, and from there into the
// queues (memqueue.go); holding both locks, and reading moving before the
// queues, no move is missed.
func (c *Channel) held() int64 {
	c.inFlightMu.Lock()
	defer c.inFlightMu.Unlock()
	c.deferredMu.Lock()
	defer c.deferredMu.Unlock()
	moving := c.moving.Load()
	return moving + c.Depth() + int64(len(c.inFlight)+len(c.deferred))
}

func (c *Channel) inFlightCount() int {
	c.inFlightMu.Lock()
	defer c.inFlightMu.Unlock()
	return len(c.inFlight)
}

func (c *Channel) deferredCount() int {
	c.deferredMu.Lock()
	defer c.deferredMu.Unlock()
	return len(c.deferred)
}
