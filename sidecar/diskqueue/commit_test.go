package diskqueue

import (
	"errors"
	"testing"
)

// With ManualCommit, records read but not committed come back after a
// restart, and the depth counts them.
func TestManualCommitRedeliversUncommitted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o := testOptions()
	o.ManualCommit = true
	q := mustOpen(t, dir, o)
	putN(t, q, 0, 100)
	var ends []Position
	for range 60 {
		_, end, err := q.ReadNext()
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, end)
	}
	q.Commit(ends[39]) // records 0..39 done; 40..59 read but not done
	q.Commit(ends[10]) // an older commit changes nothing
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q = mustOpen(t, dir, o)
	if d := q.Depth(); d != 60 {
		t.Fatalf("Depth after reopen = %d, want 60", d)
	}
	expectRecords(t, readAll(t, q), 40, 100)
	q.CommitAll()
	q.Close()
	q = mustOpen(t, dir, o)
	if _, err := q.Read(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("after CommitAll and reopen: %v, want ErrEmpty", err)
	}
}

func TestAppendThenSync(t *testing.T) {
	t.Parallel()
	fs := newWatchedFS()
	q := mustOpen(t, t.TempDir(), durableOptions(fs))
	for i := range 10 {
		if err := q.Append(record(i)); err != nil {
			t.Fatal(err)
		}
	}
	if fs.syncedThrough(record(9)) {
		t.Fatal("Append waited for an fsync")
	}
	if err := q.Sync(); err != nil {
		t.Fatal(err)
	}
	if !fs.syncedThrough(record(9)) {
		t.Fatal("Sync returned before an fsync covered the appended records")
	}
}
