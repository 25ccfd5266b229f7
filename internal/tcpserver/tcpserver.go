// Package tcpserver is the accept loop both daemons share: one goroutine
// per connection, and a shutdown that closes them all and waits.
package tcpserver

import (
	"errors"
	"log"
	"net"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Server runs handle on every accepted connection, closing it afterwards.
type Server struct {
	// Logf receives the warning logged when Accept starts failing
	// temporarily (out of descriptors, say); nil means the standard logger,
	// as net/http does, so the failure is never silent. Set it before Serve.
	Logf func(format string, args ...any)

	handle func(net.Conn)
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
	done   chan struct{} // closed by CloseAll: ends a backoff wait at once
}

// New returns a Server that runs handle for each connection.
func New(handle func(net.Conn)) *Server {
	return &Server{handle: handle, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
}

// Accept backoff, as net/http's Server.Serve: long enough not to spin on a
// failure that lasts, short enough to serve again soon after it ends.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// temporary are the accept errors that say nothing about the listener, only
// that the process or the host is short of something for now (descriptors,
// buffers) or that one pending connection went away. Returning on them, as
// Serve once did, made the daemon exit on a burst of connections.
var temporary = []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
	syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN, syscall.ETIMEDOUT}

func isTemporary(err error) bool {
	return slices.ContainsFunc(temporary, func(t error) bool { return errors.Is(err, t) })
}

// Serve accepts connections until the listener is closed or CloseAll runs
// (then it returns nil), or until Accept fails for good. On a temporary
// failure it logs once, then retries with a backoff doubling from 5ms to
// 1s, back to 5ms after the next connection accepted.
func (s *Server) Serve(ln net.Listener) error {
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err == nil {
			delay = 0
			go s.Handle(conn)
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if isTemporary(err) {
			if delay == 0 {
				// Once per run of failures: a daemon out of descriptors
				// would otherwise log every retry for as long as it lasts.
				s.logf("temporary Accept() failure - %s; retrying with backoff up to %v", err, maxBackoff)
			}
			delay = min(max(2*delay, minBackoff), maxBackoff)
			if !s.wait(delay) {
				return nil
			}
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue // a deadline set on the listener
		}
		return err
	}
}

// wait sleeps for d unless CloseAll runs first, so a daemon shutting down
// is never held by a backoff; false if it did. A listener closed without
// CloseAll is seen by the next Accept, at most maxBackoff later.
func (s *Server) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
		return
	}
	log.Printf(format, args...)
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

// CloseAll closes every connection, refuses new ones, ends Serve if it is
// waiting out an accept failure, and waits for the handlers to return.
func (s *Server) CloseAll() {
	s.mu.Lock()
	if s.conns != nil {
		close(s.done) // the first call only: conns is nil afterwards
	}
	for c := range s.conns {
		c.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.wg.Wait()
}
