package lookup

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"time"

	"github.com/sidequeue/sidequeue/internal/lookupwire"
)

// maxIdentifyBody bounds IDENTIFY's body. nsqlookupd has no bound; nsqd's
// body is about 150 bytes, so this only stops a peer from making us
// allocate what it claims.
const maxIdentifyBody = 1 << 20

// v1Conn is one protocol V1 session; peer is set by IDENTIFY.
type v1Conn struct {
	l    *Lookupd
	conn net.Conn
	peer *peer
}

// serveV1 runs one connection: the magic, then commands until the peer
// leaves or errs. Every error nsqlookupd sends is fatal, so the first one
// ends the session. Whatever the peer registered goes with it.
func (l *Lookupd) serveV1(conn net.Conn) {
	defer conn.Close()
	c := &v1Conn{l: l, conn: conn}
	l.log.Logf("INFO", "TCP: new client(%s)", conn.RemoteAddr())
	r := bufio.NewReader(conn)
	if err := lookupwire.ReadMagic(r); err != nil {
		c.fail(err)
		return
	}
	for {
		if err := c.exec(r); err != nil {
			c.fail(err)
			break
		}
	}
	if c.peer != nil {
		l.db.removePeer(c.peer)
		l.log.Logf("INFO", "CLIENT(%s): gone, registrations removed", c.peer.id)
	}
}

// fail answers a protocol error before the connection closes; other
// errors (EOF, reset) mean the connection is already gone.
func (c *v1Conn) fail(err error) {
	var perr *lookupwire.Error
	if !errors.As(err, &perr) {
		return
	}
	c.l.log.Logf("ERROR", "client(%s) - %s", c.conn.RemoteAddr(), perr)
	lookupwire.WriteResponse(c.conn, []byte(perr.Error()))
}

// exec reads one command, runs it and writes its response.
func (c *v1Conn) exec(r *bufio.Reader) error {
	cmd, err := lookupwire.ReadCommand(r, maxIdentifyBody)
	if err != nil {
		return err
	}
	var resp []byte
	switch cmd.Name {
	case lookupwire.CmdPing:
		resp = c.ping()
	case lookupwire.CmdIdentify:
		resp, err = c.identify(cmd)
	case lookupwire.CmdRegister:
		resp, err = c.register(cmd)
	case lookupwire.CmdUnregister:
		resp, err = c.unregister(cmd)
	default:
		err = lookupwire.ErrInvalidCommand(cmd.Name)
	}
	if err != nil {
		return err
	}
	return lookupwire.WriteResponse(c.conn, resp)
}

// ping is the producer's heartbeat; PING before IDENTIFY is allowed and
// changes nothing, as in nsqlookupd.
func (c *v1Conn) ping() []byte {
	if c.peer != nil {
		c.peer.lastUpdate.Store(time.Now().UnixNano())
	}
	return lookupwire.OK
}

// identify records who the producer is and answers who we are.
func (c *v1Conn) identify(cmd lookupwire.Command) ([]byte, error) {
	if c.peer != nil {
		return nil, lookupwire.ErrIdentifyAgain
	}
	info, err := lookupwire.DecodeIdentify(cmd.Body)
	if err != nil {
		return nil, err
	}
	c.peer = newPeer(c.conn.RemoteAddr().String(), info, time.Now())
	c.l.db.identify(c.peer)
	c.l.log.Logf("INFO", "CLIENT(%s): IDENTIFY Address:%s TCP:%d HTTP:%d Version:%s",
		c.peer.id, info.BroadcastAddress, info.TCPPort, info.HTTPPort, info.Version)
	return json.Marshal(lookupwire.PeerInfo{
		BroadcastAddress: c.l.opts.BroadcastAddress,
		Hostname:         c.l.hostname,
		HTTPPort:         c.l.HTTPAddr().Port,
		TCPPort:          c.l.TCPAddr().Port,
		Version:          Version,
	})
}

func (c *v1Conn) register(cmd lookupwire.Command) ([]byte, error) {
	if c.peer == nil {
		return nil, lookupwire.ErrMustIdentify
	}
	topic, channel, err := lookupwire.ParseTopicChannel(cmd)
	if err != nil {
		return nil, err
	}
	c.l.db.register(c.peer, topic, channel)
	c.l.log.Logf("INFO", "DB: client(%s) REGISTER topic:%s channel:%s", c.peer.id, topic, channel)
	return lookupwire.OK, nil
}

func (c *v1Conn) unregister(cmd lookupwire.Command) ([]byte, error) {
	if c.peer == nil {
		return nil, lookupwire.ErrMustIdentify
	}
	topic, channel, err := lookupwire.ParseTopicChannel(cmd)
	if err != nil {
		return nil, err
	}
	c.l.db.unregister(c.peer, topic, channel)
	c.l.log.Logf("INFO", "DB: client(%s) UNREGISTER topic:%s channel:%s", c.peer.id, topic, channel)
	return lookupwire.OK, nil
}
