//go:build unix

package lookup

import (
	"bufio"
	"bytes"
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

	"github.com/sidequeue/sidequeue/internal/lookupwire"
)

const (
	fdLimitChildEnv = "SIDEQUEUE_LOOKUPD_FDLIMIT_CHILD"
	fdLimit         = 64  // the child's RLIMIT_NOFILE
	fdFlood         = 150 // connections the parent opens: well past fdLimit
)

// TestFDLimitChild is the daemon TestAcceptSurvivesFDExhaustion runs out of
// descriptors: its own process, so the limit binds it alone.
func TestFDLimitChild(t *testing.T) {
	if os.Getenv(fdLimitChildEnv) == "" {
		t.Skip("run by TestAcceptSurvivesFDExhaustion")
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: fdLimit, Max: fdLimit}); err != nil {
		fmt.Fprintln(os.Stderr, "setrlimit:", err)
		os.Exit(2)
	}
	// Standard input closes when the parent goes, killed or not: so does
	// this daemon, never left behind.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	o := NewOptions()
	o.TCPAddress, o.HTTPAddress, o.BroadcastAddress = "127.0.0.1:0", "127.0.0.1:0", "lookupd.test"
	o.LogLevel = "warn" // Logf nil: WARN lines go to standard error, which the parent reads
	l, err := New(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("ADDR %s %s\n", l.TCPAddr(), l.HTTPAddr())
	// As cmd/lookupd does: Main returning an error ends the process.
	if err := l.Main(); err != nil {
		fmt.Fprintln(os.Stderr, "lookupd:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// lockedBuffer collects a child's output while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type fdLimitChild struct {
	tcp, http string
	stderr    *lockedBuffer
	exited    chan struct{} // closed when the process has ended; err is then set
	err       error
}

func (c *fdLimitChild) hasExited() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// fatal fails the test, telling how the child ended (if it did, or does
// soon: a refused connection is often the first sign) and what it logged.
func (c *fdLimitChild) fatal(t *testing.T, format string, args ...any) {
	t.Helper()
	select {
	case <-c.exited:
		t.Fatalf(format+"; the child exited (%v), stderr:\n%s", append(args, c.err, c.stderr)...)
	case <-time.After(5 * time.Second):
		t.Fatalf(format+"; the child still runs, stderr:\n%s", append(args, c.stderr)...)
	}
}

func startFDLimitChild(t *testing.T) *fdLimitChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFDLimitChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), fdLimitChildEnv+"=1")
	stdout := &lockedBuffer{}
	c := &fdLimitChild{stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = stdout, c.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		<-c.exited
	})
	waitFor(t, "the child's addresses", 20*time.Second, func() bool {
		return strings.Contains(stdout.String(), "\n") || c.hasExited()
	})
	line, _, _ := strings.Cut(stdout.String(), "\n")
	if _, err := fmt.Sscanf(line, "ADDR %s %s", &c.tcp, &c.http); err != nil {
		t.Fatalf("child said %q (%v); stderr:\n%s", line, err, c.stderr)
	}
	return c
}

// A lookupd out of descriptors logs the accept failure and keeps serving
// once descriptors are free again, as nsqlookupd does; it used to exit.
func TestAcceptSurvivesFDExhaustion(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon process and exhausts its descriptors")
	}
	t.Parallel()
	child := startFDLimitChild(t)

	// The kernel completes every handshake; the daemon runs out of
	// descriptors accepting them.
	flood := make([]net.Conn, 0, fdFlood)
	closeFlood := func() {
		for _, c := range flood {
			c.Close()
		}
		flood = nil
	}
	t.Cleanup(closeFlood)
	for range fdFlood {
		c, err := net.DialTimeout("tcp", child.tcp, 5*time.Second)
		if err != nil {
			child.fatal(t, "dial %d: %v", len(flood)+1, err)
		}
		flood = append(flood, c)
	}
	const logged = "temporary Accept() failure"
	waitFor(t, "the accept failure in the child's log", 20*time.Second, func() bool {
		return strings.Contains(child.stderr.String(), logged) || child.hasExited()
	})
	if child.hasExited() {
		child.fatal(t, "the child ended")
	}
	line := child.stderr.String()
	line, _, _ = strings.Cut(line[strings.Index(line, logged):], "\n")
	t.Logf("child logged: ...%s", line)

	closeFlood()
	conn, err := net.DialTimeout("tcp", child.tcp, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if err := lookupwire.WriteMagic(conn); err != nil {
		t.Fatal(err)
	}
	if err := lookupwire.WriteCommand(conn, lookupwire.Ping()); err != nil {
		t.Fatal(err)
	}
	if resp, err := lookupwire.ReadResponse(bufio.NewReader(conn), 1<<20); err != nil || string(resp) != "OK" {
		t.Fatalf("PING after the flood: %q, %v", resp, err)
	}
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Get("http://" + child.http + "/ping")
	if err != nil {
		t.Fatalf("GET /ping: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "OK" {
		t.Fatalf("GET /ping: %d %q", resp.StatusCode, body)
	}
	if child.hasExited() {
		child.fatal(t, "the child ended")
	}
	t.Logf("the child logged the failure %d times in all (once per run of failures)",
		strings.Count(child.stderr.String(), logged))
}
