package queued

import (
	"crypto/tls"
	"fmt"
	"sort"
	"sync/atomic"

	"github.com/sidequeue/sidequeue/sidecar/diskqueue"
)

// The shapes of nsqd's /stats, field for field: nsqadmin and
// clusterinfo decode them.

type topicStats struct {
	TopicName            string         `json:"topic_name"`
	Channels             []channelStats `json:"channels"`
	Depth                int64          `json:"depth"`
	BackendDepth         int64          `json:"backend_depth"`
	MessageCount         uint64         `json:"message_count"`
	MessageBytes         uint64         `json:"message_bytes"`
	Paused               bool           `json:"paused"`
	E2eProcessingLatency *latencyResult `json:"e2e_processing_latency"`

	disk diskqueue.Stats // for /metrics
}

type channelStats struct {
	ChannelName          string         `json:"channel_name"`
	Depth                int64          `json:"depth"`
	BackendDepth         int64          `json:"backend_depth"`
	InFlightCount        int            `json:"in_flight_count"`
	DeferredCount        int            `json:"deferred_count"`
	MessageCount         uint64         `json:"message_count"`
	RequeueCount         uint64         `json:"requeue_count"`
	TimeoutCount         uint64         `json:"timeout_count"`
	ClientCount          int            `json:"client_count"`
	Clients              []clientStats  `json:"clients"`
	Paused               bool           `json:"paused"`
	E2eProcessingLatency *latencyResult `json:"e2e_processing_latency"`

	disk diskqueue.Stats
}

type pubCount struct {
	Topic string `json:"topic"`
	Count uint64 `json:"count"`
}

type clientStats struct {
	ClientID        string     `json:"client_id"`
	Hostname        string     `json:"hostname"`
	Version         string     `json:"version"`
	RemoteAddress   string     `json:"remote_address"`
	State           int32      `json:"state"`
	ReadyCount      int64      `json:"ready_count"`
	InFlightCount   int64      `json:"in_flight_count"`
	MessageCount    uint64     `json:"message_count"`
	FinishCount     uint64     `json:"finish_count"`
	RequeueCount    uint64     `json:"requeue_count"`
	ConnectTime     int64      `json:"connect_ts"`
	SampleRate      int32      `json:"sample_rate"`
	Deflate         bool       `json:"deflate"`
	Snappy          bool       `json:"snappy"`
	UserAgent       string     `json:"user_agent"`
	Authed          bool       `json:"authed,omitempty"`
	AuthIdentity    string     `json:"auth_identity,omitempty"`
	AuthIdentityURL string     `json:"auth_identity_url,omitempty"`
	PubCounts       []pubCount `json:"pub_counts,omitempty"`

	TLS                           bool   `json:"tls"`
	CipherSuite                   string `json:"tls_cipher_suite"`
	TLSVersion                    string `json:"tls_version"`
	TLSNegotiatedProtocol         string `json:"tls_negotiated_protocol"`
	TLSNegotiatedProtocolIsMutual bool   `json:"tls_negotiated_protocol_is_mutual"`
}

type daemonStats struct {
	Topics    []topicStats
	Producers []clientStats
}

func (t *Topic) stats(chans []channelStats) topicStats {
	return topicStats{
		TopicName:            t.name,
		Channels:             chans,
		Depth:                t.Depth(),
		BackendDepth:         t.backend.Depth(),
		MessageCount:         t.messageCount.Load(),
		MessageBytes:         t.messageBytes.Load(),
		Paused:               t.IsPaused(),
		E2eProcessingLatency: t.latencyResult(),
		disk:                 backendStats(t.backend),
	}
}

