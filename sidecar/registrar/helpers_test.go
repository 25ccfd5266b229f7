package registrar

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var testIdentity = Identity{BroadcastAddress: "10.1.2.3", Hostname: "pod-a", TCPPort: 4150, HTTPPort: 4151, Version: "1.3.0"}

// regSet is a daemon's registrations, as a snapshot function sees them.
type regSet struct {
	mu   sync.Mutex
	regs []Registration
}

func (s *regSet) set(regs ...Registration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regs = regs
}

func (s *regSet) snapshot() []Registration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Registration(nil), s.regs...)
}

// logRecorder keeps every log line, so tests can count repetitions.
type logRecorder struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) logf(format string, args ...any) {
	l.t.Helper()
	l.t.Logf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logRecorder) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

// fakeResolver answers from a table that tests change, and counts lookups.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][]string
	err     error
	calls   int
	changed chan struct{}
}

func newFakeResolver() *fakeResolver {
	return &fakeResolver{answers: map[string][]string{}, changed: make(chan struct{})}
}

func (f *fakeResolver) set(host string, addrs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[host], f.err = addrs, nil
}

func (f *fakeResolver) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	close(f.changed)
	f.changed = make(chan struct{})
	if f.err != nil {
		return nil, f.err
	}
	if a, ok := f.answers[host]; ok {
		return append([]string(nil), a...), nil
	}
	return nil, errors.New("no such host " + host)
}

// waitCalls blocks until n more lookups than now have happened.
func (f *fakeResolver) waitCalls(t *testing.T, n int) {
	t.Helper()
	f.mu.Lock()
	target := f.calls + n
	f.mu.Unlock()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		done, changed := f.calls >= target, f.changed
		f.mu.Unlock()
		if done {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %d lookups", n)
		}
	}
}

// startRegistrar starts a Registrar whose Close, at cleanup, must leave none
// of its goroutines behind.
func startRegistrar(t *testing.T, opts Options, snapshot func() []Registration) (*Registrar, *logRecorder) {
	t.Helper()
	logs := &logRecorder{t: t}
	if opts.Identity == (Identity{}) {
		opts.Identity = testIdentity
	}
	opts.Logf = logs.logf
	r := New(opts, snapshot)
	r.Start()
	t.Cleanup(func() {
		r.Close()
		assertNoGoroutines(t)
	})
	return r, logs
}

// assertNoGoroutines fails if a goroutine of the Registrar outlives Close.
// Close waits for all of them, but a goroutine that has just signalled its
// WaitGroup may not have returned yet, so the check allows it a moment to.
// No event marks a goroutine's exit: this is the one poll in the tests.
func assertNoGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		left := registrarGoroutines()
		if left == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutine left after Close:\n%s", left)
		}
		time.Sleep(time.Millisecond)
	}
}

func registrarGoroutines() string {
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, g := range strings.Split(stacks, "\n\n") {
		for _, fn := range []string{"registrar.(*peer)", "registrar.(*session)", "registrar.(*Registrar)"} {
			if strings.Contains(g, fn) {
				return g
			}
		}
	}
	return ""
}
