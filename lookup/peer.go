package lookup

import (
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/sidequeue/sidequeue/internal/lookupwire"
)

// nodeInfo is a registered daemon as nsqlookupd lists it in /lookup, in
// the same key order.
type nodeInfo struct {
	RemoteAddress    string `json:"remote_address"`
	Hostname         string `json:"hostname"`
	BroadcastAddress string `json:"broadcast_address"`
	TCPPort          int    `json:"tcp_port"`
	HTTPPort         int    `json:"http_port"`
	Version          string `json:"version"`
}

// peer is one IDENTIFYed TCP connection: a queue daemon. Its id is the
// connection's remote address, as in nsqlookupd, so a daemon that
// reconnects is a new peer.
type peer struct {
	id   string
	info nodeInfo
	// json is info marshalled once, at IDENTIFY: /lookup, the hot path,
	// copies it instead of marshalling per request.
	json       []byte
	lastUpdate atomic.Int64 // Unix nanoseconds of IDENTIFY or the last PING
}

func newPeer(remote string, id lookupwire.PeerInfo, now time.Time) *peer {
	p := &peer{id: remote, info: nodeInfo{
		RemoteAddress:    remote,
		Hostname:         id.Hostname,
		BroadcastAddress: id.BroadcastAddress,
		TCPPort:          id.TCPPort,
		HTTPPort:         id.HTTPPort,
		Version:          id.Version,
	}}
	p.json, _ = json.Marshal(p.info) // cannot fail: strings and ints
	p.lastUpdate.Store(now.UnixNano())
	return p
}

// active reports whether p has pinged within timeout of now.
func (p *peer) active(now int64, timeout time.Duration) bool {
	return now-p.lastUpdate.Load() <= int64(timeout)
}

// producer is a peer's registration of one topic or channel. Tombstones
// belong to a topic's producer, not to the peer, as in nsqlookupd: a node
// tombstoned for one topic still serves the others.
type producer struct {
	peer         *peer
	tombstonedAt int64 // Unix nanoseconds; 0: not tombstoned
}

func (p *producer) tombstoned(now int64, lifetime time.Duration) bool {
	return p.tombstonedAt != 0 && now-p.tombstonedAt < int64(lifetime)
}

// producers is a registration's producers, sorted by peer id so that
// answers are stable. Registrations hold a handful of producers, so a
// sorted slice beats a map for both lookup and iteration.
type producers []*producer

func (ps producers) find(id string) int {
	for i, p := range ps {
		if p.peer.id == id {
			return i
		}
	}
	return -1
}

// add inserts a producer for pe unless one is there; it reports whether it
// added one.
func (ps *producers) add(pe *peer) bool {
	if ps.find(pe.id) >= 0 {
		return false
	}
	i := 0
	for i < len(*ps) && (*ps)[i].peer.id < pe.id {
		i++
	}
	*ps = append(*ps, nil)
	copy((*ps)[i+1:], (*ps)[i:])
	(*ps)[i] = &producer{peer: pe}
	return true
}

// remove drops pe's producer; it reports whether there was one.
func (ps *producers) remove(id string) bool {
	i := ps.find(id)
	if i < 0 {
		return false
	}
	*ps = append((*ps)[:i], (*ps)[i+1:]...)
	return true
}