func (c *Channel) stats(topicFilter string, withClients bool) channelStats {
	var clients []clientStats
	c.clientsMu.RLock()
	n := len(c.clients)
	cls := make([]*client, 0, n)
	for _, cl := range c.clients {
		cls = append(cls, cl)
	}
	c.clientsMu.RUnlock()
	if withClients {
		clients = clientStatsOf(cls, topicFilter, false)
	}
	return channelStats{
		ChannelName:          c.name,
		Depth:                c.Depth(),
		BackendDepth:         c.backend.Depth(),
		InFlightCount:        c.inFlightCount(),
		DeferredCount:        c.deferredCount(),
		MessageCount:         c.messageCount.Load(),
		RequeueCount:         c.requeueCount.Load(),
		TimeoutCount:         c.timeoutCount.Load(),
		ClientCount:          n,
		Clients:              clients,
		Paused:               c.IsPaused(),
		E2eProcessingLatency: c.latency.result(),
		disk:                 backendStats(c.backend),
	}
}

// backendStats is a disk queue's counters; zero for ephemeral backends.
func backendStats(bq backendQueue) diskqueue.Stats {
	if s, ok := bq.(interface{ Stats() diskqueue.Stats }); ok {
		return s.Stats()
	}
	return diskqueue.Stats{}
}

// clientStatsOf gives the stats of cls (only producers' if asked) in
// connection order.
func clientStatsOf(cls []*client, topicFilter string, producersOnly bool) []clientStats {
	sort.Slice(cls, func(i, j int) bool { return cls[i].ID < cls[j].ID })
	out := make([]clientStats, 0, len(cls))
	for _, c := range cls {
		if !producersOnly || c.isProducer() {
			out = append(out, c.stats(topicFilter))
		}
	}
	return out
}

func (c *client) isProducer() bool {
	has := false
	c.pubCounts.Range(func(any, any) bool { has = true; return false })
	return has
}

// stats is nsqd's ClientV2Stats. With a topic filter, pub_counts holds
// that topic only.
func (c *client) stats(topicFilter string) clientStats {
	c.metaMu.RLock()
	s := clientStats{
		ClientID:        c.clientID,
		Hostname:        c.hostname,
		UserAgent:       c.userAgent,
		Authed:          len(c.auth.Authorizations) > 0,
		AuthIdentity:    c.auth.Identity,
		AuthIdentityURL: c.auth.IdentityURL,
	}
	c.metaMu.RUnlock()
	s.Version = "V2"
	s.RemoteAddress = c.RemoteAddr().String()
	s.State = c.state.Load()
	s.ReadyCount = c.readyCount.Load()
	s.InFlightCount = c.inFlightCount.Load()
	s.MessageCount = c.messageCount.Load()
	s.FinishCount = c.finishCount.Load()
	s.RequeueCount = c.requeueCount.Load()
	s.ConnectTime = c.connectTime.Unix()
	s.SampleRate = c.sampleRate.Load()
	s.Deflate, s.Snappy = c.deflate.Load(), c.snappy.Load()
	s.PubCounts = c.pubCountList(topicFilter)
	if c.tls.Load() { // tlsConn is set before tls is
		cs := c.tlsConn.ConnectionState()
		s.TLS = true
		s.CipherSuite = tls.CipherSuiteName(cs.CipherSuite)
		s.TLSVersion = tlsVersionName(cs.Version)
		s.TLSNegotiatedProtocol = cs.NegotiatedProtocol
		s.TLSNegotiatedProtocolIsMutual = true // always, since Go 1.17
	}
	return s
}

func (c *client) pubCountList(topicFilter string) []pubCount {
	var out []pubCount
	c.pubCounts.Range(func(k, v any) bool {
		if topic := k.(string); topicFilter == "" || topic == topicFilter {
			out = append(out, pubCount{Topic: topic, Count: v.(*atomic.Uint64).Load()})
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}

func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLS1.0"
	case tls.VersionTLS11:
		return "TLS1.1"
	case tls.VersionTLS12:
		return "TLS1.2"
	case tls.VersionTLS13:
		return "TLS1.3"
	}
	return fmt.Sprintf("Unknown %d", v)
}
