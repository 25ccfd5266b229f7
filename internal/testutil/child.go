// Package testutil holds what the daemons' process tests share: a daemon
// run as a child process (the test binary again), and waiting on a
// condition. Only tests import it.
package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// WaitFor polls cond every 2 ms until it holds, failing the test after
// timeout: how every test waits for a condition. A daemon's state is cheap
// to ask; WaitEvery polls an API server less often.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	WaitEvery(t, what, timeout, 2*time.Millisecond, cond)
}

// WaitEvery polls cond every interval until it holds, failing the test
// after timeout.
func WaitEvery(t testing.TB, what string, timeout, interval time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(interval)
	}
}

// LockedBuffer collects a child's output while it runs.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Child is a daemon running in a child process.
type Child struct {
	TCP, HTTP string // empty if it exited before serving
	Stderr    *LockedBuffer
	Exited    chan struct{} // closed when the process has ended; Err is then set
	Err       error
	cmd       *exec.Cmd
}

// StartChild runs this test binary's test named testName, with env added,
// as a daemon process, and waits until it prints its addresses (see Serve)
// or exits. The process is killed when the test ends.
func StartChild(t testing.TB, testName string, env ...string) *Child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+testName+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	stdout := &LockedBuffer{}
	c := &Child{Stderr: &LockedBuffer{}, Exited: make(chan struct{}), cmd: cmd}
	cmd.Stdout, cmd.Stderr = stdout, c.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.Err = cmd.Wait(); close(c.Exited) }()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		<-c.Exited
	})
	WaitFor(t, "the child's addresses", 20*time.Second, func() bool {
		return strings.Contains(stdout.String(), "\n") || c.HasExited()
	})
	line, _, _ := strings.Cut(stdout.String(), "\n")
	fmt.Sscanf(line, "ADDR %s %s", &c.TCP, &c.HTTP)
	return c
}

// HasExited reports whether the process has ended.
func (c *Child) HasExited() bool {
	select {
	case <-c.Exited:
		return true
	default:
		return false
	}
}

// Signal sends sig without waiting: for a signal the process outlives,
// such as SIGTERM, which makes queued drain.
func (c *Child) Signal(sig syscall.Signal) error { return c.cmd.Process.Signal(sig) }

// Stop sends sig and waits for the process to end.
func (c *Child) Stop(sig syscall.Signal) {
	c.cmd.Process.Signal(sig)
	<-c.Exited
}

// ExitCode waits up to timeout for the process to end and returns its
// exit status, failing the test if it does not end, or ends by a signal.
func (c *Child) ExitCode(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-c.Exited:
	case <-time.After(timeout):
		t.Fatalf("the child still runs after %s; stderr:\n%s", timeout, c.Stderr)
	}
	if c.Err == nil {
		return 0
	}
	var exit *exec.ExitError
	if !errors.As(c.Err, &exit) || exit.ExitCode() < 0 {
		t.Fatalf("the child ended with %v; stderr:\n%s", c.Err, c.Stderr)
	}
	return exit.ExitCode()
}

// Fatal fails the test, telling how the child ended (if it did, or does
// soon: a refused connection is often the first sign) and what it logged.
func (c *Child) Fatal(t testing.TB, format string, args ...any) {
	t.Helper()
	select {
	case <-c.Exited:
		t.Fatalf(format+"; the child exited (%v), stderr:\n%s", append(args, c.Err, c.Stderr)...)
	case <-time.After(5 * time.Second):
		t.Fatalf(format+"; the child still runs, stderr:\n%s", append(args, c.Stderr)...)
	}
}

// Flood opens n connections to the child's TCP address and waits until
// it logs want (or exits); it returns the logged line and a function that
// closes the connections.
func (c *Child) Flood(t testing.TB, n int, want string) (string, func()) {
	t.Helper()
	flood := make([]net.Conn, 0, n)
	closeAll := func() {
		for _, nc := range flood {
			nc.Close()
		}
		flood = nil
	}
	t.Cleanup(closeAll)
	for range n {
		nc, err := net.DialTimeout("tcp", c.TCP, 5*time.Second)
		if err != nil {
			c.Fatal(t, "dial %d: %v", len(flood)+1, err)
		}
		flood = append(flood, nc)
	}
	WaitFor(t, "the child to log "+want, 20*time.Second, func() bool {
		return strings.Contains(c.Stderr.String(), want) || c.HasExited()
	})
	if c.HasExited() {
		c.Fatal(t, "the child ended")
	}
	log := c.Stderr.String()
	line, _, _ := strings.Cut(log[strings.Index(log, want):], "\n")
	return line, closeAll
}

// LimitDescriptors sets the process's RLIMIT_NOFILE, soft and hard.
func LimitDescriptors(n uint64) error {
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: n})
}

// Serve is the child's side: it prints the addresses StartChild waits
// for, runs main, and ends the process as the daemons' commands do (exit 1
// on an error). The process also ends when its standard input closes, which
// happens when the parent goes, killed or not: no daemon is left behind.
func Serve(tcp, http net.Addr, main func() error, name string) {
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	fmt.Printf("ADDR %s %s\n", tcp, http)
	if err := main(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// ExpectPing checks that the child's HTTP /ping answers 200 OK.
func (c *Child) ExpectPing(t testing.TB) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Get("http://" + c.HTTP + "/ping")
	if err != nil {
		c.Fatal(t, "GET /ping: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "OK" {
		t.Fatalf("GET /ping: %d %q", resp.StatusCode, body)
	}
}
