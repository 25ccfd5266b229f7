package diskqueue

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fullFS is the real file system on a disk that has filled up: while full,
// nothing can be created and appends fail with ENOSPC, but bytes already
// allocated can be overwritten, as on ext4, xfs or tmpfs.
type fullFS struct {
	osFS
	full atomic.Bool
}

type fullFile struct {
	*os.File
	fs *fullFS
}

func (f *fullFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	if f.full.Load() && flag&os.O_CREATE != 0 {
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.ENOSPC}
	}
	of, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return fullFile{of, f}, nil
}

func (f fullFile) Write(b []byte) (int, error) {
	if f.fs.full.Load() {
		return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.Write(b)
}

// On a full disk the read position is still saved, so a restart does not
// deliver again what was read before it.
func TestReadPositionSavedOnFullDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := &fullFS{}
	o := testOptions()
	o.fs = fs
	o.ManualCommit = true
	q := mustOpen(t, dir, o)
	putN(t, q, 0, 100)
	if err := q.sync(); err != nil { // the metadata file exists from here on
		t.Fatal(err)
	}
	fs.full.Store(true)
	if err := q.Put(record(100)); err == nil {
		t.Fatal("Put on a full disk succeeded")
	}
	readN(t, q, 60)
	q.CommitAll()
	if err := q.sync(); err != nil {
		t.Fatalf("sync on a full disk: %v", err)
	}
	q.Close()
	fs.full.Store(false)
	q = mustOpen(t, dir, o)
	expectRecords(t, readAll(t, q), 60, 100)
}

// A torn write spoils only the slot being written: the other one, one
// generation older, is used, so reading resumes a little earlier.
func TestTornMetadataSlotFallsBackToTheOther(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o := testOptions()
	q := mustOpen(t, dir, o)
	putN(t, q, 0, 100)
	readN(t, q, 10)
	if err := q.sync(); err != nil {
		t.Fatal(err)
	}
	readN(t, q, 10)
	if err := q.sync(); err != nil {
		t.Fatal(err)
	}
	newest := int64(q.meta.gen%2) * metaSlotSize
	q.Close()
	f, err := os.OpenFile(q.files.meta(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("torn"), newest+20)
	f.Close()
	q = mustOpen(t, dir, o)
	got := readAll(t, q)
	if len(got) < 80 || len(got) > 90 {
		t.Fatalf("read %d records after a torn slot, want 80 to 90", len(got))
	}
	expectRecords(t, got[len(got)-80:], 20, 100)
}

// A queue written by the first version, whose metadata is one record
// replaced by rename, opens where it was.
func TestVersion1MetadataIsRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o := testOptions()
	q := mustOpen(t, dir, o)
	putN(t, q, 0, 50)
	readN(t, q, 20)
	if err := q.sync(); err != nil {
		t.Fatal(err)
	}
	m := q.persisted
	q.Close()
	b := binary.BigEndian.AppendUint32(nil, metaMagic)
	b = binary.BigEndian.AppendUint32(b, 1)
	for _, v := range []int64{m.read.seg, m.read.off, m.write.seg, m.write.off, m.depth} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	if err := os.WriteFile(q.files.meta(), b, 0o600); err != nil {
		t.Fatal(err)
	}
	q = mustOpen(t, dir, o)
	expectRecords(t, readAll(t, q), 20, 50)
	if err := q.sync(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(q.files.meta()); err != nil || fi.Size() != metaFileSize {
		t.Fatalf("metadata not rewritten in the two-slot layout: %v %v", fi, err)
	}
}

// An idle queue closes its segment files: the number of descriptors does
// not grow with the number of idle queues. Not parallel: it counts the
// process's descriptors.
func TestIdleQueuesHoldNoDescriptors(t *testing.T) {
	before := openDescriptors(t)
	dir := t.TempDir()
	o := testOptions()
	o.SyncTimeout = 5 * time.Millisecond
	const queues = 300
	for i := range queues {
		q, err := Open(dir, "idle"+string(rune('a'+i%26))+string(rune('a'+i/26)), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Close() })
		putN(t, q, 0, 3)
		readN(t, q, 1)
	}
	var now int
	eventually(t, "idle queues to close their files", func() bool {
		now = openDescriptors(t)
		return now-before < 10
	})
	t.Logf("%d idle queues: %d descriptors before, %d after", queues, before, now)
}

func openDescriptors(t testing.TB) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(entries)
}

// A queue whose metadata file was never written (its records all went
// elsewhere) opens on a full disk, where that file cannot be created, and
// reads and writes as soon as there is room; the metadata follows.
func TestOpensOnAFullDiskWithoutMetadata(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := &fullFS{}
	o := testOptions()
	o.fs = fs
	q := mustOpen(t, dir, o)
	putN(t, q, 0, 10)
	q.Close()
	if err := os.Remove(q.files.meta()); err != nil {
		t.Fatal(err)
	}
	fs.full.Store(true)
	q = mustOpen(t, dir, o)
	fs.full.Store(false)
	putN(t, q, 10, 20)
	if err := q.sync(); err != nil {
		t.Fatalf("sync once there is room: %v", err)
	}
	expectRecords(t, readAll(t, q), 0, 20)
	if _, err := os.Stat(q.files.meta()); err != nil {
		t.Fatalf("the metadata is not saved once there is room: %v", err)
	}
}
