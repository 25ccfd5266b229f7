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
	pending   uint64             // entries not yet done
}

type ledgerEntry struct {
	end  diskqueue.Position
	msg  *Message // until done: what pins the position (channel_unpin.go)
	done bool
}

// commitEvery bounds how often a channel tells its disk queue: the position
// only needs to be right when the queue syncs, and a crash redelivers at
// most this many finished messages more.
const commitEvery = 64

// add records m, just read and ending at end, and returns its sequence
// number (never 0).
func (l *ledger) add(m *Message, end diskqueue.Position) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.next == 0 {
		l.first, l.next = 1, 1
	}
	if n := int(l.next - l.first); n == len(l.ring) {
		l.grow()
	}
	l.ring[l.next%uint64(len(l.ring))] = ledgerEntry{end: end, msg: m}
	l.next++
	l.pending++
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
	if e := &l.ring[seq%uint64(len(l.ring))]; !e.done {
		e.done, e.msg = true, nil // let the message go with its work
		l.pending--
	}
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

// oldest returns the message the position waits for, and how many
// messages read after it are done already: what a crash would deliver
// again. nil if nothing is outstanding.
func (l *ledger) oldest() (*Message, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first == l.next {
		return nil, 0
	}
	return l.ring[l.first%uint64(len(l.ring))].msg, l.next - l.first - l.pending
}

// reset forgets every entry (the channel was emptied).
func (l *ledger) reset() {
	l.mu.Lock()
	for seq := l.first; seq < l.next; seq++ {
		l.ring[seq%uint64(len(l.ring))] = ledgerEntry{}
	}
	l.first = l.next
	l.uncounted, l.pending = 0, 0
	l.mu.Unlock()
}
