package queued

import (
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// messagePump delivers a subscribed client's messages as its RDY allows,
// buffering writes and flushing them every output buffer timeout.
func (p *protocolV2) messagePump(c *client, started chan struct{}) {
	c.writeMu.Lock()
	cp := &clientPump{p: p, c: c, subEvents: c.subEventChan, identifyEvents: c.identifyChan,
		bufferTicker: newTicker(c.outputBufferTimeout), heartbeatTicker: newTicker(c.heartbeatInterval),
		msgTimeout: c.msgTimeout, flushed: true, buf: make([]byte, 0, 1024)}
	c.writeMu.Unlock()
	defer func() { cp.bufferTicker.stop(); cp.heartbeatTicker.stop() }()
	close(started)
	if err := cp.run(); err != nil {
		p.pumpFailed(c, err)
	}
}

// clientPump is a message pump's state: the channel once subscribed, and
// what IDENTIFY set.
type clientPump struct {
	p *protocolV2
	c *client

	ch             *Channel
	subEvents      chan *Channel // nil once subscribed
	identifyEvents chan identifyEvent

	bufferTicker, heartbeatTicker *ticker
	msgTimeout                    time.Duration
	sampleRate                    int32
	flushed                       bool // nothing written since the last flush
	buf                           []byte
}

// run serves the client until it goes (nil) or a write fails.
func (cp *clientPump) run() error {
	for {
		mem, disk, flushC, err := cp.sources()
		if err != nil {
			return err
		}
		select {
		case <-flushC:
			err = cp.flush()
		case <-cp.c.readyStateChan:
		case cp.ch = <-cp.subEvents:
			cp.subEvents = nil
		case ev := <-cp.identifyEvents:
			cp.identifyEvents = nil
			cp.bufferTicker.reset(ev.outputBufferTimeout)
			cp.heartbeatTicker.reset(ev.heartbeatInterval)
			cp.sampleRate, cp.msgTimeout = ev.sampleRate, ev.msgTimeout
		case <-cp.heartbeatTicker.c():
			err = cp.p.send(cp.c, protocol.FrameTypeResponse, heartbeatBytes)
		case dm := <-disk:
			err = cp.deliverFromDisk(dm)
		case m := <-mem:
			err = cp.deliver(m, false)
		case <-cp.c.exitChan:
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// sources are what the pump waits on besides its events: the channel's
// messages while the client is ready, and the buffer's flush once written
// to. A client that is not ready is flushed at once.
func (cp *clientPump) sources() (chan *Message, chan diskMessage, <-chan time.Time, error) {
	switch {
	case cp.ch == nil || !cp.c.isReadyForMessages():
		return nil, nil, nil, cp.flush()
	case cp.flushed:
		return cp.ch.mem.ch, cp.ch.fromDisk.out, nil, nil
	default:
		return cp.ch.mem.ch, cp.ch.fromDisk.out, cp.bufferTicker.c(), nil
	}
}

func (cp *clientPump) flush() error {
	if err := cp.p.flushClient(cp.c); err != nil {
		return err
	}
	cp.flushed = true
	return nil
}

func (cp *clientPump) deliverFromDisk(dm diskMessage) error {
	if dm.dueAt > time.Now().UnixNano() {
		cp.ch.startDeferred(dm.msg, dm.dueAt) // deferred before a restart
		cp.ch.fromDisk.taken()
		return nil
	}
	return cp.deliver(dm.msg, true)
}

// deliver sends m unless the channel declines it (sampled out, or a copy
// of a message already in flight).
func (cp *clientPump) deliver(m *Message, fromDisk bool) error {
	if !cp.ch.startDelivery(m, fromDisk, cp.c.ID, cp.msgTimeout, cp.sampleRate) {
		return nil
	}
	cp.c.sendingMessage()
	cp.buf = m.appendWire(cp.buf[:0])
	if err := cp.p.send(cp.c, protocol.FrameTypeMessage, cp.buf); err != nil {
		return err
	}
	cp.flushed = false
	return nil
}
