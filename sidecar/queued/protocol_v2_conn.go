package queued

import (
	"io"
	"net"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// serve speaks protocol V2 on one connection until it ends.
func (p *protocolV2) serve(conn net.Conn) {
	var magic [4]byte
	if _, err := io.ReadFull(conn, magic[:]); err != nil {
		return
	}
	if string(magic[:]) != protocol.MagicV2 {
		protocol.WriteFrame(conn, protocol.FrameTypeError, []byte("E_BAD_PROTOCOL"))
		p.d.log.Logf("ERROR", "client(%s) bad protocol magic '%s'", conn.RemoteAddr(), magic[:])
		return
	}
	c := newClient(p.d.clientIDSeq.Add(1), conn, p.d)
	p.d.clients.add(c)
	defer p.d.clients.remove(c)
	if err := p.ioLoop(c); err != nil {
		p.d.log.Logf("ERROR", "client(%s) - %s", c, err)
	}
}
