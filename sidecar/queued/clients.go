package queued

import "sync"

// clientSet is every connected client, for /stats' producers.
type clientSet struct {
	mu      sync.RWMutex
	clients map[int64]*client
}

func (s *clientSet) add(c *client) {
	s.mu.Lock()
	if s.clients == nil {
		s.clients = map[int64]*client{}
	}
	s.clients[c.ID] = c
	s.mu.Unlock()
}

func (s *clientSet) remove(c *client) {
	s.mu.Lock()
	delete(s.clients, c.ID)
	s.mu.Unlock()
}

func (s *clientSet) count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.clients)
}

// producerStats lists the clients that have published, in connection order.
func (s *clientSet) producerStats(topicFilter string) []clientStats {
	s.mu.RLock()
	cls := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		cls = append(cls, c)
	}
	s.mu.RUnlock()
	out := clientStatsOf(cls, topicFilter, true)
	if len(out) == 0 {
		return nil // nsqd: "producers":null when there are none
	}
	return out
}
