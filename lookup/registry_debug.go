package lookup

import "time"

// debugProducer is one producer of one registration in /debug, with
// nsqlookupd's keys (it marshals a map, so they come out sorted).
type debugProducer struct {
	BroadcastAddress string `json:"broadcast_address"`
	Hostname         string `json:"hostname"`
	HTTPPort         int    `json:"http_port"`
	ID               string `json:"id"`
	LastUpdate       int64  `json:"last_update"`
	TCPPort          int    `json:"tcp_port"`
	Tombstoned       bool   `json:"tombstoned"`
	TombstonedAt     int64  `json:"tombstoned_at"`
	Version          string `json:"version"`
}

// zeroTimeNanos is what nsqlookupd reports as tombstoned_at for a producer
// never tombstoned: the zero time.Time's UnixNano.
var zeroTimeNanos = time.Time{}.UnixNano()

func newDebugProducer(p *producer) debugProducer {
	at := zeroTimeNanos
	if p.tombstonedAt != 0 {
		at = p.tombstonedAt
	}
	i := p.peer.info
	return debugProducer{BroadcastAddress: i.BroadcastAddress, Hostname: i.Hostname,
		HTTPPort: i.HTTPPort, ID: p.peer.id, LastUpdate: p.peer.lastUpdate.Load(),
		TCPPort: i.TCPPort, Tombstoned: p.tombstonedAt != 0, TombstonedAt: at, Version: i.Version}
}

// debug dumps every registration that has producers, keyed as nsqlookupd
// keys them: "category:key:subkey" ("client::", "topic:t:", "channel:t:c").
func (r *registry) debug() map[string][]debugProducer {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := map[string][]debugProducer{}
	for _, p := range r.clients {
		out["client::"] = append(out["client::"], newDebugProducer(&producer{peer: p}))
	}
	for topic, e := range r.topics {
		for _, p := range e.producers {
			out["topic:"+topic+":"] = append(out["topic:"+topic+":"], newDebugProducer(p))
		}
		for name, ps := range e.channels {
			key := "channel:" + topic + ":" + name
			for _, p := range *ps {
				out[key] = append(out[key], newDebugProducer(p))
			}
		}
	}
	return out
}

// counts are the figures /metrics reports.
type counts struct {
	producers, topics, channels, registrations int
}

func (r *registry) counts() counts {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c := counts{producers: len(r.clients)}
	for _, e := range r.topics {
		if e.registered {
			c.topics++
			c.registrations += len(e.producers)
		}
		c.channels += len(e.channels)
		for _, ps := range e.channels {
			c.registrations += len(*ps)
		}
	}
	return c
}
