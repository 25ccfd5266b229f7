package queued

import "errors"

// Empty drops the messages waiting in the topic (not in its channels),
// excluding publishes as Channel.Empty excludes puts.
func (t *Topic) Empty() error { return t.empty(nil) }

// Delete removes the topic, its channels and all their messages.
func (t *Topic) Delete() error { return t.exitTopic(true) }

// Close stops the topic and keeps every message on disk for the next start.
func (t *Topic) Close() error { return t.exitTopic(false) }

func (t *Topic) exitTopic(deleted bool) error {
	if err := t.startExit(); err != nil {
		return err
	}
	t.d.healthState.report(t, nil)

	close(t.exit)
	<-t.pumpDone
	// The message the disk reader held is still on disk, uncommitted: the
	// next start reads it again.
	t.fromDisk.stop()
	var errs []error
	for _, c := range t.sortedChannels() {
		if deleted {
			errs = append(errs, c.Delete())
			t.d.lookup.channelDeleted(t, c)
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
	for _, m := range t.unsent {
		errs = append(errs, t.writeBack(m, m.deferUntil))
	}
	t.mem.drain(func(m *Message) { errs = append(errs, t.writeBack(m, m.deferUntil)) })
	return errors.Join(append(errs, t.backend.Close())...)
}
