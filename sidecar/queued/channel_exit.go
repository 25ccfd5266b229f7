package queued

import "errors"

// Empty drops every message of the channel: queued, in flight and deferred.
func (c *Channel) Empty() error {
	return c.empty(func() {
		c.emptied.Add(1)
		c.initQueues()
		c.ledger.reset()
		c.clientsMu.RLock()
		for _, cl := range c.clients {
			cl.empty()
		}
		c.clientsMu.RUnlock()
	})
}

// Delete closes the channel's clients and removes its messages for good.
func (c *Channel) Delete() error { return c.exit(true) }

// Close closes the channel's clients and keeps every message it holds,
// in flight and deferred ones included, on disk for the next start.
func (c *Channel) Close() error { return c.exit(false) }

func (c *Channel) exit(deleted bool) error {
	if err := c.startExit(); err != nil {
		return err
	}
	c.d.healthState.report(c, nil)

	c.clientsMu.RLock()
	for _, cl := range c.clients {
		cl.close()
	}
	c.clientsMu.RUnlock()
	held := c.fromDisk.stop()
	if deleted {
		return c.backend.Delete()
	}
	return errors.Join(c.flush(held), c.backend.Close())
}

// flush writes what lives only in memory to disk: the message the disk
// reader held, the memory queue, in-flight messages (to be delivered again)
// and deferred ones (with their due times), with writeBack. Each
// message written again is done with in its old place (the ledger); one
// that could not be written, or that a requeue racing this exit let go
// of, is not, so its old place is kept and a restart delivers it again.
func (c *Channel) flush(held *diskMessage) error {
	var errs []error
	keep := func(m *Message, dueAt int64) {
		if err := c.writeBack(m, dueAt); err != nil {
			errs = append(errs, err)
			return
		}
		c.resolve(m)
	}
	if held != nil {
		keep(held.msg, held.dueAt)
	}
	c.mem.drain(func(m *Message) { keep(m, 0) })
	c.inFlightMu.Lock()
	for _, m := range c.inFlight {
		keep(m, 0)
	}
	c.inFlightMu.Unlock()
	c.deferredMu.Lock()
	for _, m := range c.deferred {
		keep(m, m.pri)
	}
	c.deferredMu.Unlock()
	return errors.Join(errs...)
}
