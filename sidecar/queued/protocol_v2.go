package queued

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// protocolV2 speaks nsqd's TCP protocol V2 on the daemon's connections: the command
// handlers, named after the wire verbs, and each client's message pump.
type protocolV2 struct{ d *Daemon }

var (
	okBytes        = []byte("OK")
	heartbeatBytes = []byte("_heartbeat_")
	separator      = []byte(" ")
)

// ioLoop reads and executes a client's commands until it disconnects or a
// fatal error; a message pump beside it delivers messages.
func (p *protocolV2) ioLoop(c *client) error {
	pumpStarted := make(chan struct{})
	go p.messagePump(c, pumpStarted)
	<-pumpStarted
	err := p.readCommands(c)
	close(c.exitChan)
	if c.channel != nil {
		c.channel.RemoveClient(c.ID)
	}
	return err
}

func (p *protocolV2) readCommands(c *client) error {
	for {
		if c.heartbeatInterval > 0 {
			c.SetReadDeadline(time.Now().Add(c.heartbeatInterval * 2))
		} else {
			c.SetReadDeadline(time.Time{})
		}
		line, err := c.Reader.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("failed to read command - %w", err)
		}
		line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
		params := bytes.Split(line, separator)
		resp, err := p.exec(c, params)
		if err != nil {
			var ce *protocol.ClientErr
			if !errors.As(err, &ce) {
				ce = protocol.NewFatalClientErr(err, "E_INVALID", err.Error())
			}
			p.d.log.Logf("ERROR", "[%s] - %s", c, ce.Error())
			if sendErr := p.send(c, protocol.FrameTypeError, []byte(ce.Error())); sendErr != nil || ce.Fatal {
				return ce
			}
			continue
		}
		if resp != nil {
			if err := p.send(c, protocol.FrameTypeResponse, resp); err != nil {
				return fmt.Errorf("failed to send response - %w", err)
			}
		}
	}
}

// send writes a frame and, unless it is a message, flushes it.
func (p *protocolV2) send(c *client, frameType int32, data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := protocol.WriteFrame(c.Writer, frameType, data); err != nil {
		return err
	}
	if frameType != protocol.FrameTypeMessage {
		return c.flush()
	}
	return nil
}

func (p *protocolV2) exec(c *client, params [][]byte) ([]byte, error) {
	cmd := string(params[0])
	if cmd == "IDENTIFY" {
		return p.identify(c, params)
	}
	if p.d.opts().TLSRequired != TLSNotRequired && !c.tls.Load() {
		return nil, protocol.NewFatalClientErr(nil, "E_INVALID",
			fmt.Sprintf("cannot %s in current state (TLS required)", cmd))
	}
	switch cmd {
	case "FIN":
		return p.fin(c, params)
	case "RDY":
		return p.rdy(c, params)
	case "REQ":
		return p.req(c, params)
	case "PUB":
		return p.pub(c, params)
	case "MPUB":
		return p.mpub(c, params)
	case "DPUB":
		return p.dpub(c, params)
	case "NOP":
		return nil, nil
	case "TOUCH":
		return p.touch(c, params)
	case "SUB":
		return p.sub(c, params)
	case "CLS":
		return p.cls(c, params)
	case "AUTH":
		return p.auth(c, params)
	}
	return nil, protocol.NewFatalClientErr(nil, "E_INVALID", fmt.Sprintf("invalid command %s", params[0]))
}

func (p *protocolV2) flushClient(c *client) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.flush()
}

func (p *protocolV2) pumpFailed(c *client, err error) {
	p.d.log.Logf("ERROR", "PROTOCOL(V2): [%s] messagePump error - %s", c, err)
	c.close()
}

// ticker is a time.Ticker that may be off (a zero interval).
type ticker struct{ t *time.Ticker }

func newTicker(d time.Duration) *ticker {
	tk := &ticker{}
	tk.reset(d)
	return tk
}

func (tk *ticker) reset(d time.Duration) {
	tk.stop()
	if d > 0 {
		tk.t = time.NewTicker(d)
	}
}

func (tk *ticker) c() <-chan time.Time {
	if tk.t == nil {
		return nil
	}
	return tk.t.C
}

func (tk *ticker) stop() {
	if tk.t != nil {
		tk.t.Stop()
		tk.t = nil
	}
}
