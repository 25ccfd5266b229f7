package lookup

import (
	"slices"
	"sync"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// registry is the registration database: which peers produce which topics
// and channels. It keeps nsqlookupd's rules — a registration can exist with
// no producer (created over HTTP, or left by an UNREGISTER), channels can
// outlive their topic's registration — but indexes everything by topic, so
// that a /lookup touches one entry instead of scanning every registration.
type registry struct {
	mu      sync.RWMutex
	clients map[string]*peer // IDENTIFYed connections by id
	topics  map[string]*topicEntry
}

// topicEntry is a topic's registration and its channels' registrations.
type topicEntry struct {
	registered bool // the topic's own registration exists
	producers  producers
	channels   map[string]*producers
	chanNames  []string // channels' keys, sorted: answers need them sorted
}

func newRegistry() *registry {
	return &registry{clients: map[string]*peer{}, topics: map[string]*topicEntry{}}
}

// entry returns the topic's entry, creating an empty one. Callers hold mu.
func (r *registry) entry(topic string) *topicEntry {
	e := r.topics[topic]
	if e == nil {
		e = &topicEntry{channels: map[string]*producers{}}
		r.topics[topic] = e
	}
	return e
}

// prune forgets an entry that holds no registration at all.
func (r *registry) prune(topic string) {
	if e := r.topics[topic]; e != nil && !e.registered && len(e.channels) == 0 {
		delete(r.topics, topic)
	}
}

func (e *topicEntry) addChannel(name string) *producers {
	ps := e.channels[name]
	if ps == nil {
		ps = &producers{}
		e.channels[name] = ps
		i, _ := slices.BinarySearch(e.chanNames, name)
		e.chanNames = slices.Insert(e.chanNames, i, name)
	}
	return ps
}

func (e *topicEntry) dropChannel(name string) {
	delete(e.channels, name)
	if i, ok := slices.BinarySearch(e.chanNames, name); ok {
		e.chanNames = slices.Delete(e.chanNames, i, i+1)
	}
}

func (r *registry) identify(p *peer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clients[p.id] = p
}

// register records REGISTER topic [channel]: the channel, and always the
// topic too, as nsqlookupd does.
func (r *registry) register(p *peer, topic, channel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entry(topic)
	if channel != "" {
		e.addChannel(channel).add(p)
	}
	e.registered = true
	e.producers.add(p)
}

// unregister records UNREGISTER topic [channel]. A topic-level UNREGISTER
// also drops the peer from the topic's channels. An ephemeral topic or
// channel left without producers is forgotten.
func (r *registry) unregister(p *peer, topic, channel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.topics[topic]
	if e == nil {
		return
	}
	if channel != "" {
		if ps := e.channels[channel]; ps != nil {
			ps.remove(p.id)
			if len(*ps) == 0 && protocol.Ephemeral(channel) {
				e.dropChannel(channel)
			}
		}
	} else {
		for _, ps := range e.channels {
			ps.remove(p.id)
		}
		e.producers.remove(p.id)
		if len(e.producers) == 0 && protocol.Ephemeral(topic) {
			e.registered = false
		}
	}
	r.prune(topic)
}

// removePeer drops every registration of a peer whose connection ended.
// Unlike nsqlookupd, it also forgets the ephemeral topics and channels the
// peer was the last producer of: nobody can still hold them, and
// nsqlookupd would list them forever when a daemon dies without UNREGISTER.
func (r *registry) removePeer(p *peer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.clients, p.id)
	for topic, e := range r.topics {
		for name, ps := range e.channels {
			if ps.remove(p.id) && len(*ps) == 0 && protocol.Ephemeral(name) {
				e.dropChannel(name)
			}
		}
		if e.producers.remove(p.id) && len(e.producers) == 0 && protocol.Ephemeral(topic) {
			e.registered = false
		}
		r.prune(topic)
	}
}
