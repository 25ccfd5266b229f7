package diskqueue

import (
	"testing"
	"time"
)

// gatherDone runs g.gather and says when it returns.
func gatherDone(g *gatherer) chan struct{} {
	done := make(chan struct{})
	go func() {
		g.gather()
		close(done)
	}()
	return done
}

func waitDone(t *testing.T, done chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal(what)
	}
}

// A lone durable writer expects nobody and never waits: its latency is
// one fsync, not one fsync plus a gathering wait.
func TestLoneWriterIsNotKeptWaiting(t *testing.T) {
	t.Parallel()
	g := newGatherer()
	g.maxWait = time.Hour // were it to wait for the timer, the test would time out
	leave := g.join()
	g.synced(time.Hour)
	leave()

	defer g.join()()
	waitDone(t, gatherDone(&g), "a lone writer waited to gather others")
}

// The fsync after one that three writers waited on waits for the three,
// and starts as soon as they have all come, not when its wait runs out.
func TestFsyncWaitsForTheWritersItExpects(t *testing.T) {
	t.Parallel()
	g := newGatherer()
	g.maxWait = time.Hour
	var leaves []func()
	for range 3 {
		leaves = append(leaves, g.join())
	}
	g.synced(time.Hour)
	for _, leave := range leaves {
		leave()
	}

	defer g.join()() // the first writer back leads the next fsync
	done := gatherDone(&g)
	defer g.join()()
	select {
	case <-done:
		t.Fatal("the fsync started with 2 of the 3 writers it expects")
	default:
	}
	defer g.join()()
	waitDone(t, done, "the fsync did not start once the 3 writers it expects had come")
}
