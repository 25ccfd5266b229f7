package queued

import (
	"crypto/tls"
	"sync"
)

// clientSet is every connected client, for /stats' producers.
type clientSet struct {
	mu      sync.RWMutex
	clients map[int64]*client
}

func (d *Daemon) addClient(c *client) {
	d.clients.mu.Lock()
	if d.clients.clients == nil {
		d.clients.clients = map[int64]*client{}
	}
	d.clients.clients[c.ID] = c
	d.clients.mu.Unlock()
}

func (d *Daemon) removeClient(c *client) {
	d.clients.mu.Lock()
	delete(d.clients.clients, c.ID)
	d.clients.mu.Unlock()
}

func (d *Daemon) tlsConfig() *tls.Config { return d.tls }
