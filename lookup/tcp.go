package lookup

import (
	"errors"
	"net"
	"sync"
)

// tcpServer accepts the queue daemons' connections and runs protocol V1
// on each.
type tcpServer struct {
	l     *Lookupd
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newTCPServer(l *Lookupd) *tcpServer {
	return &tcpServer{l: l, conns: map[net.Conn]struct{}{}}
}

func (s *tcpServer) serve(ln net.Listener) error {
	for {
		conn, err := ln.Accept()
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
		if !s.track(conn) {
			conn.Close()
			continue
		}
		go func() {
			defer s.wg.Done()
			defer s.untrack(conn)
			s.l.serveV1(conn)
		}()
	}
}

// track records conn for closeAll, and counts its handler in wg under the
// same lock, so closeAll's Wait never races an Add; false once closeAll has
// run (nil map), so a connection accepted during shutdown is not left
// running.
func (s *tcpServer) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *tcpServer) untrack(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// closeAll closes every connection and waits for their handlers.
func (s *tcpServer) closeAll() {
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.wg.Wait()
}
