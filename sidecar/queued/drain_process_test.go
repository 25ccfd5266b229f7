//go:build unix

package queued

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
	"github.com/sidequeue/sidequeue/internal/termination"
	"github.com/sidequeue/sidequeue/internal/testutil"
)

// The drain as Kubernetes drives it, in daemon processes: SIGTERM, the
// termination summary in a file, the exit status, SIGKILL when the grace
// period runs out, and the drain Job (--drain-only) on what is left.

const drainMessages = 20_000

// drainChild is a memory-first daemon (nsqd's default memory queue, so
// half of the backlog is in memory) with its summary in logPath.
func drainChild(dataPath, logPath string) childConfig {
	return childConfig{DataPath: dataPath, MemQueueSize: 10_000, LogLevel: "error",
		TerminationLog: logPath, DrainTimeout: 2 * time.Minute}
}

// backlogOf publishes n distinct messages to topic t, channel c (created
// first, as a Channel resource would be), with no consumer, and returns
// their bodies.
func backlogOf(t *testing.T, child *daemonChild, n int) map[string]bool {
	t.Helper()
	childOK(t, child, "POST", "/topic/create?topic=t", "")
	childOK(t, child, "POST", "/channel/create?topic=t&channel=c", "")
	bodies := make(map[string]bool, n)
	pub := dialAddr(t, child.TCP)
	for sent := 0; sent < n; sent += 200 {
		batch := binary.BigEndian.AppendUint32(nil, 200)
		for i := sent; i < sent+200; i++ {
			body := fmt.Sprintf("m%05d", i)
			bodies[body] = true
			batch = binary.BigEndian.AppendUint32(batch, uint32(len(body)))
			batch = append(batch, body...)
		}
		pub.cmd("MPUB t", batch)
		pub.expectOK()
	}
	return bodies
}

// waitSummary waits until the termination log holds want.
func waitSummary(t *testing.T, child *daemonChild, logPath string, want termination.Summary) {
	t.Helper()
	var got termination.Summary
	var err error
	defer func() { // WaitFor's failure ends the test through here
		if t.Failed() {
			t.Logf("last summary read: %+v (%v); the child's stderr:\n%s", got, err, child.Stderr)
		}
	}()
	testutil.WaitFor(t, fmt.Sprintf("the termination summary %+v", want), 30*time.Second, func() bool {
		got, err = readSummary(logPath)
		return err == nil && got == want
	})
}

func readSummary(logPath string) (termination.Summary, error) {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return termination.Summary{}, err
	}
	return termination.Parse(string(b))
}

// sigterm starts the child's drain and waits for its first summary, which
// says the drain has begun and what it holds.
func sigterm(t *testing.T, child *daemonChild, logPath string, depth int64) {
	t.Helper()
	if err := child.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitSummary(t, child, logPath, termination.Summary{Drained: false, Depth: depth})
}

// consumeN reads and finishes n messages on channel c of topic t, holding
// at most rdy in flight, then asks for no more (what was sent meanwhile
// stays in flight); it returns the bodies finished.
func consumeN(t *testing.T, sub *conn, n, rdy int) map[string]bool {
	t.Helper()
	sub.SetDeadline(time.Now().Add(3 * time.Minute)) // 20,000 under -race on a loaded machine
	sub.cmd(fmt.Sprintf("RDY %d", rdy))
	got := make(map[string]bool, n)
	for range n {
		m := sub.message()
		got[m.body] = true
		sub.cmd("FIN " + m.id)
	}
	sub.tryCmd("RDY 0") // a drained daemon may be gone already
	return got
}

// consumeUntilClosed finishes every message until the daemon closes the
// connection (a drain-only daemon exits once empty), and returns how many
// times each body came.
func consumeUntilClosed(t *testing.T, addr string) map[string]int {
	t.Helper()
	sub := subscribeAddr(t, addr, "t", "c")
	sub.SetDeadline(time.Now().Add(3 * time.Minute))
	sub.cmd("RDY 2500")
	got := map[string]int{}
	for {
		ft, data, err := sub.tryFrame()
		if err != nil {
			return got // closed: the daemon is done
		}
		if ft != protocol.FrameTypeMessage {
			t.Fatalf("frame %d %q, want messages", ft, data)
		}
		got[string(data[26:])]++
		if sub.tryCmd("FIN "+string(data[10:26])) != nil {
			return got
		}
	}
}

// SIGTERM with a backlog and no consumer: publishes are refused, a
// consumer that comes gets everything, and the daemon exits 0 with
// {"drained":true,"depth":0}.
func TestSIGTERMDrainsTheBacklogToAConsumer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon process")
	}
	t.Parallel()
	logPath := filepath.Join(t.TempDir(), "termination-log")
	child := startChild(t, drainChild(t.TempDir(), logPath))
	want := backlogOf(t, child, drainMessages)
	start := time.Now()
	sigterm(t, child, logPath, drainMessages)

	pub := dialAddr(t, child.TCP)
	pub.cmd("PUB t", []byte("late"))
	pub.expectError("E_PUB_FAILED PUB failed " + errDraining.Error())
	if code, body := childHTTP(t, child, "POST", "/pub?topic=t", "late"); code != 503 {
		t.Fatalf("HTTP publish while draining: %d %q, want 503", code, body)
	}
	got := consumeN(t, subscribeAddr(t, child.TCP, "t", "c"), drainMessages, 2500)
	if code := child.ExitCode(t, time.Minute); code != 0 {
		t.Fatalf("exit status %d after a complete drain, want 0; stderr:\n%s", code, child.Stderr)
	}
	for body := range want {
		if !got[body] {
			t.Fatalf("%s was never delivered", body)
		}
	}
	waitSummary(t, child, logPath, termination.Summary{Drained: true, Depth: 0})
	t.Logf("%d messages drained to a consumer in %s after SIGTERM", len(got), time.Since(start))
}

