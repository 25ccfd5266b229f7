package lookup

import "time"

// The HTTP API's writes: registrations made and removed by operators and
// tools (nsqadmin), not by producers.

// createTopic adds the topic's registration, with no producer.
func (r *registry) createTopic(topic string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entry(topic).registered = true
}

// createChannel adds the channel's registration and its topic's.
func (r *registry) createChannel(topic, channel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entry(topic)
	e.addChannel(channel)
	e.registered = true
}

// deleteTopic forgets the topic and its channels, producers and all.
func (r *registry) deleteTopic(topic string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.topics, topic)
}

// deleteChannel forgets the channel; false if it is not registered.
func (r *registry) deleteChannel(topic, channel string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.topics[topic]
	if e == nil || e.channels[channel] == nil {
		return false
	}
	e.dropChannel(channel)
	r.prune(topic)
	return true
}

// tombstone marks the topic's producers whose broadcast address and HTTP
// port are node ("host:port"), so /lookup leaves them out for the
// tombstone lifetime while they finish unregistering.
func (r *registry) tombstone(topic, node string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.topics[topic]
	if e == nil {
		return
	}
	for _, p := range e.producers {
		if nodeAddr(p.peer) == node {
			p.tombstonedAt = now.UnixNano()
		}
	}
}
