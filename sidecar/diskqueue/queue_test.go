package diskqueue

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestPutReadInOrder(t *testing.T) {
	t.Parallel()
	q := mustOpen(t, t.TempDir(), testOptions())
	putN(t, q, 0, 500)
	if d := q.Depth(); d != 500 {
		t.Fatalf("Depth = %d, want 500", d)
	}
	expectRecords(t, readAll(t, q), 0, 500)
	if d := q.Depth(); d != 0 {
		t.Fatalf("Depth after reading all = %d, want 0", d)
	}
}

func TestReopenKeepsUnreadRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	q := mustOpen(t, dir, testOptions())
	putN(t, q, 0, 300)
	expectRecords(t, readN(t, q, 100), 0, 100)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q = mustOpen(t, dir, testOptions())
	if d := q.Depth(); d != 200 {
		t.Fatalf("Depth after reopen = %d, want 200", d)
	}
	expectRecords(t, readAll(t, q), 100, 300)
}

func readN(t testing.TB, q *Queue, n int) [][]byte {
	t.Helper()
	out := make([][]byte, 0, n)
	for range n {
		b, err := q.Read()
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		out = append(out, b)
	}
	return out
}

// A record that exactly fills a segment stays in it; the next starts a new one.
func TestRecordExactlyFillingSegment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o := testOptions()
	payload := make([]byte, 100)
	o.MaxBytesPerFile = 3 * recordSize(len(payload))
	q := mustOpen(t, dir, o)
	for i := range 7 {
		payload[0] = byte(i)
		if err := q.Put(payload); err != nil {
			t.Fatal(err)
		}
	}
	segs, _ := q.files.segments()
	if len(segs) != 3 {
		t.Fatalf("segments %v, want 3 (3+3+1 records)", segs)
	}
	for _, n := range segs[:2] {
		fi, err := os.Stat(q.files.segment(n))
		if err != nil || fi.Size() != o.MaxBytesPerFile {
			t.Fatalf("segment %d: size %v, err %v; want exactly %d", n, fi.Size(), err, o.MaxBytesPerFile)
		}
	}
	q.Close()
	q = mustOpen(t, dir, o)
	got := readAll(t, q)
	if len(got) != 7 {
		t.Fatalf("read %d records after reopen, want 7", len(got))
	}
	for i, b := range got {
		if b[0] != byte(i) {
			t.Fatalf("record %d out of order: %d", i, b[0])
		}
	}
}

func TestRecordLargerThanSegmentGetsOwnSegment(t *testing.T) {
	t.Parallel()
	o := testOptions()
	q := mustOpen(t, t.TempDir(), o)
	big := make([]byte, 3*o.MaxBytesPerFile)
	putN(t, q, 0, 1)
	if err := q.Put(big); err != nil {
		t.Fatal(err)
	}
	putN(t, q, 1, 2)
	got := readAll(t, q)
	if len(got) != 3 || len(got[1]) != len(big) || string(got[2]) != string(record(1)) {
		t.Fatalf("read %d records, middle one %d bytes", len(got), len(got[1]))
	}
}

// The reader follows the writer closely, across many segment rolls, and
// read segments are deleted.
func TestReaderCatchesUpAcrossRolls(t *testing.T) {
	t.Parallel()
	q := mustOpen(t, t.TempDir(), testOptions())
	const n = 2000
	var wg sync.WaitGroup
	wg.Go(func() { putN(t, q, 0, n) })
	var got [][]byte
	for len(got) < n {
		b, err := q.Read()
		if errors.Is(err, ErrEmpty) {
			<-q.DataReady()
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b)
	}
	wg.Wait()
	expectRecords(t, got, 0, n)
	eventually(t, "read segments deleted and their bytes given back", func() bool {
		segs, _ := q.files.segments()
		q.mu.Lock()
		live := q.write.off
		q.mu.Unlock()
		return len(segs) == 1 && q.Stats().DiskBytes == live
	})
}

