package diskqueue

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// reader is the read side's state, guarded by Queue.rmu.
type reader struct {
	pos position
	// With ManualCommit: where reading resumes after a restart, and the end
	// of each record read since, oldest first.
	committed position
	readEnds  []position
	f         file
	sc        *scanner
	final     bool // the open segment is no longer written to: its size is its end
	reads     int64
}

func (r *reader) close() {
	if r.f != nil {
		r.f.Close()
	}
	r.f, r.sc, r.final = nil, nil, false
}

// Read returns the next record in order, or ErrEmpty when every stored
// record has been read. The returned slice is the caller's.
func (q *Queue) Read() ([]byte, error) {
	b, _, err := q.ReadNext()
	return b, err
}

// Position is a place in the queue, for Commit.
type Position = position

// ReadNext is Read that also returns where the record ends, for Commit.
func (q *Queue) ReadNext() ([]byte, Position, error) { return q.ReadNextCounted(nil) }

// ReadNextCounted is ReadNext that, when taken is not nil, adds 1 to it
// before the queue's Depth stops counting the record it returns: a caller
// that counts what it holds in taken is never seen, by a Depth plus taken,
// holding a record neither counts.
func (q *Queue) ReadNextCounted(taken *atomic.Int64) ([]byte, Position, error) {
	q.rmu.Lock()
	defer q.rmu.Unlock()
	for {
		q.mu.Lock()
		closed, end := q.closed, q.write
		q.mu.Unlock()
		if closed {
			return nil, position{}, ErrClosed
		}
		if !q.r.pos.before(end) {
			q.caughtUp()
			return nil, position{}, ErrEmpty
		}
		if err := q.openReadSegment(end); err != nil {
			return nil, position{}, err
		}
		payload, err := q.r.sc.next()
		q.noteDamage()
		q.unreadBytes.Add(q.r.pos.off - q.r.sc.off)
		if err == nil {
			q.r.pos.off = q.r.sc.off
			if taken != nil {
				taken.Add(1)
			}
			q.depth.Add(-1)
			q.ops.Add(1)
			if q.opts.ManualCommit {
				q.r.readEnds = append(q.r.readEnds, q.r.pos)
			}
			q.countRead()
			return append([]byte(nil), payload...), q.r.pos, nil
		}
		if !errors.Is(err, io.EOF) {
			return nil, position{}, fmt.Errorf("diskqueue: read %s: %w", q.files.segment(q.r.pos.seg), err)
		}
		q.r.pos.off = q.r.sc.off
		if q.r.pos.seg < end.seg {
			q.nextReadSegment()
		}
	}
}

// Commit marks every record that ends at or before p as done: with
// ManualCommit, the next sync persists p as where reading resumes.
func (q *Queue) Commit(p Position) {
	q.rmu.Lock()
	defer q.rmu.Unlock()
	q.commitLocked(p)
}

func (q *Queue) commitLocked(p position) {
	if !q.r.committed.before(p) {
		return
	}
	n := 0
	for n < len(q.r.readEnds) && !p.before(q.r.readEnds[n]) {
		n++
	}
	q.r.readEnds = q.r.readEnds[n:]
	q.r.committed = p
}

// CommitAll commits every record read so far.
func (q *Queue) CommitAll() {
	q.rmu.Lock()
	defer q.rmu.Unlock()
	q.commitLocked(q.r.pos)
}

// resumeAt is where a restart resumes reading, and how many records read
// since then it will deliver again. Called with rmu held.
func (q *Queue) resumeAt() (position, int64) {
	if !q.opts.ManualCommit {
		return q.r.pos, 0
	}
	return q.r.committed, int64(len(q.r.readEnds))
}

// DataReady returns a channel that holds a token whenever a record has been
// written since the token was last taken: a consumer that got ErrEmpty waits
// on it before reading again.
func (q *Queue) DataReady() <-chan struct{} { return q.dataReady }

// openReadSegment makes sure the scanner covers the read segment up to what
// the writer has written.
func (q *Queue) openReadSegment(end position) error {
	if q.r.sc == nil {
		f, err := q.fs.OpenFile(q.files.segment(q.r.pos.seg), os.O_RDONLY, 0)
		if errors.Is(err, os.ErrNotExist) && q.r.pos.seg < end.seg {
			q.r.pos.off = 0 // a segment that is gone holds nothing to read
			q.r.sc = newScanner(eofReader{}, 0, 0, q.opts.MaxRecordSize)
			q.r.final = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("diskqueue: open segment for reading: %w", err)
		}
		q.r.f = f
		q.r.sc = newScanner(f, q.r.pos.off, end.off, q.opts.MaxRecordSize)
	}
	if q.r.final {
		return nil
	}
	if q.r.pos.seg == end.seg {
		q.r.sc.setLimit(end.off)
		return nil
	}
	// The writer has moved on: this segment is complete.
	fi, err := q.r.f.Stat()
	if err != nil {
		return fmt.Errorf("diskqueue: stat segment: %w", err)
	}
	q.r.sc.setLimit(fi.Size())
	q.r.final = true
	return nil
}

// nextReadSegment moves the reader to the start of the next segment; the
// one it leaves is deleted at the next sync, once the metadata has moved on.
func (q *Queue) nextReadSegment() {
	q.r.close()
	q.r.pos = position{seg: q.r.pos.seg + 1}
	signal(q.syncNow)
}

func (q *Queue) noteDamage() {
	sc := q.r.sc
	if sc == nil || sc.damagedRuns == 0 {
		return
	}
	q.opts.logf("diskqueue: %s: skipped %d damaged bytes in %d run(s) holding no intact record",
		q.files.segment(q.r.pos.seg), sc.damagedBytes, sc.damagedRuns)
	q.damagedRuns.Add(sc.damagedRuns)
	q.damagedBytes.Add(sc.damagedBytes)
	sc.damagedRuns, sc.damagedBytes = 0, 0
}

// caughtUp is called when the reader has reached the writer. A depth taken
// from the metadata may have counted records that damage has since taken;
// there are none left now.
func (q *Queue) caughtUp() {
	q.mu.Lock()
	if !q.r.pos.before(q.write) {
		q.depth.Store(0)
		q.unreadBytes.Store(0)
	}
	q.mu.Unlock()
}

func (q *Queue) countRead() {
	if q.opts.durable() {
		return // the read position is persisted every SyncTimeout
	}
	if q.unsynced.Add(1) >= q.opts.SyncEvery {
		signal(q.syncNow)
	}
}

type eofReader struct{}

func (eofReader) ReadAt([]byte, int64) (int, error) { return 0, io.EOF }
