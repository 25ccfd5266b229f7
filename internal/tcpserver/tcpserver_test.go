package tcpserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestCloseAllEndsHandlersAndRefusesNewOnes(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var running atomic.Int32
	started := make(chan struct{}, 1)
	s := New(func(c net.Conn) {
		running.Add(1)
		defer running.Add(-1)
		started <- struct{}{}
		c.Read(make([]byte, 1)) // until closed
	})
	go s.Serve(ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-started
	s.CloseAll()
	ln.Close()
	if n := running.Load(); n != 0 {
		t.Fatalf("%d handlers still running after CloseAll", n)
	}
	server, client := net.Pipe()
	defer client.Close()
	s.Handle(server) // after CloseAll: closed at once, handler not run
	if _, err := client.Read(make([]byte, 1)); err == nil {
		t.Fatal("a connection handed over after CloseAll was served")
	}
}

// fakeListener fails the Accept calls next says to, and passes the others
// to a real listener.
type fakeListener struct {
	net.Listener
	next  func(call int) error // nil: accept for real
	calls atomic.Int32
}

func (f *fakeListener) Accept() (net.Conn, error) {
	if err := f.next(int(f.calls.Add(1))); err != nil {
		return nil, err
	}
	return f.Listener.Accept()
}

// acceptErr is the error a real listener returns when accept4 fails.
func acceptErr(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
}

// logLines collects what Serve logs.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

func within[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// Out of descriptors, Serve logs once, backs off and accepts again; the
// backoff starts over (and logs again) after a connection gets through.
func TestServeRetriesTemporaryAcceptErrors(t *testing.T) {
	t.Parallel()
	real, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	ln := &fakeListener{Listener: real, next: func(call int) error {
		switch {
		case call <= 3:
			return acceptErr(syscall.EMFILE)
		case call == 5:
			return acceptErr(syscall.ENFILE)
		}
		return nil
	}}
	handled := make(chan struct{}, 2)
	s := New(func(net.Conn) { handled <- struct{}{} })
	var logs logLines
	s.Logf = logs.logf
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	for i := range 2 {
		c, err := net.Dial("tcp", real.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		within(t, handled, fmt.Sprintf("connection %d to be handled", i+1))
	}
	got := logs.get()
	t.Logf("logged: %q", got)
	if len(got) != 2 || !strings.Contains(got[0], syscall.EMFILE.Error()) || !strings.Contains(got[1], syscall.ENFILE.Error()) {
		t.Fatalf("logged %q, want one line per run of failures, naming EMFILE then ENFILE", got)
	}
	s.CloseAll()
	real.Close()
	if err := within(t, errc, "Serve to return"); err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// CloseAll ends a backoff wait at once: Serve returns without calling
// Accept again.
func TestCloseAllEndsAcceptBackoff(t *testing.T) {
	t.Parallel()
	failed := make(chan int, 100)
	ln := &fakeListener{next: func(call int) error {
		failed <- call
		return acceptErr(syscall.EMFILE)
	}}
	s := New(func(net.Conn) {})
	s.Logf = func(string, ...any) {}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	// After the sixth failure Serve waits 160ms: CloseAll lands inside it.
	for within(t, failed, "Accept to fail") < 6 {
	}
	s.CloseAll()
	if err := within(t, errc, "Serve to return"); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if n := ln.calls.Load(); n != 6 {
		t.Fatalf("Accept called %d times, want 6: Serve slept through CloseAll", n)
	}
}

// An error that says the listener itself is broken is returned.
func TestServeReturnsPermanentAcceptError(t *testing.T) {
	t.Parallel()
	ln := &fakeListener{next: func(int) error { return acceptErr(syscall.EBADF) }}
	s := New(func(net.Conn) {})
	var logs logLines
	s.Logf = logs.logf
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	if err := within(t, errc, "Serve to return"); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("Serve returned %v, want EBADF", err)
	}
	if got := logs.get(); len(got) != 0 {
		t.Fatalf("logged %q for a permanent error", got)
	}
}
