//go:build unix

package queued

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// childHTTP sends a request to a child daemon and returns the status and
// body.
func childHTTP(t *testing.T, c *daemonChild, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+c.HTTP+path, strings.NewReader(body))
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		c.Fatal(t, "%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func childOK(t *testing.T, c *daemonChild, method, path, body string) {
	t.Helper()
	if code, got := childHTTP(t, c, method, path, body); code != 200 {
		t.Fatalf("%s %s: %d %q", method, path, code, got)
	}
}

// Channels created or deleted are in the metadata at once: after a
// SIGKILL, both channels of a topic get what is published, and a deleted
// channel stays deleted. A crash used to lose the first (and what was
// published to it) and bring back the second.
func TestChannelsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills daemon processes")
	}
	t.Parallel()
	dataPath := t.TempDir()
	cfg := childConfig{DataPath: dataPath, LogLevel: "error"}
	child := startChild(t, cfg)
	childOK(t, child, "POST", "/topic/create?topic=orders", "")
	for _, ch := range []string{"billing", "shipping", "doomed"} {
		childOK(t, child, "POST", "/channel/create?topic=orders&channel="+ch, "")
	}
	childOK(t, child, "POST", "/channel/delete?topic=orders&channel=doomed", "")
	child.kill()

	again := startChild(t, cfg)
	for range 10 {
		childOK(t, again, "POST", "/pub?topic=orders", "m")
	}
	var stats struct {
		Topics []struct {
			Channels []struct {
				Name  string `json:"channel_name"`
				Depth int64  `json:"depth"`
			} `json:"channels"`
		} `json:"topics"`
	}
	waitFor(t, "10 messages in each channel", func() bool {
		_, body := childHTTP(t, again, "GET", "/stats?format=json&topic=orders", "")
		stats.Topics = nil
		if err := json.Unmarshal([]byte(body), &stats); err != nil || len(stats.Topics) != 1 {
			t.Fatalf("/stats: %v %s", err, body)
		}
		chans := stats.Topics[0].Channels
		return len(chans) == 2 && chans[0].Name == "billing" && chans[0].Depth == 10 &&
			chans[1].Name == "shipping" && chans[1].Depth == 10
	})
}

// A second daemon on a data path in use is refused at start, as nsqd
// refuses it; once the first is gone, even by SIGKILL, the path is free.
func TestSecondDaemonOnADataPathIsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("starts daemon processes")
	}
	t.Parallel()
	cfg := childConfig{DataPath: t.TempDir(), LogLevel: "error"}
	first := startChild(t, cfg)
	second := launchChild(t, cfg)
	<-second.Exited
	if second.TCP != "" || !strings.Contains(second.Stderr.String(), "failed to lock data-path") {
		t.Fatalf("second daemon on the same data path: addresses %q, exit %v, stderr %q",
			second.TCP, second.Err, second.Stderr)
	}
	t.Logf("refused: %s", strings.TrimSpace(second.Stderr.String()))
	first.kill()
	startChild(t, cfg)
}

// An unwritable data path is refused at start, not found at the first
// publish while /ping says OK.
func TestUnwritableDataPathIsRefusedAtStart(t *testing.T) {
	t.Parallel()
	dataPath := t.TempDir()
	if os.Geteuid() == 0 { // root writes through permissions: use a read-only mount
		if err := syscall.Mount("tmpfs", dataPath, "tmpfs", syscall.MS_RDONLY, "size=1m"); err != nil {
			t.Skipf("cannot mount a read-only tmpfs: %v", err)
		}
		t.Cleanup(func() { syscall.Unmount(dataPath, syscall.MNT_DETACH) })
	} else if err := os.Chmod(dataPath, 0o555); err != nil {
		t.Fatal(err)
	}
	o := NewOptions()
	o.TCPAddress, o.HTTPAddress, o.DataPath = "127.0.0.1:0", "127.0.0.1:0", dataPath
	_, err := New(o)
	if err == nil || !strings.Contains(err.Error(), "is not writable") {
		t.Fatalf("New on an unwritable data path: %v", err)
	}
	t.Logf("refused: %v", err)
}

// A topic without channels holds its messages across restarts without
// gaining any: the message its disk reader held used to be written again
// at each exit (depth 1, 2, 3...).
func TestTopicWithoutChannelsKeepsItsDepthAcrossRestarts(t *testing.T) {
	t.Parallel()
	dataPath := t.TempDir()
	disk := func(o *Options) { o.DataPath, o.MemQueueSize = dataPath, 0 }
	d := startDaemon(t, disk)
	publishN(t, d, "lonely", 5)
	for restart := range 3 {
		d.Exit()
		d = startDaemon(t, disk)
		tp, err := d.GetExistingTopic("lonely")
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the topic's depth", func() bool { return tp.Depth() >= 5 })
		if n := tp.Depth(); n != 5 {
			t.Fatalf("after restart %d: depth %d, want 5", restart+1, n)
		}
	}
}

