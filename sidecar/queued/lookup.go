package queued

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
	"github.com/sidequeue/sidequeue/sidecar/registrar"
)

// lookupPeers registers the daemon's topics and channels with every
// --lookupd-tcp-address (every address behind each name, re-resolved every
// --lookupd-resolve-interval), and asks them which channels a new topic
// should have.
type lookupPeers struct {
	d         *Daemon
	registrar *registrar.Registrar
}

// newLookupPeers prepares the registrations; Main starts them. It is
// called in New so that topics created before Main are registered
// without a race.
func newLookupPeers(d *Daemon) *lookupPeers {
	l := &lookupPeers{d: d}
	o := d.opts()
	// Made even without addresses: PUT /config/nsqlookupd_tcp_addresses
	// may give some later.
	tcpPort, httpPort := o.BroadcastTCPPort, o.BroadcastHTTPPort
	if tcpPort == 0 {
		tcpPort = d.TCPAddr().Port
	}
	if httpPort == 0 {
		httpPort = d.HTTPAddr().Port
	}
	l.registrar = registrar.New(registrar.Options{
		Addresses:       o.LookupdTCPAddresses,
		ResolveInterval: o.LookupResolveInterval,
		Resolver:        o.LookupResolver,
		Identity: registrar.Identity{BroadcastAddress: o.BroadcastAddress,
			TCPPort: tcpPort, HTTPPort: httpPort, Version: Version},
		Logf: func(format string, args ...any) { d.log.Logf("INFO", "LOOKUP: "+format, args...) },
	}, l.registrations)
	return l
}

// registrations is what a (re)connected lookupd is told: each channel, and
// each topic without channels.
func (l *lookupPeers) registrations() []registrar.Registration {
	var regs []registrar.Registration
	l.d.topicsMu.RLock()
	defer l.d.topicsMu.RUnlock()
	for _, t := range l.d.topics {
		chans := t.sortedChannels()
		if len(chans) == 0 {
			regs = append(regs, registrar.Registration{Topic: t.name})
		}
		for _, c := range chans {
			regs = append(regs, registrar.Registration{Topic: t.name, Channel: c.name})
		}
	}
	return regs
}

func (l *lookupPeers) register(topic, channel string) {
	l.registrar.Register(registrar.Registration{Topic: topic, Channel: channel})
}

func (l *lookupPeers) unregister(topic, channel string) {
	l.registrar.Unregister(registrar.Registration{Topic: topic, Channel: channel})
}

func (l *lookupPeers) topicCreated(t *Topic)               { l.register(t.name, "") }
func (l *lookupPeers) topicDeleted(t *Topic)               { l.unregister(t.name, "") }
func (l *lookupPeers) channelCreated(t *Topic, c *Channel) { l.register(t.name, c.name) }
func (l *lookupPeers) channelDeleted(t *Topic, c *Channel) { l.unregister(t.name, c.name) }

var lookupHTTP = &http.Client{Timeout: 2 * time.Second}

// precreateChannels creates, on a new topic, the channels lookupd knows for
// it, before the topic delivers anything: as nsqd does, so consumers
// registered elsewhere miss nothing published here.
func (l *lookupPeers) precreateChannels(t *Topic) {
	if len(l.d.opts().LookupdTCPAddresses) == 0 {
		return
	}
	addrs := l.registrar.LookupdHTTPAddrs()
	if len(addrs) == 0 {
		l.d.log.Logf("WARN", "no available nsqlookupd to query for channels to pre-create for new topic %s", t.name)
		return
	}
	for _, addr := range addrs {
		var resp struct {
			Channels []string `json:"channels"`
		}
		r, err := lookupHTTP.Get("http://" + addr + "/channels?topic=" + url.QueryEscape(t.name))
		if err != nil {
			l.d.log.Logf("WARN", "LOOKUP: %s: %v", addr, err)
			continue
		}
		err = json.NewDecoder(r.Body).Decode(&resp)
		r.Body.Close()
		if err != nil {
			continue
		}
		for _, name := range resp.Channels {
			if protocol.ValidName(name) && !protocol.Ephemeral(name) {
				t.GetChannel(name)
			}
		}
	}
}
