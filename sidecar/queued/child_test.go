//go:build unix

package queued

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/testutil"
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
	DrainOnly       bool
	TerminationLog  string
	SummaryInterval time.Duration // DrainSummaryInterval, if set
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
		if err := testutil.LimitDescriptors(cfg.NoFile); err != nil {
			fmt.Fprintln(os.Stderr, "setrlimit:", err)
			os.Exit(2)
		}
	}
	d, err := New(cfg.options())
	if err != nil {
		fmt.Fprintln(os.Stderr, "queued:", err)
		os.Exit(1)
	}
	d.HandleSignals()
	testutil.Serve(d.TCPAddr(), d.HTTPAddr(), d.Main, "queued")
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
	if cfg.SummaryInterval > 0 {
		o.DrainSummaryInterval = cfg.SummaryInterval
	}
	o.DrainOnly, o.TerminationLog = cfg.DrainOnly, cfg.TerminationLog
	o.MaxDiskBytes = cfg.MaxDiskBytes
	return o
}

// daemonChild is a running child daemon.
type daemonChild struct{ *testutil.Child }

// startChild starts a daemon process and waits for its addresses; it fails
// the test if the daemon exits first.
func startChild(t testing.TB, cfg childConfig) *daemonChild {
	t.Helper()
	c := launchChild(t, cfg)
	if c.TCP == "" {
		t.Fatalf("the child did not start (%v); stderr:\n%s", c.Err, c.Stderr)
	}
	return c
}

// launchChild starts a daemon process that may refuse to start: then its
// addresses are empty and it has exited.
func launchChild(t testing.TB, cfg childConfig) *daemonChild {
	t.Helper()
	js, _ := json.Marshal(cfg)
	return &daemonChild{testutil.StartChild(t, "TestDaemonChild", daemonChildEnv+"="+string(js))}
}

// kill sends SIGKILL and waits for the process to end.
func (c *daemonChild) kill() { c.Stop(syscall.SIGKILL) }