// --max-msg-size limits new publishes: a larger message stored before it
// was lowered is still delivered, to a channel that existed and to one
// created after the restart, not discarded as damage.
func TestMessageLargerThanALoweredMaxMsgSizeIsDelivered(t *testing.T) {
	t.Parallel()
	dataPath := t.TempDir()
	big := strings.Repeat("b", 1500)
	d := startDaemon(t, func(o *Options) { o.DataPath, o.MemQueueSize, o.MaxMsgSize = dataPath, 0, 2000 })
	subscribe(t, d, "big", "old").Close()
	pub := dial(t, d)
	pub.cmd("PUB big", []byte(big))
	pub.expectOK()
	ch := mustChannel(t, d, "big", "old")
	waitFor(t, "the message in the channel", func() bool { return ch.Depth() == 1 })
	pub.cmd("PUB later", []byte(big)) // no channel yet: it waits in the topic
	pub.expectOK()
	d.Exit()

	d = startDaemon(t, func(o *Options) { o.DataPath, o.MemQueueSize, o.MaxMsgSize = dataPath, 0, 100 })
	for _, sub := range []*conn{subscribe(t, d, "big", "old"), subscribe(t, d, "later", "new")} {
		sub.cmd("RDY 1")
		if m := sub.message(); m.body != big {
			t.Fatalf("got a %d-byte body, want the 1500-byte one", len(m.body))
		}
	}
	pub = dial(t, d)
	pub.cmd("PUB big", []byte(big))
	pub.expectError("E_BAD_MESSAGE PUB message too big 1500 > 100")
}

// Every stop writes the summary: SIGINT or a second SIGTERM (Stop) as well
// as the end of a drain; a drain that ends with a backlog makes Main fail,
// so the process exits 1.
func TestStopWritesTheSummaryAndAnUnfinishedDrainFails(t *testing.T) {
	t.Parallel()
	logPath := filepath.Join(t.TempDir(), "termination-log")
	run := func(stop func(d *Daemon)) (error, string) {
		d := newDaemon(t, func(o *Options) { o.TerminationLog = logPath })
		main := make(chan error, 1)
		go func() { main <- d.Main() }()
		subscribe(t, d, "t", "c").Close()
		publishN(t, d, "t", 2)
		ch := mustChannel(t, d, "t", "c")
		waitFor(t, "the messages in the channel", func() bool { return ch.Depth() == 2 })
		stop(d)
		err := <-main
		b, _ := os.ReadFile(logPath)
		return err, string(b)
	}
	err, summary := run(func(d *Daemon) { d.Stop() })
	if err != nil || summary != `{"drained":false,"depth":2}`+"\n" {
		t.Fatalf("Stop (SIGINT): Main %v, summary %q", err, summary)
	}
	err, summary = run(func(d *Daemon) { d.StartDrain(50 * time.Millisecond) })
	if !errors.Is(err, ErrBacklogLeft) || summary != `{"drained":false,"depth":2}`+"\n" {
		t.Fatalf("drain timed out: Main %v, summary %q", err, summary)
	}
	err, summary = run(func(d *Daemon) { d.StartDrain(time.Hour); d.Stop() })
	if !errors.Is(err, ErrBacklogLeft) || summary != `{"drained":false,"depth":2}`+"\n" {
		t.Fatalf("second SIGTERM during a drain: Main %v, summary %q", err, summary)
	}
}

// Deleting a topic while it is published to: the name stays taken until the
// files are gone, so a publish during the deletion is refused or deleted
// with the topic, and every publish acknowledged after the deletion returned
// is in the new topic of that name after a restart. A new topic used to
// open the files being deleted and acknowledge writes into a removed file.
func TestTopicDeletedWhilePublishedKeepsLaterPublishes(t *testing.T) {
	t.Parallel()
	dataPath := t.TempDir()
	disk := func(o *Options) { o.DataPath, o.MemQueueSize = dataPath, 0 }
	d := startDaemon(t, disk)
	subscribe(t, d, "gone", "c").Close()
	publishN(t, d, "gone", 100)

	var deleted atomic.Bool
	after := map[string]bool{} // acknowledged, sent after the deletion returned
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; len(after) < 300; i++ {
			c, err := rawDial(d.TCPAddr().String())
			if err != nil {
				return
			}
			for ; ; i++ {
				sentAfter := deleted.Load()
				body := fmt.Sprintf("m%05d", i)
				if c.tryCmd("PUB gone", []byte(body)) != nil {
					break
				}
				ft, _, err := c.tryFrame()
				if err != nil || ft != protocol.FrameTypeResponse {
					break // refused during the deletion: the connection is closed
				}
				if sentAfter {
					after[body] = true
				}
				if len(after) >= 300 {
					break
				}
			}
			c.Close()
		}
	}()
	if err := d.DeleteExistingTopic("gone"); err != nil {
		t.Fatal(err)
	}
	deleted.Store(true)
	<-done
	d.Exit()

	d = startDaemon(t, disk)
	tp, err := d.GetExistingTopic("gone")
	if err != nil {
		t.Fatalf("after the restart: %v; want the topic published to after its deletion", err)
	}
	waitFor(t, "the topic's depth", func() bool { return tp.Depth() >= int64(len(after)) })
	if n := tp.Depth(); n < int64(len(after)) {
		t.Fatalf("depth %d after the restart, want at least the %d acknowledged after the deletion", n, len(after))
	}
}
