package queued

import (
	"sync"

	"github.com/sidequeue/sidequeue/sidecar/diskqueue"
)

// ledger tracks the messages a channel has read from its disk queue and not
// yet finished. The disk queue is told to resume after a message only once
// it and every message read before it are done, so a crash (SIGKILL, power
// loss) redelivers what was in flight or deferred instead of losing it, as
// nsqd does.
type ledger struct {
	mu      sync.Mutex
	entries []*ledgerEntry // in read order; done ones at the front are dropped
}

type ledgerEntry struct {
	end  diskqueue.Position
	done bool
}

// add records a message just read, ending at end.
func (l *ledger) add(end diskqueue.Position) *ledgerEntry {
	e := &ledgerEntry{end: end}
	l.mu.Lock()
	l.entries = append(l.entries, e)
	l.mu.Unlock()
	return e
}

// resolve marks e done: finished, or safely written to disk again. It
// returns the position up to which everything is done, if that moved.
func (l *ledger) resolve(e *ledgerEntry) (diskqueue.Position, bool) {
	if e == nil {
		return diskqueue.Position{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e.done = true
	n := 0
	for n < len(l.entries) && l.entries[n].done {
		n++
	}
	if n == 0 {
		return diskqueue.Position{}, false
	}
	end := l.entries[n-1].end
	clear(l.entries[:n])
	l.entries = l.entries[n:]
	return end, true
}

// reset forgets every entry (the channel was emptied).
func (l *ledger) reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}
