package queued

import (
	"errors"
	"io"
	"net"
	"sync"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// tcpServer accepts client connections and runs protocol V2 on each.
type tcpServer struct {
	d     *Daemon
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newTCPServer(d *Daemon) *tcpServer { return &tcpServer{d: d, conns: map[net.Conn]struct{}{}} }

func (s *tcpServer) serve(l net.Listener) error {
	for {
		conn, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handleConn(conn)
		}()
	}
}

// handleConn speaks to one connection until it ends.
func (s *tcpServer) handleConn(conn net.Conn) {
	s.mu.Lock()
	s.conns[conn] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
	}()
	s.handle(conn)
}

func (s *tcpServer) handle(conn net.Conn) {
	defer conn.Close()
	var magic [4]byte
	if _, err := io.ReadFull(conn, magic[:]); err != nil {
		return
	}
	if string(magic[:]) != protocol.MagicV2 {
		protocol.WriteFrame(conn, protocol.FrameTypeError, []byte("E_BAD_PROTOCOL"))
		s.d.logf("ERROR", "client(%s) bad protocol magic '%s'", conn.RemoteAddr(), magic[:])
		return
	}
	d := s.d
	c := newClient(d.clientIDSeq.Add(1), conn, d)
	d.addClient(c)
	defer d.removeClient(c)
	if err := d.ioLoop(c); err != nil {
		d.logf("ERROR", "client(%s) - %s", c, err)
	}
}

// closeAll closes every connection and waits for their handlers.
func (s *tcpServer) closeAll() {
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
