package diskqueue

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// syncLoop syncs every SyncTimeout, and sooner when SyncEvery operations
// have passed or the reader has left a segment that can be deleted.
func (q *Queue) syncLoop() {
	defer close(q.done)
	ticker := time.NewTicker(q.opts.SyncTimeout)
	defer ticker.Stop()
	lastOps := q.ops.Load()
	for {
		idle := false // no write or read for a whole tick
		select {
		case <-q.exit:
			return
		case <-ticker.C:
			ops := q.ops.Load()
			idle, lastOps = ops == lastOps, ops
		case <-q.syncNow:
		}
		if err := q.sync(); err != nil {
			q.opts.logf("diskqueue: %s: sync failed: %v", q.files.name, err)
		} else if idle {
			q.closeIdle()
		}
	}
}

// closeIdle closes the segment files of a queue that saw no write or read
// for a whole SyncTimeout and has everything synced: a daemon with
// thousands of idle topics then holds no descriptor for them. The next
// Put or Read opens what it needs again.
func (q *Queue) closeIdle() {
	defer q.lockAll()()
	if q.closed || q.writeSeq != q.syncedSeq {
		return
	}
	if q.wfile != nil {
		q.wfile.Close()
		q.wfile = nil
	}
	q.r.close()
}

// sync fsyncs what has been written, persists the read and write positions,
// and deletes segments the reader has finished.
func (q *Queue) sync() error {
	q.syncMu.Lock()
	defer q.syncMu.Unlock()
	q.rmu.Lock()
	q.mu.Lock()
	closed, failed := q.closed, q.failed
	read, reread := q.resumeAt()
	m := meta{read: read, write: q.write, depth: max(0, q.depth.Load()) + reread}
	seq, f := q.writeSeq, q.wfile
	q.mu.Unlock()
	q.rmu.Unlock()
	switch {
	case closed:
		return nil
	case failed != nil:
		return failed
	}
	q.unsynced.Store(0)
	if seq > q.syncedSeq {
		if err := q.fsync(f); err != nil {
			return err
		}
		q.syncedSeq = seq
	}
	if m == q.persisted {
		return nil
	}
	if err := q.meta.write(q.fs, m); err != nil {
		return err
	}
	q.persisted = m
	freed, err := q.removeSegmentsBelow(m.read.seg)
	q.mu.Lock()
	q.diskBytes -= freed
	q.mu.Unlock()
	return err
}

// syncUpTo is the durable Put's group commit: it returns once write seq is
// fsynced. One caller at a time fsyncs, covering every write made before it
// started (gathered: gather.go); the callers that queued behind it find
// their writes covered.
func (q *Queue) syncUpTo(seq uint64) error {
	defer q.gather.join()()
	q.syncMu.Lock()
	defer q.syncMu.Unlock()
	if q.syncedSeq >= seq {
		return nil
	}
	q.gather.gather()
	q.mu.Lock()
	upTo, f, failed := q.writeSeq, q.wfile, q.failed
	q.mu.Unlock()
	if failed != nil {
		return failed
	}
	start := time.Now()
	if err := q.fsync(f); err != nil {
		return err
	}
	q.gather.synced(time.Since(start))
	q.syncedSeq = upTo
	return nil
}

// fsync syncs a segment. A segment closed meanwhile was fsynced by the roll
// that closed it. A failed fsync is final: after one, the kernel may have
// dropped dirty pages, and a later fsync could succeed without them.
func (q *Queue) fsync(f file) error {
	if f == nil {
		return nil // closed by closeIdle, which only closes a synced file
	}
	err := f.Sync()
	if err == nil || errors.Is(err, os.ErrClosed) {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.failed == nil {
		q.failed = fmt.Errorf("diskqueue: fsync %s: %w (the queue refuses writes until reopened)", q.files.name, err)
	}
	return q.failed
}
