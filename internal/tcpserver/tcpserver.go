// Package tcpserver is the accept loop both daemons share: one goroutine
// per connection, and a shutdown that closes them all and waits.
package tcpserver

import (
	"errors"
	"net"
	"sync"
)

// Server runs handle on every accepted connection, closing it afterwards.
type Server struct {
	handle func(net.Conn)
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// New returns a Server that runs handle for each connection.
func New(handle func(net.Conn)) *Server {
	return &Server{handle: handle, conns: map[net.Conn]struct{}{}}
}

// Serve accepts connections until the listener is closed.
func (s *Server) Serve(ln net.Listener) error {
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
		go s.Handle(conn)
	}
}

// Handle serves one connection until it ends; Serve calls it, and tests may
// hand it a connection of their own (a net.Pipe, say).
func (s *Server) Handle(conn net.Conn) {
	if !s.track(conn) {
		conn.Close()
		return
	}
	defer s.wg.Done()
	defer s.untrack(conn)
	defer conn.Close()
	s.handle(conn)
}

// track records conn for CloseAll and counts its handler in wg under the
// same lock, so CloseAll's Wait never races an Add; false once CloseAll has
// run, so a connection accepted during shutdown is not left running.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// CloseAll closes every connection, refuses new ones and waits for the
// handlers to return.
func (s *Server) CloseAll() {
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.wg.Wait()
}
