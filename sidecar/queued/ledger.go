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
//
// Entries live in a ring indexed by a sequence number that the message
// carries, so the hot path allocates nothing.
type ledger struct {
	mu        sync.Mutex
	ring      []ledgerEntry
	first     uint64             // sequence number of the oldest entry not yet dropped
	next      uint64             // sequence number of the next entry
	doneUpTo  diskqueue.Position // end of the last entry dropped
	uncounted int                // entries dropped since the last commit
}

type ledgerEntry struct {
	end  diskqueue.Position
	done bool
}

// commitEvery bounds how often a channel tells its disk queue: the position
// only needs to be right when the queue syncs, and a crash redelivers at
// most this many finished messages more.
const commitEvery = 64

// add records a message just read, ending at end, and returns its
// sequence number (never 0).
func (l *ledger) add(end diskqueue.Position) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.next == 0 {
		l.first, l.next = 1, 1
	}
	if n := int(l.next - l.first); n == len(l.ring) {
		l.grow()
	}
	l.ring[l.next%uint64(len(l.ring))] = ledgerEntry{end: end}
	l.next++
	return l.next - 1
}

func (l *ledger) grow() {
	ring := make([]ledgerEntry, max(64, 2*len(l.ring)))
	for seq := l.first; seq < l.next; seq++ {
		ring[seq%uint64(len(ring))] = l.ring[seq%uint64(len(l.ring))]
	}
	l.ring = ring
}

// resolve marks seq done: finished, or safely written to disk again. It
// returns the position up to which everything is done when it is time to
// tell the disk queue.
func (l *ledger) resolve(seq uint64) (diskqueue.Position, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq < l.first || seq >= l.next {
		return diskqueue.Position{}, false // from before a reset
	}
	l.ring[seq%uint64(len(l.ring))].done = true
	for l.first < l.next && l.ring[l.first%uint64(len(l.ring))].done {
		l.doneUpTo = l.ring[l.first%uint64(len(l.ring))].end
		l.first++
		l.uncounted++
	}
	if l.uncounted == 0 || (l.uncounted < commitEvery && l.first < l.next) {
		return diskqueue.Position{}, false
	}
	l.uncounted = 0
	return l.doneUpTo, true
}

// reset forgets every entry (the channel was emptied).
func (l *ledger) reset() {
	l.mu.Lock()
	l.first = l.next
	l.uncounted = 0
	l.mu.Unlock()
}
