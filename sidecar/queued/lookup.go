package queued

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
	"github.com/sidequeue/sidequeue/sidecar/registrar"
)

// newRegistrar prepares registration with every --lookupd-tcp-address
// (every address behind each name, re-resolved every
// --lookupd-resolve-interval); Main starts it. It is made in New so that
// topics created before Main are registered without a race.
func (d *Daemon) newRegistrar() {
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
	d.registrar = registrar.New(registrar.Options{
		Addresses:       o.LookupdTCPAddresses,
		ResolveInterval: o.LookupResolveInterval,
		Resolver:        o.LookupResolver,
		Identity: registrar.Identity{BroadcastAddress: o.BroadcastAddress,
			TCPPort: tcpPort, HTTPPort: httpPort, Version: Version},
		Logf: func(format string, args ...any) { d.logf("INFO", "LOOKUP: "+format, args...) },
	}, d.registrations)
}

// registrations is what a (re)connected lookupd is told: each channel, and
// each topic without channels.
func (d *Daemon) registrations() []registrar.Registration {
	var regs []registrar.Registration
	d.topicsMu.RLock()
	defer d.topicsMu.RUnlock()
	for _, t := range d.topics {
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

func (d *Daemon) register(topic, channel string) {
	if d.registrar != nil {
		d.registrar.Register(registrar.Registration{Topic: topic, Channel: channel})
	}
}

func (d *Daemon) unregister(topic, channel string) {
	if d.registrar != nil {
		d.registrar.Unregister(registrar.Registration{Topic: topic, Channel: channel})
	}
}

func (d *Daemon) topicCreated(t *Topic)               { d.register(t.name, "") }
func (d *Daemon) topicDeleted(t *Topic)               { d.unregister(t.name, "") }
func (d *Daemon) channelCreated(t *Topic, c *Channel) { d.register(t.name, c.name) }
func (d *Daemon) channelDeleted(t *Topic, c *Channel) { d.unregister(t.name, c.name) }

var lookupHTTP = &http.Client{Timeout: 2 * time.Second}

// precreateChannels creates, on a new topic, the channels lookupd knows for
// it, before the topic delivers anything: as nsqd does, so consumers
// registered elsewhere miss nothing published here.
func (d *Daemon) precreateChannels(t *Topic) {
	if d.registrar == nil || len(d.opts().LookupdTCPAddresses) == 0 {
		return
	}
	addrs := d.registrar.LookupdHTTPAddrs()
	if len(addrs) == 0 {
		d.logf("WARN", "no available nsqlookupd to query for channels to pre-create for new topic %s", t.name)
		return
	}
	for _, addr := range addrs {
		var resp struct {
			Channels []string `json:"channels"`
		}
		r, err := lookupHTTP.Get("http://" + addr + "/channels?topic=" + url.QueryEscape(t.name))
		if err != nil {
			d.logf("WARN", "LOOKUP: %s: %v", addr, err)
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
