//go:build unix

package queued

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The process tests (SIGKILL, descriptors, locks, restarts) run the daemon
// in a child process: this test binary again, running TestDaemonChild with
// its configuration in the environment.
const daemonChildEnv = "SIDEQUEUE_QUEUED_CHILD"

// childConfig is what a child daemon runs with, beyond loopback ports.
type childConfig struct {
	DataPath        string
	MemQueueSize    int64
	SyncEvery       int64
	SyncTimeout     time.Duration
	MaxDiskBytes    int64
	MaxBytesPerFile int64
	MsgTimeout      time.Duration
	DrainTimeout    time.Duration
	LogLevel        string
	NoFile          uint64 // RLIMIT_NOFILE, if set
}

// durableChild is the fsync preset: every OK is on disk.
func durableChild(dataPath string) childConfig {
	return childConfig{DataPath: dataPath, MemQueueSize: 0, SyncEvery: 1, LogLevel: "error",
		// Positions are persisted often, so a test fails if one ever
		// moves past a message that is still in flight.
		SyncTimeout: 20 * time.Millisecond}
}

func TestDaemonChild(t *testing.T) {
	js := os.Getenv(daemonChildEnv)
	if js == "" {
		t.Skip("the daemon process of the process tests")
	}
	var cfg childConfig
	if err := json.Unmarshal([]byte(js), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "child config:", err)
		os.Exit(2)
	}
	if cfg.NoFile > 0 {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: cfg.NoFile, Max: cfg.NoFile}); err != nil {
			fmt.Fprintln(os.Stderr, "setrlimit:", err)
			os.Exit(2)
		}
	}
	// Standard input closes when the parent goes, killed or not: so does
	// this daemon, never left behind.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	d, err := New(cfg.options())
	if err != nil {
		fmt.Fprintln(os.Stderr, "queued:", err)
		os.Exit(1)
	}
	fmt.Printf("ADDR %s %s\n", d.TCPAddr(), d.HTTPAddr())
	go d.HandleSignals()
	if err := d.Main(); err != nil { // as cmd/queued does
		fmt.Fprintln(os.Stderr, "queued:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func (cfg childConfig) options() *Options {
	o := NewOptions()
	o.TCPAddress, o.HTTPAddress, o.DataPath = "127.0.0.1:0", "127.0.0.1:0", cfg.DataPath
	o.MemQueueSize, o.LogLevel = cfg.MemQueueSize, cfg.LogLevel
	o.QueueScanInterval = 10 * time.Millisecond
	if cfg.SyncEvery > 0 {
		o.SyncEvery = cfg.SyncEvery
	}
	if cfg.SyncTimeout > 0 {
		o.SyncTimeout = cfg.SyncTimeout
	}
	if cfg.MaxBytesPerFile > 0 {
		o.MaxBytesPerFile = cfg.MaxBytesPerFile
	}
	if cfg.MsgTimeout > 0 {
		o.MsgTimeout = cfg.MsgTimeout
	}
	if cfg.DrainTimeout > 0 {
		o.DrainTimeout = cfg.DrainTimeout
	}
	o.MaxDiskBytes = cfg.MaxDiskBytes
	return o
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

// daemonChild is a running child daemon.
type daemonChild struct {
	cmd       *exec.Cmd
	tcp, http string
	stderr    *lockedBuffer
	exited    chan struct{} // closed when the process has ended; err is then set
	err       error
}

// startChild starts a daemon process and waits for its addresses; it fails
// the test if the daemon exits first.
func startChild(t testing.TB, cfg childConfig) *daemonChild {
	t.Helper()
	c := launchChild(t, cfg)
	if c.tcp == "" {
		t.Fatalf("the child did not start (%v); stderr:\n%s", c.err, c.stderr)
	}
	return c
}

// launchChild starts a daemon process that may refuse to start: then its
// addresses are empty and it has exited.
func launchChild(t testing.TB, cfg childConfig) *daemonChild {
	t.Helper()
	js, _ := json.Marshal(cfg)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDaemonChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), daemonChildEnv+"="+string(js))
	stdout := &lockedBuffer{}
	c := &daemonChild{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
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
	waitFor(t, "the child's addresses", func() bool {
		return strings.Contains(stdout.String(), "\n") || c.hasExited()
	})
	line, _, _ := strings.Cut(stdout.String(), "\n")
	fmt.Sscanf(line, "ADDR %s %s", &c.tcp, &c.http)
	return c
}

func (c *daemonChild) hasExited() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to end.
func (c *daemonChild) kill() { c.stop(syscall.SIGKILL) }

// stop sends sig and waits for the process to end.
func (c *daemonChild) stop(sig syscall.Signal) {
	c.cmd.Process.Signal(sig)
	<-c.exited
}

// fatal fails the test, telling how the child ended (if it did, or does
// soon: a refused connection is often the first sign) and what it logged.
func (c *daemonChild) fatal(t testing.TB, format string, args ...any) {
	t.Helper()
	select {
	case <-c.exited:
		t.Fatalf(format+"; the child exited (%v), stderr:\n%s", append(args, c.err, c.stderr)...)
	case <-time.After(5 * time.Second):
		t.Fatalf(format+"; the child still runs, stderr:\n%s", append(args, c.stderr)...)
	}
}
