//go:build unix

package queued

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// The disk-pressure test: publishers on two topics of two channels each, a
// daemon on a disk that is too small, consumers that come and go (some
// messages requeued, some deferred; one channel has none until the end),
// and the daemon killed at a random
// moment, again and again on the same data path. Then every message
// answered OK must reach every channel of its topic.

var (
	pressureTopics   = []string{"p0", "p1"}
	pressureChannels = []string{"a", "b"}
)

// unconsumed has no consumer until the final drain: a consumer group that
// is down. Its backlog fills its budget (or the disk), then its topic's,
// so publishes are refused for want of space however fast the other
// channels are consumed (a topic with room in every channel hands
// publishes straight to them and would otherwise rarely fill).
const unconsumed = "p1/b"

// pressureRounds daemons are stopped at least; on a loaded machine whose
// publishers are too slow to fill the disk by then, rounds go on, up to
// maxPressureRounds, until a publish has been refused for want of space.
const (
	pressureRounds    = 20
	maxPressureRounds = 60
)

// pressurePreset is a durability preset and how its daemon is stopped.
type pressurePreset struct {
	name      string
	memQueue  int64
	syncEvery int64
	stop      syscall.Signal
	tmpfs     bool // a real small filesystem (ENOSPC) instead of --max-disk-bytes
}

// The memory presets keep messages in memory until they overflow: a SIGKILL
// loses those by design (nsqd's trade of crash safety for speed), so their
// daemons are stopped by SIGTERM, whose short drain ends with the rest
// written to disk. Their memory queues hold 10 messages rather than nsqd's
// 10,000, the same code, so that they overflow to the small disk within a
// round.
const pressureMemQueue = 10

var pressurePresets = []pressurePreset{
	{name: "disk", memQueue: 0, stop: syscall.SIGKILL},
	{name: "fsync", memQueue: 0, syncEvery: 1, stop: syscall.SIGKILL},
	{name: "memory", memQueue: pressureMemQueue, stop: syscall.SIGTERM},
	{name: "memory-fsync", memQueue: pressureMemQueue, syncEvery: 1, stop: syscall.SIGTERM},
	{name: "disk-enospc", memQueue: 0, stop: syscall.SIGKILL, tmpfs: true},
}

func TestDiskPressureLosesNoAcknowledgedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("kills daemon processes, many times")
	}
	t.Parallel()
	for _, p := range pressurePresets {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			runPressure(t, p)
		})
	}
}

// pressureLedger is what the clients saw: publishes answered OK, refused,
// and messages finished per channel.
type pressureLedger struct {
	mu      sync.Mutex
	acked   map[string]map[string]bool // topic → bodies
	refused int
	// refusedFull counts the refusals for want of space (the others come
	// from a SIGTERM's drain).
	refusedFull int
	finished    map[string]map[string]int // "topic/channel" → body → times
}

func newPressureLedger() *pressureLedger {
	l := &pressureLedger{acked: map[string]map[string]bool{}, finished: map[string]map[string]int{}}
	for _, tp := range pressureTopics {
		l.acked[tp] = map[string]bool{}
		for _, ch := range pressureChannels {
			l.finished[tp+"/"+ch] = map[string]int{}
		}
	}
	return l
}

func runPressure(t *testing.T, p pressurePreset) {
	cfg := childConfig{DataPath: t.TempDir(), MemQueueSize: p.memQueue, SyncEvery: p.syncEvery,
		MaxBytesPerFile: 16_000, SyncTimeout: 50 * time.Millisecond, DrainTimeout: 100 * time.Millisecond,
		LogLevel: "fatal"}
	if p.tmpfs {
		mountTmpfs(t, cfg.DataPath, "4m")
		fillDisk(t, cfg.DataPath, 256<<10) // full after about 1,800 messages, however slow the machine
	} else {
		cfg.MaxDiskBytes = 30_000 // about 210 messages in each topic and channel
	}
	l := newPressureLedger()
	rounds := 0
	for ; rounds < pressureRounds || (l.spaceRefusals() == 0 && rounds < maxPressureRounds); rounds++ {
		round := rounds
		child := startChild(t, cfg)
		if round == 0 {
			for _, tp := range pressureTopics {
				childOK(t, child, "POST", "/topic/create?topic="+tp, "")
				for _, ch := range pressureChannels {
					childOK(t, child, "POST", "/channel/create?topic="+tp+"&channel="+ch, "")
				}
			}
		}
		var clients sync.WaitGroup
		for w := range 3 {
			clients.Go(func() { l.publish(child.TCP, fmt.Sprintf("r%d-w%d", round, w)) })
		}
		for _, tp := range pressureTopics {
			for _, ch := range pressureChannels {
				if tp+"/"+ch == unconsumed {
					continue
				}
				clients.Go(func() { l.consumeUntilGone(child.TCP, tp, ch) })
			}
		}
		time.Sleep(time.Duration(150+rand.IntN(450)) * time.Millisecond) // the random moment
		child.Stop(p.stop)
		clients.Wait()
	}
	lost := l.drainAndCount(t, startChild(t, cfg))
	l.mu.Lock()
	defer l.mu.Unlock()
	acked, again := 0, 0
	for _, bodies := range l.acked {
		acked += len(bodies)
	}
	for _, bodies := range l.finished {
		for _, n := range bodies {
			again += n - 1
		}
	}
	t.Logf("%s: %d rounds stopped by %v; %d publishes acknowledged, %d refused (%d for want of space); %d acknowledged lost; %d finished more than once",
		p.name, rounds, p.stop, acked, l.refused, l.refusedFull, lost, again)
	if lost > 0 {
		t.Fatalf("%d acknowledged messages never reached a channel", lost)
	}
	if l.refusedFull == 0 {
		t.Fatal("no publish was refused for want of space: the disk never filled up, so this tested no pressure")
	}
}

