//go:build unix

package queued

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"github.com/sidequeue/sidequeue/sidecar/diskqueue"
)

// With --mem-queue-size=0 --sync-every=1, every PUB answered OK survives a
// SIGKILL: it was finished before the kill, or it is delivered after it,
// in-flight messages included (nsqd v1.3.0 loses those).
func TestSIGKILLLosesNoAcknowledgedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a daemon process")
	}
	t.Parallel()
	dataPath := t.TempDir()
	child := startChild(t, durableChild(dataPath))
	sub := dialAddr(t, child.TCP)
	sub.cmd("SUB crash c")
	sub.expectOK()
	sub.cmd("RDY 1000")

	var mu sync.Mutex
	acked, finished := map[string]bool{}, map[string]bool{}
	stop := make(chan struct{})
	var pubs sync.WaitGroup
	for w := range 8 {
		pubs.Go(func() { publishUntilStopped(t, child.TCP, w, stop, &mu, acked) })
	}
	held := consumeSome(sub, 2000, &mu, finished)
	child.kill()
	close(stop)
	pubs.Wait()

	mu.Lock()
	want := map[string]bool{}
	for body := range acked {
		if !finished[body] {
			want[body] = true
		}
	}
	mu.Unlock()
	t.Logf("%d acknowledged, %d finished and %d held in flight before the kill; %d expected after",
		len(acked), len(finished), held, len(want))
	again := startChild(t, durableChild(dataPath))
	after := dialAddr(t, again.TCP)
	after.cmd("SUB crash c")
	after.expectOK()
	after.cmd("RDY 2500")
	for len(want) > 0 {
		m := after.message()
		delete(want, m.body)
		after.cmd("FIN " + m.id)
	}
}

func dialAddr(t testing.TB, addr string) *conn {
	t.Helper()
	return dialMagicAddr(t, addr, "  V2")
}

// publishUntilStopped PUBs synchronously, recording each OK.
func publishUntilStopped(t *testing.T, addr string, w int, stop chan struct{}, mu *sync.Mutex, acked map[string]bool) {
	c := dialAddr(t, addr)
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		body := fmt.Sprintf("w%d-%d", w, i)
		c.cmd("PUB crash", []byte(body))
		if _, data, err := c.tryFrame(); err != nil || string(data) != "OK" {
			return // the daemon was killed
		}
		mu.Lock()
		acked[body] = true
		mu.Unlock()
	}
}

// consumeSome reads n messages, finishing nine in ten and holding the rest
// in flight; it returns how many it holds.
func consumeSome(c *conn, n int, mu *sync.Mutex, finished map[string]bool) (held int) {
	for i := range n {
		m := c.message()
		if i%10 == 9 {
			held++
			continue
		}
		c.cmd("FIN " + m.id)
		mu.Lock()
		finished[m.body] = true
		mu.Unlock()
	}
	// FINs get no answer: whether the last ones landed before the kill
	// does not matter, as those messages may come again either way.
	return held
}

// The at-least-once bound (docs/design/queued.md): after a crash, a channel
// delivers again every message read after its last saved position, which
// never passes the oldest unfinished message and lags it by at most 63
// finished ones (the ledger tells the disk queue every 64); nothing before
// that position comes again.
func TestCrashRedeliversFromTheOldestUnfinishedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills daemon processes")
	}
	t.Parallel()
	dataPath := t.TempDir()
	const recordSize = 12 + 1 + messageHeaderSize + 4 // frame, kind, header, "0042"
	savedIn := func(queue string) int64 {             // in records; -1 if the queue never saved one
		_, off, err := diskqueue.SavedReadPosition(dataPath, queue)
		if errors.Is(err, fs.ErrNotExist) {
			return -1
		}
		if err != nil || off%recordSize != 0 {
			t.Fatalf("saved read position %d (%v): not at a record boundary", off, err)
		}
		return off / recordSize
	}
	saved := func() int64 { return savedIn("t:c") }
	child := startChild(t, durableChild(dataPath))
	sub := subscribeAddr(t, child.TCP, "t", "c")
	for i := range 300 {
		publishAddr(t, child.TCP, "t", fmt.Sprintf("%04d", i))
	}
	sub.cmd("RDY 300")
	for i := range 300 {
		if m := sub.message(); i != 100 { // message 100 stays in flight
			sub.cmd("FIN " + m.id)
		}
	}
	waitFor(t, "every FIN but message 100's to be handled", func() bool {
		_, body := childHTTP(t, child, "GET", "/stats?format=json&topic=t&channel=c", "")
		return strings.Contains(body, `"in_flight_count":1,`)
	})
	waitFor(t, "a position within 63 messages of message 100 to be saved", func() bool { return saved() >= 100-63 })
	child.kill()
	from := saved()
	if from > 100 {
		t.Fatalf("saved position after message %d, past message 100, which was in flight", from-1)
	}

	child = startChild(t, durableChild(dataPath))
	sub = subscribeAddr(t, child.TCP, "t", "c")
	sub.cmd("RDY 300")
	for want := from; want < 300; want++ {
		m := sub.message()
		if m.body != fmt.Sprintf("%04d", want) {
			t.Fatalf("after the crash got message %s, want %04d: %d to 299 in order", m.body, want, from)
		}
		sub.cmd("FIN " + m.id)
	}
	publishAddr(t, child.TCP, "t", "mark")
	if m := sub.message(); m.body != "mark" {
		t.Fatalf("got %s after %d to 299, want nothing more before the new message", m.body, from)
	} else {
		sub.cmd("FIN " + m.id)
	}
	t.Logf("position saved after message %d; %d to 299 came again after the SIGKILL", from-1, from)
	// The topic's position too: a topic whose saved position is behind
	// "mark" copies it to the channel again after the crash. (A topic
	// that gave its channels every message directly saved none.)
	waitFor(t, "the position after every message to be saved, in the channel and the topic", func() bool {
		topic := savedIn("t")
		return saved() == 301 && (topic == 301 || topic == -1)
	})
	child.kill()

	child = startChild(t, durableChild(dataPath))
	sub = subscribeAddr(t, child.TCP, "t", "c")
	sub.cmd("RDY 10")
	publishAddr(t, child.TCP, "t", "new!")
	if m := sub.message(); m.body != "new!" {
		t.Fatalf("got %s after a crash with everything finished and saved, want only the new message", m.body)
	}
}

func subscribeAddr(t testing.TB, addr, topic, channel string) *conn {
	t.Helper()
	c := dialAddr(t, addr)
	c.cmd("SUB " + topic + " " + channel)
	c.expectOK()
	return c
}

func publishAddr(t testing.TB, addr, topic, body string) {
	t.Helper()
	c := dialAddr(t, addr)
	c.cmd("PUB "+topic, []byte(body))
	c.expectOK()
	c.Close()
}
