package controllers

import (
	"sync"
	"testing"
	"time"
)

// A reconcile asks its daemons at once, so that one that does not answer
// costs one timeout, not one per daemon: every call here waits until all of
// them have started, which only calls made in parallel can do.
func TestOnEachAsksAllAtOnce(t *testing.T) {
	t.Parallel()
	const n = maxParallelCalls
	var started sync.WaitGroup
	started.Add(n)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	done := make(chan struct{})
	var calls [n]bool
	go func() {
		onEach(n, func(i int) {
			started.Done()
			<-all
			calls[i] = true
		})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the calls did not run at once: each waited for the others")
	}
	for i, ok := range calls {
		if !ok {
			t.Errorf("call %d did not run", i)
		}
	}
}

// No more than maxParallelCalls run at once, however many daemons.
func TestOnEachIsBounded(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	running, most := 0, 0
	onEach(5*maxParallelCalls, func(int) {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		time.Sleep(time.Millisecond) // overlap the calls; not a synchronisation
		mu.Lock()
		running--
		mu.Unlock()
	})
	if most > maxParallelCalls {
		t.Fatalf("%d calls at once, bound %d", most, maxParallelCalls)
	}
}
