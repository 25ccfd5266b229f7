package queued

import (
	"errors"

	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sidequeue/sidequeue/sidecar/diskqueue"
)

// Channel is one consumer group of a topic: every message published to the
// topic is copied to each channel and delivered to one of its clients.
type Channel struct {
	requeueCount atomic.Uint64
	messageCount atomic.Uint64
	timeoutCount atomic.Uint64
	emptied      atomic.Uint64 // times emptied: a retrying pump gives up on an emptied channel

	queue
	topicName string
	name      string
	ledger    ledger
	moving    atomic.Int64 // taken from in flight or deferred, not yet put elsewhere

	clientsMu sync.RWMutex
	clients   map[int64]*client

	inFlightMu sync.Mutex
	inFlight   map[MessageID]*Message
	inFlightPQ messagePQ

	deferredMu sync.Mutex
	deferred   map[MessageID]*Message
	deferredPQ messagePQ

	latency *latencyStream // nil unless --e2e-processing-latency-percentile is given
}

var (
	errExiting      = errors.New("exiting")
	errNotInFlight  = errors.New("ID not in flight")
	errNotYourMsg   = errors.New("client does not own message")
	errTooManySubs  = errors.New("consumers for this channel on this node have exceeded the limit")
	errAlreadyExist = errors.New("ID already deferred")
)

func newChannel(topicName, name string, d *Daemon) (*Channel, error) {
	c := &Channel{
		topicName: topicName,
		name:      name,
		clients:   map[int64]*client{},
		latency:   newLatencyStream(d.opts().E2EProcessingLatencyWindowTime, d.opts().E2EProcessingLatencyPercentiles),
	}
	c.initQueues()
	track := func(m *Message, end diskqueue.Position) { m.diskSeq = c.ledger.add(m, end) }
	if err := c.open(d, topicName+":"+name, c.String(), isEphemeral(name), track); err != nil {
		return nil, fmt.Errorf("channel %s/%s: %w", topicName, name, err)
	}
	return c, nil
}

func (c *Channel) String() string { return "channel " + c.topicName + "/" + c.name }

func (c *Channel) initQueues() {
	c.inFlightMu.Lock()
	c.inFlight, c.inFlightPQ = map[MessageID]*Message{}, nil
	c.inFlightMu.Unlock()
	c.deferredMu.Lock()
	c.deferred, c.deferredPQ = map[MessageID]*Message{}, nil
	c.deferredMu.Unlock()
}

// put queues m for delivery: memory first, disk when memory is full (or
// --mem-queue-size is 0). A message that came from disk and is written
// there again is done with in its old place.
func (c *Channel) put(m *Message) error {
	if c.mem.offer(m) {
		return nil
	}
	if err := writeToBackend(c.backend.Put, m, 0); err != nil {
		c.d.log.Logf("ERROR", "%s: requeueing to disk, kept in memory to retry: %v", c, err)
		return err
	}
	c.resolve(m)
	return nil
}

// putBatchFromTopic queues a batch from the topic's pump: deferred ones
// wait in the deferred queue (or, with --mem-queue-size=0, on disk with
// their due time, so that a crash keeps them), the rest go to memory while
// there is room and to disk in one write. The pump syncs and commits. On a
// disk error it returns the messages not stored, the channel's own copies,
// for the pump to try again.
func (c *Channel) putBatchFromTopic(msgs []*Message, copyMsgs bool) ([]*Message, error) {
	c.exitMu.RLock()
	defer c.exitMu.RUnlock()
	if c.exiting {
		return nil, errExiting
	}
	useMemory := c.mem.allowed()
	now := time.Now().UnixNano()
	var toDisk []*Message
	for _, m := range msgs {
		if copyMsgs { // each channel owns its copy's bookkeeping; the body is shared
			m = &Message{ID: m.ID, Body: m.Body, Timestamp: m.Timestamp, deferUntil: m.deferUntil}
		}
		switch {
		case m.deferUntil > now && useMemory:
			c.startDeferred(m, m.deferUntil)
		case m.deferUntil > now:
			toDisk = append(toDisk, m)
		case c.mem.offer(m): // as nsqd: memory whenever it has room
		default:
			toDisk = append(toDisk, m)
		}
	}
	n, err := 0, error(nil)
	if len(toDisk) > 0 {
		n, err = putBatch(c.backend.AppendBatch, toDisk, func(m *Message) int64 {
			if m.deferUntil > now {
				return m.deferUntil
			}
			return 0
		})
	}
	c.messageCount.Add(uint64(len(msgs) - len(toDisk) + n))
	if err != nil {
		return toDisk[n:], err
	}
	return nil, nil
}

// resolve tells the disk queue m is done with, once everything read
// before it is too.
func (c *Channel) resolve(m *Message) {
	if m.diskSeq == 0 {
		return
	}
	if end, ok := c.ledger.resolve(m.diskSeq); ok {
		c.backend.Commit(end)
	}
	m.diskSeq = 0
}

// Pause stops delivery to the channel's clients; messages keep queueing.
func (c *Channel) Pause() error   { return c.setPaused(true) }
func (c *Channel) UnPause() error { return c.setPaused(false) }

func (c *Channel) setPaused(p bool) error {
	c.paused.Store(p)
	c.clientsMu.RLock()
	for _, cl := range c.clients {
		cl.tryUpdateReady()
	}
	c.clientsMu.RUnlock()
	return c.d.meta.persist()
}

// AddClient subscribes a client, within --max-channel-consumers.
func (c *Channel) AddClient(cl *client) error {
	c.exitMu.RLock()
	defer c.exitMu.RUnlock()
	if c.exiting {
		return errExiting
	}
	c.clientsMu.Lock()
	defer c.clientsMu.Unlock()
	if _, ok := c.clients[cl.ID]; ok {
		return nil
	}
	if max := c.d.opts().MaxChannelConsumers; max > 0 && len(c.clients) >= max {
		return errTooManySubs
	}
	c.clients[cl.ID] = cl
	return nil
}

// RemoveClient unsubscribes a client; an ephemeral channel goes with its
// last client.
func (c *Channel) RemoveClient(id int64) {
	c.exitMu.RLock()
	defer c.exitMu.RUnlock()
	if c.exiting {
		return
	}
	c.clientsMu.Lock()
	if _, ok := c.clients[id]; !ok {
		c.clientsMu.Unlock()
		return
	}
	delete(c.clients, id)
	left := len(c.clients)
	c.clientsMu.Unlock()
	if left == 0 && c.ephemeral {
		go c.deleteFn.Do(func() { c.d.deleteChannelByName(c.topicName, c.name) })
	}
}