// The metadata lags the files when the process dies between syncs: records
// written after it are found, records read after it are read again, and a
// segment deleted after it is skipped.
func TestReopenWithLaggingMetadata(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o := testOptions()
	q := mustOpen(t, dir, o)
	putN(t, q, 0, 100)
	readN(t, q, 10)
	if err := q.sync(); err != nil {
		t.Fatal(err)
	}
	stale, err := os.ReadFile(q.files.meta())
	if err != nil {
		t.Fatal(err)
	}
	putN(t, q, 100, 200)
	readN(t, q, 90) // leaves the first segments: they are deleted
	q.Close()
	if err := os.WriteFile(q.files.meta(), stale, 0o600); err != nil {
		t.Fatal(err)
	}
	q = mustOpen(t, dir, o)
	got := readAll(t, q)
	// Reading resumes at the stale position or, where its segment is gone,
	// at the oldest segment left: some records come again, none is lost,
	// and the tail written after the stale metadata is all there.
	if len(got) < 100 {
		t.Fatalf("read %d records, want at least the 100 unread", len(got))
	}
	expectRecords(t, got[len(got)-100:], 100, 200)
}

func TestMetadataLostRecountsFromSegments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	q := mustOpen(t, dir, testOptions())
	putN(t, q, 0, 50)
	q.Close()
	if err := os.Remove(q.files.meta()); err != nil {
		t.Fatal(err)
	}
	q = mustOpen(t, dir, testOptions())
	if d := q.Depth(); d != 50 {
		t.Fatalf("Depth = %d, want 50", d)
	}
	expectRecords(t, readAll(t, q), 0, 50)
}

func TestEmptyDropsEverything(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	q := mustOpen(t, dir, testOptions())
	putN(t, q, 0, 200)
	readN(t, q, 5)
	if err := q.Empty(); err != nil {
		t.Fatal(err)
	}
	if d := q.Depth(); d != 0 {
		t.Fatalf("Depth after Empty = %d", d)
	}
	if _, err := q.Read(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Read after Empty: %v, want ErrEmpty", err)
	}
	putN(t, q, 200, 210)
	q.Close()
	q = mustOpen(t, dir, testOptions())
	expectRecords(t, readAll(t, q), 200, 210)
	if st := q.Stats(); st.DiskBytes != 10*recordSize(len(record(0))) {
		t.Fatalf("DiskBytes = %d after Empty and 10 Puts", st.DiskBytes)
	}
}

func TestDeleteRemovesFilesAndReopenIsEmpty(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	q := mustOpen(t, dir, testOptions())
	putN(t, q, 0, 100)
	if err := q.Delete(); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "test.sq.*"))
	if len(left) != 0 {
		t.Fatalf("files left after Delete: %v", left)
	}
	if err := q.Put(record(0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Delete: %v, want ErrClosed", err)
	}
	q = mustOpen(t, dir, testOptions())
	if d := q.Depth(); d != 0 {
		t.Fatalf("Depth of a reopened deleted queue = %d", d)
	}
}

func TestDiskBudgetRefusesAndKeepsStored(t *testing.T) {
	t.Parallel()
	o := testOptions()
	size := recordSize(len(record(0)))
	o.MaxDiskBytes = 10 * size
	o.MaxBytesPerFile = 2 * size
	q := mustOpen(t, t.TempDir(), o)
	putN(t, q, 0, 10)
	if err := q.Put(record(10)); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Put over budget: %v, want ErrDiskFull", err)
	}
	expectRecords(t, readAll(t, q), 0, 10)
	// Reading frees space once the read segments are deleted.
	if err := q.sync(); err != nil {
		t.Fatal(err)
	}
	putN(t, q, 10, 15)
}

