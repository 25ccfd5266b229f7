package diskqueue

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"syscall"
)

// recover rebuilds the queue's state from its directory. The metadata says
// where reading resumes and where the writer was at its last sync; the
// segments say the rest. Every intact record is kept; a damaged or torn
// tail of the last segment is cut off; damage elsewhere is left for the
// reader to skip and count. No file is renamed aside.
func (q *Queue) recover() error {
	if err := os.MkdirAll(q.files.dir, 0o755); err != nil {
		return err
	}
	nums, err := q.files.segments()
	if err != nil {
		return err
	}
	m, metaErr := q.meta.read()
	haveMeta := metaErr == nil
	if metaErr != nil && !errors.Is(metaErr, fs.ErrNotExist) {
		q.opts.logf("diskqueue: %s: %v: recounting from the segments", q.files.meta(), metaErr)
	}

	read := position{}
	if haveMeta {
		read = m.read
	} else if len(nums) > 0 {
		read = position{seg: nums[0]}
	}
	if len(nums) > 0 {
		q.oldest = nums[0]
	}
	read.seg = max(read.seg, 0)
	done := firstAtLeast(nums, read.seg)
	for _, n := range nums[:done] {
		// Fully read; the first sync deletes them and takes their bytes off.
		if fi, err := os.Stat(q.files.segment(n)); err == nil {
			q.diskBytes += fi.Size()
		}
	}
	live := nums[done:]
	if len(live) == 0 {
		return q.startEmpty(max(read.seg, m.write.seg))
	}
	if live[0] > read.seg {
		read = position{seg: live[0]} // deleted after it was read, before the metadata said so
	}

	from, depth := read, int64(0)
	lost := int64(0)
	if haveMeta && slices.Contains(live, m.write.seg) {
		lost = q.bytesLostBefore(m.write)
	}
	if haveMeta && m.read == read && slices.Contains(live, m.write.seg) && lost == 0 {
		from, depth = m.write, m.depth
	}
	runsBefore := q.damagedRuns.Load()
	if err := q.scanTail(live, from, read, &depth); err != nil {
		return err
	}
	if lost > 0 && q.damagedRuns.Load() == runsBefore {
		// Cut at a record boundary: no damaged bytes, yet records are gone.
		q.damagedRuns.Add(1)
		q.damagedBytes.Add(lost)
	}
	if !read.before(q.write) {
		read, depth = q.write, 0
		q.unreadBytes.Store(0)
	}
	q.r.pos, q.r.committed = read, read
	q.depth.Store(depth)
	return q.saveRecovered()
}

// scanTail counts the records from "from" to the end of the last segment,
// and the bytes from read, cuts off a damaged tail there, and makes the last
// segment the one written.
func (q *Queue) scanTail(live []int64, from, read position, depth *int64) error {
	for _, n := range live {
		path := q.files.segment(n)
		f, err := q.fs.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		size := fi.Size()
		if n >= from.seg {
			start := int64(0)
			if n == from.seg {
				start = min(from.off, size)
			}
			if size, err = q.countSegment(f, n, start, size, n == live[len(live)-1], depth); err != nil {
				f.Close()
				return err
			}
		}
		f.Close()
		q.diskBytes += size
		if n == read.seg {
			q.unreadBytes.Add(size - min(read.off, size))
		} else if n > read.seg {
			q.unreadBytes.Add(size)
		}
		q.write = position{seg: n, off: size} // the last one is written next, opened when needed
	}
	return nil
}

// countSegment adds the intact records of one segment to depth and returns
// the segment's size, after cutting off a damaged tail if it is the last.
func (q *Queue) countSegment(f file, n, start, size int64, last bool, depth *int64) (int64, error) {
	sc := newScanner(f, start, size, q.opts.MaxRecordSize)
	for {
		_, err := sc.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return 0, fmt.Errorf("scan %s: %w", q.files.segment(n), err)
			}
			break
		}
		*depth++
	}
	if !last || sc.tailDamage < 0 {
		if sc.damagedRuns > 0 {
			// Left in place: the reader skips and counts it when it gets there.
			q.opts.logf("diskqueue: %s: %d damaged bytes in %d run(s) hold no intact record",
				q.files.segment(n), sc.damagedBytes, sc.damagedRuns)
		}
		return size, nil
	}
	q.opts.logf("diskqueue: %s: truncating a torn tail of %d bytes at offset %d",
		q.files.segment(n), size-sc.tailDamage, sc.tailDamage)
	q.damagedRuns.Add(1)
	q.damagedBytes.Add(size - sc.tailDamage)
	if err := f.Truncate(sc.tailDamage); err != nil {
		return 0, fmt.Errorf("truncate torn tail of %s: %w", q.files.segment(n), err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("fsync %s: %w", q.files.segment(n), err)
	}
	return sc.tailDamage, nil
}

// startEmpty starts a queue with no segment to read: the first segment is
// created at seg.
func (q *Queue) startEmpty(seg int64) error {
	f, err := q.createSegment(seg)
	if err != nil {
		return err
	}
	f.Close() // opened again when first written
	q.write = position{seg: seg}
	q.r.pos, q.r.committed = q.write, q.write
	return q.saveRecovered()
}

// saveRecovered persists what recovery found. On a full disk, whose
// metadata file could not be written, the queue opens all the same: what
// it holds is known, every sync tries again, and a crash meanwhile
// recounts from the segments, as now. Refusing to open would keep a
// daemon on a full disk from starting, and its consumers from freeing it.
func (q *Queue) saveRecovered() error {
	err := q.sync()
	if errors.Is(err, syscall.ENOSPC) {
		q.opts.logf("diskqueue: %s: %v: opened anyway, the metadata is saved at a later sync", q.files.name, err)
		return nil
	}
	return err
}

func firstAtLeast(nums []int64, n int64) int {
	i, _ := slices.BinarySearch(nums, n)
	return i
}

// bytesLostBefore says how many bytes of the segment holding p, which
// were synced, are gone: a segment shorter than a synced write position has
// lost records to something outside the queue. The depth is then recounted
// rather than trusted.
func (q *Queue) bytesLostBefore(p position) int64 {
	fi, err := os.Stat(q.files.segment(p.seg))
	if err != nil || fi.Size() >= p.off {
		return 0
	}
	q.opts.logf("diskqueue: %s: %d bytes that were synced are gone; recounting",
		q.files.segment(p.seg), p.off-fi.Size())
	return p.off - fi.Size()
}
