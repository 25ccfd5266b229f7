package diskqueue

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A segment's Sync makes its data durable, and on a file closed meanwhile
// fails with os.ErrClosed, which the queue reads as "synced by whoever
// closed it", never as a failed sync.
func TestSegmentSyncOnAClosedFileSaysClosed(t *testing.T) {
	t.Parallel()
	f, err := osFS{}.OpenFile(filepath.Join(t.TempDir(), "seg"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("record")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("sync: %v", err)
	}
	f.Close()
	if err := f.Sync(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("sync after close: %v, want os.ErrClosed", err)
	}
}
