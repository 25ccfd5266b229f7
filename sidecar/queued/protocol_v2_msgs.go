package queued

import (
	"fmt"
	"io"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// inFlightCommand checks what FIN, REQ and TOUCH share: state and ID.
func inFlightCommand(c *client, params [][]byte, cmd string, minParams int) (MessageID, error) {
	var id MessageID
	if s := c.state.Load(); s != stateSubscribed && s != stateClosing {
		return id, fatal("E_INVALID", "cannot %s in current state", cmd)
	}
	if len(params) < minParams {
		return id, fatal("E_INVALID", "%s insufficient number of params", cmd)
	}
	if len(params[1]) != MsgIDLength {
		return id, fatal("E_INVALID", "invalid message ID")
	}
	copy(id[:], params[1])
	return id, nil
}

func (p *protocolV2) fin(c *client, params [][]byte) ([]byte, error) {
	id, err := inFlightCommand(c, params, "FIN", 2)
	if err != nil {
		return nil, err
	}
	if err := c.channel.FinishMessage(c.ID, id); err != nil {
		return nil, protocol.NewClientErr(err, "E_FIN_FAILED", fmt.Sprintf("FIN %s failed %s", id[:], err))
	}
	c.finishedMessage()
	return nil, nil
}

func (p *protocolV2) req(c *client, params [][]byte) ([]byte, error) {
	id, err := inFlightCommand(c, params, "REQ", 3)
	if err != nil {
		return nil, err
	}
	ms, err := parseBase10(params[2])
	if err != nil {
		return nil, protocol.NewFatalClientErr(err, "E_INVALID", fmt.Sprintf("REQ could not parse timeout %s", params[2]))
	}
	// Out-of-range delays are clamped, not refused, as nsqd does.
	delay := min(time.Duration(ms)*time.Millisecond, p.d.opts().MaxReqTimeout)
	if err := c.channel.RequeueMessage(c.ID, id, delay); err != nil {
		return nil, protocol.NewClientErr(err, "E_REQ_FAILED", fmt.Sprintf("REQ %s failed %s", id[:], err))
	}
	c.requeuedMessage()
	return nil, nil
}

func (p *protocolV2) touch(c *client, params [][]byte) ([]byte, error) {
	id, err := inFlightCommand(c, params, "TOUCH", 2)
	if err != nil {
		return nil, err
	}
	c.writeMu.Lock()
	timeout := c.msgTimeout
	c.writeMu.Unlock()
	if err := c.channel.TouchMessage(c.ID, id, timeout); err != nil {
		return nil, protocol.NewClientErr(err, "E_TOUCH_FAILED", fmt.Sprintf("TOUCH %s failed %s", id[:], err))
	}
	return nil, nil
}

func (p *protocolV2) cls(c *client, params [][]byte) ([]byte, error) {
	if c.state.Load() != stateSubscribed {
		return nil, fatal("E_INVALID", "cannot CLS in current state")
	}
	c.setReadyCount(0)
	c.state.Store(stateClosing)
	return []byte("CLOSE_WAIT"), nil
}

func (p *protocolV2) pub(c *client, params [][]byte) ([]byte, error) {
	if len(params) < 2 {
		return nil, fatal("E_INVALID", "PUB insufficient number of parameters")
	}
	topicName := string(params[1])
	if !protocol.ValidName(topicName) {
		return nil, fatal("E_BAD_TOPIC", "PUB topic name %q is not valid", topicName)
	}
	body, err := p.readMessageBody(c, "PUB")
	if err != nil {
		return nil, err
	}
	if err := p.checkAuth(c, "PUB", topicName, ""); err != nil {
		return nil, err
	}
	if err := p.d.publish(topicName, body, 0); err != nil {
		return nil, protocol.NewFatalClientErr(err, "E_PUB_FAILED", "PUB failed "+err.Error())
	}
	c.publishedMessage(topicName, 1)
	return okBytes, nil
}

func (p *protocolV2) dpub(c *client, params [][]byte) ([]byte, error) {
	if len(params) < 3 {
		return nil, fatal("E_INVALID", "DPUB insufficient number of parameters")
	}
	topicName := string(params[1])
	if !protocol.ValidName(topicName) {
		return nil, fatal("E_BAD_TOPIC", "DPUB topic name %q is not valid", topicName)
	}
	ms, err := parseBase10(params[2])
	if err != nil {
		return nil, protocol.NewFatalClientErr(err, "E_INVALID", fmt.Sprintf("DPUB could not parse timeout %s", params[2]))
	}
	delay, max := time.Duration(ms)*time.Millisecond, p.d.opts().MaxReqTimeout
	if delay < 0 || delay > max {
		return nil, fatal("E_INVALID", "DPUB timeout %d out of range 0-%d", ms, max/time.Millisecond)
	}
	body, err := p.readMessageBody(c, "DPUB")
	if err != nil {
		return nil, err
	}
	if err := p.checkAuth(c, "DPUB", topicName, ""); err != nil {
		return nil, err
	}
	if err := p.d.publish(topicName, body, delay); err != nil {
		return nil, protocol.NewFatalClientErr(err, "E_DPUB_FAILED", "DPUB failed "+err.Error())
	}
	c.publishedMessage(topicName, 1)
	return okBytes, nil
}

func (p *protocolV2) readMessageBody(c *client, cmd string) ([]byte, error) {
	n, err := readLen(c)
	if err != nil {
		return nil, protocol.NewFatalClientErr(err, "E_BAD_MESSAGE", cmd+" failed to read message body size")
	}
	if n <= 0 {
		return nil, fatal("E_BAD_MESSAGE", "%s invalid message body size %d", cmd, n)
	}
	if max := p.d.opts().MaxMsgSize; int64(n) > max {
		return nil, fatal("E_BAD_MESSAGE", "%s message too big %d > %d", cmd, n, max)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.Reader, body); err != nil {
		return nil, protocol.NewFatalClientErr(err, "E_BAD_MESSAGE", cmd+" failed to read message body")
	}
	return body, nil
}

func (p *protocolV2) mpub(c *client, params [][]byte) ([]byte, error) {
	if len(params) < 2 {
		return nil, fatal("E_INVALID", "MPUB insufficient number of parameters")
	}
	topicName := string(params[1])
	if !protocol.ValidName(topicName) {
		return nil, fatal("E_BAD_TOPIC", "E_BAD_TOPIC MPUB topic name %q is not valid", topicName)
	}
	if err := p.checkAuth(c, "MPUB", topicName, ""); err != nil {
		return nil, err
	}
	n, err := readLen(c)
	if err != nil {
		return nil, protocol.NewFatalClientErr(err, "E_BAD_BODY", "MPUB failed to read body size")
	}
	if n <= 0 {
		return nil, fatal("E_BAD_BODY", "MPUB invalid body size %d", n)
	}
	if max := p.d.opts().MaxBodySize; int64(n) > max {
		return nil, fatal("E_BAD_BODY", "MPUB body too big %d > %d", n, max)
	}
	msgs, err := p.readMPUB(c)
	if err != nil {
		return nil, err
	}
	if err := p.d.publishBatch(topicName, msgs); err != nil {
		return nil, protocol.NewFatalClientErr(err, "E_MPUB_FAILED", "MPUB failed "+err.Error())
	}
	c.publishedMessage(topicName, uint64(len(msgs)))
	return okBytes, nil
}

func (p *protocolV2) readMPUB(c *client) ([]*Message, error) {
	o := p.d.opts()
	count, err := readLen(c)
	if err != nil {
		return nil, protocol.NewFatalClientErr(err, "E_BAD_BODY", "MPUB failed to read message count")
	}
	if count <= 0 || int64(count) > (o.MaxBodySize-4)/5 {
		return nil, fatal("E_BAD_BODY", "MPUB invalid message count %d", count)
	}
	msgs := make([]*Message, 0, count)
	alloc := newBatchAllocator()
	for i := range count {
		size, err := readLen(c)
		if err != nil {
			return nil, protocol.NewFatalClientErr(err, "E_BAD_MESSAGE", fmt.Sprintf("MPUB failed to read message(%d) body size", i))
		}
		if size <= 0 {
			return nil, fatal("E_BAD_MESSAGE", "MPUB invalid message(%d) body size %d", i, size)
		}
		if int64(size) > o.MaxMsgSize {
			return nil, fatal("E_BAD_MESSAGE", "MPUB message too big %d > %d", size, o.MaxMsgSize)
		}
		m := alloc.message(p.d.ids.next(), int(size))
		if _, err := io.ReadFull(c.Reader, m.Body); err != nil {
			return nil, protocol.NewFatalClientErr(err, "E_BAD_MESSAGE", "MPUB failed to read message body")
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}
