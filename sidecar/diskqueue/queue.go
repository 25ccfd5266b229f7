package diskqueue

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// Queue is an append-only log of records in a directory: numbered segment
// files and a small metadata file. Any number of goroutines may Put; reads
// are in order and meant for one consumer at a time.
//
// Locks, always taken in this order: syncMu (one fsync at a time), rmu (the
// reader's state), mu (the writer's state).
type Queue struct {
	opts  Options
	fs    fileSystem
	files files
	meta  metaStore

	syncMu    sync.Mutex
	syncedSeq uint64 // every write up to this sequence number is fsynced
	gather    gatherer
	persisted meta  // what the metadata file says
	oldest    int64 // the lowest segment number that may still exist on disk

	rmu sync.Mutex
	r   reader

	mu        sync.Mutex
	closed    bool
	failed    error // a failed fsync: nothing written since can be promised
	wfile     file
	write     position
	writeSeq  uint64 // writes so far, numbering each Put for group commit
	diskBytes int64
	scratch   []byte

	depth        atomic.Int64
	unreadBytes  atomic.Int64 // bytes from the read position to the end written
	unsynced     atomic.Int64 // writes and reads since the last sync
	ops          atomic.Int64 // writes and reads ever: closeIdle looks for a pause
	damagedRuns  atomic.Int64
	damagedBytes atomic.Int64

	dataReady chan struct{} // a token whenever a record is written
	syncNow   chan struct{}
	exit      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Stats is a snapshot of a queue's counters.
type Stats struct {
	Depth int64 // records stored and not yet read
	// DamagedRecords counts runs of bytes skipped because they held no intact
	// record (bit rot, a torn write); DamagedBytes is their total size.
	DamagedRecords int64
	DamagedBytes   int64
	DiskBytes      int64 // bytes of segment files on disk
}

// Open opens the queue called name in dir, creating it if need be, and
// recovers from whatever a crash left behind: every intact record is kept.
func Open(dir, name string, opts Options) (*Queue, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.fs == nil {
		opts.fs = osFS{}
	}
	q := &Queue{
		opts:      opts,
		fs:        opts.fs,
		files:     files{dir: dir, name: name},
		meta:      metaStore{files: files{dir: dir, name: name}},
		dataReady: make(chan struct{}, 1),
		syncNow:   make(chan struct{}, 1),
		gather:    newGatherer(),
		exit:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	if err := q.recover(); err != nil {
		return nil, fmt.Errorf("diskqueue: open %s in %s: %w", name, dir, err)
	}
	go q.syncLoop()
	return q, nil
}

// Put appends a record. With the durable policy (SyncEvery 1) it returns
// only once the record is fsynced.
func (q *Queue) Put(payload []byte) error {
	_, err := q.putBatch([][]byte{payload}, true, true)
	return err
}

// PutBatch is Put for several records, written with as few write calls as
// segment boundaries allow. It returns how many records, from the first,
// are stored: all of them unless there is an error.
func (q *Queue) PutBatch(payloads [][]byte) (int, error) { return q.putBatch(payloads, true, true) }

// Append is Put without waiting for the fsync, even under the durable
// policy: for a caller that stores a batch and then calls Sync once.
func (q *Queue) Append(payload []byte) error {
	_, err := q.putBatch([][]byte{payload}, false, true)
	return err
}

// AppendBatch is PutBatch without waiting for the fsync.
func (q *Queue) AppendBatch(payloads [][]byte) (int, error) { return q.putBatch(payloads, false, true) }

// AppendUnbudgeted is Append beyond MaxDiskBytes: for a record its owner
// has already accepted and would otherwise lose (memory written to disk at
// shutdown), as opposed to new work, which the budget may refuse. It does
// not wait for an fsync, so that a shutdown writing many costs one: Close
// (or Sync) makes them durable.
func (q *Queue) AppendUnbudgeted(payload []byte) error {
	_, err := q.putBatch([][]byte{payload}, false, false)
	return err
}

// Sync returns once everything written so far is fsynced.
func (q *Queue) Sync() error {
	q.mu.Lock()
	seq := q.writeSeq
	q.mu.Unlock()
	return q.syncUpTo(seq)
}

// putBatch stores payloads and returns how many of them, from the first,
// are stored. Under the durable policy with wait, they count as stored only
// once fsynced.
func (q *Queue) putBatch(payloads [][]byte, wait, budgeted bool) (int, error) {
	for _, p := range payloads {
		if len(p) > q.opts.MaxRecordSize {
			return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(p), q.opts.MaxRecordSize)
		}
	}
	q.mu.Lock()
	n, err := q.appendLocked(payloads, budgeted)
	q.writeSeq += uint64(n)
	seq := q.writeSeq
	// Counted under mu so that a reader that has caught up with these
	// records never sees them uncounted.
	q.depth.Add(int64(n))
	q.mu.Unlock()
	if n == 0 {
		return 0, err
	}
	q.ops.Add(1)
	syncDue := q.unsynced.Add(int64(n)) >= q.opts.SyncEvery
	signal(q.dataReady)
	if err != nil {
		return n, err
	}
	if q.opts.durable() && wait {
		if err := q.syncUpTo(seq); err != nil {
			return 0, err
		}
		return n, nil
	}
	if syncDue && !q.opts.durable() {
		signal(q.syncNow)
	}
	return n, nil
}

// appendLocked frames records into the scratch buffer and writes them,
// starting a new segment where the next record would not fit. It returns
// how many records it wrote.
func (q *Queue) appendLocked(payloads [][]byte, budgeted bool) (int, error) {
	switch {
	case q.closed:
		return 0, ErrClosed
	case q.failed != nil:
		return 0, q.failed
	}
	written, pending := 0, 0
	q.scratch = q.scratch[:0]
	for _, p := range payloads {
		size := recordSize(len(p))
		buffered := int64(len(q.scratch))
		if err := q.withinBudget(buffered + size); err != nil && budgeted {
			n, ferr := q.flushLocked(pending)
			return written + n, errors.Join(ferr, err)
		}
		if end := q.write.off + buffered; end > 0 && end+size > q.opts.MaxBytesPerFile {
			n, err := q.flushLocked(pending)
			written, pending = written+n, 0
			if err == nil {
				err = q.rollLocked()
			}
			if err != nil {
				return written, err
			}
		}
		q.scratch = appendRecord(q.scratch, p)
		pending++
	}
	n, err := q.flushLocked(pending)
	if cap(q.scratch) > 4<<20 {
		q.scratch = nil // a huge batch need not pin its buffer
	}
	return written + n, err
}

// HasRoom reports whether records of size bytes, framing included
// (RecordSize), would fit within MaxDiskBytes now: a hint for choosing a
// path, as another writer may take the room first.
func (q *Queue) HasRoom(size int64) bool {
	if q.opts.MaxDiskBytes <= 0 {
		return true
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.withinBudget(size) == nil
}

func (q *Queue) withinBudget(extra int64) error {
	if q.opts.MaxDiskBytes > 0 && q.diskBytes+extra > q.opts.MaxDiskBytes {
		return fmt.Errorf("%w: %d of %d bytes used, record needs %d", ErrDiskFull,
			q.diskBytes, q.opts.MaxDiskBytes, extra)
	}
	return nil
}

// flushLocked writes the scratch buffer, holding n records, to the current
// segment.
func (q *Queue) flushLocked(n int) (int, error) {
	if len(q.scratch) == 0 {
		return 0, nil
	}
	if err := q.openWriteFile(); err != nil {
		q.scratch = q.scratch[:0]
		return 0, err
	}
	if _, err := q.wfile.Write(q.scratch); err != nil {
		// A short write leaves a partial record: cut it off so the next
		// record starts where readers expect it.
		if terr := q.wfile.Truncate(q.write.off); terr != nil {
			q.failed = fmt.Errorf("diskqueue: write failed (%v) and truncating after it failed: %w", err, terr)
		}
		q.scratch = q.scratch[:0]
		return 0, fmt.Errorf("diskqueue: write %s: %w", q.files.segment(q.write.seg), err)
	}
	q.write.off += int64(len(q.scratch))
	q.diskBytes += int64(len(q.scratch))
	q.unreadBytes.Add(int64(len(q.scratch)))
	q.scratch = q.scratch[:0]
	return n, nil
}

// openWriteFile opens the current segment for appending if it is not open:
// an idle queue holds no descriptor (see closeIdle).
func (q *Queue) openWriteFile() error {
	if q.wfile != nil {
		return nil
	}
	f, err := q.fs.OpenFile(q.files.segment(q.write.seg), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("diskqueue: open segment for writing: %w", err)
	}
	q.wfile = f
	return nil
}

// rollLocked fsyncs and closes the current segment and starts the next.
// The fsync here is what lets a group commit that raced with the roll trust
// the closed segment. A segment not open was fsynced when it was closed.
func (q *Queue) rollLocked() error {
	next, err := q.createSegment(q.write.seg + 1)
	if err != nil {
		return err
	}
	if q.wfile != nil {
		if err := q.wfile.Sync(); err != nil {
			q.failed = fmt.Errorf("diskqueue: fsync %s: %w", q.files.segment(q.write.seg), err)
			next.Close()
			return q.failed
		}
		q.wfile.Close()
	}
	q.wfile = next
	q.write = position{seg: q.write.seg + 1}
	return nil
}

func (q *Queue) createSegment(n int64) (file, error) {
	path := q.files.segment(n)
	f, err := q.fs.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("diskqueue: create segment: %w", err)
	}
	if err := q.fs.SyncDir(q.files.dir); err != nil {
		f.Close()
		q.fs.Remove(path)
		return nil, fmt.Errorf("diskqueue: fsync directory %s: %w", q.files.dir, err)
	}
	return f, nil
}

// Depth is the number of records stored and not yet read.
func (q *Queue) Depth() int64 { return max(0, q.depth.Load()) }

// UnreadBytes is the size on disk of the records not yet read.
func (q *Queue) UnreadBytes() int64 { return max(0, q.unreadBytes.Load()) }

// Stats returns the queue's counters.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	disk := q.diskBytes
	q.mu.Unlock()
	return Stats{
		Depth:          q.Depth(),
		DamagedRecords: q.damagedRuns.Load(),
		DamagedBytes:   q.damagedBytes.Load(),
		DiskBytes:      disk,
	}
}

// Close syncs everything, persists the read position and closes the files.
func (q *Queue) Close() error {
	q.closeOnce.Do(func() {
		close(q.exit)
		<-q.done
		q.closeErr = q.sync()
		unlock := q.lockAll()
		defer unlock()
		q.closed = true
		q.r.close()
		if q.wfile != nil {
			if err := q.wfile.Close(); q.closeErr == nil {
				q.closeErr = err
			}
		}
	})
	return q.closeErr
}

// signal leaves a token in a one-slot channel without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
