package queued

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// Topic receives published messages and copies each to every channel.
type Topic struct {
	messageCount atomic.Uint64
	messageBytes atomic.Uint64

	queue
	name string

	channelsMu sync.RWMutex
	channels   map[string]*Channel

	channelsChanged chan struct{}
	pauseChanged    chan struct{}
	start           chan struct{}
	exit            chan struct{}
	pumpDone        chan struct{}

	started atomic.Bool  // delivering to its channels (Start)
	inPump  atomic.Int64 // messages the pump has taken and not yet given every channel
	unsent  []*Message   // from memory, not delivered when the pump stopped
}

func newTopic(name string, d *Daemon) (*Topic, error) {
	t := &Topic{
		name:            name,
		channels:        map[string]*Channel{},
		channelsChanged: make(chan struct{}, 1),
		pauseChanged:    make(chan struct{}, 1),
		start:           make(chan struct{}, 1),
		exit:            make(chan struct{}),
		pumpDone:        make(chan struct{}),
	}
	if err := t.open(d, name, t.String(), isEphemeral(name), nil); err != nil {
		return nil, fmt.Errorf("topic %s: %w", name, err)
	}
	go t.messagePump()
	return t, nil
}

// Start lets the topic deliver to its channels. A topic loaded at start-up
// waits until its channels are all there, so none misses a message.
func (t *Topic) Start() {
	t.started.Store(true)
	select {
	case t.start <- struct{}{}:
	default:
	}
}

// usable is nil, or why the topic takes no publishes or channels: it is
// being deleted.
func (t *Topic) usable() error {
	if t.deleting.Load() {
		return errExiting
	}
	return nil
}

// GetChannel returns the named channel, creating it if need be.
func (t *Topic) GetChannel(name string) (*Channel, error) {
	t.channelsMu.Lock()
	c, isNew, err := t.getOrCreateChannel(name)
	t.channelsMu.Unlock()
	if err != nil {
		return nil, err
	}
	if c.deleting.Load() {
		return nil, errExiting
	}
	if isNew {
		if err := t.d.meta.persistExistence(c.ephemeral); err != nil {
			// Not created: a channel that a crash would take away would
			// miss what is published meanwhile.
			t.channelsMu.Lock()
			if t.channels[name] == c {
				delete(t.channels, name)
			}
			t.channelsMu.Unlock()
			c.Close()
			return nil, fmt.Errorf("channel %s not created: %w", name, err)
		}
		signal(t.channelsChanged)
		t.d.lookup.channelCreated(t, c)
	}
	return c, nil
}

func (t *Topic) getOrCreateChannel(name string) (*Channel, bool, error) {
	if c, ok := t.channels[name]; ok {
		return c, false, nil
	}
	c, err := newChannel(t.name, name, t.d)
	if err != nil {
		return nil, false, err
	}
	t.channels[name] = c
	t.d.log.Logf("INFO", "TOPIC(%s): new channel(%s)", t.name, name)
	return c, true, nil
}

// GetExistingChannel returns the named channel, or ErrChannelNotFound.
func (t *Topic) GetExistingChannel(name string) (*Channel, error) {
	t.channelsMu.RLock()
	defer t.channelsMu.RUnlock()
	c, ok := t.channels[name]
	if !ok {
		return nil, ErrChannelNotFound
	}
	return c, nil
}

// DeleteExistingChannel deletes a channel and its messages
// (ErrChannelNotFound when there is none). The metadata
// forgets it first, so a crash never brings it back.
func (t *Topic) DeleteExistingChannel(name string) error {
	t.channelsMu.RLock()
	c, ok := t.channels[name]
	t.channelsMu.RUnlock()
	if !ok || !c.deleting.CompareAndSwap(false, true) {
		return ErrChannelNotFound // or going already
	}
	// The name stays taken until the files are gone, so that no new
	// channel of that name opens them meanwhile.
	if err := t.d.meta.persistExistence(c.ephemeral); err != nil {
		c.deleting.Store(false)
		return fmt.Errorf("channel %s not deleted: %w", name, err)
	}
	t.d.log.Logf("INFO", "TOPIC(%s): deleting channel %s", t.name, name)
	err := c.Delete()
	t.channelsMu.Lock()
	if t.channels[name] == c {
		delete(t.channels, name)
	}
	left := len(t.channels)
	t.channelsMu.Unlock()
	signal(t.channelsChanged)
	t.d.lookup.channelDeleted(t, c)
	if left == 0 && t.ephemeral {
		go t.deleteFn.Do(func() { t.d.DeleteExistingTopic(t.name) })
	}
	return err
}

// sortedChannels returns the channels ordered by name.
func (t *Topic) sortedChannels() []*Channel {
	t.channelsMu.RLock()
	out := make([]*Channel, 0, len(t.channels))
	for _, c := range t.channels {
		out = append(out, c)
	}
	t.channelsMu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Depth is the number of messages not yet copied to channels: queued, and
// in the pump (counted there before the queue lets go of them).
func (t *Topic) Depth() int64 {
	return t.queue.Depth() + t.inPump.Load()
}

func (t *Topic) String() string { return "topic " + t.name }

// Pause stops copying messages to channels; publishing goes on.
func (t *Topic) Pause() error   { return t.setPaused(true) }
func (t *Topic) UnPause() error { return t.setPaused(false) }

func (t *Topic) setPaused(p bool) error {
	t.paused.Store(p)
	signal(t.pauseChanged)
	return t.d.meta.persist()
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
