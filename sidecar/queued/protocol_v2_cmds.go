package queued

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// The command handlers, named after the wire verbs. Error codes and texts
// are nsqd v1.3.0's, byte for byte: clients compare them.

func fatal(code, format string, args ...any) error {
	return protocol.NewFatalClientErr(nil, code, fmt.Sprintf(format, args...))
}

func (p *protocolV2) identify(c *client, params [][]byte) ([]byte, error) {
	if c.state.Load() != stateInit {
		return nil, fatal("E_INVALID", "cannot IDENTIFY in current state")
	}
	body, err := p.readBody(c, "IDENTIFY", "E_BAD_BODY", "body")
	if err != nil {
		return nil, err
	}
	var data identifyData
	if err := json.Unmarshal(body, &data); err != nil {
		return nil, protocol.NewFatalClientErr(err, "E_BAD_BODY", "IDENTIFY failed to decode JSON body")
	}
	if err := c.identify(data); err != nil {
		return nil, protocol.NewFatalClientErr(err, "E_BAD_BODY", "IDENTIFY "+err.Error())
	}
	if !data.FeatureNegotiation {
		return okBytes, nil
	}
	return nil, p.negotiate(c, data)
}

// readBody reads a 4-byte size and that many bytes, checked against
// --max-body-size, with nsqd's error texts for cmd.
func (p *protocolV2) readBody(c *client, cmd, code, what string) ([]byte, error) {
	n, err := readLen(c)
	if err != nil {
		return nil, protocol.NewFatalClientErr(err, code, cmd+" failed to read "+what+" size")
	}
	if max := p.d.opts().MaxBodySize; int64(n) > max {
		return nil, fatal(code, "%s %s too big %d > %d", cmd, what, n, max)
	}
	if n <= 0 {
		return nil, fatal(code, "%s invalid %s size %d", cmd, what, n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.Reader, body); err != nil {
		return nil, protocol.NewFatalClientErr(err, code, cmd+" failed to read "+what)
	}
	return body, nil
}

func readLen(c *client) (int32, error) {
	if _, err := io.ReadFull(c.Reader, c.lenBuf[:]); err != nil {
		return 0, err
	}
	return int32(binary.BigEndian.Uint32(c.lenBuf[:])), nil
}

func (p *protocolV2) auth(c *client, params [][]byte) ([]byte, error) {
	if c.state.Load() != stateInit {
		return nil, fatal("E_INVALID", "cannot AUTH in current state")
	}
	if len(params) != 1 {
		return nil, fatal("E_INVALID", "AUTH invalid number of parameters")
	}
	body, err := p.readBody(c, "AUTH", "E_BAD_BODY", "body")
	if err != nil {
		return nil, err
	}
	if len(c.auth.Authorizations) > 0 {
		return nil, fatal("E_INVALID", "AUTH already set")
	}
	if !p.authEnabled() {
		return nil, fatal("E_AUTH_DISABLED", "AUTH disabled")
	}
	c.metaMu.Lock()
	c.auth.secret = string(body)
	c.metaMu.Unlock()
	if err := c.queryAuth(); err != nil {
		return nil, protocol.NewFatalClientErr(err, "E_AUTH_FAILED", "AUTH failed")
	}
	if len(c.auth.Authorizations) == 0 {
		return nil, fatal("E_UNAUTHORIZED", "AUTH no authorizations found")
	}
	resp, _ := json.Marshal(struct {
		Identity        string `json:"identity"`
		IdentityURL     string `json:"identity_url"`
		PermissionCount int    `json:"permission_count"`
	}{c.auth.Identity, c.auth.IdentityURL, len(c.auth.Authorizations)})
	if err := p.send(c, protocol.FrameTypeResponse, resp); err != nil {
		return nil, protocol.NewFatalClientErr(err, "E_AUTH_ERROR", "AUTH error "+err.Error())
	}
	return nil, nil
}

func (p *protocolV2) checkAuth(c *client, cmd, topic, channel string) error {
	if !p.authEnabled() {
		return nil
	}
	if len(c.auth.Authorizations) == 0 {
		return fatal("E_AUTH_FIRST", "AUTH required before %s", cmd)
	}
	ok, err := c.isAuthorized(topic, channel)
	if err != nil {
		return fatal("E_AUTH_FAILED", "AUTH failed")
	}
	if !ok {
		return fatal("E_UNAUTHORIZED", "AUTH failed for %s on %q %q", cmd, topic, channel)
	}
	return nil
}

func (p *protocolV2) sub(c *client, params [][]byte) ([]byte, error) {
	if c.state.Load() != stateInit {
		return nil, fatal("E_INVALID", "cannot SUB in current state")
	}
	if c.heartbeatInterval <= 0 {
		return nil, fatal("E_INVALID", "cannot SUB with heartbeats disabled")
	}
	if len(params) < 3 {
		return nil, fatal("E_INVALID", "SUB insufficient number of parameters")
	}
	topicName, channelName := string(params[1]), string(params[2])
	if !protocol.ValidName(topicName) {
		return nil, fatal("E_BAD_TOPIC", "SUB topic name %q is not valid", topicName)
	}
	if !protocol.ValidName(channelName) {
		return nil, fatal("E_BAD_CHANNEL", "SUB channel name %q is not valid", channelName)
	}
	if err := p.checkAuth(c, "SUB", topicName, channelName); err != nil {
		return nil, err
	}
	ch, err := p.subscribe(c, topicName, channelName)
	if err != nil {
		return nil, err
	}
	c.state.Store(stateSubscribed)
	c.channel = ch
	c.subEventChan <- ch
	return okBytes, nil
}

// subscribe adds c to the channel, retrying once if an ephemeral topic or
// channel was being deleted under it.
func (p *protocolV2) subscribe(c *client, topicName, channelName string) (*Channel, error) {
	for attempt := 1; ; attempt++ {
		var ch *Channel
		t, err := p.d.GetTopic(topicName)
		if err == nil {
			ch, err = t.GetChannel(channelName)
		}
		if err == nil {
			err = ch.AddClient(c)
		}
		deleted := errors.Is(err, errExiting) && !p.d.shell.Exiting()
		if err != nil && !deleted {
			return nil, protocol.NewFatalClientErr(err, "E_SUB_FAILED", "SUB failed "+err.Error())
		}
		if err == nil && !(ch.ephemeral && ch.Exiting()) && !(t.ephemeral && t.Exiting()) {
			return ch, nil
		}
		if err == nil {
			ch.RemoveClient(c.ID)
		}
		if attempt >= 2 {
			return nil, fatal("E_SUB_FAILED", "SUB failed to deleted topic/channel")
		}
		time.Sleep(100 * time.Millisecond) // let the deletion finish, as nsqd does
	}
}

func (p *protocolV2) rdy(c *client, params [][]byte) ([]byte, error) {
	state := c.state.Load()
	if state == stateClosing {
		return nil, nil // RDY after CLS is ignored
	}
	if state != stateSubscribed {
		return nil, fatal("E_INVALID", "cannot RDY in current state")
	}
	count := int64(1)
	if len(params) > 1 {
		n, err := parseBase10(params[1])
		if err != nil {
			return nil, protocol.NewFatalClientErr(err, "E_INVALID", fmt.Sprintf("RDY could not parse count %s", params[1]))
		}
		count = int64(n)
	}
	if max := p.d.opts().MaxRdyCount; count < 0 || count > max {
		return nil, fatal("E_INVALID", "RDY count %d out of range 0-%d", count, max)
	}
	c.setReadyCount(count)
	return nil, nil
}

// parseBase10 accepts only digits, as nsqd's ByteToBase10.
func parseBase10(b []byte) (uint64, error) {
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, fmt.Errorf("failed to convert %q to base 10", b)
		}
	}
	return strconv.ParseUint(string(b), 10, 64)
}

func (p *protocolV2) authEnabled() bool { return len(p.d.opts().AuthHTTPAddresses) > 0 }
