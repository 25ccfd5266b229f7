// Package nsqapi is the operator's client for the NSQ HTTP API, written
// once for both tiers: lookup daemons (nsqlookupd or ours) and queue daemons
// (nsqd or queued). Reconcilers talk to it through the Daemons interface,
// so they read as what they do, not how HTTP does it.
package nsqapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Daemons is what the reconcilers need of the NSQ tiers. Addresses are
// host:port of an HTTP API.
type Daemons interface {
	Ping(ctx context.Context, addr string) error
	Nodes(ctx context.Context, lookupAddr string) ([]Producer, error)
	LookupTopic(ctx context.Context, lookupAddr, topic string, create bool) error
	LookupChannel(ctx context.Context, lookupAddr, topic, channel string, create bool) error
	Topic(ctx context.Context, daemonAddr, topic string, action Action) error
	Channel(ctx context.Context, daemonAddr, topic, channel string, action Action) error
	Stats(ctx context.Context, daemonAddr, topic string) (*TopicStats, error)
	Held(ctx context.Context, daemonAddr string) (int64, error)
}

// Action is what to do to a topic or channel on a queue daemon: the last
// segment of nsqd's /topic/* and /channel/* routes.
type Action string

const (
	Create  Action = "create"
	Delete  Action = "delete"
	Empty   Action = "empty"
	Pause   Action = "pause"
	Unpause Action = "unpause"
)

// Producer is one queue daemon as a lookup daemon's /nodes lists it.
type Producer struct {
	RemoteAddress    string   `json:"remote_address"`
	Hostname         string   `json:"hostname"`
	BroadcastAddress string   `json:"broadcast_address"`
	TCPPort          int      `json:"tcp_port"`
	HTTPPort         int      `json:"http_port"`
	Version          string   `json:"version"`
	Tombstones       []bool   `json:"tombstones"`
	Topics           []string `json:"topics"`
}

// HTTPAddr is where the daemon's HTTP API answers, as nsqadmin finds it.
func (p Producer) HTTPAddr() string {
	return fmt.Sprintf("%s:%d", p.BroadcastAddress, p.HTTPPort)
}

// Client implements Daemons over HTTP.
type Client struct {
	HTTP *http.Client
}

// NewClient returns a Client with timeouts that suit a reconcile loop.
func NewClient() *Client { return &Client{HTTP: &http.Client{Timeout: 5 * time.Second}} }

var _ Daemons = (*Client)(nil)

// APIError is an answer other than 200, with the daemon's message
// (TOPIC_NOT_FOUND, MISSING_ARG_TOPIC, ...).
type APIError struct {
	Addr    string
	Path    string
	Status  int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s%s: %d %s", e.Addr, e.Path, e.Status, e.Message)
}

// IsNotFound reports whether err says the topic, channel or route is not
// there: what a delete can take as done.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

func (c *Client) do(ctx context.Context, method, addr, path string, q url.Values, out any) error {
	u := url.URL{Scheme: "http", Host: addr, Path: path, RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.nsq; version=1.0")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%s%s: %w", addr, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s%s: reading the answer: %w", addr, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var msg struct {
			Message string `json:"message"`
		}
		json.Unmarshal(body, &msg)
		return &APIError{Addr: addr, Path: path, Status: resp.StatusCode, Message: msg.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s%s: decoding the answer: %w", addr, path, err)
	}
	return nil
}
