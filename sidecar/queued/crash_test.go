package queued

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const crashChildEnv = "SIDEQUEUE_QUEUED_CRASH_CHILD" // the data path

// TestCrashChild is the daemon process the SIGKILL test kills: durable
// (--mem-queue-size=0 --sync-every=1), on loopback ports it prints.
func TestCrashChild(t *testing.T) {
	dataPath := os.Getenv(crashChildEnv)
	if dataPath == "" {
		t.Skip("run by TestSIGKILLLosesNoAcknowledgedMessage")
	}
	o := NewOptions()
	o.TCPAddress, o.HTTPAddress, o.DataPath = "127.0.0.1:0", "127.0.0.1:0", dataPath
	o.MemQueueSize, o.SyncEvery, o.LogLevel = 0, 1, "error"
	// Positions are persisted often, so the test fails if one ever moves
	// past a message that is still in flight.
	o.SyncTimeout = 20 * time.Millisecond
	d, err := New(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("ADDR %s\n", d.TCPAddr())
	d.Main()
}

type crashChild struct {
	cmd  *exec.Cmd
	addr string
}

func startCrashChild(t *testing.T, dataPath string) *crashChild {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dataPath)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		cmd.Process.Kill()
		t.Fatalf("child said %q (%v)", line, err)
	}
	c := &crashChild{cmd: cmd, addr: strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))}
	t.Cleanup(func() { c.cmd.Process.Kill(); c.cmd.Wait() })
	return c
}

// With --mem-queue-size=0 --sync-every=1, every PUB answered OK survives a
// SIGKILL: it was finished before the kill, or it is delivered after it,
// in-flight messages included (nsqd v1.3.0 loses those).
func TestSIGKILLLosesNoAcknowledgedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a daemon process")
	}
	t.Parallel()
	dataPath := t.TempDir()
	child := startCrashChild(t, dataPath)
	sub := dialAddr(t, child.addr)
	sub.cmd("SUB crash c")
	sub.expectOK()
	sub.cmd("RDY 1000")

	var mu sync.Mutex
	acked, finished := map[string]bool{}, map[string]bool{}
	stop := make(chan struct{})
	var pubs sync.WaitGroup
	for w := range 8 {
		pubs.Go(func() { publishUntilStopped(t, child.addr, w, stop, &mu, acked) })
	}
	held := consumeSome(sub, 2000, &mu, finished)
	child.cmd.Process.Signal(syscall.SIGKILL)
	child.cmd.Wait()
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
	again := startCrashChild(t, dataPath)
	after := dialAddr(t, again.addr)
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
