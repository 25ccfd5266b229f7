package queued

import "sync/atomic"

// A daemon's count of what it holds (Depth, the drain's "nothing left",
// the termination summary) adds up parts that messages move between: a
// topic's memory queue, disk queue, disk reader and pump, a channel's
// queues, in-flight and deferred sets. Counting never misses a message in
// motion because every move counts it at its destination before its
// source stops counting it: a message may be counted twice for a moment,
// never not at all. memQueue and backendReader keep a message counted
// after a receiver took it, until the receiver says it counts it (taken).

// memQueue is a topic's or channel's memory queue.
type memQueue struct {
	ch        chan *Message
	ephemeral bool
	n         atomic.Int64 // sent and not yet taken
}

func newMemQueue(size int64, ephemeral bool) memQueue {
	return memQueue{ch: make(chan *Message, size), ephemeral: ephemeral}
}

// allowed is nsqd's rule for the memory queue: used when it has a size, or
// for an ephemeral topic or channel (whose overflow is dropped). With
// --mem-queue-size=0 nothing bypasses the disk, not even a hand-off to a
// reader waiting on the unbuffered channel.
func (q *memQueue) allowed() bool { return cap(q.ch) > 0 || q.ephemeral }

// offer puts m in the queue if the rule allows and there is room.
func (q *memQueue) offer(m *Message) bool { return q.allowed() && q.handOff(m) }

// handOff puts m in the queue if there is room or a receiver is waiting,
// whatever the rule.
func (q *memQueue) handOff(m *Message) bool {
	q.n.Add(1)
	select {
	case q.ch <- m:
		return true
	default:
		q.n.Add(-1)
		return false
	}
}

// taken is called by whoever received a message from ch once the message
// is counted where it went (or dropped).
func (q *memQueue) taken() { q.n.Add(-1) }

// Len counts the messages in the queue and those received and not yet
// taken.
func (q *memQueue) Len() int64 { return q.n.Load() }

// drain receives every queued message, calling keep for each, without
// waiting for more.
func (q *memQueue) drain(keep func(*Message)) {
	for {
		select {
		case m := <-q.ch:
			keep(m)
			q.taken()
		default:
			return
		}
	}
}