func TestPutTooLarge(t *testing.T) {
	t.Parallel()
	o := testOptions()
	q := mustOpen(t, t.TempDir(), o)
	if err := q.Put(make([]byte, o.MaxRecordSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Put: %v, want ErrTooLarge", err)
	}
	if err := q.Put(make([]byte, o.MaxRecordSize)); err != nil {
		t.Fatalf("Put at the limit: %v", err)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	t.Parallel()
	o := testOptions()
	o.SyncEvery = 0
	if _, err := Open(t.TempDir(), "x", o); err == nil {
		t.Fatal("Open accepted SyncEvery 0")
	}
}

func TestConcurrentWritersKeepPerWriterOrder(t *testing.T) {
	t.Parallel()
	o := testOptions()
	o.SyncEvery = 1
	q := mustOpen(t, t.TempDir(), o)
	const writers, each = 8, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := q.Put([]byte{byte(w), byte(i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	next := make([]int, writers)
	for _, b := range readAll(t, q) {
		if int(b[1]) != next[b[0]] {
			t.Fatalf("writer %d: got %d, want %d", b[0], b[1], next[b[0]])
		}
		next[b[0]]++
	}
	for w, n := range next {
		if n != each {
			t.Fatalf("writer %d: read %d records, want %d", w, n, each)
		}
	}
}

func TestPutBatchAcrossSegments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	q := mustOpen(t, dir, testOptions())
	var batch [][]byte
	for i := range 300 {
		batch = append(batch, record(i))
	}
	if _, err := q.PutBatch(batch[:150]); err != nil {
		t.Fatal(err)
	}
	if _, err := q.AppendBatch(batch[150:]); err != nil {
		t.Fatal(err)
	}
	if segs, _ := q.files.segments(); len(segs) < 5 {
		t.Fatalf("300 records in %d segments of 1 KiB", len(segs))
	}
	q.Close()
	q = mustOpen(t, dir, testOptions())
	expectRecords(t, readAll(t, q), 0, 300)
}

func TestPutBatchOverBudgetStoresWhatFits(t *testing.T) {
	t.Parallel()
	o := testOptions()
	o.MaxDiskBytes = 10 * recordSize(len(record(0)))
	q := mustOpen(t, t.TempDir(), o)
	var batch [][]byte
	for i := range 15 {
		batch = append(batch, record(i))
	}
	if n, err := q.PutBatch(batch); !errors.Is(err, ErrDiskFull) || n != 10 {
		t.Fatalf("PutBatch over budget: %d stored, %v; want 10 and ErrDiskFull", n, err)
	}
	expectRecords(t, readAll(t, q), 0, 10)
}

func TestAppendUnbudgetedGoesBeyondTheBudget(t *testing.T) {
	t.Parallel()
	o := testOptions()
	o.MaxDiskBytes = 10 * recordSize(len(record(0)))
	q := mustOpen(t, t.TempDir(), o)
	putN(t, q, 0, 10)
	if err := q.Put(record(10)); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Put over budget: %v", err)
	}
	if err := q.AppendUnbudgeted(record(10)); err != nil {
		t.Fatalf("AppendUnbudgeted over budget: %v", err)
	}
	expectRecords(t, readAll(t, q), 0, 11)
}

// UnreadBytes follows writes and reads across segment rolls, and a reopen
// recounts it from the files.
func TestUnreadBytesFollowsWritesReadsAndReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	q := mustOpen(t, dir, testOptions())
	size := int64(recordSize(len(record(0))))
	putN(t, q, 0, 300)
	if got := q.UnreadBytes(); got != 300*size {
		t.Fatalf("UnreadBytes after 300 puts = %d, want %d", got, 300*size)
	}
	readN(t, q, 100)
	if got := q.UnreadBytes(); got != 200*size {
		t.Fatalf("UnreadBytes after 100 reads = %d, want %d", got, 200*size)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q = mustOpen(t, dir, testOptions())
	if got := q.UnreadBytes(); got != 200*size {
		t.Fatalf("UnreadBytes after reopen = %d, want %d", got, 200*size)
	}
	readAll(t, q)
	if got := q.UnreadBytes(); got != 0 {
		t.Fatalf("UnreadBytes after reading all = %d, want 0", got)
	}
}
