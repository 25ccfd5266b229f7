package queued

import (
	"io"
	"net"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// serveV2 speaks protocol V2 on one connection until it ends.
func (d *Daemon) serveV2(conn net.Conn) {
	var magic [4]byte
	if _, err := io.ReadFull(conn, magic[:]); err != nil {
		return
	}
	if string(magic[:]) != protocol.MagicV2 {
		protocol.WriteFrame(conn, protocol.FrameTypeError, []byte("E_BAD_PROTOCOL"))
		d.logf("ERROR", "client(%s) bad protocol magic '%s'", conn.RemoteAddr(), magic[:])
		return
	}
	c := newClient(d.clientIDSeq.Add(1), conn, d)
	d.addClient(c)
	defer d.removeClient(c)
	if err := d.ioLoop(c); err != nil {
		d.logf("ERROR", "client(%s) - %s", c, err)
	}
}
