package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

const (
	recordSize = 200
	writers    = 16 // concurrent Put loops in the durable workload
	// sampleEvery spaces the records whose contents are checked on read:
	// enough to catch reordering or garbage, too few to skew the timing.
	sampleEvery = 4096
	// stallLimit is how long a read may go without progress before the run
	// is declared broken instead of hanging forever.
	stallLimit = 30 * time.Second
)

type config struct {
	records  int
	duration time.Duration
	dir      string
}

// syncResult is one default-sync run: n records written, then read back.
type syncResult struct {
	n           int
	write, read time.Duration
}

func (r syncResult) writeRate() float64 { return rate(r.n, r.write) }
func (r syncResult) readRate() float64  { return rate(r.n, r.read) }
func (r syncResult) totalRate() float64 { return rate(r.n, r.write+r.read) }

// durableResult is one durable run: Puts acknowledged over elapsed.
type durableResult struct {
	acked   int64
	elapsed time.Duration
}

func (r durableResult) putRate() float64 { return rate(int(r.acked), r.elapsed) }

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

// withQueue opens c in a fresh directory under base, runs fn, and always
// closes the queue and removes the directory, so runs never see each
// other's files and the disk is left as found.
func withQueue(c contender, base string, durable bool, fn func(benchQueue) error) (err error) {
	dir, err := os.MkdirTemp(base, "bench-diskqueue-*")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	q, err := c.open(dir, durable)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, q.Close()) }()
	return fn(q)
}

// runDefaultSync writes cfg.records records, then reads them all back.
// Opening and closing are left out of the timings.
func runDefaultSync(c contender, cfg config) (res syncResult, err error) {
	res.n = cfg.records
	err = withQueue(c, cfg.dir, false, func(q benchQueue) error {
		var err error
		if res.write, err = writeAll(q, cfg.records); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		if d := q.Depth(); d != int64(cfg.records) {
			return fmt.Errorf("depth %d after writing %d records", d, cfg.records)
		}
		if res.read, err = readAll(q, cfg.records); err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if d := q.Depth(); d != 0 {
			return fmt.Errorf("depth %d after reading every record", d)
		}
		return nil
	})
	return res, err
}

func writeAll(q benchQueue, n int) (time.Duration, error) {
	buf := newRecord()
	start := time.Now()
	for i := range n {
		// Both queues copy the payload before Put returns, so one buffer
		// serves every record and allocation stays out of the timing.
		stamp(buf, uint64(i))
		if err := q.Put(buf); err != nil {
			return 0, fmt.Errorf("record %d: %w", i, err)
		}
	}
	return time.Since(start), nil
}

func readAll(q benchQueue, n int) (time.Duration, error) {
	wd := startWatchdog()
	defer wd.stop()
	start := time.Now()
	for i := range n {
		b, err := q.read(wd.stall)
		if err != nil {
			return 0, fmt.Errorf("record %d of %d: %w", i, n, err)
		}
		if err := check(b, i, n); err != nil {
			return 0, err
		}
		if i%1024 == 0 {
			wd.progress.Store(int64(i))
		}
	}
	return time.Since(start), nil
}

// runDurable has writers goroutines Put in a loop for cfg.duration and
// counts the Puts that returned nil.
func runDurable(c contender, cfg config) (res durableResult, err error) {
	err = withQueue(c, cfg.dir, true, func(q benchQueue) error {
		var stop atomic.Bool
		var wg sync.WaitGroup
		counts := make([]int64, writers)
		errs := make([]error, writers)
		start := time.Now()
		timer := time.AfterFunc(cfg.duration, func() { stop.Store(true) })
		defer timer.Stop()
		for w := range writers {
			wg.Go(func() { counts[w], errs[w] = putUntil(q, w, &stop) })
		}
		wg.Wait()
		// Puts in flight at the deadline are counted, so the clock runs
		// until the last of them returns.
		res.elapsed = time.Since(start)
		for _, n := range counts {
			res.acked += n
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if d := q.Depth(); d != res.acked {
			return fmt.Errorf("depth %d but %d Puts acknowledged", d, res.acked)
		}
		return nil
	})
	return res, err
}

func putUntil(q benchQueue, w int, stop *atomic.Bool) (int64, error) {
	buf := newRecord()
	var n int64
	for !stop.Load() {
		stamp(buf, uint64(w)<<48|uint64(n)) // writer in the top bits: records differ
		if err := q.Put(buf); err != nil {
			return n, fmt.Errorf("writer %d, put %d: %w", w, n, err)
		}
		n++
	}
	return n, nil
}

// newRecord returns a record whose bytes after the stamp are a fixed,
// non-zero pattern, so a record of zeroes read back cannot pass check.
func newRecord() []byte {
	b := make([]byte, recordSize)
	for i := range b {
		b[i] = byte(i%251 + 1)
	}
	return b
}

func stamp(b []byte, seq uint64) { binary.BigEndian.PutUint64(b, seq) }

var pattern = newRecord()

// check verifies every record's length and, for a sample, that it is the
// record written at that position: counts alone would not catch a queue
// that returned the wrong or mangled records.
func check(b []byte, i, n int) error {
	if len(b) != recordSize {
		return fmt.Errorf("record %d is %d bytes, want %d", i, len(b), recordSize)
	}
	if i%sampleEvery != 0 && i != n-1 {
		return nil
	}
	if got := binary.BigEndian.Uint64(b); got != uint64(i) {
		return fmt.Errorf("record %d carries sequence number %d", i, got)
	}
	if !bytes.Equal(b[8:32], pattern[8:32]) {
		return fmt.Errorf("record %d: payload bytes differ from what was written", i)
	}
	return nil
}

// watchdog closes stall once progress has not moved for stallLimit. Reads
// select on stall, so a queue that lost records fails the run rather than
// blocking forever (go-diskqueue's ReadChan would).
type watchdog struct {
	progress atomic.Int64
	stall    chan struct{}
	quit     chan struct{}
}

func startWatchdog() *watchdog {
	w := &watchdog{stall: make(chan struct{}), quit: make(chan struct{})}
	w.progress.Store(-1)
	go w.loop()
	return w
}

func (w *watchdog) loop() {
	t := time.NewTicker(stallLimit)
	defer t.Stop()
	last := int64(-2) // differs from the initial -1: the first tick never fires
	for {
		select {
		case <-w.quit:
			return
		case <-t.C:
			p := w.progress.Load()
			if p == last {
				close(w.stall)
				return
			}
			last = p
		}
	}
}

func (w *watchdog) stop() { close(w.quit) }
