package diskqueue

import (
	"sync/atomic"
	"time"
)

// Group commit, gathered. Durable writers that each wait for their record
// to be fsynced before writing the next fall into two cohorts: while one
// fsync runs, the writers it covers wait, and the others, just released by
// the fsync before it, write again and wait for the next. Each fsync then
// covers about half of the writers. The gatherer lets the next fsync wait a
// moment for the writers it expects, so that one fsync covers them all: with
// 16 synchronous publishers, about 16 records per fsync instead of 7.
//
// It is PostgreSQL's commit_delay with commit_siblings, without the tuning:
// the number expected is how many were waiting when the last fsync ended
// (a lone writer expects only itself and never waits), and the wait is at
// most half the last fsync's duration, capped at maxGatherWait.
const maxGatherWait = 2 * time.Millisecond

type gatherer struct {
	waiting  atomic.Int32  // callers between their write and their fsync's end
	arrived  chan struct{} // a token whenever one more starts waiting
	expected int32         // guarded by syncMu, like what follows
	lastSync time.Duration
	maxWait  time.Duration
}

func newGatherer() gatherer {
	return gatherer{arrived: make(chan struct{}, 1), maxWait: maxGatherWait}
}

// join counts a caller as waiting for an fsync; the func it returns
// counts it out.
func (g *gatherer) join() func() {
	g.waiting.Add(1)
	signal(g.arrived)
	return func() { g.waiting.Add(-1) }
}

// gather waits, for at most half the last fsync, until as many callers are
// waiting as when the last fsync ended.
func (g *gatherer) gather() {
	wait := min(g.lastSync/2, g.maxWait)
	if wait <= 0 || g.waiting.Load() >= g.expected {
		return
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for g.waiting.Load() < g.expected {
		select {
		case <-g.arrived:
		case <-timer.C:
			return
		}
	}
}

// synced records how long an fsync took and how many were waiting at its end.
func (g *gatherer) synced(took time.Duration) {
	g.lastSync = took
	g.expected = g.waiting.Load()
}
