package nsqapi

import (
	"context"
	"net/http"
	"net/url"
)

// Ping checks that a lookup or queue daemon answers /ping.
func (c *Client) Ping(ctx context.Context, addr string) error {
	return c.do(ctx, http.MethodGet, addr, "/ping", nil, nil)
}

// Nodes lists the queue daemons registered with a lookup daemon.
func (c *Client) Nodes(ctx context.Context, lookupAddr string) ([]Producer, error) {
	var out struct {
		Producers []Producer `json:"producers"`
	}
	if err := c.do(ctx, http.MethodGet, lookupAddr, "/nodes", nil, &out); err != nil {
		return nil, err
	}
	return out.Producers, nil
}

// Lookup lists the queue daemons a lookup daemon gives consumers of a
// topic (/lookup), as go-nsq's ConnectToNSQLookupd asks.
func (c *Client) Lookup(ctx context.Context, lookupAddr, topic string) ([]Producer, error) {
	var out struct {
		Producers []Producer `json:"producers"`
	}
	if err := c.do(ctx, http.MethodGet, lookupAddr, "/lookup", url.Values{"topic": {topic}}, &out); err != nil {
		return nil, err
	}
	return out.Producers, nil
}

// LookupTopic creates (or deletes) a topic in a lookup daemon, so consumers
// asking it find the topic before any daemon holds it.
func (c *Client) LookupTopic(ctx context.Context, lookupAddr, topic string, create bool) error {
	return c.do(ctx, http.MethodPost, lookupAddr, "/topic/"+verb(create), url.Values{"topic": {topic}}, nil)
}

// LookupChannel creates (or deletes) a channel in a lookup daemon.
func (c *Client) LookupChannel(ctx context.Context, lookupAddr, topic, channel string, create bool) error {
	q := url.Values{"topic": {topic}, "channel": {channel}}
	return c.do(ctx, http.MethodPost, lookupAddr, "/channel/"+verb(create), q, nil)
}

func verb(create bool) string {
	if create {
		return "create"
	}
	return "delete"
}

// Topic applies an action to a topic on a queue daemon.
func (c *Client) Topic(ctx context.Context, daemonAddr, topic string, action Action) error {
	return c.do(ctx, http.MethodPost, daemonAddr, "/topic/"+string(action), url.Values{"topic": {topic}}, nil)
}

// Channel applies an action to a channel on a queue daemon.
func (c *Client) Channel(ctx context.Context, daemonAddr, topic, channel string, action Action) error {
	q := url.Values{"topic": {topic}, "channel": {channel}}
	return c.do(ctx, http.MethodPost, daemonAddr, "/channel/"+string(action), q, nil)
}

// TopicStats is one topic in a queue daemon's /stats, in nsqd's shape.
type TopicStats struct {
	TopicName    string         `json:"topic_name"`
	Depth        int64          `json:"depth"`
	BackendDepth int64          `json:"backend_depth"`
	MessageCount int64          `json:"message_count"`
	Paused       bool           `json:"paused"`
	Channels     []ChannelStats `json:"channels"`
}

// ChannelStats is one channel of a topic in /stats.
type ChannelStats struct {
	ChannelName   string `json:"channel_name"`
	Depth         int64  `json:"depth"`
	BackendDepth  int64  `json:"backend_depth"`
	InFlightCount int64  `json:"in_flight_count"`
	DeferredCount int64  `json:"deferred_count"`
	MessageCount  int64  `json:"message_count"`
	RequeueCount  int64  `json:"requeue_count"`
	TimeoutCount  int64  `json:"timeout_count"`
	ClientCount   int64  `json:"client_count"`
	Paused        bool   `json:"paused"`
}

// Stats returns one topic's statistics from a queue daemon, or nil if the
// daemon does not hold it.
func (c *Client) Stats(ctx context.Context, daemonAddr, topic string) (*TopicStats, error) {
	var out struct {
		Topics []TopicStats `json:"topics"`
	}
	q := url.Values{"format": {"json"}, "topic": {topic}}
	if err := c.do(ctx, http.MethodGet, daemonAddr, "/stats", q, &out); err != nil {
		return nil, err
	}
	for i := range out.Topics {
		if out.Topics[i].TopicName == topic {
			return &out.Topics[i], nil
		}
	}
	return nil, nil
}

// Held counts every message a queue daemon holds: what waits in its
// topics, and in its channels what waits, is in flight or is deferred.
// It is what a draining daemon has left to deliver.
func (c *Client) Held(ctx context.Context, daemonAddr string) (int64, error) {
	var out struct {
		Topics []TopicStats `json:"topics"`
	}
	if err := c.do(ctx, http.MethodGet, daemonAddr, "/stats", url.Values{"format": {"json"}}, &out); err != nil {
		return 0, err
	}
	var n int64
	for _, t := range out.Topics {
		n += t.Depth
		for _, ch := range t.Channels {
			n += ch.Depth + ch.InFlightCount + ch.DeferredCount
		}
	}
	return n, nil
}