// A drain timeout too short for the backlog: the daemon exits 1, its
// summary says how many are left, and a drain-only daemon on the data
// path delivers exactly those, the ones held in flight included.
func TestDrainTimeoutLeavesTheRestForDrainOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts daemon processes")
	}
	t.Parallel()
	dataPath, logs := t.TempDir(), t.TempDir()
	logPath := filepath.Join(logs, "first")
	cfg := drainChild(dataPath, logPath)
	// Long enough for the consumer's 1,000 FINs, under load too; the
	// summary refreshed often, to see that they were taken.
	cfg.DrainTimeout, cfg.SummaryInterval = 4*time.Second, 20*time.Millisecond
	child := startChild(t, cfg)
	want := backlogOf(t, child, drainMessages)
	sigterm(t, child, logPath, drainMessages)
	finished := consumeN(t, subscribeAddr(t, child.TCP, "t", "c"), 1000, 100)
	left := int64(drainMessages - len(finished))
	waitSummary(t, child, logPath, termination.Summary{Drained: false, Depth: left})
	if code := child.ExitCode(t, time.Minute); code != 1 {
		t.Fatalf("exit status %d after a drain that timed out, want 1", code)
	}
	waitSummary(t, child, logPath, termination.Summary{Drained: false, Depth: left})

	onlyLog := filepath.Join(logs, "drain-only")
	only := startChild(t, childConfig{DataPath: dataPath, MemQueueSize: 10_000, LogLevel: "error",
		TerminationLog: onlyLog, DrainOnly: true})
	waitSummary(t, only, onlyLog, termination.Summary{Drained: false, Depth: left})
	got := consumeUntilClosed(t, only.TCP)
	if code := only.ExitCode(t, time.Minute); code != 0 {
		t.Fatalf("drain-only exit status %d, want 0", code)
	}
	waitSummary(t, only, onlyLog, termination.Summary{Drained: true, Depth: 0})
	for body := range want {
		if !finished[body] && got[body] == 0 {
			t.Errorf("%s lost: neither finished before the timeout nor delivered after", body)
		}
	}
	if int64(len(got)) != left {
		t.Errorf("drain-only delivered %d distinct messages, the summary said %d were left", len(got), left)
	}
	t.Logf("%d finished during the drain; %d left (exit 1), all delivered by --drain-only", len(finished), len(got))
}

// A sidecar SIGKILLed mid-drain (its grace period spent) leaves a summary
// that says it held a backlog, refreshed while the drain went on.
func TestSIGKILLMidDrainLeavesTheSummary(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon process")
	}
	t.Parallel()
	logPath := filepath.Join(t.TempDir(), "termination-log")
	cfg := drainChild(t.TempDir(), logPath)
	cfg.SummaryInterval = 20 * time.Millisecond
	child := startChild(t, cfg)
	backlogOf(t, child, drainMessages)
	sigterm(t, child, logPath, drainMessages)
	finished := consumeN(t, subscribeAddr(t, child.TCP, "t", "c"), 2000, 100)
	left := int64(drainMessages - len(finished))
	waitSummary(t, child, logPath, termination.Summary{Drained: false, Depth: left})
	child.kill()
	if got, err := readSummary(logPath); err != nil || got != (termination.Summary{Drained: false, Depth: left}) {
		t.Fatalf("after SIGKILL the summary is %+v (%v), want drained false, depth %d", got, err, left)
	}
}

// The disk preset (--mem-queue-size=0) SIGKILLed with 20,000 queued: the
// drain Job's daemon (--drain-only) on its data path delivers all of them
// and exits 0, drained.
func TestDrainOnlyDeliversWhatAKilledDaemonHeld(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills daemon processes")
	}
	t.Parallel()
	dataPath := t.TempDir()
	logPath := filepath.Join(t.TempDir(), "termination-log")
	child := startChild(t, childConfig{DataPath: dataPath, MemQueueSize: 0, LogLevel: "error"})
	want := backlogOf(t, child, drainMessages)
	child.kill()

	only := startChild(t, childConfig{DataPath: dataPath, MemQueueSize: 0, LogLevel: "error",
		TerminationLog: logPath, DrainOnly: true})
	var first termination.Summary
	waitFor(t, "drain-only's first summary", func() bool {
		var err error
		first, err = readSummary(logPath)
		return err == nil
	})
	if first.Drained || first.Depth < drainMessages {
		// A batch the topic was copying when killed may be counted twice.
		t.Fatalf("drain-only's first summary %+v, want drained false, depth at least %d", first, drainMessages)
	}
	start := time.Now()
	got := consumeUntilClosed(t, only.TCP)
	if code := only.ExitCode(t, time.Minute); code != 0 {
		t.Fatalf("drain-only exit status %d, want 0", code)
	}
	waitSummary(t, only, logPath, termination.Summary{Drained: true, Depth: 0})
	deliveries := 0
	for body, n := range got {
		if !want[body] {
			t.Errorf("delivered %q, never published", body)
		}
		deliveries += n
	}
	if len(got) != drainMessages {
		t.Fatalf("drain-only delivered %d distinct messages, want %d", len(got), drainMessages)
	}
	t.Logf("drain-only: first summary depth %d; %d distinct messages, %d deliveries, in %s",
		first.Depth, len(got), deliveries, time.Since(start))
}
