package queued

import (
	"sync"
	"sync/atomic"

	"github.com/sidequeue/sidequeue/sidecar/diskqueue"
)

// queue is what a Topic and a Channel both are underneath: a memory queue
// first, a disk queue when it is full (as nsqd), a reader that turns the
// disk queue into a Go channel, and the exit lock that orders puts, Empty
// and the exit. How they count what they hold is memqueue.go's rule.
type queue struct {
	d         *Daemon
	ephemeral bool

	mem      memQueue
	backend  backendQueue
	fromDisk *backendReader
	paused   atomic.Bool
	deleting atomic.Bool // being deleted: left out of the metadata, refused to newcomers

	// exitMu is held shared by puts and exclusively by Empty and the exit,
	// so that nothing counted before either is still arriving after it.
	exitMu   sync.RWMutex
	exiting  bool
	deleteFn sync.Once // an ephemeral one deletes itself once
}

// open creates the memory queue, opens the disk queue diskName (nothing on
// disk if ephemeral) and starts its reader; track, if given, sees every
// message read, in read order.
func (q *queue) open(d *Daemon, diskName, owner string, ephemeral bool, track func(*Message, diskqueue.Position)) error {
	q.d, q.ephemeral = d, ephemeral
	q.mem = newMemQueue(d.opts().MemQueueSize, ephemeral)
	bq, err := q.openBackend(diskName)
	if err != nil {
		return err
	}
	q.backend = bq
	q.fromDisk = startBackendReader(bq, owner, d.log.Logf, track)
	return nil
}

func (q *queue) openBackend(name string) (backendQueue, error) {
	if q.ephemeral {
		return discardQueue{}, nil
	}
	o := q.d.opts()
	dq := diskqueue.NewOptions()
	dq.MaxBytesPerFile = o.MaxBytesPerFile
	dq.MaxRecordSize = maxDiskLen(int(q.d.recordLimit))
	dq.SyncEvery = o.SyncEvery
	dq.SyncTimeout = o.SyncTimeout
	dq.MaxDiskBytes = o.MaxDiskBytes
	dq.ManualCommit = true // see ledger.go
	dq.Logf = func(format string, args ...any) { q.d.log.Logf("WARN", format, args...) }
	return diskqueue.Open(o.DataPath, name, dq)
}

// Depth counts the messages queued: in memory, on disk, and the one the
// disk reader holds, read in the order messages move (memqueue.go).
func (q *queue) Depth() int64 {
	return q.mem.Len() + q.backend.Depth() + q.fromDisk.holding.Load()
}

// Exiting reports whether the queue is closing or deleted.
func (q *queue) Exiting() bool {
	q.exitMu.RLock()
	defer q.exitMu.RUnlock()
	return q.exiting
}

// IsPaused reports whether the queue is paused.
func (q *queue) IsPaused() bool { return q.paused.Load() }

// startExit marks the queue exiting; errExiting if it already was.
func (q *queue) startExit() error {
	q.exitMu.Lock()
	defer q.exitMu.Unlock()
	if q.exiting {
		return errExiting
	}
	q.exiting = true
	return nil
}

// empty drops what the memory and disk queues and the disk reader hold,
// after first (if not nil) has dropped what the owner holds beside them.
// It excludes the puts, which hold exitMu shared, so that a message counted
// in the queue before (memqueue.go) is not still arriving after. The
// reader stops first, so that it neither reads nor tracks (a channel's
// ledger) anything that is then emptied, and starts again after.
func (q *queue) empty(first func()) error {
	q.exitMu.Lock()
	defer q.exitMu.Unlock()
	if q.exiting {
		return errExiting
	}
	q.fromDisk.dropHeld()
	defer q.fromDisk.start()
	if first != nil {
		first()
	}
	q.mem.drain(func(*Message) {})
	return q.backend.Empty()
}

// writeBack stores m on disk at the exit, with its due time if deferred
// (0 if not). --max-disk-bytes does not apply: these were accepted, and
// refusing them now would lose them.
func (q *queue) writeBack(m *Message, dueAt int64) error {
	return writeToBackend(q.backend.AppendUnbudgeted, m, dueAt)
}
