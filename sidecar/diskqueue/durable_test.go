package diskqueue

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// watchedFS is the real file system with segment files that remember how
// many of their bytes each fsync covered, and can hold an fsync until the
// test lets it go.
type watchedFS struct {
	osFS
	mu      sync.Mutex
	files   map[string]*watchedFile
	hold    chan struct{} // while non-nil, Sync waits on it
	syncing chan string   // a Sync has started; dropped when full
}

type watchedFile struct {
	*os.File
	fs      *watchedFS
	name    string
	written int64 // bytes handed to the kernel
	synced  int64 // bytes covered by a completed fsync
	data    bytes.Buffer
	syncs   int
}

func newWatchedFS() *watchedFS {
	return &watchedFS{files: map[string]*watchedFile{}, syncing: make(chan string, 1024)}
}

func (w *watchedFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil || !strings.HasSuffix(name, ".seg") || flag&os.O_WRONLY == 0 {
		return f, err
	}
	wf := &watchedFile{File: f, fs: w, name: name}
	w.mu.Lock()
	w.files[name] = wf
	w.mu.Unlock()
	return wf, nil
}

func (f *watchedFile) Write(b []byte) (int, error) {
	n, err := f.File.Write(b)
	f.fs.mu.Lock()
	f.data.Write(b[:n])
	f.written += int64(n)
	f.fs.mu.Unlock()
	return n, err
}

func (f *watchedFile) Sync() error {
	f.fs.mu.Lock()
	covers := f.written
	hold := f.fs.hold
	f.fs.mu.Unlock()
	select {
	case f.fs.syncing <- f.name:
	default: // nobody is watching
	}
	if hold != nil {
		<-hold
	}
	err := f.File.Sync()
	f.fs.mu.Lock()
	f.synced = max(f.synced, covers)
	f.syncs++
	f.fs.mu.Unlock()
	return err
}

// syncedThrough reports whether payload lies in bytes an fsync has covered.
func (w *watchedFS) syncedThrough(payload []byte) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.files {
		if i := bytes.Index(f.data.Bytes(), payload); i >= 0 {
			return int64(i+len(payload)) <= f.synced
		}
	}
	return false
}

func (w *watchedFS) totalSyncs() (n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.files {
		n += f.syncs
	}
	return n
}

func durableOptions(fs fileSystem) Options {
	o := testOptions()
	o.SyncEvery = 1
	o.SyncTimeout = 1 << 40 // no background sync: every fsync here is a Put's
	o.fs = fs
	return o
}

func TestDurablePutWaitsForItsFsync(t *testing.T) {
	t.Parallel()
	fs := newWatchedFS()
	q := mustOpen(t, t.TempDir(), durableOptions(fs))
	for len(fs.syncing) > 0 {
		<-fs.syncing // fsyncs made while opening
	}
	hold := make(chan struct{})
	fs.mu.Lock()
	fs.hold = hold
	fs.mu.Unlock()

	done := make(chan error)
	go func() { done <- q.Put([]byte("payload-held")) }()
	<-fs.syncing // the Put's fsync has started and is held
	select {
	case err := <-done:
		t.Fatalf("Put returned (%v) while its fsync was still running", err)
	default:
	}
	close(hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !fs.syncedThrough([]byte("payload-held")) {
		t.Fatal("Put returned, but no completed fsync covers its record")
	}
}

// Every durable Put, among many concurrent ones, returns only once an fsync
// covering its record has completed, and they share fsyncs.
func TestDurablePutsShareFsyncs(t *testing.T) {
	t.Parallel()
	fs := newWatchedFS()
	q := mustOpen(t, t.TempDir(), durableOptions(fs))
	const writers, each = 16, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				p := fmt.Appendf(nil, "w%02d-%03d", w, i)
				if err := q.Put(p); err != nil {
					errs <- err
					return
				}
				if !fs.syncedThrough(p) {
					errs <- fmt.Errorf("Put(%s) returned before an fsync covered it", p)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	syncs := fs.totalSyncs()
	t.Logf("%d durable Puts, %d fsyncs", writers*each, syncs)
	if syncs >= writers*each {
		t.Fatalf("%d fsyncs for %d Puts: concurrent Puts did not share them", syncs, writers*each)
	}
}
