package diskqueue

import (
	"errors"
	"os"
)

// Delete closes the queue and removes its files.
func (q *Queue) Delete() error {
	err := q.Close()
	q.syncMu.Lock()
	defer q.syncMu.Unlock()
	return errors.Join(err, q.removeFiles())
}

func (q *Queue) removeFiles() error {
	nums, err := q.files.segments()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range nums {
		errs = append(errs, ignoreNotExist(q.fs.Remove(q.files.segment(n))))
	}
	errs = append(errs, ignoreNotExist(q.fs.Remove(q.files.meta())))
	return errors.Join(errs...)
}

// lockAll takes every lock, in order, for a change to the whole queue, and
// returns what releases them.
func (q *Queue) lockAll() (unlock func()) {
	q.syncMu.Lock()
	q.rmu.Lock()
	q.mu.Lock()
	return func() {
		q.mu.Unlock()
		q.rmu.Unlock()
		q.syncMu.Unlock()
	}
}

// Empty drops every stored record; the queue stays open.
func (q *Queue) Empty() error {
	defer q.lockAll()()
	if q.closed {
		return ErrClosed
	}
	next, err := q.createSegment(q.write.seg + 1)
	if err != nil {
		return err
	}
	if q.wfile != nil {
		q.wfile.Close()
	}
	q.r.close()
	q.wfile = next
	q.write = position{seg: q.write.seg + 1}
	q.r.pos, q.r.committed, q.r.readEnds = q.write, q.write, nil
	q.depth.Store(0)
	q.unreadBytes.Store(0)
	q.diskBytes = 0
	q.syncedSeq = q.writeSeq
	m := meta{read: q.r.pos, write: q.write}
	if err := q.meta.write(q.fs, m); err != nil {
		return err
	}
	q.persisted = m
	_, err = q.removeSegmentsBelow(q.write.seg)
	return err
}

// removeSegmentsBelow deletes fully read segments and returns the bytes it
// freed. Called only once the metadata no longer points into them.
func (q *Queue) removeSegmentsBelow(seg int64) (freed int64, err error) {
	var errs []error
	for ; q.oldest < seg; q.oldest++ {
		path := q.files.segment(q.oldest)
		if fi, err := os.Stat(path); err == nil {
			freed += fi.Size()
		}
		errs = append(errs, ignoreNotExist(q.fs.Remove(path)))
	}
	return freed, errors.Join(errs...)
}

func ignoreNotExist(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
