package queued

// Hooks for lookupd registration: topics and channels as they come and go.
// Ephemeral ones are registered too, as nsqd does.

func (d *Daemon) topicCreated(t *Topic)               {}
func (d *Daemon) topicDeleted(t *Topic)               {}
func (d *Daemon) channelCreated(t *Topic, c *Channel) {}
func (d *Daemon) channelDeleted(t *Topic, c *Channel) {}
