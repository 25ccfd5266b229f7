// Package shell is what both daemons run in: their two listeners, their
// loops, which the exit waits for, the exit itself (once), and the reason
// for it that the shutdown line gives.
package shell

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// Shell is a daemon's loops and exit; New makes one.
type Shell struct {
	mu      sync.Mutex
	exiting bool // guarded by mu: no loop starts once it is set
	once    sync.Once
	done    chan struct{}
	loops   sync.WaitGroup
	reason  atomic.Pointer[string]
}

// New is a shell with no loops running.
func New() *Shell { return &Shell{done: make(chan struct{})} }

// Listen binds the TCP and HTTP addresses, both or neither.
func Listen(tcpAddr, httpAddr string) (tcp, http net.Listener, err error) {
	if tcp, err = net.Listen("tcp", tcpAddr); err != nil {
		return nil, nil, fmt.Errorf("listen on --tcp-address %s: %w", tcpAddr, err)
	}
	if http, err = net.Listen("tcp", httpAddr); err != nil {
		tcp.Close()
		return nil, nil, fmt.Errorf("listen on --http-address %s: %w", httpAddr, err)
	}
	return tcp, http, nil
}

// Go runs f as one of the daemon's loops, which Exit waits for; once the
// exit has begun it starts nothing (Exit may come before Main).
func (s *Shell) Go(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exiting {
		return
	}
	s.loops.Add(1)
	go func() {
		defer s.loops.Done()
		f()
	}()
}

// Locked runs f while no exit can begin, and reports whether f ran: not
// if the exit has begun.
func (s *Shell) Locked(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exiting {
		return false
	}
	f()
	return true
}

// Exiting reports whether the exit has begun.
func (s *Shell) Exiting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exiting
}

// Done is closed once the daemon has stopped: when Main returns.
func (s *Shell) Done() <-chan struct{} { return s.done }

// Exit, the first time it is called, starts no loop any more, runs stop,
// closes Done, waits for the loops, then runs release (if not nil); other
// calls wait for that first one.
func (s *Shell) Exit(stop, release func()) {
	s.once.Do(func() {
		s.mu.Lock()
		s.exiting = true
		s.mu.Unlock()
		stop()
		close(s.done)
		s.loops.Wait()
		if release != nil {
			release()
		}
	})
}

// Serve runs each server as a loop until the exit, which closes their
// listeners and makes them return nil. A server that fails gives the
// reason, calls exit and has Serve return its error.
func (s *Shell) Serve(exit func(), servers ...func() error) error {
	errc := make(chan error, len(servers))
	for _, serve := range servers {
		s.Go(func() { errc <- serve() })
	}
	select {
	case err := <-errc:
		if err != nil {
			s.StopBecause("error: %v", err)
			exit()
			return err
		}
		<-s.done // a server returns nil only when the exit closed it
	case <-s.done:
	}
	return nil
}

// StopBecause records why the daemon is stopping; the first reason given
// is the one the shutdown line reports.
func (s *Shell) StopBecause(format string, args ...any) {
	reason := fmt.Sprintf(format, args...)
	s.reason.CompareAndSwap(nil, &reason)
}

// StopReason is the recorded reason; a daemon embedded in a program that
// calls Exit itself was given none.
func (s *Shell) StopReason() string {
	if r := s.reason.Load(); r != nil {
		return *r
	}
	return "Exit called"
}