func (l *pressureLedger) spaceRefusals() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refusedFull
}

// publish PUBs (one in ten a DPUB of 20 ms) until the daemon is gone,
// reconnecting after each refusal, which closes the connection.
func (l *pressureLedger) publish(addr, prefix string) {
	for seq := 0; ; {
		c, err := rawDial(addr)
		if err != nil {
			return
		}
		for ; ; seq++ {
			topic := pressureTopics[seq%len(pressureTopics)]
			body := fmt.Sprintf("%s-%d-%090d", prefix, seq, 0)
			line := "PUB " + topic
			if seq%10 == 0 {
				line = "DPUB " + topic + " 20"
			}
			if err := c.tryCmd(line, []byte(body)); err != nil {
				c.Close()
				return
			}
			ft, answer, err := c.tryFrame()
			if err != nil {
				c.Close()
				return // killed: the last publish got no answer, so it was not acknowledged
			}
			l.mu.Lock()
			if ft == protocol.FrameTypeResponse {
				l.acked[topic][body] = true
			} else {
				l.refused++
				if !strings.Contains(string(answer), errDraining.Error()) {
					l.refusedFull++ // not the drain: the disk or the budget
				}
			}
			l.mu.Unlock()
			if ft != protocol.FrameTypeResponse {
				seq++
				break
			}
		}
		c.Close()
		time.Sleep(5 * time.Millisecond) // pacing while the disk is full, not synchronisation
	}
}

// consumeUntilGone subscribes, finishes some messages (requeueing one in
// twenty), leaves after a random number, and comes back a little later,
// until the daemon is gone.
func (l *pressureLedger) consumeUntilGone(addr, topic, channel string) {
	for ; ; time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond) { // away: the backlog grows

		c, err := rawDial(addr)
		if err != nil {
			return
		}
		if c.tryCmd("SUB "+topic+" "+channel) != nil || c.tryCmd("RDY 20") != nil ||
			!l.consume(c, topic, channel, 20+rand.IntN(280), true, nil) {
			c.Close()
			return
		}
		c.Close()
	}
}

// consume handles n messages of a subscribed connection, requeueing some
// if asked and telling finished what it finishes, and reports whether the
// daemon is still there.
func (l *pressureLedger) consume(c *conn, topic, channel string, n int, requeue bool, finished func(body string)) bool {
	for i := 0; i < n; {
		ft, data, err := c.tryFrame()
		if err != nil {
			return false
		}
		if ft != protocol.FrameTypeMessage {
			continue // OK to SUB; E_FIN_FAILED for a message that timed out
		}
		i++
		id, body := string(data[10:26]), string(data[26:])
		if requeue && rand.IntN(20) == 0 {
			if c.tryCmd("REQ "+id+" 0") != nil {
				return false
			}
			continue
		}
		if c.tryCmd("FIN "+id) != nil {
			return false
		}
		l.mu.Lock()
		l.finished[topic+"/"+channel][body]++
		l.mu.Unlock()
		if finished != nil {
			finished(body)
		}
	}
	return true
}

// drainAndCount consumes every channel, all at once (a topic waits for its
// slowest channel), until each has had every acknowledged message of its
// topic, or three minutes pass, and returns how many are missing.
func (l *pressureLedger) drainAndCount(t *testing.T, child *daemonChild) int {
	deadline := time.Now().Add(3 * time.Minute) // slow under -race with everything else running
	missing := func(tp, ch string) map[string]bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		need := map[string]bool{}
		for body := range l.acked[tp] {
			if l.finished[tp+"/"+ch][body] == 0 {
				need[body] = true
			}
		}
		return need
	}
	var consumers sync.WaitGroup
	for _, tp := range pressureTopics {
		for _, ch := range pressureChannels {
			c, err := rawDial(child.TCP)
			if err != nil {
				child.Fatal(t, "dial: %v", err)
			}
			defer c.Close()
			c.SetDeadline(deadline)
			need := missing(tp, ch)
			consumers.Go(func() {
				ok := c.tryCmd("SUB "+tp+" "+ch) == nil && c.tryCmd("RDY 100") == nil
				for ok && len(need) > 0 {
					ok = l.consume(c, tp, ch, 1, false, func(body string) { delete(need, body) })
				}
			})
		}
	}
	consumers.Wait()
	if time.Now().After(deadline) {
		_, stats := childHTTP(t, child, "GET", "/stats", "")
		t.Logf("the final drain timed out; the daemon's stats:\n%s", stats)
	}
	lost := 0
	for _, tp := range pressureTopics {
		for _, ch := range pressureChannels {
			if n := len(missing(tp, ch)); n > 0 {
				t.Errorf("%s/%s: %d acknowledged messages missing", tp, ch, n)
				lost += n
			}
		}
	}
	return lost
}

// rawDial connects without a test to fail: the daemon may be gone.
func rawDial(addr string) (*conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := nc.Write([]byte(protocol.MagicV2)); err != nil {
		nc.Close()
		return nil, err
	}
	return &conn{Conn: nc, r: bufio.NewReader(nc)}, nil
}

// fillDisk writes a ballast file into dir until only free bytes are left.
func fillDisk(t *testing.T, dir string, free uint64) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := st.Bavail * uint64(st.Bsize)
	if avail <= free {
		return
	}
	if err := os.WriteFile(dir+"/ballast", make([]byte, avail-free), 0o600); err != nil {
		t.Fatal(err)
	}
}

// mountTmpfs mounts a small tmpfs at dir for the test: a disk that really
// fills up. It needs root (CI runs as root); elsewhere the test is skipped.
func mountTmpfs(t *testing.T, dir, size string) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
}
