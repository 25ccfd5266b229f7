package lookup

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// The HTTP API's reads. Answers are sorted (nsqlookupd's come in map
// order), so they are stable for people and tests alike.

func nodeAddr(p *peer) string {
	return p.info.BroadcastAddress + ":" + strconv.Itoa(p.info.HTTPPort)
}

// topicNames lists registered topics.
func (r *registry) topicNames() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.topics))
	for name, e := range r.topics {
		if e.registered {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// channelNames lists the topic's registered channels ([] if none).
func (r *registry) channelNames(topic string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if e := r.topics[topic]; e != nil {
		return slices.Clone(e.chanNames)
	}
	return []string{}
}

// appendLookup appends /lookup's answer for topic to buf, written by hand
// from pre-marshalled peers because it is the hot path: every consumer
// polls it. Producers inactive or tombstoned at now are left out. found is
// false when the topic is not registered.
func (r *registry) appendLookup(buf []byte, topic string, now int64, inactive, tombstone time.Duration) (_ []byte, found bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e := r.topics[topic]
	if e == nil || !e.registered {
		return buf, false
	}
	buf = append(buf, `{"channels":`...)
	buf = appendStrings(buf, e.chanNames)
	buf = append(buf, `,"producers":[`...)
	first := true
	for _, p := range e.producers {
		if !p.peer.active(now, inactive) || p.tombstoned(now, tombstone) {
			continue
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, p.peer.json...)
	}
	return append(buf, "]}"...), true
}

// appendStrings appends names as a JSON array. Names are checked
// ([.a-zA-Z0-9_#-]) before they are registered, so they need no escaping;
// anything else goes through the encoder all the same.
func appendStrings(buf []byte, names []string) []byte {
	buf = append(buf, '[')
	for i, s := range names {
		if i > 0 {
			buf = append(buf, ',')
		}
		if plainName(s) {
			buf = append(append(append(buf, '"'), s...), '"')
			continue
		}
		b, _ := json.Marshal(s)
		buf = append(buf, b...)
	}
	return append(buf, ']')
}

func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			return false
		}
	}
	return true
}

// node is one producer as /nodes lists it: tombstones[i] tells whether
// the node is tombstoned for topics[i].
type node struct {
	nodeInfo
	Tombstones []bool   `json:"tombstones"`
	Topics     []string `json:"topics"`
}

// nodes lists the active peers (tombstoned ones included, with their
// tombstones) and the topics each produces.
func (r *registry) nodes(now int64, inactive, tombstone time.Duration) []*node {
	r.mu.RLock()
	defer r.mu.RUnlock()
	byID := map[string]*node{}
	out := []*node{}
	for _, p := range r.clients {
		if p.active(now, inactive) {
			n := &node{nodeInfo: p.info, Tombstones: []bool{}, Topics: []string{}}
			byID[p.id] = n
			out = append(out, n)
		}
	}
	for name, e := range r.topics {
		for _, p := range e.producers {
			if n := byID[p.peer.id]; n != nil {
				n.Topics = append(n.Topics, name)
				n.Tombstones = append(n.Tombstones, p.tombstoned(now, tombstone))
			}
		}
	}
	slices.SortFunc(out, func(a, b *node) int { return cmp.Compare(a.RemoteAddress, b.RemoteAddress) })
	for _, n := range out {
		sortTopics(n)
	}
	return out
}

// sortTopics sorts a node's topics, keeping each tombstone with its topic.
func sortTopics(n *node) {
	idx := make([]int, len(n.Topics))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(n.Topics[a], n.Topics[b]) })
	topics, tombs := make([]string, len(idx)), make([]bool, len(idx))
	for i, j := range idx {
		topics[i], tombs[i] = n.Topics[j], n.Tombstones[j]
	}
	n.Topics, n.Tombstones = topics, tombs
}
