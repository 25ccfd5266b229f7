package queued

import "time"

// queueScanLoop requeues timed-out in-flight messages, releases due
// deferred ones and unpins long-deferred ones (channel_unpin.go), for every
// channel, every --queue-scan-interval. Each pass
// drains everything due, so one pass per tick is enough.
func (d *Daemon) queueScanLoop() {
	ticker := time.NewTicker(d.opts().QueueScanInterval)
	defer ticker.Stop()
	for {
		select {
		case <-d.shell.Done():
			return
		case <-ticker.C:
		}
		now := time.Now().UnixNano()
		for _, c := range d.allChannels() {
			c.processInFlight(now)
			c.processDeferred(now)
			c.unpinLongDeferred(now)
		}
	}
}

func (d *Daemon) allChannels() []*Channel {
	d.topicsMu.RLock()
	defer d.topicsMu.RUnlock()
	var out []*Channel
	for _, t := range d.topics {
		t.channelsMu.RLock()
		for _, c := range t.channels {
			out = append(out, c)
		}
		t.channelsMu.RUnlock()
	}
	return out
}
